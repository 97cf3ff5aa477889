package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// bulkSite is a client account with a custom role, folders, one member and
// one active identity that belongs elsewhere.
type bulkSite struct {
	e           *apitest.Env
	ts          *tenants
	acct, admin string
	east        string
}

func newBulkSite(t *testing.T, b storetest.Backend) *bulkSite {
	ts := newTenants(t, b)
	s := &bulkSite{e: ts.e, ts: ts, acct: "/api/v1/accounts/" + ts.c1, admin: ts.tokens["c1-admin"]}
	e := s.e
	e.Must(t, 201, "POST", s.acct+"/roles", s.admin, map[string]any{"name": "Guard", "permissions": []string{"cameras.view"}})
	stores := e.Must(t, 201, "POST", s.acct+"/folders", s.admin, map[string]any{"name": "Stores"}).String("id")
	s.east = e.Must(t, 201, "POST", s.acct+"/folders", s.admin, map[string]any{"name": "East", "parent_id": stores}).String("id")
	addActive(t, e, ts.c1, "member@example.com", "client_user", nil)
	addActive(t, e, ts.c2, "elsewhere@example.com", "client_user", nil)
	e.Mail(t) // start the tests with an empty outbox
	return s
}

func (s *bulkSite) preview(t *testing.T, csv string) apitest.Response {
	t.Helper()
	return s.e.Do(t, "POST", s.acct+"/invitations/bulk", s.admin, csv)
}

type bulkRow struct{ line, email, outcome string }

func rowsOf(r apitest.Response) []bulkRow {
	var out []bulkRow
	for _, item := range r.Body["rows"].([]any) {
		row := item.(map[string]any)
		out = append(out, bulkRow{fmt.Sprint(row["line"]), row["email"].(string), row["outcome"].(string)})
	}
	return out
}

// Every documented outcome, in file order, with totals; a BOM, CRLF line ends
// and blank lines are fine; nothing is written by a preview (R-B1, R-B2).
func TestBulkPreviewOutcomes(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newBulkSite(t, b)
			// member@ holds one of 8 places: 7 are left.
			s.e.Must(t, 200, "PATCH", s.acct+"/settings", op, map[string]any{"max_client_users": 8})
			csv := "\ufeffEmail,Role,Home_Folder\r\n" +
				"ann@example.com,viewer,/Stores/East\r\n" + // 2
				"elsewhere@example.com,guard,\r\n" + // 3: an identity of another account
				"member@example.com,,\r\n" + // 4
				"not an address,,\r\n" + // 5
				"\r\n" + // blank
				"bob@example.com,pilot,\r\n" + // 7
				"cid@example.com,,/Stores/West\r\n" + // 8
				"ANN@example.com,,\r\n" + // 9
				"dee@example.com,editor," + s.east + "\r\n" + // 10: a folder by id
				"e1@example.com\r\n" + // 11: trailing columns left out
				"e2@example.com,,\r\ne3@example.com,,\r\ne4@example.com,,\r\n" + // 12-14
				"e5@example.com,,\r\n" // 15: the eighth to invite, past the limit
			r := s.preview(t, csv)
			if r.Status != 200 {
				t.Fatalf("preview: %d %s", r.Status, r.Raw)
			}
			want := []bulkRow{
				{"2", "ann@example.com", "invite"}, {"3", "elsewhere@example.com", "invite"},
				{"4", "member@example.com", "already_member"}, {"5", "not an address", "invalid_email"},
				{"7", "bob@example.com", "unknown_role"}, {"8", "cid@example.com", "unknown_folder"},
				{"9", "ANN@example.com", "duplicate"}, {"10", "dee@example.com", "invite"},
				{"11", "e1@example.com", "invite"}, {"12", "e2@example.com", "invite"}, {"13", "e3@example.com", "invite"},
				{"14", "e4@example.com", "invite"}, {"15", "e5@example.com", "over_limit"},
			}
			if got := rowsOf(r); !slices.Equal(got, want) {
				t.Errorf("rows\n got %v\nwant %v", got, want)
			}
			totals := fmt.Sprint(r.Body["totals"])
			if totals != "map[already_member:1 duplicate:1 invalid_email:1 invalid_name:0 invite:7 over_limit:1 rows:13 unknown_folder:1 unknown_role:1]" {
				t.Errorf("totals %s", totals)
			}
			if r.String("preview_id") == "" {
				t.Errorf("no preview id")
			}
			// Nothing else written: no user, no mail, no audit event.
			if n := len(s.e.Must(t, 200, "GET", s.acct+"/users", s.admin, nil).Items()); n != 3 {
				t.Errorf("%d users after a preview, want the 3 there before", n)
			}
			if mail := s.e.Mail(t); len(mail) != 0 {
				t.Errorf("a preview sent %d e-mails", len(mail))
			}
			status := s.e.Must(t, 200, "GET", s.acct+"/invitations/bulk/"+r.String("preview_id"), s.admin, nil)
			if status.String("status") != "previewed" || status.Body["to_invite"] != 7.0 {
				t.Errorf("status %s", status.Raw)
			}
		})
	}
}

