package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// admin runs gatehouse in-process against one server, with a token, as an
// administrator's shell would.
type admin struct {
	t     *testing.T
	url   string
	token string
}

// result is what a run printed and the code the process would exit with;
// stderr ends with the error line main prints.
type result struct {
	stdout, stderr string
	code           int
}

func (a admin) as(token string) admin { a.token = token; return a }

func (a admin) run(args ...string) result {
	a.t.Helper()
	return a.runContext(context.Background(), &bytes.Buffer{}, args...)
}

func (a admin) runContext(ctx context.Context, stdout interface {
	Write([]byte) (int, error)
	String() string
}, args ...string) result {
	a.t.Helper()
	getenv := func(k string) string {
		return map[string]string{"GATEHOUSE_URL": a.url, "GATEHOUSE_TOKEN": a.token}[k]
	}
	var errOut bytes.Buffer
	err := run(ctx, args, getenv, strings.NewReader(""), stdout, &errOut)
	code := exitCode(err)
	if code != 0 {
		errOut.WriteString("gatehouse: " + err.Error() + "\n")
	}
	return result{stdout: stdout.String(), stderr: errOut.String(), code: code}
}

// ok runs the command and fails the test unless it exits 0.
func (a admin) ok(args ...string) string {
	a.t.Helper()
	r := a.run(args...)
	if r.code != 0 {
		a.t.Fatalf("gatehouse %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs the command and fails the test unless it exits with code and
// its error line says what is wanted.
func (a admin) fails(code int, wants []string, args ...string) {
	a.t.Helper()
	r := a.run(args...)
	if r.code != code {
		a.t.Errorf("gatehouse %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
		return
	}
	for _, want := range wants {
		if !strings.Contains(r.stderr, want) {
			a.t.Errorf("gatehouse %s: the error says nothing of %q:\n%s", strings.Join(args, " "), want, r.stderr)
		}
	}
}

// decode reads the one JSON document --json printed.
func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out)
	}
	return v
}

type listJSON struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

func (l listJSON) values(key string) []string {
	var out []string
	for _, item := range l.Items {
		s, _ := item[key].(string)
		out = append(out, s)
	}
	return out
}

// rows are the table's lines after its header, each cut into its columns.
func rows(t *testing.T, table string, header ...string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if got := strings.Fields(lines[0]); !strings.HasPrefix(strings.Join(got, " "), strings.Join(header, " ")) {
		t.Fatalf("header %q, want it to start with %q:\n%s", lines[0], header, table)
	}
	var out [][]string
	for _, line := range lines[1:] {
		out = append(out, regexp.MustCompile(`\s{2,}`).Split(line, -1))
	}
	return out
}

func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[i])
	}
	return out
}

