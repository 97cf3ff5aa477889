package httpapi_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/webhooks"
)

// hook is one request a webhook receiver got.
type hook struct {
	path, id, timestamp, signature string
	body                           []byte
	event                          gatehouse.Event
}

// hookReceiver is an endpoint subscribed to webhooks: it keeps what it
// gets, and answers with the statuses queued in answers (200 once they
// run out).
type hookReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []hook
	answers []int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rec := &hookReceiver{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hook{path: r.URL.Path, id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), body: body}
		_ = json.Unmarshal(body, &h.event)
		rec.mu.Lock()
		rec.got = append(rec.got, h)
		status := http.StatusOK
		if len(rec.answers) > 0 {
			status, rec.answers = rec.answers[0], rec.answers[1:]
		}
		rec.mu.Unlock()
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answer "+strconv.Itoa(status))
	}))
	t.Cleanup(rec.Close)
	return rec
}

// take returns what the receiver got since the last take.
func (rec *hookReceiver) take() []hook {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.got
	rec.got = nil
	return got
}

// mailBox keeps the e-mail the worker sends.
type mailBox struct {
	mu   sync.Mutex
	mail []gatehouse.Message
}

func (b *mailBox) Send(_ context.Context, m gatehouse.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mail = append(b.mail, m)
	return nil
}

// deliverHooks runs the outbox worker as a node would, webhooks included,
// until nothing is due at the test clock's now; it returns the e-mail
// sent meanwhile.
func deliverHooks(t *testing.T, e *apitest.Env) []gatehouse.Message {
	t.Helper()
	mail := &mailBox{}
	w := outbox.NewWorker(e.Store, outbox.Channels{Email: mail, SMS: discard{}, Webhook: e.Services.Webhooks}, "test-node", quietLog)
	w.Clock = e.Clock
	for {
		n, err := w.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return mail.mail
		}
	}
}

// subscribedSite creates a client account under an integrator, its
// administrator, and a subscription of the account to the event types at
// url; it returns the account, the administrator's token and the
// subscription's path.
func subscribedSite(t *testing.T, e *apitest.Env, url string, eventTypes ...string) (client, admin, hookPath string) {
	t.Helper()
	client = e.CreateAccount(t, "client", "Store 1", e.CreateAccount(t, "integrator", "Acme", ""))
	admin, _ = e.Member(t, client, gatehouse.LevelClientAdmin)
	sub := e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{"url": url, "event_types": eventTypes})
	return client, admin, "/api/v1/accounts/" + client + "/webhooks/" + sub.String("id")
}

