package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// The tests of the operator's commands (backup, restore, copy, and
// PostgreSQL's own dump and restore) run them on real nodes, and compare
// through the API what a node serves before and after.

// publicURL is the same on every node of a test: links are built from it.
const publicURL = "https://gatehouse.example.com"

const (
	op            = "op-secret"
	adminPassword = "a long admin passphrase"
)

// fixture is an installation filled through the API with a bit of
// everything a node keeps: accounts, people in every state, roles,
// folders, grants, groups, tokens of every kind, a remote monitoring user
// and an authenticator (sealed with the server key), a webhook, a bulk
// invitation, sessions, the audit log and the feed.
type fixture struct {
	integrator, site, depot string
	preview                 string // the bulk invitation's
	admin                   string // the site administrator's username
	adminSession            string
	// totpKey is the administrator's authenticator key, lastStep the time
	// step of the last code it took.
	totpKey  string
	lastStep int64
	// mails is how many e-mails the node sent.
	mails int
	// monitoringDetails is the remote monitoring user's connection details,
	// with the password opened with the server key. Reading them writes to
	// the audit log, so they are read once, at the end of populate, and
	// compared apart.
	monitoringDetails string
}

func totpCode(t *testing.T, key string, step int64) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(key, time.Unix(step*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func currentStep() int64 { return time.Now().Unix() / 30 }

// nextStep is the first time step after the last one used that a node
// accepts now (it allows the step after the current one), waiting for the
// clock when the last one used is already ahead of it.
func nextStep(f fixture) int64 {
	for currentStep()+1 <= f.lastStep {
		time.Sleep(time.Until(time.Unix((currentStep()+1)*30, 0)) + 50*time.Millisecond)
	}
	return max(f.lastStep+1, currentStep())
}

// activationLink waits for the activation e-mail to address in the data
// dir's mail sink.
func activationLink(t *testing.T, dataDir, address string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, links := mailbox(t, dataDir); len(links["<"+address+">"]) > 0 {
			return links["<"+address+">"][0]
		}
	}
	t.Fatalf("no activation e-mail to %s", address)
	return ""
}

// waitForMail waits until the node has delivered count e-mails into its
// sink, so that its outbox holds nothing a node started on a copy would
// still send.
func waitForMail(t *testing.T, dataDir string, count int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if files, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*.eml")); len(files) >= count {
			return
		}
	}
	t.Fatalf("the node did not deliver %d e-mails", count)
}

