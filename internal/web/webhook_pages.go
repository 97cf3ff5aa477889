package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/webhooks"
)

// An account's webhooks (docs/events.md#webhooks): the tab lists the
// endpoints subscribed to its events and adds one, showing its signing
// secret on that answer only; each subscription's page sends a test event,
// rotates the secret, lists the deliveries and sends them again, and
// leads to its removal through a confirmation.

func (p *Pages) registerWebhooks(handle func(pattern string, h http.Handler)) {
	handle("GET /accounts/{id}/webhooks", p.secure(p.account("webhooks", p.webhooksPage)))
	handle("POST /accounts/{id}/webhooks", p.secure(p.csrf.Handler(p.account("webhooks", p.createWebhook))))
	handle("GET /accounts/{id}/webhooks/{webhook_id}", p.secure(p.account("webhooks", p.webhookPage)))
	handle("POST /accounts/{id}/webhooks/{webhook_id}/ping", p.secure(p.csrf.Handler(p.account("webhooks", p.pingWebhook))))
	handle("POST /accounts/{id}/webhooks/{webhook_id}/rotate-secret", p.secure(p.csrf.Handler(p.account("webhooks", p.rotateWebhookSecret))))
	handle("POST /accounts/{id}/webhooks/{webhook_id}/enable", p.secure(p.csrf.Handler(p.account("webhooks", p.enableWebhook))))
	handle("POST /accounts/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
		p.secure(p.csrf.Handler(p.account("webhooks", p.replayWebhookDelivery))))
	handle("POST /accounts/{id}/webhooks/{webhook_id}/replay", p.secure(p.csrf.Handler(p.account("webhooks", p.replayWebhookRange))))
	handle("GET /accounts/{id}/webhooks/{webhook_id}/delete", p.secure(p.account("webhooks",
		p.confirmFound("confirm_delete_webhook", "confirm_delete_webhook_loses", "remove_webhook", webhookBase, p.findWebhook))))
	handle("POST /accounts/{id}/webhooks/{webhook_id}/delete", p.secure(p.csrf.Handler(p.account("webhooks", p.deleteWebhook))))
}

// webhooksBase is the address of the account's webhooks tab.
func webhooksBase(v *visit) string { return "/accounts/" + v.view.Account.ID + "/webhooks" }

// webhookBase is the address of the subscription of the request.
func webhookBase(v *visit, r *http.Request) string {
	return webhooksBase(v) + "/" + r.PathValue("webhook_id")
}

// webhookFamilies are the families of event types a subscription may
// name, "member.*" and the like, for the form's hint.
var webhookFamilies = func() []string {
	var out []string
	for _, t := range gatehouse.EventTypes {
		if family, _, ok := strings.Cut(t, "."); ok && !slices.Contains(out, family+".*") {
			out = append(out, family+".*")
		}
	}
	return out
}()

// webhookMaxForm bounds every webhook form.
const webhookMaxForm = 16 << 10

type webhooksData struct {
	Webhooks []gatehouse.WebhookSubscription
	Families []string
	// Created is the subscription just added and Secret its signing
	// secret, shown on this answer only.
	Created *gatehouse.WebhookSubscription
	Secret  string
}

// webhooksPage lists the account's subscriptions and offers to add one.
func (p *Pages) webhooksPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderWebhooks(w, r, v, http.StatusOK, nil, "")
}

func (p *Pages) renderWebhooks(w http.ResponseWriter, r *http.Request, v *visit, status int, created *gatehouse.WebhookSubscription, secret string) {
	subs, err := p.svc.Webhooks.List(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	v.view.Data = webhooksData{Webhooks: subs, Families: webhookFamilies, Created: created, Secret: secret}
	p.renderPortal(w, r, status, "webhooks.html", v)
}

// eventPatterns reads the form's event types: patterns separated by
// spaces or commas.
func eventPatterns(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' })
}

// createWebhook subscribes an endpoint; the answer shows its signing
// secret, which no page shows again. A refused form comes back with the
// error at its field, and nothing written.
func (p *Pages) createWebhook(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	_ = r.ParseForm()
	f := r.PostForm
	sub, secret, err := p.svc.Webhooks.Create(r.Context(), v.caller, v.view.Account.ID, webhooks.NewSubscription{
		URL: f.Get("url"), EventTypes: eventPatterns(f.Get("event_types")), Description: f.Get("description")})
	if err != nil {
		v.view.Form = url.Values{"url": f["url"], "event_types": f["event_types"], "description": f["description"]}
		p.formError(r, v, err, "url", "event_types", "description")
		p.renderWebhooks(w, r, v, statusOf(err), nil, "")
		return
	}
	v.view.Flash = v.view.T["webhook_created_flash"] + " " + sub.URL
	p.renderWebhooks(w, r, v, http.StatusCreated, &sub, secret)
}

type webhookData struct {
	Webhook    gatehouse.WebhookSubscription
	Deliveries []gatehouse.WebhookDelivery
	Next       string
	// Secret is the new signing secret after a rotation, shown on that
	// answer only.
	Secret string
	// PreviousUntil is when the secret replaced by the last rotation stops
	// signing, zero when it no longer does.
	PreviousUntil time.Time
}

// Live tells whether deliveries still go to the subscription.
func (d webhookData) Live() bool { return d.Webhook.DisabledAt.IsZero() }

// webhookPage shows one subscription, its actions and its deliveries.
func (p *Pages) webhookPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderWebhook(w, r, v, http.StatusOK, "")
}