// Files that are not what R-B1 asks for are a 400 naming the line, and leave
// nothing behind.
func TestBulkBadFiles(t *testing.T) {
	t.Parallel()
	s := newBulkSite(t, storetest.Backends(t)[0])
	for _, c := range []struct{ name, csv, message string }{
		{"no header", "", "line 1"},
		{"no email column", "role,home_folder\nviewer,/Stores\n", "line 1: the header has no email column"},
		{"unknown column", "email,home folder\nann@example.com,/Stores\n",
			`line 1: unknown column "home folder" in the header; the columns are email, first_name, last_name, role and home_folder`},
		{"twice", "email,EMAIL\n", "line 1: the header names email twice"},
		{"bare quote", "email,role\nann@example.com,viewer\n\"bob@example.com,vie\"wer\n", "line 3"},
		{"too many fields", "email,role\nann@example.com,viewer,extra\n", "line 2"},
		{"not UTF-8", "email\nann\xff@example.com\n", "line 2"},
		// Two batches of lines were judged and stored before this one.
		{"bad line after 2,500", "email\n" + manyAddresses(2500) + "\"bob@example.com,x\n", "line 2502"},
	} {
		r := s.preview(t, c.csv)
		msg, _ := r.Body["error"].(map[string]any)["message"].(string)
		if r.Status != 400 || r.Code() != "validation_failed" || !strings.Contains(msg, c.message) {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
		}
	}
	huge := "email\n" + strings.Repeat("someone.with.a.long.name@example.com\n", 33<<20/37+1)
	if r := s.preview(t, huge); r.Status != 413 || r.Code() != "too_large" {
		t.Errorf("a file over 32 MiB: %d %s", r.Status, r.Raw)
	}
}