// verifies tells whether one of the signatures of a delivery is the
// secret's, checked as a receiver would.
func verifies(h hook, secret string) bool {
	ts, err := strconv.ParseInt(h.timestamp, 10, 64)
	if err != nil {
		return false
	}
	want, err := webhooks.Sign(secret, h.id, ts, h.body)
	if err != nil {
		return false
	}
	for _, sig := range strings.Fields(h.signature) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func loopbackAllowed(o *service.Options) { o.WebhooksAllowLoopback = true }

// An account's administrators subscribe endpoints to its events: a
// client's subscription and its integrator's both get the client's member
// events, each signed with its own secret, as the event's JSON with the
// event's id as webhook-id; the patterns choose the types. Another
// integrator's administrator learns nothing of them. A ping goes the same
// way; after a rotation both secrets sign for a day; a replay sends the
// same event under the same webhook-id.
func TestWebhooksDeliverSignedEvents(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			rec := newHookReceiver(t)
			integrator := e.CreateAccount(t, "integrator", "Acme", "")
			client := e.CreateAccount(t, "client", "Store 1", integrator)
			integratorAdmin, _ := e.Member(t, integrator, gatehouse.LevelIntegratorAdmin)
			clientAdmin, _ := e.Member(t, client, gatehouse.LevelClientAdmin)
			other := e.CreateAccount(t, "integrator", "Other", "")
			otherAdmin, _ := e.Member(t, other, gatehouse.LevelIntegratorAdmin)
			clientUser, _ := e.Member(t, client, gatehouse.LevelClientUser)

			atClient := e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/webhooks", clientAdmin, map[string]any{
				"url": rec.URL + "/client", "event_types": []string{"member.*"}})
			clientSecret := atClient.String("secret")
			if !strings.HasPrefix(clientSecret, "whsec_") || atClient.String("account_id") != client {
				t.Fatalf("subscription: %s", atClient.Raw)
			}
			atIntegrator := e.Must(t, 201, "POST", "/api/v1/accounts/"+integrator+"/webhooks", integratorAdmin, map[string]any{
				"url": rec.URL + "/integrator", "event_types": []string{"member.added"}})
			integratorSecret := atIntegrator.String("secret")
			hookPath := "/api/v1/accounts/" + client + "/webhooks/" + atClient.String("id")
			if got := e.Must(t, 200, "GET", hookPath, clientAdmin, nil); got.String("secret") != "" || got.String("url") != rec.URL+"/client" {
				t.Errorf("a subscription read again: %s", got.Raw)
			}
			if list := e.Must(t, 200, "GET", "/api/v1/accounts/"+client+"/webhooks", integratorAdmin, nil); len(list.Items()) != 1 {
				t.Errorf("the client's subscriptions, to its integrator: %s", list.Raw)
			}
			for _, probe := range []struct{ method, path string }{{"GET", hookPath}, {"DELETE", hookPath}, {"POST", hookPath + "/ping"},
				{"GET", hookPath + "/deliveries"}, {"GET", "/api/v1/accounts/" + client + "/webhooks"},
				{"GET", "/api/v1/accounts/" + other + "/webhooks/" + atClient.String("id")}} {
				e.Must(t, 404, probe.method, probe.path, otherAdmin, nil)
			}
			e.Must(t, 403, "GET", hookPath, clientUser, nil)

			m := e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/users", apitest.OperatorToken, newUser("ann@example.com", "client_user"))
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+client+"/users/"+m.String("id"), apitest.OperatorToken, nil)
			deliverHooks(t, e)
			got := rec.take()
			var seen []string
			for _, h := range got {
				secret := clientSecret
				if h.path == "/integrator" {
					secret = integratorSecret
				}
				if !verifies(h, secret) {
					t.Errorf("%s %s: signature %q does not verify", h.path, h.event.Type, h.signature)
				}
				if h.id != h.event.ID || h.event.AccountID != client || h.event.Subject.UserID != m.String("user_id") {
					t.Errorf("%s: webhook-id %s, event %s", h.path, h.id, h.body)
				}
				seen = append(seen, h.path+" "+h.event.Type)
			}
			if strings.Join(seen, ",") != "/client member.added,/integrator member.added,/client member.removed" &&
				strings.Join(seen, ",") != "/integrator member.added,/client member.added,/client member.removed" {
				t.Errorf("deliveries %v", seen)
			}

			ping := e.Must(t, 202, "POST", hookPath+"/ping", clientAdmin, nil)
			deliverHooks(t, e)
			got = rec.take()
			if len(got) != 1 || got[0].event.Type != "webhook.ping" || got[0].id != ping.String("event_id") || !verifies(got[0], clientSecret) {
				t.Fatalf("ping: %+v", got)
			}

			rotated := e.Must(t, 200, "POST", hookPath+"/rotate-secret", clientAdmin, nil)
			newSecret := rotated.String("secret")
			if newSecret == clientSecret || rotated.Body["previous_secret_until"] == nil {
				t.Fatalf("rotation: %s", rotated.Raw)
			}
			e.Must(t, 202, "POST", hookPath+"/ping", clientAdmin, nil)
			deliverHooks(t, e)
			got = rec.take()
			if len(got) != 1 || len(strings.Fields(got[0].signature)) != 2 || !verifies(got[0], newSecret) || !verifies(got[0], clientSecret) {
				t.Fatalf("after the rotation: %+v", got)
			}
			e.Clock.Advance(25 * time.Hour)
			e.Must(t, 202, "POST", hookPath+"/ping", clientAdmin, nil)
			deliverHooks(t, e)
			got = rec.take()
			if len(got) != 1 || len(strings.Fields(got[0].signature)) != 1 || !verifies(got[0], newSecret) {
				t.Fatalf("a day after the rotation: %+v", got)
			}

			deliveries := e.Must(t, 200, "GET", hookPath+"/deliveries", clientAdmin, nil).Items()
			var added map[string]any
			for _, d := range deliveries {
				if d["event_type"] == "member.added" {
					added = d
				}
				if d["status"] != "delivered" || d["response_code"] != float64(200) || d["response_excerpt"] != "answer 200" {
					t.Errorf("delivery %v", d)
				}
			}
			if len(deliveries) != 5 || added == nil {
				t.Fatalf("deliveries %v", deliveries)
			}
			e.Must(t, 202, "POST", hookPath+"/deliveries/"+added["id"].(string)+"/replay", clientAdmin, nil)
			deliverHooks(t, e)
			got = rec.take()
			if len(got) != 1 || got[0].id != added["event_id"] || got[0].event.Type != "member.added" || !verifies(got[0], newSecret) {
				t.Fatalf("replay: %+v", got)
			}
			r := e.Must(t, 202, "POST", hookPath+"/replay", clientAdmin, map[string]any{"since": e.Clock.Now().Add(-48 * time.Hour)})
			deliverHooks(t, e)
			if got := rec.take(); r.Body["replayed"] != float64(5) || len(got) != 5 {
				t.Errorf("replay of a range: %s, %d delivered", r.Raw, len(got))
			}

			e.Must(t, 204, "DELETE", hookPath, clientAdmin, nil)
			e.Must(t, 404, "GET", hookPath, clientAdmin, nil)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/users", apitest.OperatorToken, newUser("bob@example.com", "client_user"))
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 1 || got[0].path != "/integrator" {
				t.Errorf("after the client's subscription was removed: %+v", got)
			}
		})
	}
}

