package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The client's privacy through the API (R-PV1, R-PV2): the check API answers no to
// the integrator's staff about a client's cameras and media until a client
// administrator opens them, yes until the end chosen and no from that very
// instant, no at once when ended early; the client's own members and its
// remote monitoring user are not concerned. Who may do what, another
// integrator's staff seeing nothing; and every step in the client's audit
// log, whose page names the staff who are not its members.
func TestProviderPrivacyThroughTheAPI(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			other := e.CreateAccount(t, "integrator", "Other", "")
			site := e.CreateAccount(t, "client", "Lyon", in)
			staffToken, staff := e.Member(t, in, gatehouse.LevelIntegratorUser)
			_, boss := e.Member(t, in, gatehouse.LevelIntegratorAdmin)
			outsiderToken, _ := e.Member(t, other, gatehouse.LevelIntegratorAdmin)
			userToken, _ := e.Member(t, site, gatehouse.LevelClientUser)
			viewer := addActive(t, e, site, "viewer@example.com", "client_user", []string{"viewer"}).String("user_id")
			admin, adminID := e.Member(t, site, gatehouse.LevelClientAdmin)
			rm := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/remote-monitoring-user", op, map[string]string{"description": "Station"}).String("user_id")
			ask := asker(t, e)
			base := "/api/v1/accounts/" + site + "/provider-access"

			closed := func(when string) {
				t.Helper()
				for _, who := range []string{staff, boss} {
					for _, p := range []string{"cameras.view", "cameras.control", "media.view", "media.edit"} {
						if ask(who, site, p, "") {
							t.Errorf("%s: the staff hold %s", when, p)
						}
					}
					if !ask(who, site, "users.view", "") || !ask(who, site, "folders.manage", "") {
						t.Errorf("%s: the staff lost users.view or folders.manage", when)
					}
				}
			}
			closed("by default")
			if !ask(adminID, site, "cameras.view", "") || !ask(viewer, site, "media.view", "") ||
				!ask(rm, site, "cameras.view", "") || ask(rm, site, "media.view", "") {
				t.Errorf("the client's own members or its remote monitoring user changed")
			}

			// Who may: another integrator's staff learn nothing; the client's
			// users and the provider's side do not open it.
			routes := []struct{ method, path string }{{"GET", base}, {"PUT", base}, {"DELETE", base}, {"GET", base + "/requests"},
				{"POST", base + "/requests"}, {"GET", base + "/requests/" + kernelID}, {"POST", base + "/requests/" + kernelID + "/approve"},
				{"POST", base + "/requests/" + kernelID + "/refuse"}}
			for _, r := range routes {
				if got := e.Do(t, r.method, r.path, outsiderToken, nil); got.Status != 404 {
					t.Errorf("another integrator's staff, %s %s: %d", r.method, r.path, got.Status)
				}
			}
			for who, token := range map[string]string{"a client user": userToken, "the staff": staffToken, "an operator": op} {
				if r := e.Do(t, "PUT", base, token, nil); r.Status != 403 {
					t.Errorf("%s opening it: %d %s", who, r.Status, r.Raw)
				}
			}
			if r := e.Do(t, "GET", base, userToken, nil); r.Status != 403 {
				t.Errorf("a client user reading it: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+in+"/provider-access", op, nil); r.Status != 400 {
				t.Errorf("an integrator account's provider access: %d %s", r.Status, r.Raw)
			}
			state := e.Must(t, 200, "GET", base, staffToken, nil)
			if state.Body["open"] != false || state.Body["until"] != nil || state.String("time_zone") != "UTC" {
				t.Errorf("closed as the staff read it: %s", state.Raw)
			}

			// Open until T: yes at T-1s, no at T, from the same model.
			now := e.Clock.Now().UTC().Truncate(time.Second)
			until := now.Add(2 * time.Hour)
			opened := e.Must(t, 200, "PUT", base, admin, map[string]string{"until": until.Format(time.RFC3339)})
			if opened.Body["open"] != true || opened.String("until") != until.Format(time.RFC3339) {
				t.Errorf("opened: %s", opened.Raw)
			}
			e.Clock.Advance(until.Sub(e.Clock.Now()) - time.Second)
			if !ask(staff, site, "cameras.view", "") || !ask(boss, site, "media.edit", "") {
				t.Errorf("a second before the end, the staff are refused")
			}
			e.Clock.Advance(time.Second)
			closed("at the end")

			// The end is ahead, at most 30 days ahead, and RFC 3339.
			for _, bad := range []string{e.Clock.Now().Add(30*24*time.Hour + time.Second).Format(time.RFC3339), e.Clock.Now().Add(-time.Minute).Format(time.RFC3339), "tomorrow"} {
				if r := e.Do(t, "PUT", base, admin, map[string]string{"until": bad}); r.Status != 400 || r.Field() != "until" {
					t.Errorf("until %s: %d %s", bad, r.Status, r.Raw)
				}
			}
			in30 := e.Clock.Now().UTC().Truncate(time.Second).Add(30 * 24 * time.Hour)
			e.Must(t, 200, "PUT", base, admin, map[string]string{"until": in30.Format(time.RFC3339)})
			if !ask(staff, site, "cameras.view", "") {
				t.Errorf("open for 30 days, the staff are refused")
			}

			// While it is open the staff act here, as themselves.
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", staffToken, map[string]string{"name": "Entrance"})

			// Ended early: no at once. The operator may end it too.
			ended := e.Must(t, 200, "DELETE", base, admin, nil)
			if ended.Body["open"] != false {
				t.Errorf("ended: %s", ended.Raw)
			}
			closed("ended early")
			e.Must(t, 200, "PUT", base, admin, nil) // until the next midnight
			e.Must(t, 200, "DELETE", base, op, nil)
			closed("ended by support")

			// A request, refused through the API.
			req := e.Must(t, 201, "POST", base+"/requests", staffToken, map[string]string{"reason": "Camera 3 is offline"})
			if req.String("status") != "pending" || req.String("requested_by") != staff {
				t.Errorf("asked: %s", req.Raw)
			}
			if r := e.Do(t, "POST", base+"/requests", staffToken, nil); r.Status != 409 {
				t.Errorf("a second request while one waits: %d", r.Status)
			}
			if r := e.Do(t, "POST", base+"/requests/"+req.String("id")+"/approve", staffToken, nil); r.Status != 403 {
				t.Errorf("the staff approving: %d", r.Status)
			}
			refused := e.Must(t, 200, "POST", base+"/requests/"+req.String("id")+"/refuse", admin, nil)
			if refused.String("status") != "refused" {
				t.Errorf("refused: %s", refused.Raw)
			}
			closed("refused")
			if r := e.Do(t, "POST", base+"/requests/"+req.String("id")+"/approve", admin, nil); r.Status != 409 {
				t.Errorf("approving a refused request: %d", r.Status)
			}
			list := e.Must(t, 200, "GET", base+"/requests?status=refused", staffToken, nil).Items()
			if len(list) != 1 || list[0]["decided_by_name"] != "Test client_admin ("+adminID+"@example.com)" {
				t.Errorf("refused requests: %v", list)
			}

			// The client's audit log has every step, each by its actor.
			var got []string
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/audit-events?action=provider_access.", admin, nil).Items() {
				got = append(got, ev["action"].(string))
			}
			want := "provider_access.request_refused provider_access.requested provider_access.ended provider_access.granted " +
				"provider_access.ended provider_access.granted provider_access.granted"
			if strings.Join(got, " ") != want {
				t.Errorf("the client's audit log: %v\nwant %s", got, want)
			}
			// Its page names the staff member, who is no member of the client.
			addActive(t, e, site, "ann@example.com", "client_admin", nil)
			page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ann@example.com")}}
			_, body := page.do(t, "GET", "/accounts/"+site+"/audit?action=folder.", nil)
			name := "Test integrator_user (" + staff + "@example.com)"
			if !strings.Contains(body, "<td>"+name+"</td>") {
				t.Errorf("the audit page does not name the staff member who made the folder:\n%.3000s", body)
			}
		})
	}
}

// kernelID is an id nothing has.
const kernelID = "0190d7a0-0000-7000-8000-000000000000"
