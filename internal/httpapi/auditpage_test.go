package httpapi_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The audit log reads as sentences in the reader's language, with names
// instead of ids, between two dates, and downloads as a CSV file whose
// cells a spreadsheet cannot take for formulas.
func TestAuditLogReadsAsSentences(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	boss := addActive(t, e, site, "boss@example.com", "client_admin", nil).String("user_id")
	e.Must(t, 200, "PATCH", "/api/v1/users/"+boss, op, map[string]string{"language": "fr"})
	e.Clock.Advance(48 * time.Hour)
	token := adminSession(t, e, "boss@example.com")
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: token}}
	add := newUser("guard@example.com", "client_user")
	add["first_name"] = "=HYPERLINK(1)"
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", token, add)

	_, body := page.do(t, "GET", "/accounts/"+site+"/audit", nil)
	if !strings.Contains(body, "a ajouté un utilisateur: <strong>=HYPERLINK(1)") || strings.Contains(body, "user.added") {
		t.Errorf("the French audit page does not read as sentences with names:\n%.2000s", body)
	}
	today := e.Clock.Now().Format(time.DateOnly)
	before := e.Clock.Now().Add(-48 * time.Hour).Format(time.DateOnly)
	_, body = page.do(t, "GET", "/accounts/"+site+"/audit?from="+before+"&to="+before, nil)
	if strings.Contains(body, "<strong>=HYPERLINK") || !strings.Contains(body, "a ajouté un utilisateur") {
		t.Errorf("a range of two days ago shows today's add, or not the add of that day:\n%.2000s", body)
	}
	resp, raw := page.do(t, "GET", "/accounts/"+site+"/audit.csv?from="+today+"&to="+today, nil)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "at" {
		t.Fatalf("CSV export: %v\n%s", err, raw)
	}
	found := false
	for _, row := range rows[1:] {
		if row[3] == "user.added" {
			found = row[4] == "a ajouté un utilisateur" && strings.HasPrefix(row[7], "'=HYPERLINK")
		}
	}
	if !found {
		t.Errorf("the CSV has no user.added line with its sentence and a guarded name:\n%s", raw)
	}
}

// The API's audit log takes the same range: since and until, RFC 3339.
func TestAuditEventsBetweenTimes(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	e.Clock.Advance(time.Hour)
	middle := e.Clock.Now()
	e.Clock.Advance(time.Hour)
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+in, op, map[string]string{"name": "Acme Security"})
	path := "/api/v1/accounts/" + in + "/audit-events"
	actions := func(query string) []string {
		var out []string
		for _, ev := range e.Must(t, 200, "GET", path+query, op, nil).Items() {
			out = append(out, ev["action"].(string))
		}
		return out
	}
	stamp := middle.UTC().Format(time.RFC3339)
	if got := actions("?since=" + stamp); len(got) != 1 || got[0] != "account.updated" {
		t.Errorf("since the middle: %v, want the update alone", got)
	}
	if got := actions("?until=" + stamp); len(got) != 1 || got[0] != "account.created" {
		t.Errorf("until the middle: %v, want the creation alone", got)
	}
	if r := e.Do(t, "GET", path+"?since=yesterday", op, nil); r.Status != 400 || r.Field() != "since" {
		t.Errorf("a since that is not a time: %d %s", r.Status, r.Raw)
	}
}

// A person's sign-in to one of the platform's applications, and their
// sign-out, read in the audit log of the account the application got, as
// sentences naming the application.
func TestAuditLogNamesApplicationSignIns(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	boss := addActive(t, e, site, "boss@example.com", "client_admin", nil).String("user_id")
	e.Must(t, 200, "PATCH", "/api/v1/users/"+boss, op, map[string]string{"language": "fr"})
	addActive(t, e, site, "ann@example.com", "client_user", nil)
	app := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Video wall", "type": "public",
		"redirect_uris": []string{"https://app.example.com/callback"}})
	ctx := relyingParty(t, e)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	config := oauth2.Config{ClientID: app.String("client_id"), Endpoint: provider.Endpoint(), RedirectURL: "https://app.example.com/callback",
		Scopes: []string{oidc.ScopeOpenID, "account:" + site}}
	pkce := oauth2.GenerateVerifier()
	ann := &browser{e: e}
	back := signInThroughGatehouse(t, ann, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "ann@example.com")
	token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	ann.do(t, "GET", "/oauth2/end_session?"+url.Values{"id_token_hint": {token.Extra("id_token").(string)}}.Encode(), nil)

	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}
	_, body := page.do(t, "GET", "/accounts/"+site+"/audit?action=oidc.", nil)
	for _, want := range []string{"s’est connecté à une application" + ": <strong>Video wall</strong>",
		"s’est déconnecté d’une application" + ": <strong>Video wall</strong>", `<option value="oidc." selected>Applications</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page lacks %q:\n%s", want, body[strings.Index(body, "<table"):])
		}
	}
	if strings.Contains(body, "oidc.signed_in") || strings.Contains(body, "a ajouté un utilisateur") {
		t.Errorf("the page shows an action code, or more than the applications:\n%.3000s", body)
	}
}