// An operator makes, finds, pages through, suspends and restores accounts
// with `gatehouse accounts`; tables for people, one JSON document for
// scripts, and the exit code of each kind of refusal.
func TestAccountsCommand(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			op := admin{t: t, url: e.URL, token: apitest.OperatorToken}

			acme := decode[map[string]any](t, op.ok("accounts", "create", "--name", "Acme", "--address", "1 Main St", "--json"))
			if acme["kind"] != "integrator" || acme["status"] != "active" || acme["address"] != "1 Main St" {
				t.Fatalf("created %v", acme)
			}
			acmeID := acme["id"].(string)
			made := rows(t, op.ok("accounts", "create", "--name", "Paris Store", "--integrator", acmeID), "ID", "NAME", "KIND", "STATUS", "INTEGRATOR")
			if len(made) != 1 || made[0][1] != "Paris Store" || made[0][2] != "client" || made[0][3] != "active" || made[0][4] != acmeID {
				t.Fatalf("created %q", made)
			}
			lyonID := decode[map[string]any](t, op.ok("accounts", "create", "--integrator", acmeID, "--name", "Lyon Store", "--json"))["id"].(string)

			listed := rows(t, op.ok("accounts", "list", "--kind", "client"), "ID", "NAME", "KIND", "STATUS", "INTEGRATOR", "CREATED")
			if names := column(listed, 1); strings.Join(names, ",") != "Lyon Store,Paris Store" {
				t.Errorf("clients by name: %q", names)
			}
			clients := decode[listJSON](t, op.ok("accounts", "list", "--integrator", acmeID, "--json"))
			if got := clients.values("name"); strings.Join(got, ",") != "Lyon Store,Paris Store" || clients.NextCursor != nil ||
				clients.Items[0]["integrator_id"] != acmeID {
				t.Errorf("--json: %+v", clients)
			}

			// One page at a time, the way on printed for people; or all.
			first := op.run("accounts", "list", "--integrator", acmeID, "--limit", "1")
			next := regexp.MustCompile(`--cursor (\S+)`).FindStringSubmatch(first.stderr)
			if first.code != 0 || len(rows(t, first.stdout, "ID")) != 1 || next == nil {
				t.Fatalf("first page: %+v", first)
			}
			if second := rows(t, op.ok("accounts", "list", "--integrator", acmeID, "--limit", "1", "--cursor", next[1]), "ID"); len(second) != 1 ||
				second[0][1] != "Paris Store" {
				t.Errorf("second page %q", second)
			}
			if all := decode[listJSON](t, op.ok("accounts", "list", "--integrator", acmeID, "--limit", "1", "--all", "--json")); len(all.Items) != 2 ||
				all.NextCursor != nil {
				t.Errorf("--all: %+v", all)
			}

			if out := op.ok("accounts", "suspend", lyonID); !strings.Contains(out, "suspended") {
				t.Errorf("suspend printed %q", out)
			}
			if got := decode[map[string]any](t, op.ok("accounts", "get", lyonID, "--json")); got["status"] != "suspended" {
				t.Errorf("after the suspension: %v", got)
			}
			if got := decode[listJSON](t, op.ok("accounts", "list", "--status", "suspended", "--json")); strings.Join(got.values("id"), ",") != lyonID {
				t.Errorf("suspended accounts: %v", got.values("name"))
			}
			if got := decode[map[string]any](t, op.ok("accounts", "restore", "--json", lyonID)); got["status"] != "active" {
				t.Errorf("restored: %v", got)
			}

			op.fails(exitNotFound, []string{"404 not_found"}, "accounts", "suspend", "0193a5c4-0000-7000-8000-000000000000")
			op.fails(exitConflict, []string{"409"}, "accounts", "create", "--name", "Lyon Store", "--integrator", acmeID)
			op.fails(exitInvalid, []string{"400 validation_failed"}, "accounts", "create", "--name", "Nowhere", "--kind", "planet")
			op.fails(exitInvalid, []string{"field limit"}, "accounts", "list", "--limit", "-3")
			viewer, _ := e.Member(t, lyonID, gatehouse.LevelClientUser)
			op.as(viewer).fails(exitDenied, []string{"403 forbidden"}, "accounts", "suspend", lyonID)
			op.as("gh_api_not-a-token").fails(exitDenied, []string{"401 unauthenticated"}, "accounts", "list")
		})
	}
}

