package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// SCIM provisioning, through a running server on both databases: the
// request sequences Microsoft Entra ID's and Okta's provisioning send, as
// their SCIM integration guides show them, then the rules that hold
// through SCIM as through the API.

// directory speaks SCIM to one account's base with a token.
type directory struct {
	e     *apitest.Env
	base  string
	token string
}

type scimReply struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (r scimReply) str(key string) string { s, _ := r.Body[key].(string); return s }

func (r scimReply) resources() []map[string]any {
	raw, _ := r.Body["Resources"].([]any)
	out := []map[string]any{}
	for _, item := range raw {
		m, _ := item.(map[string]any)
		out = append(out, m)
	}
	return out
}

// do sends one SCIM request; body is JSON text or a value; headers are
// name, value pairs.
func (d directory) do(t testing.TB, method, path string, body any, headers ...string) scimReply {
	t.Helper()
	req, err := http.NewRequest(method, d.e.URL+d.base+path, apitest.Body(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := scimReply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			t.Fatalf("%s %s: content type %q, want application/scim+json\n%s", method, path, ct, raw)
		}
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

func (d directory) must(t testing.TB, want int, method, path string, body any, headers ...string) scimReply {
	t.Helper()
	r := d.do(t, method, path, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d\n%s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// refused checks a SCIM error answer: its status, scimType and body.
func (r scimReply) refused(t testing.TB, status int, scimType string) {
	t.Helper()
	schemas, _ := r.Body["schemas"].([]any)
	if r.Status != status || r.str("scimType") != scimType || len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" ||
		r.str("status") != fmt.Sprint(status) || r.str("detail") == "" {
		t.Fatalf("want %d scimType %q in the SCIM error schema, got %d %s", status, scimType, r.Status, r.Raw)
	}
}

// scimWorld is an integrator with a client account "Store 12" and a SCIM
// token of the client made by the operator.
type scimWorld struct {
	e                  *apitest.Env
	integrator, client string
	dir                directory
	tokenID            string
}

func newSCIMWorld(t *testing.T, b storetest.Backend) *scimWorld {
	e := apitest.Start(t, b)
	w := &scimWorld{e: e}
	w.integrator = e.CreateAccount(t, "integrator", "Acme Security", "")
	w.client = e.CreateAccount(t, "client", "Store 12", w.integrator)
	tok := e.Must(t, 201, "POST", "/api/v1/accounts/"+w.client+"/scim-tokens", op, map[string]string{"name": "Entra ID"})
	if !strings.HasPrefix(tok.String("token"), "gh_scim_") || tok.String("id") == "" || tok.String("name") != "Entra ID" {
		t.Fatalf("token: %s", tok.Raw)
	}
	w.tokenID = tok.String("id")
	w.dir = directory{e: e, base: "/scim/v2/accounts/" + w.client, token: tok.String("token")}
	return w
}

func scimUser(username, given, family, externalID string) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"externalId": externalID, "userName": username, "active": true,
		"emails": []map[string]any{{"primary": true, "type": "work", "value": username}},
		"meta":   map[string]string{"resourceType": "User"},
		"name":   map[string]string{"formatted": given + " " + family, "familyName": family, "givenName": given},
		"roles":  []any{},
	}
}

func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func filterQuery(filter string) string {
	return "filter=" + strings.ReplaceAll(strings.ReplaceAll(filter, " ", "%20"), `"`, "%22")
}

// Entra ID's provisioning, in the order its SCIM guide shows: the probe by
// userName, the create, the lookups, PATCH with "Replace" capitalised,
// path-less value maps and string booleans, active false (the person's
// sessions and tokens end), true again, and the delete.
func TestSCIMEntraIDSequence(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			d, e := w.dir, w.e
			const upn = "zoe.martin@contoso.example"

			probe := d.must(t, 200, "GET", "/Users?"+filterQuery(`userName eq "`+upn+`"`), nil)
			if probe.Body["totalResults"] != 0.0 || len(probe.resources()) != 0 {
				t.Fatalf("probe of an unknown user: %s", probe.Raw)
			}
			created := d.must(t, 201, "POST", "/Users", scimUser(upn, "Zoé", "Martin", "0a1b2c3d-entra"))
			id := created.str("id")
			if created.str("userName") != upn || created.str("externalId") != "0a1b2c3d-entra" || created.Body["active"] != true ||
				created.Header.Get("ETag") == "" || created.Header.Get("Location") != "https://gatehouse.example.com/scim/v2/accounts/"+w.client+"/Users/"+id {
				t.Fatalf("created: %v %s", created.Header, created.Raw)
			}
			// The person is added as any client user: invited by e-mail,
			// counted, audited as the directory's change.
			user := e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client+"/users/"+id, op, nil)
			if user.String("level") != "client_user" || user.String("status") != "activation_required" || user.String("first_name") != "Zoé" ||
				user.String("external_id") != "0a1b2c3d-entra" {
				t.Fatalf("membership: %s", user.Raw)
			}
			for _, filter := range []string{`userName eq "` + upn + `"`, `externalId eq "0a1b2c3d-entra"`,
				`emails[type eq "work"].value eq "` + upn + `"`, `userName eq "` + strings.ToUpper(upn) + `"`} {
				found := d.must(t, 200, "GET", "/Users?"+filterQuery(filter), nil)
				if found.Body["totalResults"] != 1.0 || found.resources()[0]["id"] != id {
					t.Fatalf("%s: %s", filter, found.Raw)
				}
			}
			tokens := e.ActivationTokens(t, upn)
			if len(tokens) != 1 {
				t.Fatalf("%d activation links for the new person", len(tokens))
			}
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": goodPassword})
			sess := session(t, e, upn)
			apiToken := e.Must(t, 201, "POST", "/api/v1/accounts/"+w.client+"/api-tokens", sess, map[string]any{"name": "mine", "scopes": []string{"accounts:read"}}).String("token")
			e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client, apiToken, nil)

			// Entra's attribute updates: Replace, a path with a value
			// filter, a path-less map with dotted names.
			d.must(t, 200, "PATCH", "/Users/"+id, patchOp(
				map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "zoe@contoso.example"},
				map[string]any{"op": "Replace", "value": map[string]any{"name.givenName": "Zoe", "name.familyName": "Martin-Durand",
					"displayName": "Zoe Martin-Durand", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales"}},
				map[string]any{"op": "Add", "path": "preferredLanguage", "value": "fr-FR"}))
			got := d.must(t, 200, "GET", "/Users/"+id, nil)
			name, _ := got.Body["name"].(map[string]any)
			emails, _ := got.Body["emails"].([]any)
			if name["givenName"] != "Zoe" || name["familyName"] != "Martin-Durand" || got.str("preferredLanguage") != "fr" ||
				len(emails) != 1 || emails[0].(map[string]any)["value"] != "zoe@contoso.example" {
				t.Fatalf("after the PATCH: %s", got.Raw)
			}

			// A new UPN is a username change: it waits for the person to
			// follow the link mailed to the new address, and the old address
			// is told who asked (in French, the language Entra just set).
			e.Mail(t)
			renamed := d.must(t, 200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "userName", "value": "zoe.durand@contoso.example"}))
			if renamed.str("userName") != upn {
				t.Errorf("the username changed before its confirmation: %s", renamed.Raw)
			}
			told := map[string]string{}
			for _, m := range e.Mail(t) {
				told[m.To] = m.Body
			}
			if _, ok := told["zoe.durand@contoso.example"]; !ok || !strings.Contains(told[upn], "L'annuaire de votre organisation") {
				t.Errorf("the username change mailed %v", told)
			}

			// Disabled in Entra: "active" "False", a string.
			off := d.must(t, 200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "active", "value": "False"}))
			if off.Body["active"] != false {
				t.Fatalf("after active False: %s", off.Raw)
			}
			for _, secret := range []string{sess, apiToken} {
				if r := e.Do(t, "GET", "/api/v1/accounts/"+w.client, secret, nil); r.Status != 401 {
					t.Errorf("a session or token of the suspended person answered %d", r.Status)
				}
			}
			if r := signIn(e, t, upn, goodPassword); r.Status == 201 {
				// Signing in works (the identity is not locked) but opens
				// nothing in the account while it is suspended.
				if r := e.Do(t, "GET", "/api/v1/accounts/"+w.client, r.String("token"), nil); r.Status != 404 {
					t.Errorf("a suspended member reached the account: %d", r.Status)
				}
			}
			allowed := e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": user.String("user_id"), "account_id": w.client,
				"permission": "media.view"})
			if allowed.Body["allowed"] != false {
				t.Errorf("a suspended member is still allowed: %s", allowed.Raw)
			}
			inactive := d.must(t, 200, "GET", "/Users?"+filterQuery(`active eq false`), nil)
			if inactive.Body["totalResults"] != 1.0 {
				t.Errorf("active eq false: %s", inactive.Raw)
			}
			on := d.must(t, 200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "value": map[string]any{"active": "True"}}))
			if on.Body["active"] != true {
				t.Fatalf("after active True: %s", on.Raw)
			}
			e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client, session(t, e, upn), nil)

			d.must(t, 204, "DELETE", "/Users/"+id, nil)
			d.do(t, "GET", "/Users/"+id, nil).refused(t, 404, "")
			e.Must(t, 404, "GET", "/api/v1/accounts/"+w.client+"/users/"+id, op, nil)

			// The account's log of what the directory did: every change, by
			// the token, with the events other services read.
			audit := e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client+"/audit-events?limit=100", op, nil)
			actions := map[string]bool{}
			for _, ev := range audit.Items() {
				if ev["actor_id"] == "scim:"+w.tokenID {
					actions[ev["action"].(string)] = true
				}
			}
			for _, want := range []string{"user.added", "invitation.sent", "user.updated", "user.suspended", "user.restored", "user.removed"} {
				if !actions[want] {
					t.Errorf("no %s by the SCIM token in the audit log: %v", want, actions)
				}
			}
			// The feed, read as a consumer does (the newest events may come
			// a moment later on PostgreSQL; see ReadFeedUntil).
			wanted := []string{"member.added", "member.suspended", "member.restored", "member.removed"}
			types := map[string]bool{}
			e.ReadFeedUntil(t, op, "account_id="+w.client, "", func(events []map[string]any) bool {
				for _, ev := range events {
					types[ev["type"].(string)] = true
				}
				return !slices.ContainsFunc(wanted, func(w string) bool { return !types[w] })
			})
			for _, want := range wanted {
				if !types[want] {
					t.Errorf("no %s event: %v", want, types)
				}
			}
			calls := e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client+"/scim-calls", op, nil).Items()
			if len(calls) < 10 || calls[0]["method"] != "GET" || calls[0]["outcome"] != "refused" || calls[0]["status"] != 404.0 {
				t.Fatalf("call log: %v", calls[:min(3, len(calls))])
			}
			if calls[len(calls)-1]["path"] != `/Users?filter=userName eq "`+upn+`"` || calls[len(calls)-1]["outcome"] != "ok" {
				t.Errorf("first call logged: %v", calls[len(calls)-1])
			}
		})
	}
}

