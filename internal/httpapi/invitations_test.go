package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Pending invitations: list, details, resend (new link, old link dead, new
// expiry) and cancel (link dead, pending membership gone, slot freed)
// (R-M4, R-M5).
func TestInvitationLifeCycle(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Site", in)
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 1})
			member := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("inv@example.com", "client_user"))
			firstToken := e.ActivationTokens(t, "inv@example.com")[0]

			list := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=pending", op, nil)
			items := list.Items()
			if len(items) != 1 || items[0]["membership_id"] != member.String("id") || items[0]["email"] != "inv@example.com" ||
				items[0]["status"] != "pending" || items[0]["invited_by"] != "operator" {
				t.Fatalf("pending invitations: %s", list.Raw)
			}
			if strings.Contains(string(list.Raw), "gh_inv_") || strings.Contains(string(list.Raw), "token") {
				t.Errorf("an API answer shows a link secret: %s", list.Raw)
			}
			id := items[0]["id"].(string)
			details := e.Must(t, 200, "GET", "/api/v1/invitations/"+id, op, nil)
			sent, _ := time.Parse(time.RFC3339, details.String("sent_at"))
			expires, _ := time.Parse(time.RFC3339, details.String("expires_at"))
			if expires.Sub(sent) != 7*24*time.Hour {
				t.Errorf("invitation lives %v, want 7 days", expires.Sub(sent))
			}

			e.Clock.Advance(8 * 24 * time.Hour)
			if got := e.Must(t, 200, "GET", "/api/v1/invitations/"+id, op, nil); got.String("status") != "expired" {
				t.Errorf("after 8 days the invitation is %s", got.String("status"))
			}
			if n := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=expired", op, nil).Items()); n != 1 {
				t.Errorf("%d expired invitations listed", n)
			}
			resent := e.Must(t, 200, "POST", "/api/v1/invitations/"+id+"/resend", op, nil)
			newExpiry, _ := time.Parse(time.RFC3339, resent.String("expires_at"))
			if resent.String("status") != "pending" || !newExpiry.After(expires.Add(24*time.Hour)) {
				t.Errorf("resent: %s", resent.Raw)
			}
			tokens := e.ActivationTokens(t, "inv@example.com")
			if len(tokens) != 1 || tokens[0] == firstToken {
				t.Fatalf("resend mailed %d links", len(tokens))
			}
			if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": firstToken, "password": goodPassword}); r.Code() != "invitation_invalid" {
				t.Errorf("the old link after a resend: %d %s", r.Status, r.Raw)
			}

			cancelled := e.Must(t, 200, "POST", "/api/v1/invitations/"+id+"/cancel", op, nil)
			if cancelled.String("status") != "cancelled" {
				t.Errorf("cancel answered %s", cancelled.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": goodPassword}); r.Code() != "invitation_invalid" {
				t.Errorf("a cancelled link: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 404, "GET", "/api/v1/accounts/"+site+"/users/"+member.String("id"), op, nil)
			for _, path := range []string{"/resend", "/cancel"} {
				if r := e.Do(t, "POST", "/api/v1/invitations/"+id+path, op, nil); r.Status != 409 {
					t.Errorf("%s of a cancelled invitation: %d", path, r.Status)
				}
			}
			// The slot the pending user held is free again (max 1).
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("next@example.com", "client_user"))
			if n := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=cancelled", op, nil).Items()); n != 1 {
				t.Errorf("%d cancelled invitations", n)
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+site+"/invitations?status=lost", op, nil); r.Status != 400 || r.Field() != "status" {
				t.Errorf("unknown status filter: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// Invitations of another tenant are not found, and only those who may add a
// level may resend or cancel its invitations (R-X2, R-P2).
func TestInvitationIsolation(t *testing.T) {
	t.Parallel()
	ts := newTenants(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	admin := ts.e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("ca@example.com", "client_admin"))
	invs, _ := ts.e.Store.ListInvitations(t.Context(), ts.c1, gatehouse.InvitationPending, ts.e.Clock.Now(), gatehouse.PageRequest{})
	var id string
	for _, inv := range invs.Items {
		if inv.MembershipID == admin.String("id") {
			id = inv.ID
		}
	}
	want := map[string][2]int{ // GET, resend
		"operator": {200, 200}, "i1-admin": {200, 200}, "i1-user": {200, 200}, "c1-admin": {200, 403},
		"c1-user": {403, 403}, "i2-admin": {404, 404}, "anonymous": {401, 401},
	}
	for p, w := range want {
		if r := ts.e.Do(t, "GET", "/api/v1/invitations/"+id, ts.tokens[p], nil); r.Status != w[0] {
			t.Errorf("%s GET: %d, want %d", p, r.Status, w[0])
		}
		if r := ts.e.Do(t, "POST", "/api/v1/invitations/"+id+"/resend", ts.tokens[p], nil); r.Status != w[1] {
			t.Errorf("%s resend: %d, want %d", p, r.Status, w[1])
		}
	}
	if r := ts.e.Do(t, "GET", "/api/v1/invitations/0190d7a0-0000-7000-8000-000000000000", op, nil); r.Status != 404 {
		t.Errorf("unknown invitation: %d", r.Status)
	}
}

// GATEHOUSE_INVITATION_TTL sets how long links live (R-M4).
func TestInvitationTTLIsConfigurable(t *testing.T) {
	t.Parallel()
	e := apitest.StartWith(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, func(o *service.Options) {
		o.InvitationTTL = 2 * time.Hour
	})
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Site", in)
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("short@example.com", "client_user"))
	token := e.ActivationTokens(t, "short@example.com")[0]
	inv := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations", op, nil).Items()[0]
	sent, _ := time.Parse(time.RFC3339, inv["sent_at"].(string))
	expires, _ := time.Parse(time.RFC3339, inv["expires_at"].(string))
	if expires.Sub(sent) != 2*time.Hour {
		t.Errorf("invitation lives %v, want the configured 2h", expires.Sub(sent))
	}
	e.Clock.Advance(2*time.Hour + time.Second)
	if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": token, "password": goodPassword}); r.Code() != "invitation_expired" {
		t.Errorf("after the TTL: %d %s", r.Status, r.Raw)
	}
}