// An administrator adds people (a new username is invited), lists them,
// resends and cancels invitations and removes users by username or id with
// `gatehouse users` and `gatehouse invitations` (R-U1, R-M5, R-M7).
func TestUsersAndInvitationsCommands(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			op := admin{t: t, url: e.URL, token: apitest.OperatorToken}
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", acme)

			out := op.ok("users", "add", "--account", site, "--username", "ann@example.com", "--first-name", "Ann", "--last-name", "Ames",
				"--level", "client_user")
			added := rows(t, out, "ID", "USERNAME", "NAME", "LEVEL", "STATUS", "ROLES")
			if added[0][1] != "ann@example.com" || added[0][2] != "Ann Ames" || added[0][4] != "activation_required" || added[0][5] != "viewer" ||
				!strings.Contains(out, "Invited ann@example.com") {
				t.Fatalf("added:\n%s", out)
			}
			bob := decode[map[string]any](t, op.ok("users", "add", "--account", site, "--username", "bob@example.com", "--first-name", "Bob",
				"--last-name", "Best", "--level", "client_user", "--role", "editor", "--expires", "720h", "--json"))
			if roles, _ := bob["roles"].([]any); len(roles) != 1 || roles[0] != "editor" || bob["expires_at"] == nil {
				t.Errorf("bob: %v", bob)
			}
			op.fails(exitConflict, []string{"already_member"}, "users", "add", "--account", site, "--username", "ANN@example.com", "--level", "client_user")
			op.fails(exitInvalid, []string{"validation_failed", "field username"}, "users", "add", "--account", site, "--username", "not an address",
				"--first-name", "N", "--last-name", "A", "--level", "client_user")

			users := rows(t, op.ok("users", "list", "--account", site), "ID", "USERNAME")
			if names := column(users, 1); strings.Join(names, ",") != "ann@example.com,bob@example.com" {
				t.Errorf("users oldest first: %q", names)
			}

			e.Mail(t) // the invitations, sent
			pending := decode[listJSON](t, op.ok("invitations", "list", "--account", site, "--status", "pending", "--json"))
			if emails := pending.values("email"); strings.Join(emails, ",") != "bob@example.com,ann@example.com" {
				t.Fatalf("pending invitations, newest first: %q", emails)
			}
			annInvitation, bobInvitation := pending.values("id")[1], pending.values("id")[0]
			e.Clock.Advance(time.Hour)
			resent := rows(t, op.ok("invitations", "resend", annInvitation), "ID", "EMAIL", "STATUS", "SENT")
			if resent[0][1] != "ann@example.com" || resent[0][2] != "pending" {
				t.Errorf("resent %q", resent)
			}
			if n := len(e.ActivationTokens(t, "ann@example.com")); n != 1 {
				t.Errorf("%d new e-mails to ann after the resend", n)
			}
			if got := rows(t, op.ok("invitations", "cancel", bobInvitation), "ID", "EMAIL", "STATUS"); got[0][2] != "cancelled" {
				t.Errorf("cancelled %q", got)
			}
			op.fails(exitConflict, []string{"409 conflict"}, "invitations", "cancel", bobInvitation)
			op.fails(exitNotFound, []string{"404"}, "invitations", "resend", "0193a5c4-0000-7000-8000-000000000000")
			if got := decode[listJSON](t, op.ok("users", "list", "--account", site, "--json")); strings.Join(got.values("username"), ",") != "ann@example.com" {
				t.Errorf("users after bob's cancelled invitation: %v", got.values("username"))
			}

			viewer, _ := e.Member(t, site, gatehouse.LevelClientUser)
			op.as(viewer).fails(exitDenied, []string{"403 forbidden"}, "users", "add", "--account", site, "--username", "cid@example.com",
				"--first-name", "C", "--last-name", "D", "--level", "client_user")

			if out := op.ok("users", "remove", "--account", site, "Ann@Example.com"); !strings.Contains(out, "Removed ann@example.com") {
				t.Errorf("remove printed %q", out)
			}
			op.fails(exitNotFound, []string{"ann@example.com is no user"}, "users", "remove", "--account", site, "ann@example.com")
			cid := decode[map[string]any](t, op.ok("users", "add", "--account", site, "--username", "cid@example.com", "--first-name", "Cid",
				"--last-name", "Cole", "--level", "client_admin", "--json"))["id"].(string)
			// The id before the flags, as people type it too.
			op.ok("users", "remove", cid, "--account", site)
			op.fails(exitNotFound, []string{"404 not_found"}, "users", "remove", cid, "--account", site)
			if got := decode[listJSON](t, op.ok("users", "list", "--account", site, "--json")); len(got.Items) != 1 {
				t.Errorf("users left: %v", got.values("username"))
			}
		})
	}
}