// The webhook history is kept 30 days: after that the hourly purge removes
// the messages delivered (a replay of their time finds nothing) and the
// delivery log's attempts, and leaves a message still being retried.
func TestWebhookHistoryIsPurgedAfterItsTime(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			rec := newHookReceiver(t)
			_, admin, hookPath := subscribedSite(t, e, rec.URL, "*")
			began := e.Clock.Now()
			e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 1 {
				t.Fatalf("the ping: %+v", got)
			}
			// A second one fails and waits for its retry.
			rec.answers = []int{500}
			e.Clock.Advance(gatehouse.WebhookHistoryKept - time.Hour)
			e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			deliverHooks(t, e)
			rec.take()

			e.Clock.Advance(2 * time.Hour) // the first is 31 days old
			if _, err := e.Services.Purge(context.Background()); err != nil {
				t.Fatal(err)
			}
			d := e.Must(t, 200, "GET", hookPath+"/deliveries", admin, nil).Items()
			if len(d) != 1 || d[0]["status"] != "pending" {
				t.Fatalf("the delivery log after the purge: %v", d)
			}
			if r := e.Must(t, 202, "POST", hookPath+"/replay", admin, map[string]any{"since": began}); r.Body["replayed"] != float64(1) {
				t.Errorf("a replay since before the purge sends only the message still kept: %s", r.Raw)
			}
			// The one being retried is still delivered.
			e.Clock.Advance(time.Hour)
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 2 {
				t.Errorf("after the purge, the retry and the replay: %d deliveries", len(got))
			}
		})
	}
}