// Okta's provisioning, as its SCIM guide shows it: the lookup with
// startIndex and count, the create (with a password Gatehouse ignores:
// people choose their own), the profile push as a full PUT, and the
// deactivation as a path-less PATCH.
func TestSCIMOktaSequence(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			d := w.dir
			const login = "ann.lee@okta.example"
			lookup := d.must(t, 200, "GET", "/Users?"+filterQuery(`userName eq "`+login+`"`)+"&startIndex=1&count=100", nil)
			if lookup.Body["totalResults"] != 0.0 || lookup.Body["startIndex"] != 1.0 || lookup.Body["itemsPerPage"] != 0.0 {
				t.Fatalf("lookup: %s", lookup.Raw)
			}
			created := d.must(t, 201, "POST", "/Users", map[string]any{
				"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": login,
				"name": map[string]string{"givenName": "Ann", "familyName": "Lee"}, "emails": []map[string]any{{"primary": true, "value": login, "type": "work"}},
				"displayName": "Ann Lee", "locale": "en-US", "externalId": "00u1abcd", "groups": []any{}, "password": "1mP0ssible!", "active": true})
			id := created.str("id")
			full := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id, "userName": login,
				"name": map[string]string{"givenName": "Ann", "familyName": "Lee-Smith"}, "emails": []map[string]any{{"primary": true, "value": "ann@okta.example", "type": "work"}},
				"displayName": "Ann Lee-Smith", "locale": "en-US", "externalId": "00u1abcd", "groups": []any{}, "active": true}
			put := d.must(t, 200, "PUT", "/Users/"+id, full)
			if put.Body["name"].(map[string]any)["familyName"] != "Lee-Smith" || put.Body["emails"].([]any)[0].(map[string]any)["value"] != "ann@okta.example" {
				t.Fatalf("after PUT: %s", put.Raw)
			}
			off := d.must(t, 200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": false}}))
			if off.Body["active"] != false {
				t.Fatalf("deactivated: %s", off.Raw)
			}
			page := d.must(t, 200, "GET", "/Users?startIndex=1&count=100", nil)
			if page.Body["totalResults"] != 1.0 || page.resources()[0]["active"] != false {
				t.Fatalf("list: %s", page.Raw)
			}
			// Ann never activated: her username cannot change yet.
			d.do(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "userName", "value": "ann.smith@okta.example"})).refused(t, 400, "mutability")
			for i := range 4 {
				d.must(t, 201, "POST", "/Users", scimUser(fmt.Sprintf("p%d@okta.example", i), "P", fmt.Sprint(i), ""))
			}
			second := d.must(t, 200, "GET", "/Users?startIndex=3&count=2", nil)
			if second.Body["totalResults"] != 5.0 || second.Body["startIndex"] != 3.0 || second.Body["itemsPerPage"] != 2.0 ||
				second.resources()[0]["userName"] != "p1@okta.example" {
				t.Errorf("the page from the third: %s", second.Raw)
			}
		})
	}
}