// Confirm applies exactly the preview: one invitation e-mail per new
// person, a notice to an active identity, roles and home folders as
// written; confirming again invites nobody twice (R-B3).
func TestBulkConfirm(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newBulkSite(t, b)
			e := s.e
			r := s.preview(t, "email,role,home_folder\nann@example.com,Guard,/Stores/East\nelsewhere@example.com,editor,\nnot-an-address,,\nbob@example.com,,\n")
			id := r.String("preview_id")
			confirmURL := s.acct + "/invitations/bulk/" + id + "/confirm"
			if r := e.Do(t, "POST", confirmURL, ts(s, "c1-user"), nil); r.Status != 403 {
				t.Errorf("a client user confirmed: %d", r.Status)
			}
			if r := e.Do(t, "POST", confirmURL, op, nil); r.Status != 404 {
				t.Errorf("someone else confirmed another's preview: %d", r.Status)
			}
			done := e.Must(t, 200, "POST", confirmURL, s.admin, nil)
			if done.Body["invited"] != 3.0 || done.String("status") != "done" {
				t.Fatalf("confirm: %s", done.Raw)
			}
			mail := e.Mail(t)
			to := map[string][]string{}
			for _, m := range mail {
				to[m.To] = append(to[m.To], m.Subject)
			}
			if len(mail) != 3 || len(to["ann@example.com"]) != 1 || len(to["bob@example.com"]) != 1 || len(to["elsewhere@example.com"]) != 1 {
				t.Errorf("mail %v", to)
			}
			if !strings.Contains(to["elsewhere@example.com"][0], "You now have access") {
				t.Errorf("the active identity got %q", to["elsewhere@example.com"][0])
			}
			users := e.Must(t, 200, "GET", s.acct+"/users", s.admin, nil).Items()
			byName := map[string]map[string]any{}
			for _, u := range users {
				byName[u["username"].(string)] = u
			}
			if ann := byName["ann@example.com"]; ann == nil || fmt.Sprint(ann["roles"]) != "[Guard]" || ann["home_folder_id"] != s.east ||
				ann["status"] != "activation_required" || ann["level"] != "client_user" {
				t.Errorf("ann: %v", ann)
			}
			if el := byName["elsewhere@example.com"]; el == nil || el["status"] != "active" || fmt.Sprint(el["roles"]) != "[editor]" {
				t.Errorf("elsewhere: %v", el)
			}
			if bob := byName["bob@example.com"]; bob == nil || fmt.Sprint(bob["roles"]) != "[viewer]" {
				t.Errorf("bob: %v", bob)
			}
			// Again: the same answer, nobody twice.
			again := e.Must(t, 200, "POST", confirmURL, s.admin, nil)
			if again.Body["invited"] != 3.0 || len(e.Mail(t)) != 0 || len(e.Must(t, 200, "GET", s.acct+"/users", s.admin, nil).Items()) != len(users) {
				t.Errorf("a second confirm: %s", again.Raw)
			}
			// The result, line by line.
			result := e.Must(t, 200, "GET", s.acct+"/invitations/bulk/"+id+"/rows?limit=2", s.admin, nil)
			next, _ := result.Body["next_cursor"].(string)
			rest := e.Must(t, 200, "GET", s.acct+"/invitations/bulk/"+id+"/rows?cursor="+next, s.admin, nil)
			var results []string
			for _, row := range append(result.Items(), rest.Items()...) {
				results = append(results, fmt.Sprintf("%v:%v", row["line"], row["result"]))
			}
			if fmt.Sprint(results) != "[2:invited 3:registered 4:<nil> 5:invited]" {
				t.Errorf("results %v", results)
			}
			actions := names(e.Must(t, 200, "GET", s.acct+"/audit-events?limit=50", op, nil).Items(), "action")
			if !slices.Contains(actions, "bulk_invitation.confirmed") || !slices.Contains(actions, "bulk_invitation.done") {
				t.Errorf("audit %v", actions)
			}
		})
	}
}

// manyAddresses is n lines of distinct addresses.
func manyAddresses(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "person%d@example.com\n", i)
	}
	return b.String()
}

func ts(s *bulkSite, principal string) string { return s.ts.tokens[principal] }