// A receiver that fails gets the event again, with back-off; the events
// after it wait, so that it receives them in order.
func TestWebhookRetriesInOrder(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			rec := newHookReceiver(t)
			rec.answers = []int{500}
			_, admin, hookPath := subscribedSite(t, e, rec.URL, "*")
			first := e.Must(t, 202, "POST", hookPath+"/ping", admin, nil).String("event_id")
			second := e.Must(t, 202, "POST", hookPath+"/ping", admin, nil).String("event_id")
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 1 || got[0].id != first {
				t.Fatalf("first round: %+v", got)
			}
			d := e.Must(t, 200, "GET", hookPath+"/deliveries", admin, nil).Items()
			if len(d) != 1 || d[0]["status"] != "pending" || d[0]["response_code"] != float64(500) || d[0]["attempt"] != float64(1) {
				t.Fatalf("the failed attempt: %v", d)
			}
			if s := e.Must(t, 200, "GET", hookPath, admin, nil); s.Body["failing_since"] == nil {
				t.Errorf("failing_since: %s", s.Raw)
			}
			e.Clock.Advance(time.Hour)
			deliverHooks(t, e)
			got := rec.take()
			if len(got) != 2 || got[0].id != first || got[1].id != second {
				t.Fatalf("after the back-off: %+v", got)
			}
			if s := e.Must(t, 200, "GET", hookPath, admin, nil); s.Body["failing_since"] != nil {
				t.Errorf("failing_since after a delivery: %s", s.Raw)
			}
		})
	}
}

// outboxRecordings counts the batches the worker recorded sent itself.
type outboxRecordings struct {
	gatehouse.Outbox
	mu    sync.Mutex
	batch [][]string
}

func (o *outboxRecordings) MarkMessagesSent(ctx context.Context, ids []string, owner string, now time.Time) error {
	o.mu.Lock()
	o.batch = append(o.batch, ids)
	o.mu.Unlock()
	return o.Outbox.MarkMessagesSent(ctx, ids, owner, now)
}

// A batch of webhooks delivered is written in the delivery log and
// recorded sent in one transaction: the worker records no webhook batch
// itself, every delivery is in the log, and nothing is sent again once
// the lease is over. A batch of e-mail only, which logs nothing, the
// worker still records.
func TestWebhookDeliveriesAreLoggedAndRecordedSentTogether(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			rec := newHookReceiver(t)
			// Pings go to a subscription whatever its event types.
			client, admin, hookPath := subscribedSite(t, e, rec.URL, "member.removed")
			const pings = 60 // more than a worker records at once
			for range pings {
				e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			}
			recordings := &outboxRecordings{Outbox: e.Store}
			w := outbox.NewWorker(recordings, outbox.Channels{Email: &mailBox{}, SMS: discard{}, Webhook: e.Services.Webhooks}, "test-node", quietLog)
			w.Clock = e.Clock
			if n, err := w.DeliverDue(context.Background()); err != nil || n != pings {
				t.Fatalf("delivered %d of %d: %v", n, pings, err)
			}
			if len(recordings.batch) != 0 {
				t.Errorf("the worker recorded %d webhook batches in transactions of their own", len(recordings.batch))
			}
			if got := len(rec.take()); got != pings {
				t.Errorf("the receiver got %d deliveries, want %d", got, pings)
			}
			logged := e.Must(t, 200, "GET", hookPath+"/deliveries?limit=100", admin, nil).Items()
			if len(logged) != pings {
				t.Errorf("%d deliveries logged, want %d", len(logged), pings)
			}
			for _, d := range logged {
				if d["status"] != "delivered" {
					t.Errorf("a delivery logged as %v", d["status"])
				}
			}
			e.Clock.Advance(time.Hour)
			if n, err := w.DeliverDue(context.Background()); err != nil || n != 0 || len(rec.take()) != 0 {
				t.Errorf("after the lease, %d claimed again (%v)", n, err)
			}

			e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/users", apitest.OperatorToken, newUser("ann@example.com", "client_user"))
			if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 || len(recordings.batch) != 1 {
				t.Errorf("an e-mail alone: %d claimed, %d batches recorded by the worker (%v)", n, len(recordings.batch), err)
			}
		})
	}
}