// The client-user limit holds through SCIM as through the API (R-L1): the
// tenth client user of a site limited to nine is refused with a detail the
// directory shows its administrator, pending invitations counted.
func TestSCIMClientUserLimit(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			for i := range 9 {
				w.dir.must(t, 201, "POST", "/Users", scimUser(fmt.Sprintf("user%d@store12.example", i), "User", fmt.Sprint(i), fmt.Sprintf("ext-%d", i)))
			}
			tenth := w.dir.do(t, "POST", "/Users", scimUser("user9@store12.example", "User", "Nine", "ext-9"))
			tenth.refused(t, 409, "tooMany")
			if want := "Store 12 already has 9 client users (pending invitations count)"; !strings.Contains(tenth.str("detail"), want) {
				t.Errorf("detail %q does not say %q", tenth.str("detail"), want)
			}
			if r := w.dir.must(t, 200, "GET", "/Users?count=0", nil); r.Body["totalResults"] != 9.0 || len(r.resources()) != 0 {
				t.Errorf("count=0: %s", r.Raw)
			}
			// The same username twice is a uniqueness conflict, as is the
			// directory's id of another person.
			w.dir.do(t, "POST", "/Users", scimUser("user0@store12.example", "User", "Zero", "ext-new")).refused(t, 409, "uniqueness")
			// Under concurrency too: 20 creates at once into a site of
			// nine, nine are added.
			site := w.e.CreateAccount(t, "client", "Store 13", w.integrator)
			tok := w.e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/scim-tokens", op, map[string]string{"name": "Okta"}).String("token")
			busy := directory{e: w.e, base: "/scim/v2/accounts/" + site, token: tok}
			statuses := make(chan int, 20)
			for i := range 20 {
				body, _ := json.Marshal(scimUser(fmt.Sprintf("rush%d@store13.example", i), "Rush", fmt.Sprint(i), ""))
				go func() {
					req, _ := http.NewRequest("POST", w.e.URL+busy.base+"/Users", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+busy.token)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						statuses <- 0
						return
					}
					resp.Body.Close()
					statuses <- resp.StatusCode
				}()
			}
			added := 0
			for range 20 {
				switch <-statuses {
				case 201:
					added++
				case 409:
				default:
					t.Errorf("a concurrent create was neither added nor refused at the limit")
				}
			}
			if added != 9 {
				t.Errorf("%d of 20 concurrent creates added to a site of nine", added)
			}
			calls := w.e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client+"/scim-calls?limit=3", op, nil).Items()
			if calls[0]["status"] != 409.0 || calls[0]["outcome"] != "refused" || !strings.Contains(calls[2]["detail"].(string), "9 client users") {
				t.Errorf("the log does not show the refusals: %v", calls)
			}
		})
	}
}