// A confirm whose outcome would differ from the preview is refused with
// preview_stale and writes nothing (R-B3).
func TestBulkPreviewStale(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newBulkSite(t, b)
			e := s.e
			// before makes what the file needs at preview time; after
			// changes the account between the preview and the confirm.
			var roleID, folderID string
			changes := []struct {
				name, csv     string
				before, after func()
			}{
				{"someone joined", "email\nann@example.com\n", nil, func() {
					e.Must(t, 201, "POST", s.acct+"/users", op, newUser("ann@example.com", "client_user"))
				}},
				{"the limit changed", "email\nbob@example.com\n", nil, func() {
					e.Must(t, 200, "PATCH", s.acct+"/settings", op, map[string]any{"max_client_users": 1}) // member@ holds it
				}},
				{"a role went", "email,role\ncid@example.com,Night\n", func() {
					roleID = e.Must(t, 201, "POST", s.acct+"/roles", s.admin, map[string]any{"name": "Night", "permissions": []string{"cameras.view"}}).String("id")
				}, func() { e.Must(t, 204, "DELETE", s.acct+"/roles/"+roleID, s.admin, nil) }},
				{"a folder went", "email,home_folder\ndee@example.com,/Offices\n", func() {
					folderID = e.Must(t, 201, "POST", s.acct+"/folders", s.admin, map[string]any{"name": "Offices"}).String("id")
				}, func() { e.Must(t, 204, "DELETE", s.acct+"/folders/"+folderID, s.admin, nil) }},
			}
			for _, c := range changes {
				if c.before != nil {
					c.before()
				}
				r := s.preview(t, c.csv)
				if r.Status != 200 || rowsOf(r)[0].outcome != "invite" {
					t.Fatalf("%s: preview %d %s", c.name, r.Status, r.Raw)
				}
				c.after()
				users := len(e.Must(t, 200, "GET", s.acct+"/users", s.admin, nil).Items())
				stale := e.Do(t, "POST", s.acct+"/invitations/bulk/"+r.String("preview_id")+"/confirm", s.admin, nil)
				if stale.Status != 409 || stale.Code() != "preview_stale" {
					t.Errorf("%s: confirm %d %s", c.name, stale.Status, stale.Raw)
				}
				if n := len(e.Must(t, 200, "GET", s.acct+"/users", s.admin, nil).Items()); n != users {
					t.Errorf("%s: a stale confirm added %d users", c.name, n-users)
				}
				e.Must(t, 200, "PATCH", s.acct+"/settings", op, map[string]any{"max_client_users": 9})
			}
			// An hour later a preview has expired.
			r := s.preview(t, "email\nlate@example.com\n")
			e.Clock.Advance(61 * time.Minute)
			if got := e.Must(t, 200, "GET", s.acct+"/invitations/bulk/"+r.String("preview_id"), s.admin, nil).String("status"); got != "expired" {
				t.Errorf("status after an hour: %s", got)
			}
			if r := e.Do(t, "POST", s.acct+"/invitations/bulk/"+r.String("preview_id")+"/confirm", s.admin, nil); r.Status != 409 || r.Code() != "preview_stale" {
				t.Errorf("an expired preview: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// Many confirms of one preview at once, over both nodes: one job, each
// person invited once, every caller told the same count.
func TestBulkConfirmConcurrently(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newBulkSite(t, b)
			e := s.e
			e.Must(t, 200, "PATCH", s.acct+"/settings", op, map[string]any{"max_client_users": 1000})
			var csv strings.Builder
			csv.WriteString("email\n")
			for i := range 600 {
				fmt.Fprintf(&csv, "person%03d@example.com\n", i)
			}
			id := s.preview(t, csv.String()).String("preview_id")
			invited := make([]any, 6)
			nodes := nodesOf(t, b, e)
			count := race(nodes, 6, func(node *apitest.Env, i int) int {
				r := node.Do(t, "POST", s.acct+"/invitations/bulk/"+id+"/confirm", s.admin, nil)
				invited[i] = r.Body["invited"]
				return r.Status
			})
			if count[200] != 6 || slices.ContainsFunc(invited, func(n any) bool { return n != 600.0 }) {
				t.Fatalf("confirms answered %v, invited %v", count, invited)
			}
			users := e.Must(t, 200, "GET", s.acct+"/users?limit=500", s.admin, nil)
			more := e.Must(t, 200, "GET", s.acct+"/users?limit=500&cursor="+users.Body["next_cursor"].(string), s.admin, nil)
			if n := len(users.Items()) + len(more.Items()); n != 603 {
				t.Errorf("%d users, want 600 invited and the 3 there before", n)
			}
			if mail := e.Mail(t); len(mail) != 600 {
				t.Errorf("%d e-mails, want one per person", len(mail))
			}
		})
	}
}

// In an integrator account, bulk invites integrator users, which only its
// administrators may add (docs/bulk-invitations.md).
func TestBulkInIntegratorAccount(t *testing.T) {
	t.Parallel()
	s := newBulkSite(t, storetest.Backends(t)[0])
	e, i1 := s.e, "/api/v1/accounts/"+s.ts.i1
	if r := e.Do(t, "POST", i1+"/invitations/bulk", s.ts.tokens["i1-user"], "email\nstaff@example.com\n"); r.Status != 403 {
		t.Errorf("an integrator user bulk-invited staff: %d", r.Status)
	}
	r := e.Must(t, 200, "POST", i1+"/invitations/bulk", s.ts.tokens["i1-admin"], "email\nstaff@example.com\n")
	e.Must(t, 200, "POST", i1+"/invitations/bulk/"+r.String("preview_id")+"/confirm", s.ts.tokens["i1-admin"], nil)
	var level string
	for _, u := range e.Must(t, 200, "GET", i1+"/users", op, nil).Items() {
		if u["username"] == "staff@example.com" {
			level = u["level"].(string)
		}
	}
	if level != "integrator_user" {
		t.Errorf("bulk invitee in an integrator account is %q", level)
	}
	if r := e.Do(t, "POST", "/api/v1/accounts/"+s.ts.c2+"/invitations/bulk", s.admin, "email\nx@example.com\n"); r.Status != 404 {
		t.Errorf("bulk into another tenant: %d", r.Status)
	}
}