// A run of deliveries is recorded while the next are sent: a failure right
// after it is still written after the run's deliveries, so the
// subscription ends failing, since that failure, and its log lists the
// failure last.
func TestWebhookFailureAfterARunIsWrittenAfterIt(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			rec := newHookReceiver(t)
			const run = 25 // what the worker records at once
			for range run {
				rec.answers = append(rec.answers, http.StatusOK)
			}
			rec.answers = append(rec.answers, http.StatusInternalServerError)
			_, admin, hookPath := subscribedSite(t, e, rec.URL, "member.removed")
			for range run + 5 {
				e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			}
			deliverHooks(t, e)
			if got := len(rec.take()); got != run+1 {
				t.Fatalf("the receiver got %d requests, want %d and then the failure", got, run+1)
			}
			if s := e.Must(t, 200, "GET", hookPath, admin, nil); s.Body["failing_since"] == nil {
				t.Errorf("after a run and a failure, the subscription is not failing: %s", s.Raw)
			}
			logged := e.Must(t, 200, "GET", hookPath+"/deliveries?limit=100", admin, nil).Items()
			if len(logged) != run+1 || logged[0]["status"] != "pending" || logged[0]["response_code"] != float64(500) {
				t.Errorf("the log, newest first: %d entries, the newest %v", len(logged), logged[0])
			}
		})
	}
}

// A subscription failing for a day without one delivery is disabled, its
// account's administrators are mailed, and nothing more is sent to it.
func TestWebhookFailingForADayIsDisabled(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			rec := newHookReceiver(t)
			rec.answers = make([]int, 1000)
			for i := range rec.answers {
				rec.answers[i] = 503
			}
			client := e.CreateAccount(t, "client", "Store 1", e.CreateAccount(t, "integrator", "Acme", ""))
			admin, _ := e.Member(t, client, gatehouse.LevelClientAdmin)
			e.Mail(t)
			sub := e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{
				"url": rec.URL, "event_types": []string{"*"}})
			hookPath := "/api/v1/accounts/" + client + "/webhooks/" + sub.String("id")
			e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			var mail []gatehouse.Message
			for range 26 {
				mail = append(mail, deliverHooks(t, e)...)
				e.Clock.Advance(time.Hour)
			}
			s := e.Must(t, 200, "GET", hookPath, admin, nil)
			if s.Body["disabled_at"] == nil {
				t.Fatalf("still live after a day of failures: %s", s.Raw)
			}
			d := e.Must(t, 200, "GET", hookPath+"/deliveries", admin, nil).Items()
			if d[0]["status"] != "failed" {
				t.Errorf("the last attempt: %v", d[0])
			}
			mailed := 0
			for _, m := range mail {
				if strings.Contains(m.Subject, "webhook of Store 1 was disabled") && strings.Contains(m.Body, rec.URL) {
					mailed++
				}
			}
			if mailed != 1 {
				t.Errorf("%d mails to the administrator", mailed)
			}
			rec.take()
			e.Clock.Advance(time.Hour)
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 0 {
				t.Errorf("sent to a disabled subscription: %+v", got)
			}
			e.Must(t, 409, "POST", hookPath+"/ping", admin, nil)

			// Once the receiver works, an administrator enables it again, with
			// its secret: new events reach it, and what it missed can be sent
			// again. A member of another account cannot.
			other := e.CreateAccount(t, "client", "Store 2", e.CreateAccount(t, "integrator", "Other", ""))
			stranger, _ := e.Member(t, other, gatehouse.LevelClientAdmin)
			e.Must(t, 404, "POST", hookPath+"/enable", stranger, nil)
			enabled := e.Must(t, 200, "POST", hookPath+"/enable", admin, nil)
			if enabled.Body["disabled_at"] != nil || enabled.Body["failing_since"] != nil {
				t.Errorf("enabled: %s", enabled.Raw)
			}
			e.Must(t, 200, "POST", hookPath+"/enable", admin, nil) // again: nothing changes
			rec.answers = nil
			pinged := e.Must(t, 202, "POST", hookPath+"/ping", admin, nil).String("event_id")
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 1 || got[0].id != pinged {
				t.Errorf("after enabling: %+v", got)
			}
			audit := e.Must(t, 200, "GET", "/api/v1/accounts/"+client+"/audit-events?action=webhook.enabled", admin, nil).Items()
			if len(audit) != 1 {
				t.Errorf("audit of the enabling: %v", audit)
			}
		})
	}
}

