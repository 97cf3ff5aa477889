package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/webhooks"
)

type webhookJSON struct {
	ID          string   `json:"id"`
	AccountID   string   `json:"account_id"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description string   `json:"description"`
	// PreviousSecretUntil is when the secret replaced by the last rotation
	// stops signing, while it still does.
	PreviousSecretUntil *time.Time `json:"previous_secret_until"`
	CreatedBy           string     `json:"created_by"`
	CreatedAt           time.Time  `json:"created_at"`
	DisabledAt          *time.Time `json:"disabled_at"`
	FailingSince        *time.Time `json:"failing_since"`
	// Secret is shown once: when created and when rotated.
	Secret string `json:"secret,omitempty"`
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toWebhookJSON(s gatehouse.WebhookSubscription, now time.Time) webhookJSON {
	out := webhookJSON{ID: s.ID, AccountID: s.AccountID, URL: s.URL, EventTypes: s.EventTypes, Description: s.Description,
		CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt.UTC(), DisabledAt: timeOrNull(s.DisabledAt), FailingSince: timeOrNull(s.FailingSince)}
	if s.PreviousSecretSealed != "" && now.Before(s.PreviousSecretUntil) {
		out.PreviousSecretUntil = timeOrNull(s.PreviousSecretUntil)
	}
	return out
}

type webhookDeliveryJSON struct {
	ID              string    `json:"id"`
	WebhookID       string    `json:"webhook_id"`
	MessageID       string    `json:"message_id"`
	EventID         string    `json:"event_id"`
	EventType       string    `json:"event_type"`
	Attempt         int       `json:"attempt"`
	Status          string    `json:"status"`
	ResponseCode    int       `json:"response_code"`
	LatencyMS       int64     `json:"latency_ms"`
	ResponseExcerpt string    `json:"response_excerpt"`
	Error           string    `json:"error"`
	At              time.Time `json:"at"`
}

func toWebhookDeliveryJSON(d gatehouse.WebhookDelivery) webhookDeliveryJSON {
	return webhookDeliveryJSON{ID: d.ID, WebhookID: d.SubscriptionID, MessageID: d.MessageID, EventID: d.EventID, EventType: d.EventType,
		Attempt: d.Attempt, Status: d.Status, ResponseCode: d.ResponseCode, LatencyMS: d.Latency.Milliseconds(),
		ResponseExcerpt: d.ResponseExcerpt, Error: d.Error, At: d.At.UTC()}
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL         string   `json:"url"`
		EventTypes  []string `json:"event_types"`
		Description string   `json:"description"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, secret, err := s.svc.Webhooks.Create(r.Context(), caller(r), r.PathValue("id"),
		webhooks.NewSubscription{URL: in.URL, EventTypes: in.EventTypes, Description: in.Description})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toWebhookJSON(sub, s.svc.Now())
	out.Secret = secret
	w.Header().Set("Location", "/api/v1/accounts/"+sub.AccountID+"/webhooks/"+sub.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	subs, err := s.svc.Webhooks.List(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.svc.Now()
	writeJSON(w, http.StatusOK, newList(gatehouse.Page[gatehouse.WebhookSubscription]{Items: subs},
		func(sub gatehouse.WebhookSubscription) webhookJSON { return toWebhookJSON(sub, now) }))
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	sub, err := s.svc.Webhooks.Get(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(sub, s.svc.Now()))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Webhooks.Delete(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	sub, secret, err := s.svc.Webhooks.RotateSecret(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toWebhookJSON(sub, s.svc.Now())
	out.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) {
	sub, err := s.svc.Webhooks.Enable(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(sub, s.svc.Now()))
}

func (s *Server) pingWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := s.svc.Webhooks.Ping(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"event_id": id})
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deliveries, err := s.svc.Webhooks.Deliveries(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(deliveries, toWebhookDeliveryJSON))
}

func (s *Server) replayWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	n, err := s.svc.Webhooks.ReplayDelivery(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"), r.PathValue("delivery_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"replayed": n})
}

func (s *Server) replayWebhookRange(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Since *time.Time `json:"since"`
		Until *time.Time `json:"until"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var since, until time.Time
	if in.Since != nil {
		since = in.Since.UTC()
	}
	if in.Until != nil {
		until = in.Until.UTC()
	}
	n, err := s.svc.Webhooks.ReplayRange(r.Context(), caller(r), r.PathValue("id"), r.PathValue("webhook_id"), since, until)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"replayed": n})
}