// A username known elsewhere is the same person (R-U1, R-U2): the
// directory adds them to its account, and their names stay as they are,
// whatever the directory says then or later.
func TestSCIMSharedIdentityKeepsItsNames(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			other := w.e.CreateAccount(t, "client", "Other Site", w.integrator)
			w.e.Must(t, 201, "POST", "/api/v1/accounts/"+other+"/users", op, map[string]any{"username": "known@example.com",
				"first_name": "Anne", "last_name": "Known", "level": "client_user"})
			created := w.dir.must(t, 201, "POST", "/Users", scimUser("known@example.com", "Directory", "Name", "ext-known"))
			if n := created.Body["name"].(map[string]any); n["givenName"] != "Anne" || n["familyName"] != "Known" {
				t.Fatalf("the known person's names were replaced: %s", created.Raw)
			}
			id := created.str("id")
			patched := w.dir.must(t, 200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "name.givenName", "value": "Changed"}))
			if patched.Body["name"].(map[string]any)["givenName"] != "Anne" {
				t.Fatalf("the directory changed the names of a person it shares: %s", patched.Raw)
			}
			// Nobody else's membership is the directory's to see.
			if r := w.dir.must(t, 200, "GET", "/Users", nil); r.Body["totalResults"] != 1.0 {
				t.Errorf("the directory sees %v people", r.Body["totalResults"])
			}
		})
	}
}