// The optional first_name and last_name columns: a new person gets the
// names of their line (and their e-mail greets them by it); an existing
// identity, active or pending, keeps its own (R-U2); a name that is not one
// is its own outcome and nobody is invited for that line; the preview, the
// rows and the portal's result file carry the names as written.
func TestBulkNames(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newBulkSite(t, b)
			e := s.e
			// elsewhere@ is active in another account, named Ann Lee.
			e.Must(t, 201, "POST", "/api/v1/accounts/"+s.ts.c2+"/users", op, map[string]any{"username": "pending@example.com",
				"first_name": "Pat", "last_name": "Pending", "level": "client_user"})
			addActive(t, e, s.ts.c1, "boss@example.com", "client_admin", nil)
			boss := adminSession(t, e, "boss@example.com")
			e.Mail(t)
			long := strings.Repeat("é", 101)
			csv := "Last_Name,email,FIRST_NAME,role\r\n" +
				"\"Le Goff\",zoe@example.com, Zoé ,Guard\r\n" + // 2: new
				"Other,elsewhere@example.com,Someone,\r\n" + // 3: active elsewhere
				"Else,pending@example.com,Someone,\r\n" + // 4: pending elsewhere
				long + ",long@example.com,Lou,\r\n" + // 5: too long
				"Doe,ctl@example.com,\"Jo\u202eh\",\r\n" + // 6: a direction control
				",solo@example.com,Solo\r\n" + // 7: a first name alone
				"=cmd,formula@example.com,Max\r\n" // 8: read as a formula by a spreadsheet
			r := e.Do(t, "POST", s.acct+"/invitations/bulk", boss, csv)
			if r.Status != 200 {
				t.Fatalf("preview: %d %s", r.Status, r.Raw)
			}
			type named struct{ line, first, last, outcome, message string }
			var got []named
			for _, item := range r.Body["rows"].([]any) {
				row := item.(map[string]any)
				got = append(got, named{fmt.Sprint(row["line"]), row["first_name"].(string), row["last_name"].(string),
					row["outcome"].(string), row["message"].(string)})
			}
			want := []named{
				{"2", "Zoé", "Le Goff", "invite", "will get an invitation e-mail"},
				{"3", "Someone", "Other", "invite", "already uses Gatehouse: will be added at once and told by e-mail"},
				{"4", "Someone", "Else", "invite", "will get an invitation e-mail"},
				{"5", "Lou", long, "invalid_name", "last_name must be at most 100 characters"},
				{"6", "Jo\u202eh", "Doe", "invalid_name", "first_name must not contain characters that change the direction of text"},
				{"7", "Solo", "", "invite", "will get an invitation e-mail"},
				{"8", "Max", "=cmd", "invite", "will get an invitation e-mail"},
			}
			if !slices.Equal(got, want) {
				t.Errorf("rows\n got %q\nwant %q", got, want)
			}
			if totals := r.Body["totals"].(map[string]any); totals["invalid_name"] != 2.0 || totals["invite"] != 5.0 {
				t.Errorf("totals %v", totals)
			}
			id := r.String("preview_id")
			page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: boss}}
			if resp, html := page.do(t, "GET", "/accounts/"+s.ts.c1+"/bulk/"+id, nil); resp.StatusCode != 200 ||
				!strings.Contains(html, `<td class="optional">Zoé Le Goff</td>`) || !strings.Contains(html, "Invalid name") {
				t.Errorf("the preview page: %d\n%s", resp.StatusCode, html)
			}

			done := e.Must(t, 200, "POST", s.acct+"/invitations/bulk/"+id+"/confirm", boss, nil)
			if done.Body["invited"] != 5.0 {
				t.Fatalf("confirm: %s", done.Raw)
			}
			names := map[string]string{}
			for _, account := range []string{s.ts.c1, s.ts.c2} {
				for _, u := range e.Must(t, 200, "GET", "/api/v1/accounts/"+account+"/users?limit=100", op, nil).Items() {
					names[u["username"].(string)] = fmt.Sprintf("%v|%v", u["first_name"], u["last_name"])
				}
			}
			for username, want := range map[string]string{"zoe@example.com": "Zoé|Le Goff", "solo@example.com": "Solo|",
				"formula@example.com": "Max|=cmd", "elsewhere@example.com": "Ann|Lee", "pending@example.com": "Pat|Pending"} {
				if names[username] != want {
					t.Errorf("%s is named %q, want %q", username, names[username], want)
				}
			}
			for _, nobody := range []string{"long@example.com", "ctl@example.com"} {
				if _, ok := names[nobody]; ok {
					t.Errorf("%s was invited despite an invalid name", nobody)
				}
			}
			greeted := map[string]string{}
			for _, m := range e.Mail(t) {
				greeted[m.To], _, _ = strings.Cut(m.Body, ",")
			}
			if len(greeted) != 5 || greeted["zoe@example.com"] != "Hello Zoé" || greeted["elsewhere@example.com"] != "Hello Ann" ||
				greeted["pending@example.com"] != "Hello Pat" {
				t.Errorf("mail greets %q", greeted)
			}

			resp, result := page.do(t, "GET", "/accounts/"+s.ts.c1+"/bulk/"+id+"/result.csv", nil)
			lines := strings.Split(strings.TrimSpace(result), "\n")
			wantLines := []string{
				"line,email,first_name,last_name,role,home_folder,outcome,result,message",
				"2,zoe@example.com,Zoé,Le Goff,Guard,,invite,invited,will get an invitation e-mail",
				"3,elsewhere@example.com,Someone,Other,,,invite,registered,already uses Gatehouse: will be added at once and told by e-mail",
				"4,pending@example.com,Someone,Else,,,invite,invited,will get an invitation e-mail",
				"5,long@example.com,Lou," + long + ",,,invalid_name,,last_name must be at most 100 characters",
				"6,ctl@example.com,Jo\u202eh,Doe,,,invalid_name,,first_name must not contain characters that change the direction of text",
				"7,solo@example.com,Solo,,,,invite,invited,will get an invitation e-mail",
				"8,formula@example.com,Max,'=cmd,,,invite,invited,will get an invitation e-mail",
			}
			if resp.StatusCode != 200 || !slices.Equal(lines, wantLines) {
				t.Errorf("result file: %d\n%s", resp.StatusCode, result)
			}
			// The API's rows carry them too, with each line's result.
			rows := e.Must(t, 200, "GET", s.acct+"/invitations/bulk/"+id+"/rows", boss, nil).Items()
			if len(rows) != 7 || rows[0]["first_name"] != "Zoé" || rows[0]["last_name"] != "Le Goff" || rows[0]["result"] != "invited" {
				t.Errorf("rows %v", rows)
			}
		})
	}
}