// A person signed in makes a personal API token with `gatehouse tokens
// create`, sees the secret once, uses it, lists and revokes it; tokens
// cannot make tokens, and unknown scopes are named (R-S4).
func TestTokensCommand(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			op := admin{t: t, url: e.URL, token: apitest.OperatorToken}
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", acme)
			op.ok("users", "add", "--account", acme, "--username", "pat@example.com", "--first-name", "Pat", "--last-name", "Lee",
				"--level", "integrator_user")
			const password = "tramway olive canyon"
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": e.ActivationTokens(t, "pat@example.com")[0], "password": password})
			pat := op.as(e.Must(t, 201, "POST", "/api/v1/sessions", "", map[string]string{"username": "pat@example.com", "password": password}).String("token"))

			out := pat.ok("tokens", "create", "--account", acme, "--name", "HR sync", "--scope", "users:read,audit:read", "--expires", "720h")
			secret := regexp.MustCompile(`gh_api_\S+`).FindString(out)
			if secret == "" || !strings.Contains(out, "shown this once") {
				t.Fatalf("create printed:\n%s", out)
			}
			made := rows(t, out[:strings.Index(out, "\n\n")], "ID", "NAME", "SCOPES", "CREATED", "EXPIRES")
			if made[0][1] != "HR sync" || made[0][2] != "users:read,audit:read" || made[0][4] == "-" {
				t.Errorf("made %q", made)
			}
			listed := pat.ok("tokens", "list", "--account", acme)
			if strings.Contains(listed, "gh_api_") || len(rows(t, listed, "ID", "NAME")) != 1 {
				t.Errorf("list shows:\n%s", listed)
			}

			hr := op.as(secret)
			if got := decode[listJSON](t, hr.ok("users", "list", "--account", site, "--json")); got.Items == nil {
				t.Errorf("users through the token: %+v", got)
			}
			hr.fails(exitDenied, []string{"403"}, "tokens", "create", "--account", acme, "--name", "more", "--scope", "users:read")
			op.fails(exitDenied, []string{"signed in"}, "tokens", "create", "--account", acme, "--name", "ops", "--scope", "users:read")
			pat.fails(exitInvalid, []string{"field scopes"}, "tokens", "create", "--account", acme, "--name", "x", "--scope", "users:delete")

			id := made[0][0]
			if out := pat.ok("tokens", "revoke", "--account", acme, id); !strings.Contains(out, `Revoked the token "HR sync"`) {
				t.Errorf("revoke printed %q", out)
			}
			hr.fails(exitDenied, []string{"401 unauthenticated"}, "users", "list", "--account", site)
			pat.fails(exitNotFound, []string{"404"}, "tokens", "revoke", "--account", acme, id)
			if got := decode[listJSON](t, pat.ok("tokens", "list", "--account", acme, "--json")); len(got.Items) != 0 || got.NextCursor != nil {
				t.Errorf("tokens after the revocation: %+v", got)
			}
		})
	}
}

// syncBuffer is a buffer one goroutine writes while another reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `gatehouse audit list` reads an account's audit log newest first;
// `gatehouse audit tail` prints the last changes of the feed, resumes after
// a cursor it printed, and with --follow prints a change as it commits and
// stops cleanly when interrupted.
func TestAuditCommand(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			op := admin{t: t, url: e.URL, token: apitest.OperatorToken}
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", acme)
			op.ok("users", "add", "--account", site, "--username", "ann@example.com", "--first-name", "Ann", "--last-name", "Ames", "--level", "client_user")
			e.Clock.Advance(time.Minute)
			op.ok("accounts", "suspend", site)

			log := rows(t, op.ok("audit", "list", "--account", site, "--action", "account."), "AT", "ACTION", "ACTOR", "TARGET")
			if actions := column(log, 1); strings.Join(actions, ",") != "account.suspended,account.created" || log[0][2] != "operator" {
				t.Errorf("account actions, newest first: %q", log)
			}
			if recent := decode[listJSON](t, op.ok("audit", "list", "--account", site, "--since", e.Clock.Now().Format(time.RFC3339), "--json")); strings.Join(recent.values("action"), ",") != "account.suspended" {
				t.Errorf("since the suspension: %v", recent.values("action"))
			}

			// On PostgreSQL the feed holds a change back while a transaction
			// begun before it commits may still be running anywhere on the
			// server (other tests' too): wait until the four are given out.
			e.ReadFeedUntil(t, apitest.OperatorToken, "account_id="+site, "", func(events []map[string]any) bool { return len(events) >= 4 })
			tail := rows(t, op.ok("audit", "tail", "--account", site, "-n", "2"), "OCCURRED", "TYPE", "ACCOUNT", "ACTOR", "SUBJECT", "CURSOR")
			if types := column(tail, 1); strings.Join(types, ",") != "invitation.sent,account.suspended" {
				t.Errorf("the last two changes: %q", tail)
			}
			feed := decode[map[string]any](t, op.ok("audit", "tail", "--account", site, "--json"))
			items, _ := feed["items"].([]any)
			if len(items) != 4 || feed["next_cursor"] != items[3].(map[string]any)["cursor"] {
				t.Fatalf("the whole feed: %v", feed)
			}
			second := items[1].(map[string]any)["cursor"].(string)
			if resumed := rows(t, op.ok("audit", "tail", "--account", site, "--after", second), "OCCURRED"); strings.Join(column(resumed, 1), ",") !=
				"invitation.sent,account.suspended" {
				t.Errorf("after the second change: %q", resumed)
			}

			ctx, interrupt := context.WithCancel(context.Background())
			defer interrupt()
			var out syncBuffer
			done := make(chan result, 1)
			go func() {
				done <- op.runContext(ctx, &out, "audit", "tail", "--account", site, "-n", "0", "--follow", "--json")
			}()
			time.Sleep(300 * time.Millisecond)
			op.ok("accounts", "restore", site)
			for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "account.restored"); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the follower printed nothing of the restoration:\n%s", out.String())
				}
			}
			interrupt()
			r := <-done
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if r.code != 0 || len(lines) != 1 || decode[map[string]any](t, lines[0])["type"] != "account.restored" {
				t.Errorf("following printed %q, exit %d\n%s", lines, r.code, r.stderr)
			}
		})
	}
}