// signInWithCode signs in with the administrator's password and the code
// of the given time step.
func signInWithCode(t *testing.T, api *apitest.Env, f fixture, step int64) apitest.Response {
	t.Helper()
	first := api.Must(t, 200, "POST", "/api/v1/sessions", "", map[string]string{"username": f.admin, "password": adminPassword})
	if first.Body["mfa_required"] != true {
		t.Fatalf("the sign-in of an administrator with an authenticator: %s", first.Raw)
	}
	return api.Do(t, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": first.String("challenge"), "code": totpCode(t, f.totpKey, step)})
}

// populate fills a node's installation through its API; dataDir is the
// node's, for its mail. It returns once the node has sent every e-mail.
func populate(t *testing.T, api *apitest.Env, dataDir string) fixture {
	t.Helper()
	f := fixture{admin: "ada@example.com"}
	f.integrator = api.Must(t, 201, "POST", "/api/v1/accounts", op, `{"kind":"integrator","name":"Acme Security"}`).String("id")
	f.site = api.Must(t, 201, "POST", "/api/v1/accounts", op, fmt.Sprintf(`{"kind":"client","name":"Harbour Site","integrator_id":%q}`, f.integrator)).String("id")
	f.depot = api.Must(t, 201, "POST", "/api/v1/accounts", op, fmt.Sprintf(`{"kind":"client","name":"North Depot","integrator_id":%q}`, f.integrator)).String("id")
	site := "/api/v1/accounts/" + f.site
	api.Must(t, 200, "PATCH", site+"/settings", op, `{"max_client_users":50}`)
	api.Must(t, 200, "PATCH", site, op, `{"address":"1 Quay Street"}`)

	// The administrator, activated, with an authenticator.
	api.Must(t, 201, "POST", site+"/users", op, map[string]string{"username": f.admin, "first_name": "Ada", "last_name": "Admin", "level": "client_admin"})
	f.mails++
	api.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": activationLink(t, dataDir, f.admin), "password": adminPassword})
	first := api.Do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": f.admin, "password": adminPassword})
	switch {
	case first.Status == 201:
		session := first.String("token")
		start := api.Must(t, 200, "POST", "/api/v1/me/mfa/totp", session, nil)
		f.totpKey, f.lastStep = start.String("totp_secret"), currentStep()
		api.Must(t, 204, "POST", "/api/v1/me/mfa/totp/confirm", session, map[string]string{"challenge": start.String("challenge"),
			"code": totpCode(t, f.totpKey, f.lastStep)})
		f.lastStep = nextStep(f)
		f.adminSession = signInWithCode(t, api, f, f.lastStep).String("token")
	case first.Body["mfa_enrollment_required"] == true:
		f.totpKey, f.lastStep = first.String("totp_secret"), currentStep()
		f.adminSession = api.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": first.String("challenge"),
			"code": totpCode(t, f.totpKey, f.lastStep)}).String("token")
	default:
		t.Fatalf("the administrator's first sign-in: %d %s", first.Status, first.Raw)
	}
	if f.adminSession == "" {
		t.Fatal("the administrator has no session")
	}

	// People in every state: invited, updated, removed.
	var members []string
	for i := range 5 {
		m := api.Must(t, 201, "POST", site+"/users", op, map[string]string{"username": fmt.Sprintf("guard%d@example.com", i),
			"first_name": "Guard", "last_name": fmt.Sprint(i), "level": "client_user"})
		members = append(members, m.String("id"))
		f.mails++
	}
	api.Must(t, 200, "PATCH", site+"/users/"+members[1], op, map[string]string{"first_name": "Watch"})
	api.Must(t, 204, "DELETE", site+"/users/"+members[4], op, nil)
	userID := api.Must(t, 200, "GET", site+"/users/"+members[0], op, nil).String("user_id")

	// Access: a custom role, a folder tree, a group, grants.
	role := api.Must(t, 201, "POST", site+"/roles", op, map[string]any{"name": "Harbour guard", "permissions": []string{"cameras.view"}}).String("id")
	building := api.Must(t, 201, "POST", site+"/folders", op, map[string]string{"name": "Building A"}).String("id")
	api.Must(t, 201, "POST", site+"/folders", op, map[string]string{"name": "Floor 1", "parent_id": building})
	group := api.Must(t, 201, "POST", site+"/groups", op, map[string]any{"name": "Night shift"}).String("id")
	api.Must(t, 204, "POST", site+"/groups/"+group+"/members", op, map[string]any{"user_id": userID})
	api.Must(t, 201, "POST", site+"/folders/"+building+"/grants", op, map[string]any{"user_id": userID, "role": role})
	api.Must(t, 201, "POST", site+"/folders/"+building+"/grants", op, map[string]any{"group_id": group, "role": "viewer"})

	// Tokens of every kind, the remote monitoring user (its password
	// sealed), a webhook (its secret sealed; no event it takes happens).
	api.Must(t, 201, "POST", site+"/api-tokens", f.adminSession, map[string]any{"name": "nvr", "scopes": []string{"users:read"}})
	api.Must(t, 201, "POST", "/api/v1/check-tokens", op, map[string]any{"name": "video"})
	api.Must(t, 201, "POST", site+"/remote-monitoring-user", op, map[string]any{"description": "Harbour NVR"})
	api.Must(t, 201, "POST", site+"/webhooks", op, map[string]any{"url": "https://hooks.example.com/gatehouse", "event_types": []string{"account.deleted"}})

	// A bulk invitation into the depot.
	f.preview = api.Must(t, 200, "POST", "/api/v1/accounts/"+f.depot+"/invitations/bulk", op,
		"email,role\r\nbulk1@example.com,viewer\r\nbulk2@example.com,viewer\r\nnot an address,viewer\r\n").String("preview_id")
	api.Must(t, 200, "POST", "/api/v1/accounts/"+f.depot+"/invitations/bulk/"+f.preview+"/confirm", op, nil)
	f.mails += 2
	waitForMail(t, dataDir, f.mails)
	f.monitoringDetails = string(api.Must(t, 200, "GET", site+"/remote-monitoring-user/connection-details", op, nil).Raw)
	return f
}