// A confirm waits for its job only so long (under the server's write
// timeout, which would cut a long job's answer off): then it answers 202
// with the job's progress, the job goes on to the end, and everyone is
// invited and mailed once.
func TestALongBulkConfirmAnswersWithItsProgress(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, func(o *service.Options) { o.BulkConfirmWait = time.Nanosecond })
			acct := "/api/v1/accounts/" + e.CreateAccount(t, "integrator", "Acme", "")
			var csv strings.Builder
			csv.WriteString("email\n")
			for i := range 1500 {
				fmt.Fprintf(&csv, "staff%04d@example.com\n", i)
			}
			preview := e.Do(t, "POST", acct+"/invitations/bulk", op, csv.String())
			id := preview.String("preview_id")
			if id == "" {
				t.Fatalf("preview: %d %s", preview.Status, preview.Raw)
			}
			answer := e.Must(t, 202, "POST", acct+"/invitations/bulk/"+id+"/confirm", op, nil)
			if answer.String("status") != "confirming" {
				t.Errorf("the answer before the end: %s", answer.Raw)
			}
			var status apitest.Response
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
				status = e.Must(t, 200, "GET", acct+"/invitations/bulk/"+id, op, nil)
				if status.String("status") == "done" || time.Now().After(deadline) {
					break
				}
			}
			if status.String("status") != "done" || status.Body["invited"] != 1500.0 {
				t.Fatalf("the job after the answer: %s", status.Raw)
			}
			sent := map[string]int{}
			for _, m := range e.Mail(t) {
				sent[m.To]++
			}
			if len(sent) != 1500 || slices.ContainsFunc(slices.Collect(maps.Values(sent)), func(n int) bool { return n != 1 }) {
				t.Errorf("%d people mailed, some more than once: %v", len(sent), len(sent) != 1500)
			}
		})
	}
}