// Mistakes in a command, a server out of reach and a server in trouble
// each end with their own exit code, which `gatehouse help` lists; --token
// beats GATEHOUSE_TOKEN, and help never prints the token.
func TestAdminCommandExitCodes(t *testing.T) {
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	op := admin{t: t, url: e.URL, token: apitest.OperatorToken}

	help := op.ok("help")
	for _, want := range []string{"Exit codes:", "2  usage", "3  not found", "4  refused", "5  conflict or limit", "6  invalid input",
		"7  the server cannot answer now", "gatehouse accounts list|get|create|suspend|restore", "gatehouse completion bash|zsh"} {
		if !strings.Contains(help, want) {
			t.Errorf("help says nothing of %q", want)
		}
	}
	if out := op.ok("help", "tokens"); !strings.Contains(out, "create --account ID --name NAME --scope SCOPE [flags]") {
		t.Errorf("help tokens:\n%s", out)
	}
	if r := op.run("users", "add", "-h"); r.code != 0 || strings.Contains(r.stderr, apitest.OperatorToken) || !strings.Contains(r.stderr, "-username") {
		t.Errorf("users add -h: exit %d\n%s", r.code, r.stderr)
	}

	op.fails(exitUsage, []string{"a verb is required"}, "accounts")
	op.fails(exitUsage, []string{`unknown verb "delete"`}, "accounts", "delete", "x")
	op.fails(exitUsage, []string{`unknown command "acounts"`}, "acounts", "list")
	op.fails(exitUsage, []string{"--account is required"}, "users", "list")
	op.fails(exitUsage, []string{"takes ID"}, "accounts", "suspend")
	op.fails(exitUsage, []string{`unexpected argument "extra"`}, "accounts", "list", "extra")
	op.fails(exitUsage, []string{"flag provided but not defined"}, "accounts", "list", "--colour")
	op.as("").fails(exitUsage, []string{"GATEHOUSE_TOKEN"}, "accounts", "list")
	op.fails(exitUsage, []string{"not an http"}, "accounts", "list", "--server", "ftp://example.com")
	op.fails(exitUsage, []string{"neither a duration"}, "tokens", "create", "--account", "x", "--name", "n", "--scope", "check", "--expires", "soon")

	op.as("wrong").ok("accounts", "list", "--token", apitest.OperatorToken)

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	admin{t: t, url: down.URL, token: "x"}.fails(exitUnavailable, []string{"cannot reach Gatehouse at " + down.URL}, "accounts", "list")
	troubled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-42")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the database cannot be reached"}}`))
	}))
	defer troubled.Close()
	admin{t: t, url: troubled.URL, token: "x"}.fails(exitUnavailable, []string{"the database cannot be reached (503 unavailable, request id req-42)"},
		"users", "list", "--account", "x")
}