// answers is what a node serves, route by route: JSON answers encoded
// again with their keys sorted, text answers as they are.
type answers map[string]string

// sweep reads every route a user or an operator reads of the fixture's
// installation, following the ids of the lists into their items.
func sweep(t *testing.T, api *apitest.Env, f fixture) answers {
	t.Helper()
	got := answers{}
	get := func(path, token string) apitest.Response {
		t.Helper()
		r := api.Must(t, 200, "GET", path, token, nil)
		key := path
		if token != op {
			key = "as the site administrator: " + path
		}
		got[key] = string(r.Raw)
		// The latest end provider access may be given is a month from now,
		// whenever now is.
		delete(r.Body, "max_until")
		if r.Body != nil {
			raw, err := json.Marshal(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			got[key] = string(raw)
		}
		if next, ok := r.Body["next_cursor"]; ok && next != nil && !strings.HasPrefix(path, "/api/v1/events") {
			t.Fatalf("%s has more than a page; the sweep reads one", path)
		}
		return r
	}
	ids := func(r apitest.Response, key string) []string {
		var out []string
		for _, item := range r.Items() {
			out = append(out, fmt.Sprint(item[key]))
		}
		return out
	}
	get("/api/v1/accounts?limit=500", op)
	for _, account := range []string{f.integrator, f.site, f.depot} {
		base := "/api/v1/accounts/" + account
		get(base, op)
		get(base+"/users?limit=500", op)
		for _, inv := range ids(get(base+"/invitations?limit=500", op), "id") {
			get("/api/v1/invitations/"+inv, op)
		}
		get(base+"/audit-events?limit=500", op)
		get(base+"/webhooks", op)
	}
	site := "/api/v1/accounts/" + f.site
	for _, m := range ids(get(site+"/users?limit=500", op), "id") {
		get(site+"/users/"+m, op)
		get(site+"/users/"+m+"/permissions", op)
	}
	for _, role := range ids(get(site+"/roles", op), "id") {
		get(site+"/roles/"+role, op)
	}
	for _, folder := range ids(get(site+"/folders?limit=500", op), "id") {
		get(site+"/folders/"+folder, op)
		get(site+"/folders/"+folder+"/grants", op)
	}
	for _, group := range ids(get(site+"/groups", op), "id") {
		get(site+"/groups/"+group, op)
	}
	for _, hook := range ids(get(site+"/webhooks", op), "id") {
		get(site+"/webhooks/"+hook, op)
	}
	get(site+"/provider-access", op)
	get(site+"/api-tokens", f.adminSession)
	get("/api/v1/me", f.adminSession)
	get("/api/v1/accounts/"+f.depot+"/invitations/bulk/"+f.preview, op)
	get("/api/v1/accounts/"+f.depot+"/invitations/bulk/"+f.preview+"/rows", op)
	get("/api/v1/check-tokens", op)
	get("/api/v1/operators", op)
	get("/api/v1/oidc-clients", op)
	get("/api/v1/identity-providers", op)
	// The whole feed, page by page, with its cursors.
	for after := ""; ; {
		page := get("/api/v1/events?limit=7&after="+after, op)
		if len(page.Items()) == 0 {
			break
		}
		after = page.String("next_cursor")
	}
	return got
}

// sameAnswers reports the routes whose answers differ.
func sameAnswers(t *testing.T, before, after answers) {
	t.Helper()
	var routes []string
	for route := range before {
		routes = append(routes, route)
	}
	for route := range after {
		if _, ok := before[route]; !ok {
			routes = append(routes, route)
		}
	}
	sort.Strings(routes)
	differ := 0
	for _, route := range routes {
		if before[route] != after[route] {
			differ++
			t.Errorf("GET %s\nbefore: %s\nafter:  %s", route, before[route], after[route])
		}
	}
	t.Logf("%d routes compared, %d differ", len(routes), differ)
}