// What the directory may not see does not exist for it: another account's
// token is refused at this account's base (401), as is a revoked one; a
// membership removed through the API is gone from SCIM; the remote
// monitoring user is no directory's; API tokens and sessions open no SCIM
// base, and SCIM tokens no API route.
func TestSCIMIsolation(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			e := w.e
			site2 := e.CreateAccount(t, "client", "Store 13", w.integrator)
			tok2 := e.Must(t, 201, "POST", "/api/v1/accounts/"+site2+"/scim-tokens", op, map[string]string{"name": "Okta"}).String("token")
			foreign := directory{e: e, base: w.dir.base, token: tok2}
			foreign.do(t, "GET", "/Users", nil).refused(t, 401, "")
			foreign.do(t, "POST", "/Users", scimUser("intruder@example.com", "In", "Truder", "")).refused(t, 401, "")
			directory{e: e, base: w.dir.base}.do(t, "GET", "/Users", nil).refused(t, 401, "")
			directory{e: e, base: w.dir.base, token: op}.do(t, "GET", "/Users", nil).refused(t, 401, "")
			if r := e.Do(t, "GET", "/api/v1/accounts/"+w.client, w.dir.token, nil); r.Status != 401 {
				t.Errorf("a SCIM token opened an API route: %d", r.Status)
			}

			created := w.dir.must(t, 201, "POST", "/Users", scimUser("leaver@example.com", "Lea", "Ver", ""))
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+w.client+"/users/"+created.str("id"), op, nil)
			w.dir.do(t, "GET", "/Users/"+created.str("id"), nil).refused(t, 404, "")
			w.dir.do(t, "PATCH", "/Users/"+created.str("id"), patchOp(map[string]any{"op": "replace", "path": "active", "value": false})).refused(t, 404, "")
			if r := w.dir.must(t, 200, "GET", "/Users?"+filterQuery(`userName eq "leaver@example.com"`), nil); r.Body["totalResults"] != 0.0 {
				t.Errorf("a removed membership is still listed: %s", r.Raw)
			}
			rm := e.Must(t, 201, "POST", "/api/v1/accounts/"+w.client+"/remote-monitoring-user", op, map[string]string{"description": "Station"})
			w.dir.do(t, "GET", "/Users/"+rm.String("id"), nil).refused(t, 404, "")
			w.dir.do(t, "DELETE", "/Users/"+rm.String("id"), nil).refused(t, 404, "")
			if r := w.dir.must(t, 200, "GET", "/Users", nil); r.Body["totalResults"] != 0.0 {
				t.Errorf("the directory lists the remote monitoring user: %s", r.Raw)
			}
			// Another account's person, by id, is unknown here.
			theirs := directory{e: e, base: "/scim/v2/accounts/" + site2, token: tok2}.must(t, 201, "POST", "/Users", scimUser("theirs@example.com", "The", "Irs", ""))
			w.dir.do(t, "GET", "/Users/"+theirs.str("id"), nil).refused(t, 404, "")
			w.dir.do(t, "DELETE", "/Users/"+theirs.str("id"), nil).refused(t, 404, "")

			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+w.client+"/scim-tokens/"+w.tokenID, op, nil)
			w.dir.do(t, "GET", "/Users", nil).refused(t, 401, "")
			if listed := e.Must(t, 200, "GET", "/api/v1/accounts/"+w.client+"/scim-tokens", op, nil).Items(); len(listed) != 0 {
				t.Errorf("a revoked token is listed: %v", listed)
			}
		})
	}
}