func (p *Pages) renderWebhook(w http.ResponseWriter, r *http.Request, v *visit, status int, secret string) {
	id := r.PathValue("webhook_id")
	sub, err := p.svc.Webhooks.Get(r.Context(), v.caller, v.view.Account.ID, id)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	data := webhookData{Webhook: sub, Secret: secret}
	if sub.PreviousSecretSealed != "" && p.now().Before(sub.PreviousSecretUntil) {
		data.PreviousUntil = sub.PreviousSecretUntil
	}
	page, err := p.svc.Webhooks.Deliveries(r.Context(), v.caller, v.view.Account.ID, id,
		gatehouse.PageRequest{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	data.Deliveries, data.Next = page.Items, page.NextCursor
	v.view.Data = data
	p.renderPortal(w, r, status, "webhook.html", v)
}

// webhookRefused shows a refused action on the subscription's page, above
// its forms.
func (p *Pages) webhookRefused(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	v.view.Error = p.message(r, err)
	p.renderWebhook(w, r, v, statusOf(err), "")
}

// pingWebhook queues a test event; it shows in the deliveries once sent.
func (p *Pages) pingWebhook(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	if _, err := p.svc.Webhooks.Ping(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id")); err != nil {
		p.webhookRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL(webhookBase(v, r), "webhook_pinged_flash", ""), http.StatusSeeOther)
}

// rotateWebhookSecret gives the subscription a new secret, shown on this
// answer only; the previous one signs beside it for a day.
func (p *Pages) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	_, secret, err := p.svc.Webhooks.RotateSecret(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id"))
	if err != nil {
		p.webhookRefused(w, r, v, err)
		return
	}
	v.view.Flash = v.view.T["webhook_rotated_flash"]
	p.renderWebhook(w, r, v, http.StatusOK, secret)
}

// enableWebhook takes a webhook disabled after a day of failures back into
// service.
func (p *Pages) enableWebhook(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	if _, err := p.svc.Webhooks.Enable(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id")); err != nil {
		p.webhookRefused(w, r, v, err)
		return
	}
	v.view.Flash = v.view.T["webhook_enabled_flash"]
	p.renderWebhook(w, r, v, http.StatusOK, "")
}

// replayWebhookDelivery sends one delivery's event again, under the same
// webhook-id.
func (p *Pages) replayWebhookDelivery(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	if _, err := p.svc.Webhooks.ReplayDelivery(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id"), r.PathValue("delivery_id")); err != nil {
		p.webhookRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL(webhookBase(v, r), "delivery_replayed_flash", ""), http.StatusSeeOther)
}

// replayTime reads a datetime-local field as UTC, the zone the page shows
// times in; "" is the zero time.
func replayTime(field, value string) (time.Time, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, value, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, gatehouse.Invalid(field, "a date and time such as 2024-05-01T09:30")
}

// replayWebhookRange sends again every event queued for the subscription
// in a period.
func (p *Pages) replayWebhookRange(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	_ = r.ParseForm()
	f := r.PostForm
	// The period is checked here, at the form's own fields, before the use
	// case checks it again.
	var check gatehouse.Validation
	since, sinceErr := replayTime("replay_since", f.Get("since"))
	check.Check(sinceErr)
	until, untilErr := replayTime("replay_until", f.Get("until"))
	check.Check(untilErr)
	if sinceErr == nil && since.IsZero() {
		check.Check(gatehouse.Invalid("replay_since", "required"))
	}
	if untilErr == nil && !until.IsZero() && !since.IsZero() && !until.After(since) {
		check.Check(gatehouse.Invalid("replay_until", "after the start"))
	}
	n := 0
	err := check.Err()
	if err == nil {
		n, err = p.svc.Webhooks.ReplayRange(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id"), since, until)
	}
	if err != nil {
		v.view.Form = url.Values{"since": f["since"], "until": f["until"]}
		p.formError(r, v, err, "replay_since", "replay_until")
		p.renderWebhook(w, r, v, statusOf(err), "")
		return
	}
	http.Redirect(w, r, doneURL(webhookBase(v, r), "range_replayed_flash", strconv.Itoa(n)), http.StatusSeeOther)
}

// findWebhook names the subscription of the address by its URL; one of
// another account is not found.
func (p *Pages) findWebhook(v *visit, r *http.Request) (string, error) {
	sub, err := p.svc.Webhooks.Get(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id"))
	return sub.URL, err
}

// deleteWebhook removes the subscription, its delivery log and what still
// waits for it.
func (p *Pages) deleteWebhook(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, webhookMaxForm)
	name, err := p.findWebhook(v, r)
	if err == nil {
		err = p.svc.Webhooks.Delete(r.Context(), v.caller, v.view.Account.ID, r.PathValue("webhook_id"))
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderWebhooks(w, r, v, statusOf(err), nil, "")
		return
	}
	http.Redirect(w, r, doneURL(webhooksBase(v), "webhook_deleted_flash", name), http.StatusSeeOther)
}