// Webhooks reach public addresses alone: a private, link-local or
// credential-carrying address is refused when subscribing; a name that
// resolves to this machine is refused where the connection is made, and
// the attempt logged; a redirect is a failure, never followed.
func TestWebhookAddressesAreChecked(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, loopbackAllowed)
			client := e.CreateAccount(t, "client", "Store 1", e.CreateAccount(t, "integrator", "Acme", ""))
			admin, _ := e.Member(t, client, gatehouse.LevelClientAdmin)
			for _, url := range []string{"http://10.0.0.1/", "https://10.0.0.1/", "https://169.254.169.254/latest/meta-data/",
				"https://user:secret@example.com/hook", "http://example.com/hook", "https://example.com/hook#part",
				"https://[fd00::1]/", "https://100.64.0.1/", "https://[::ffff:192.168.1.1]/", "ftp://example.com/", "/relative"} {
				r := e.Must(t, 400, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{"url": url, "event_types": []string{"*"}})
				if r.Field() != "url" {
					t.Errorf("%s: %s", url, r.Raw)
				}
			}
			r := e.Must(t, 400, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{
				"url": "https://example.com/", "event_types": []string{"nothing.here"}})
			if r.Field() != "event_types" {
				t.Errorf("an unknown type: %s", r.Raw)
			}

			rec := newHookReceiver(t)
			rec.answers = []int{http.StatusFound}
			sub := e.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{"url": rec.URL, "event_types": []string{"*"}})
			hookPath := "/api/v1/accounts/" + client + "/webhooks/" + sub.String("id")
			e.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			deliverHooks(t, e)
			if got := rec.take(); len(got) != 1 || got[0].path != "/" {
				t.Errorf("a redirect was followed: %+v", got)
			}
			d := e.Must(t, 200, "GET", hookPath+"/deliveries", admin, nil).Items()
			if len(d) != 1 || d[0]["status"] != "pending" || d[0]["response_code"] != float64(302) {
				t.Errorf("a redirect: %v", d)
			}

			// Without the operator's permission, this machine is out of reach.
			strict := apitest.Start(t, b)
			client = strict.CreateAccount(t, "client", "Store 1", strict.CreateAccount(t, "integrator", "Acme", ""))
			admin, _ = strict.Member(t, client, gatehouse.LevelClientAdmin)
			strict.Must(t, 400, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{"url": rec.URL, "event_types": []string{"*"}})
			port := rec.URL[strings.LastIndex(rec.URL, ":"):]
			sub = strict.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/webhooks", admin, map[string]any{
				"url": "https://localhost" + port + "/", "event_types": []string{"*"}})
			hookPath = "/api/v1/accounts/" + client + "/webhooks/" + sub.String("id")
			strict.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			deliverHooks(t, strict)
			if got := rec.take(); len(got) != 0 {
				t.Errorf("reached this machine: %+v", got)
			}
			d = strict.Must(t, 200, "GET", hookPath+"/deliveries", admin, nil).Items()
			if len(d) != 1 || d[0]["status"] != "pending" || d[0]["response_code"] != float64(0) ||
				!strings.Contains(d[0]["error"].(string), "may not reach this address") {
				t.Errorf("a delivery to this machine: %v", d)
			}
		})
	}
}