// Versions: every User and Group carries its version (meta.version and
// ETag); a change naming another version with If-Match is refused 412 and
// changes nothing; the version changes with the resource.
func TestSCIMIfMatch(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			created := w.dir.must(t, 201, "POST", "/Users", scimUser("versioned@example.com", "Ver", "Sioned", "v-1"))
			id := created.str("id")
			etag := created.Header.Get("ETag")
			if meta := created.Body["meta"].(map[string]any); meta["version"] != etag || !strings.HasPrefix(etag, `W/"`) {
				t.Fatalf("version %v, ETag %q", meta["version"], etag)
			}
			if again := w.dir.must(t, 200, "GET", "/Users/"+id, nil); again.Header.Get("ETag") != etag {
				t.Errorf("the version moved without a change: %q, %q", etag, again.Header.Get("ETag"))
			}
			rename := patchOp(map[string]any{"op": "replace", "path": "externalId", "value": "v-2"})
			w.dir.do(t, "PATCH", "/Users/"+id, rename, "If-Match", `W/"0000000000000000"`).refused(t, 412, "")
			if r := w.dir.must(t, 200, "GET", "/Users/"+id, nil); r.str("externalId") != "v-1" {
				t.Fatalf("a refused change was applied: %s", r.Raw)
			}
			changed := w.dir.must(t, 200, "PATCH", "/Users/"+id, rename, "If-Match", etag)
			if changed.Header.Get("ETag") == etag || changed.str("externalId") != "v-2" {
				t.Fatalf("after the change: %v %s", changed.Header, changed.Raw)
			}
			w.dir.do(t, "PUT", "/Users/"+id, scimUser("versioned@example.com", "Ver", "Sioned", "v-3"), "If-Match", etag).refused(t, 412, "")
			w.dir.do(t, "DELETE", "/Users/"+id, nil, "If-Match", etag).refused(t, 412, "")
			w.dir.must(t, 204, "DELETE", "/Users/"+id, nil, "If-Match", changed.Header.Get("ETag"))

			group := w.dir.must(t, 201, "POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Night shift"})
			gtag := group.Header.Get("ETag")
			w.dir.must(t, 200, "PATCH", "/Groups/"+group.str("id"), patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Nights"}), "If-Match", gtag)
			w.dir.do(t, "PATCH", "/Groups/"+group.str("id"), patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Days"}), "If-Match", gtag).refused(t, 412, "")
		})
	}
}

// Bad input is refused in SCIM's words, never crashed on: a filter that
// cannot be read, a body over 1 MiB, a body that is not JSON, an unknown
// operation.
func TestSCIMBadInput(t *testing.T) {
	t.Parallel()
	w := newSCIMWorld(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	d := w.dir
	for _, filter := range []string{`userName eq`, `userName gt "a"`, `title eq "x"`, `(userName eq "a"`, `userName eq "a" and`, `emails[type eq "work"`} {
		d.do(t, "GET", "/Users?"+filterQuery(filter), nil).refused(t, 400, "invalidFilter")
	}
	huge := `{"userName":"big@example.com","name":{"givenName":"` + strings.Repeat("a", 2<<20) + `"}}`
	d.do(t, "POST", "/Users", huge).refused(t, 413, "")
	d.do(t, "POST", "/Users", "not json").refused(t, 400, "invalidSyntax")
	d.do(t, "POST", "/Users", map[string]any{"userName": "not an address"}).refused(t, 400, "invalidValue")
	created := d.must(t, 201, "POST", "/Users", scimUser("fine@example.com", "Fi", "Ne", ""))
	d.do(t, "PATCH", "/Users/"+created.str("id"), patchOp(map[string]any{"op": "move", "path": "active", "value": false})).refused(t, 400, "invalidPath")
	d.do(t, "PATCH", "/Users/"+created.str("id"), patchOp(map[string]any{"op": "replace", "path": "active", "value": "maybe"})).refused(t, 400, "invalidValue")
	for _, path := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"} {
		d.must(t, 200, "GET", path, nil)
	}
	d.do(t, "GET", "/ResourceTypes/Printer", nil).refused(t, 404, "")
}

