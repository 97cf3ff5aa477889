package httpapi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// R-N3, R-N1: a notification to an account reaches the active members who
// enabled external notifications, by the media each chose, through the
// outbox; members change their own choices; a retried request with the
// same idempotency key sends nothing more, even when the retries race over
// two nodes.
func TestAccountNotifications(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			c1 := "/api/v1/accounts/" + ts.c1
			add := func(username string, extra map[string]any) apitest.Response {
				body := newUser(username, "client_user")
				for k, v := range extra {
					body[k] = v
				}
				m := e.Must(t, 201, "POST", c1+"/users", op, body)
				mailbox := username
				if email, ok := extra["email"].(string); ok {
					mailbox = email
				}
				if tokens := e.ActivationTokens(t, mailbox); len(tokens) > 0 {
					e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": goodPassword})
				}
				return m
			}
			all := map[string]any{"enabled": true, "email": true, "sms": true}
			add("ann@example.com", map[string]any{"phone": "+33612345678", "notifications": all})
			add("bob@example.com", map[string]any{"email": "bob.alerts@example.com", "notifications": map[string]any{"enabled": true, "email": true}})
			cid := add("cid@example.com", map[string]any{"phone": "+33612345679", "notifications": map[string]any{"enabled": false, "email": true, "sms": true}})
			e.Must(t, 201, "POST", c1+"/users", op, func() map[string]any {
				u := newUser("dee@example.com", "client_user")
				u["notifications"] = all
				return u
			}()) // pending: not notified
			add("eve@example.com", map[string]any{"notifications": map[string]any{"enabled": true, "sms": true}}) // no phone
			e.Mail(t)

			if r := e.Do(t, "POST", c1+"/notifications", op, map[string]any{"subject": " ", "message": "x"}); r.Status != 400 || r.Field() != "subject" {
				t.Errorf("no subject: %d %s", r.Status, r.Raw)
			}
			sent := e.Must(t, 202, "POST", c1+"/notifications", ts.tokens["c1-admin"], map[string]any{"subject": "Camera offline",
				"message": "Camera 3 at the loading dock stopped sending video."})
			if sent.Body["emails"] != float64(2) || sent.Body["sms"] != float64(1) {
				t.Errorf("fan-out: %s", sent.Raw)
			}
			var emails, phones []string
			for _, m := range e.Mail(t) {
				if m.Channel == gatehouse.ChannelSMS {
					phones = append(phones, m.To)
					continue
				}
				emails = append(emails, m.To)
				if m.Subject != "[Client One A] Camera offline" {
					t.Errorf("subject %q", m.Subject)
				}
			}
			slices.Sort(emails)
			if !slices.Equal(emails, []string{"ann@example.com", "bob.alerts@example.com"}) || !slices.Equal(phones, []string{"+33612345678"}) {
				t.Errorf("notified by e-mail %v, by SMS %v", emails, phones)
			}

			// Members choose for themselves; others may not choose for them.
			cidSession := session(t, e, "cid@example.com")
			e.Must(t, 200, "PATCH", c1+"/users/"+cid.String("id"), cidSession, map[string]any{"notifications": map[string]any{"enabled": true, "email": false, "sms": true}})
			ann := e.Must(t, 200, "GET", c1+"/users", op, nil)
			var annID string
			for _, m := range ann.Items() {
				if m["username"] == "ann@example.com" {
					annID = m["id"].(string)
				}
			}
			if r := e.Do(t, "PATCH", c1+"/users/"+annID, cidSession, map[string]any{"notifications": map[string]any{"enabled": false}}); r.Status != 403 {
				t.Errorf("a client user changing another's notifications: %d", r.Status)
			}
			if r := e.Do(t, "PATCH", c1+"/users/"+cid.String("id"), cidSession, map[string]any{"roles": []string{"manager"}}); r.Status != 403 {
				t.Errorf("a client user changing their own roles: %d", r.Status)
			}

			// Retries with one key, at once, over every node: one fan-out.
			nodes := nodesOf(t, b, e)
			statuses := race(nodes, 8, func(node *apitest.Env, i int) int {
				r := node.Do(t, "POST", c1+"/notifications", op, map[string]any{"subject": "Door forced", "message": "Back door.",
					"idempotency_key": "alarm-42"})
				return r.Status
			})
			if statuses[202] != 1 || statuses[200] != 7 {
				t.Errorf("eight sends with one key: %v", statuses)
			}
			got := map[string]int{}
			for _, m := range e.Mail(t) {
				got[fmt.Sprintf("%s %s", m.Channel, m.To)]++
			}
			want := map[string]int{"email ann@example.com": 1, "email bob.alerts@example.com": 1, "sms +33612345678": 1, "sms +33612345679": 1}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("messages of one key sent eight times: %v, want %v", got, want)
			}
			if n := auditCount(t, e, "account.notified"); n != 2 {
				t.Errorf("%d account.notified events, want 2", n)
			}
		})
	}
}
