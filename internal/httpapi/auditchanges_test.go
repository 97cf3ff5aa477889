package httpapi_test

import (
	"encoding/csv"
	"html"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The API's audit log gives the before and after of each field a change
// moved, and leaves changes out of events that changed no field.
func TestAuditEventsCarryChanges(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", in)
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 9})
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 12})
			r := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/audit-events", op, nil)
			var changes []any
			for _, ev := range r.Items() { // newest first
				changes = append(changes, ev["changes"])
			}
			want := []any{
				[]any{map[string]any{"field": "max_client_users", "before": "9", "after": "12"}},
				nil, // 9 again: nothing changed
				nil, // the creation
			}
			if !reflect.DeepEqual(changes, want) {
				t.Errorf("events' changes, newest first: %v, want %v", changes, want)
			}
			if strings.Count(string(r.Raw), `"changes"`) != 1 {
				t.Errorf("events without changes do not leave the key out:\n%s", r.Raw)
			}
		})
	}
}

// The portal's audit log shows each change under its sentence, the field
// named in the reader's language and folders by their path, and the CSV
// export has the same in a changes column.
func TestAuditPageShowsChanges(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	addActive(t, e, site, "boss@example.com", "client_admin", nil)
	chef := addActive(t, e, site, "chef@example.com", "client_admin", nil).String("user_id")
	guard := addActive(t, e, site, "guard@example.com", "client_user", nil).String("id")
	e.Must(t, 200, "PATCH", "/api/v1/users/"+chef, op, map[string]string{"language": "fr"})
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 12})
	hall := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", op, map[string]string{"name": "Hall"}).String("id")
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/users/"+guard, op, map[string]string{"home_folder_id": hall})

	english := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}
	_, body := english.do(t, "GET", "/accounts/"+site+"/audit", nil)
	body = html.UnescapeString(body)
	for _, want := range []string{"Client-user limit: 9 → 12", "Home folder: none → /Hall"} {
		if !strings.Contains(body, want) {
			t.Errorf("the English audit page does not show %q:\n%.3000s", want, body)
		}
	}
	french := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "chef@example.com")}}
	_, body = french.do(t, "GET", "/accounts/"+site+"/audit", nil)
	if body = html.UnescapeString(body); !strings.Contains(body, "Limite d'utilisateurs client: 9 → 12") {
		t.Errorf("the French audit page does not name the field in French:\n%.3000s", body)
	}

	_, raw := english.do(t, "GET", "/accounts/"+site+"/audit.csv", nil)
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][len(rows[0])-1] != "changes" {
		t.Fatalf("CSV export without a changes column: %v\n%s", err, raw)
	}
	lines := map[string]string{}
	for _, row := range rows[1:] {
		lines[row[3]] = row[len(row)-1]
	}
	if got := lines["account.settings_changed"]; got != "Client-user limit: 9 → 12" {
		t.Errorf("the CSV's settings line has changes %q", got)
	}
	if got := lines["account.created"]; got != "" {
		t.Errorf("the CSV's creation line has changes %q, want none", got)
	}
}