func scimGroup(name, externalID string, members ...string) map[string]any {
	g := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "externalId": externalID}
	list := []map[string]string{}
	for _, m := range members {
		list = append(list, map[string]string{"value": m})
	}
	g["members"] = list
	return g
}

func memberIDs(r scimReply) []string {
	raw, _ := r.Body["members"].([]any)
	out := []string{}
	for _, m := range raw {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	return out
}

// Groups, as Entra ID and Okta push them: a directory group is a group of
// the account with its members; its name may be mapped to a role, which
// the group holds, or to the administrators' level, which its members
// hold while they are in it.
func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newSCIMWorld(t, b)
			d, e := w.dir, w.e
			api := "/api/v1/accounts/" + w.client
			ann := d.must(t, 201, "POST", "/Users", scimUser("ann@example.com", "Ann", "A", "u-ann")).str("id")
			bob := d.must(t, 201, "POST", "/Users", scimUser("bob@example.com", "Bob", "B", "u-bob")).str("id")
			cat := d.must(t, 201, "POST", "/Users", scimUser("cat@example.com", "Cat", "C", "u-cat")).str("id")
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": e.ActivationTokens(t, "ann@example.com")[0], "password": goodPassword})
			e.Must(t, 201, "POST", api+"/scim-group-mappings", op, map[string]string{"group": "Night shift", "role": "editor"})
			e.Must(t, 201, "POST", api+"/scim-group-mappings", op, map[string]string{"group": "Site admins", "level": "client_admin"})
			if m := e.Must(t, 200, "GET", api+"/scim-group-mappings", op, nil).Items(); len(m) != 2 || m[0]["group"] != "Night shift" || m[0]["role"] != "editor" || m[1]["level"] != "client_admin" {
				t.Fatalf("mappings: %v", m)
			}

			// Entra: the group, then its members added by list.
			night := d.must(t, 201, "POST", "/Groups", scimGroup("Night shift", "g-night"))
			gid := night.str("id")
			if roles := e.Must(t, 200, "GET", api+"/groups/"+gid, op, nil).Body["roles"].([]any); len(roles) != 1 || roles[0] != "editor" {
				t.Fatalf("the mapped role is not the group's: %v", roles)
			}
			added := d.must(t, 200, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "Add", "path": "members",
				"value": []map[string]string{{"value": ann}, {"value": bob}}}))
			if got := memberIDs(added); len(got) != 2 {
				t.Fatalf("after adding two: %s", added.Raw)
			}
			check := e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": e.Must(t, 200, "GET", api+"/users/"+ann, op, nil).String("user_id"),
				"account_id": w.client, "permission": "media.edit"})
			if check.Body["allowed"] != true {
				t.Errorf("a member of the group mapped to editor may not edit: %s", check.Raw)
			}
			for filter, want := range map[string]float64{
				`displayName eq "night SHIFT"`: 1, `externalId eq "g-night"`: 1, `displayName eq "Day shift"`: 0,
				`id eq "` + gid + `" and members[value eq "` + ann + `"]`: 1, `id eq "` + gid + `" and members[value eq "` + cat + `"]`: 0,
			} {
				r := d.must(t, 200, "GET", "/Groups?excludedAttributes=members&"+filterQuery(filter), nil)
				if r.Body["totalResults"] != want {
					t.Errorf("%s: %s", filter, r.Raw)
				}
				if want == 1 && r.resources()[0]["members"] != nil {
					t.Errorf("excludedAttributes=members still lists members: %s", r.Raw)
				}
			}
			// Entra removes by list, Okta by filter.
			d.must(t, 200, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "Remove", "path": "members", "value": []map[string]string{{"value": ann}}}))
			afterOkta := d.must(t, 200, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + bob + `"]`}))
			if got := memberIDs(afterOkta); len(got) != 0 {
				t.Fatalf("after removing both: %s", afterOkta.Raw)
			}
			// Okta renames with a path-less replace: the new name is not
			// mapped, so the role goes.
			renamed := d.must(t, 200, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Night crew"}}))
			if renamed.str("displayName") != "Night crew" {
				t.Fatalf("rename: %s", renamed.Raw)
			}
			if roles := e.Must(t, 200, "GET", api+"/groups/"+gid, op, nil).Body["roles"].([]any); len(roles) != 0 {
				t.Errorf("the role of the old name stayed: %v", roles)
			}
			d.do(t, "POST", "/Groups", scimGroup("night CREW", "")).refused(t, 409, "uniqueness")

			// The level mapping: in the group, an administrator; out of it,
			// a client user again (taking a slot back).
			admins := d.must(t, 201, "POST", "/Groups", scimGroup("Site admins", "g-admins", cat))
			if lvl := e.Must(t, 200, "GET", api+"/users/"+cat, op, nil).String("level"); lvl != "client_admin" {
				t.Fatalf("a member of the group mapped to client_admin is %s", lvl)
			}
			if got := d.must(t, 200, "GET", "/Users/"+cat, nil).Body["urn:gatehouse:params:scim:schemas:extension:2.0:Membership"].(map[string]any)["level"]; got != "client_admin" {
				t.Errorf("the User says level %v", got)
			}
			put := scimGroup("Site admins", "g-admins")
			d.must(t, 200, "PUT", "/Groups/"+admins.str("id"), put)
			if lvl := e.Must(t, 200, "GET", api+"/users/"+cat, op, nil).String("level"); lvl != "client_user" {
				t.Fatalf("out of the administrators' group, %s", lvl)
			}
			d.must(t, 200, "PATCH", "/Groups/"+admins.str("id"), patchOp(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": bob}}}))
			d.must(t, 204, "DELETE", "/Groups/"+admins.str("id"), nil)
			if lvl := e.Must(t, 200, "GET", api+"/users/"+bob, op, nil).String("level"); lvl != "client_user" {
				t.Errorf("the administrators' group deleted, its member is %s", lvl)
			}
			e.Must(t, 404, "GET", api+"/groups/"+admins.str("id"), op, nil)
			d.do(t, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": "no-such-user"}}})).refused(t, 400, "invalidValue")

			// A client administrator's token provisions client users, and
			// raises nobody: their mapping to the administrators' level is
			// refused, as is the directory's attempt through an operator's
			// mapping.
			adminToken, _ := e.Member(t, w.client, "client_admin")
			if r := e.Do(t, "POST", api+"/scim-group-mappings", adminToken, map[string]string{"group": "Managers", "level": "client_admin"}); r.Status != 403 {
				t.Errorf("a client administrator mapped a group to client_admin: %d %s", r.Status, r.Raw)
			}
			theirs := e.Must(t, 201, "POST", api+"/scim-tokens", adminToken, map[string]string{"name": "Their Okta"})
			if theirs.String("acts_as") != "client_admin" {
				t.Errorf("a client administrator's token acts as %s", theirs.String("acts_as"))
			}
			own := directory{e: e, base: w.dir.base, token: theirs.String("token")}
			own.must(t, 201, "POST", "/Users", scimUser("dan@example.com", "Dan", "D", ""))
			own.do(t, "POST", "/Groups", scimGroup("Site admins", "", ann)).refused(t, 403, "")
			if r := own.must(t, 200, "GET", "/Groups?"+filterQuery(`displayName eq "Site admins"`), nil); r.Body["totalResults"] != 0.0 {
				t.Errorf("the refused group was made: %s", r.Raw)
			}

			audit := e.Must(t, 200, "GET", api+"/audit-events?limit=200", op, nil)
			actions := map[string]bool{}
			for _, ev := range audit.Items() {
				if ev["actor_id"] == "scim:"+w.tokenID {
					actions[ev["action"].(string)] = true
				}
			}
			for _, want := range []string{"group.created", "group.member_added", "group.member_removed", "group.updated", "group.deleted", "user.level_changed"} {
				if !actions[want] {
					t.Errorf("no %s by the SCIM token: %v", want, actions)
				}
			}
		})
	}
}
