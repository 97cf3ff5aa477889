package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/passkeytest"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The test servers' public URL is https://gatehouse.example.com: the
// relying party of their passkeys.
const (
	rpID   = "gatehouse.example.com"
	origin = "https://gatehouse.example.com"
)

func optionsOf(t *testing.T, r apitest.Response) []byte {
	t.Helper()
	raw, err := json.Marshal(r.Body["options"])
	if err != nil || r.String("ceremony") == "" {
		t.Fatalf("no ceremony: %s", r.Raw)
	}
	return raw
}

// registerPasskey adds a new software passkey to the session's person.
func registerPasskey(t *testing.T, e *apitest.Env, session, name string) (*passkeytest.Authenticator, apitest.Response) {
	t.Helper()
	a := passkeytest.New(rpID, origin)
	start := e.Must(t, 200, "POST", "/api/v1/me/passkeys/options", session, nil)
	cred, err := a.Create(optionsOf(t, start))
	if err != nil {
		t.Fatal(err)
	}
	return a, e.Must(t, 201, "POST", "/api/v1/me/passkeys", session, map[string]any{"ceremony": start.String("ceremony"), "name": name,
		"credential": json.RawMessage(cred)})
}

// passkeySignIn signs in without a password: the status and body.
func passkeySignIn(t *testing.T, e *apitest.Env, a *passkeytest.Authenticator) apitest.Response {
	t.Helper()
	start := e.Must(t, 200, "POST", "/api/v1/sessions/passkey/options", "", nil)
	cred, err := a.Get(optionsOf(t, start))
	if err != nil {
		t.Fatal(err)
	}
	return e.Do(t, "POST", "/api/v1/sessions/passkey", "", map[string]any{"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)})
}

// R-S6: a person registers a passkey from a session (their other sessions
// end), lists it, and signs in with it alone; the passkey's counter and
// last use are kept.
func TestPasskeyRegistrationAndSignIn(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "ann@example.com", "client_user", nil)
			other := session(t, e, "ann@example.com")
			self := session(t, e, "ann@example.com")

			if r := e.Do(t, "POST", "/api/v1/me/passkeys", self, map[string]any{"ceremony": "gh_pkc_x", "name": "", "credential": map[string]any{}}); r.Status != 400 || r.Field() != "name" {
				t.Errorf("a passkey without a name: %d %s", r.Status, r.Raw)
			}
			a, added := registerPasskey(t, e, self, "Ann's phone")
			if added.String("name") != "Ann's phone" || added.Body["last_used_at"] != nil {
				t.Errorf("registered: %s", added.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/me", other, nil); r.Status != 401 {
				t.Errorf("another session after a new passkey: %d", r.Status)
			}
			if list := e.Must(t, 200, "GET", "/api/v1/me/passkeys", self, nil).Items(); len(list) != 1 || list[0]["id"] != added.String("id") {
				t.Errorf("listed: %v", list)
			}

			signedIn := passkeySignIn(t, e, a)
			if signedIn.Status != 201 {
				t.Fatalf("passwordless sign-in: %d %s", signedIn.Status, signedIn.Raw)
			}
			if me := e.Must(t, 200, "GET", "/api/v1/me", signedIn.String("token"), nil); me.Body["user"].(map[string]any)["username"] != "ann@example.com" {
				t.Errorf("signed in as %s", me.Raw)
			}
			if list := e.Must(t, 200, "GET", "/api/v1/me/passkeys", self, nil).Items(); list[0]["last_used_at"] == nil {
				t.Errorf("last use not kept: %v", list)
			}

			// A password sign-in now asks for the passkey as a second factor.
			r := signIn(e, t, "ann@example.com", goodPassword)
			if r.Body["mfa_required"] != true || r.Body["methods"].([]any)[0] != "passkey" {
				t.Fatalf("password sign-in with a passkey: %s", r.Raw)
			}
			start := e.Must(t, 200, "POST", "/api/v1/sessions/mfa/passkey/options", "", map[string]string{"challenge": r.String("challenge")})
			cred, _ := a.Get(optionsOf(t, start))
			e.Must(t, 201, "POST", "/api/v1/sessions/mfa/passkey", "", map[string]any{"challenge": r.String("challenge"),
				"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)})
		})
	}
}

// What a passkey sign-in refuses, each with the same 401: an answer for
// another site (origin) or another relying party, the same challenge
// answered twice, a counter that went back (a copied key), a person's
// passkey offered for someone else's sign-in, and an unknown passkey.
func TestPasskeyRefusals(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "ann@example.com", "client_user", nil)
			addActive(t, e, ts.c1, "bob@example.com", "client_user", nil)
			ann, _ := registerPasskey(t, e, session(t, e, "ann@example.com"), "Ann's key")
			bob, _ := registerPasskey(t, e, session(t, e, "bob@example.com"), "Bob's key")
			refused := func(what string, r apitest.Response) {
				t.Helper()
				if r.Status != 401 || r.Code() != "unauthenticated" {
					t.Errorf("%s: %d %s", what, r.Status, r.Raw)
				}
			}

			elsewhere := ann.Clone()
			elsewhere.Origin = "https://gatehouse.example.com.evil.example"
			refused("wrong origin", passkeySignIn(t, e, elsewhere))
			otherRP := ann.Clone()
			otherRP.RPID = "evil.example"
			refused("wrong relying party", passkeySignIn(t, e, otherRP))
			noUV := ann.Clone()
			noUV.NoUserVerification = true
			refused("no user verification", passkeySignIn(t, e, noUV))

			// A replay: the same answer to the same challenge, then to a new one.
			start := e.Must(t, 200, "POST", "/api/v1/sessions/passkey/options", "", nil)
			cred, _ := ann.Get(optionsOf(t, start))
			body := map[string]any{"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)}
			e.Must(t, 201, "POST", "/api/v1/sessions/passkey", "", body)
			refused("the same challenge answered twice", e.Do(t, "POST", "/api/v1/sessions/passkey", "", body))
			again := e.Must(t, 200, "POST", "/api/v1/sessions/passkey/options", "", nil)
			refused("an old answer to a new challenge", e.Do(t, "POST", "/api/v1/sessions/passkey", "",
				map[string]any{"ceremony": again.String("ceremony"), "credential": json.RawMessage(cred)}))

			// A copy of the key whose counter is behind the original's.
			copied := ann.Clone()
			if r := passkeySignIn(t, e, ann); r.Status != 201 {
				t.Fatalf("the original after a refusal: %d %s", r.Status, r.Raw)
			}
			copied.Counter = ann.Counter - 2
			refused("a counter that went back", passkeySignIn(t, e, copied))
			copied.Counter = ann.Counter - 1 // the same counter as the last use
			refused("a counter that stood still", passkeySignIn(t, e, copied))

			// Ann's passkey answering Bob's second-factor challenge.
			r := signIn(e, t, "bob@example.com", goodPassword)
			ch := r.String("challenge")
			start = e.Must(t, 200, "POST", "/api/v1/sessions/mfa/passkey/options", "", map[string]string{"challenge": ch})
			cred, _ = ann.Get(optionsOf(t, start))
			refused("another person's passkey as a second factor", e.Do(t, "POST", "/api/v1/sessions/mfa/passkey", "",
				map[string]any{"challenge": ch, "ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)}))
			// The challenge was used up by that answer: Bob's own key is too late.
			cred, _ = bob.Get(optionsOf(t, start))
			refused("a used challenge", e.Do(t, "POST", "/api/v1/sessions/mfa/passkey", "",
				map[string]any{"challenge": ch, "ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)}))

			// An unknown passkey, and a wrong ceremony kind, tell nothing more.
			refused("an unknown passkey", passkeySignIn(t, e, passkeytest.New(rpID, origin)))
			refused("a second-factor ceremony used to sign in", e.Do(t, "POST", "/api/v1/sessions/passkey", "",
				map[string]any{"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)}))

			// A registration answered for another origin or relying party is
			// refused at the field, and its ceremony is used up.
			addActive(t, e, ts.c1, "cy@example.com", "client_user", nil)
			self := session(t, e, "cy@example.com")
			for _, wrong := range []*passkeytest.Authenticator{passkeytest.New(rpID, "https://evil.example"), passkeytest.New("evil.example", origin)} {
				start := e.Must(t, 200, "POST", "/api/v1/me/passkeys/options", self, nil)
				cred, _ := wrong.Create(optionsOf(t, start))
				body := map[string]any{"ceremony": start.String("ceremony"), "name": "Key", "credential": json.RawMessage(cred)}
				if r := e.Do(t, "POST", "/api/v1/me/passkeys", self, body); r.Status != 400 || r.Field() != "credential" {
					t.Errorf("registration from %s for %s: %d %s", wrong.Origin, wrong.RPID, r.Status, r.Raw)
				}
				if r := e.Do(t, "POST", "/api/v1/me/passkeys", self, body); r.Status != 401 {
					t.Errorf("a used registration ceremony: %d %s", r.Status, r.Raw)
				}
			}
			if list := e.Must(t, 200, "GET", "/api/v1/me/passkeys", self, nil).Items(); len(list) != 0 {
				t.Errorf("refused passkeys were kept: %v", list)
			}
		})
	}
}

// R-P4, R-S6: an administrator may sign in with a password and a passkey;
// a passkey may replace their authenticator app, but their last second
// factor stays; recovery codes still work.
func TestPasskeyAsAdministratorsSecondFactor(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			self := adminSession(t, e, "boss@example.com")
			a, key := registerPasskey(t, e, self, "YubiKey")
			codes := e.Must(t, 201, "POST", "/api/v1/me/mfa/recovery-codes", self, nil).Body["codes"].([]any)

			// The passkey stays a factor: the authenticator app may go.
			e.Must(t, 204, "DELETE", "/api/v1/me/mfa", self, nil)
			if r := e.Do(t, "DELETE", "/api/v1/me/passkeys/"+key.String("id"), self, nil); r.Status != 409 || r.Code() != "mfa_required" {
				t.Errorf("removing an administrator's last factor: %d %s", r.Status, r.Raw)
			}

			r := signIn(e, t, "boss@example.com", goodPassword)
			methods := r.Body["methods"].([]any)
			if r.Body["mfa_required"] != true || methods[0] != "passkey" || methods[len(methods)-1] != "recovery_code" {
				t.Fatalf("administrator's password sign-in: %s", r.Raw)
			}
			refusedCode := answer(t, e, r.String("challenge"), "123456")
			if refusedCode.Status != 401 {
				t.Errorf("a code for a passkey challenge: %d", refusedCode.Status)
			}
			r = signIn(e, t, "boss@example.com", goodPassword)
			start := e.Must(t, 200, "POST", "/api/v1/sessions/mfa/passkey/options", "", map[string]string{"challenge": r.String("challenge")})
			cred, _ := a.Get(optionsOf(t, start))
			e.Must(t, 201, "POST", "/api/v1/sessions/mfa/passkey", "", map[string]any{"challenge": r.String("challenge"),
				"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)})

			r = signIn(e, t, "boss@example.com", goodPassword)
			if rc := answer(t, e, r.String("challenge"), codes[0].(string)); rc.Status != 201 {
				t.Errorf("a recovery code with passkeys: %d %s", rc.Status, rc.Raw)
			}
			if r := passkeySignIn(t, e, a); r.Status != 201 {
				t.Errorf("an administrator's passwordless sign-in: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// R-M3, R-S6: an invitation is activated with a passkey instead of a
// password; the person then signs in with it, and has no password.
func TestActivationWithPasskey(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("cara@example.com", "client_user"))
			tokens := e.ActivationTokens(t, "cara@example.com")
			token := tokens[len(tokens)-1]
			a := passkeytest.New(rpID, origin)
			start := e.Must(t, 200, "POST", "/api/v1/activate/passkey/options", "", map[string]string{"token": token})
			cred, err := a.Create(optionsOf(t, start))
			if err != nil {
				t.Fatal(err)
			}
			wrong := e.Do(t, "POST", "/api/v1/activate/passkey", "", map[string]any{"token": token, "ceremony": "gh_pkc_nothing",
				"name": "Laptop", "credential": json.RawMessage(cred)})
			if wrong.Status != 401 {
				t.Errorf("activation with an unknown ceremony: %d %s", wrong.Status, wrong.Raw)
			}
			e.Must(t, 200, "POST", "/api/v1/activate/passkey", "", map[string]any{"token": token, "ceremony": start.String("ceremony"),
				"name": "Laptop", "credential": json.RawMessage(cred)})
			if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": token, "password": goodPassword}); r.Status < 400 {
				t.Errorf("the link used twice: %d", r.Status)
			}
			if r := passkeySignIn(t, e, a); r.Status != 201 {
				t.Errorf("sign-in after activation: %d %s", r.Status, r.Raw)
			}
			if r := signIn(e, t, "cara@example.com", ""); r.Status != 401 {
				t.Errorf("a password sign-in without a password: %d", r.Status)
			}
		})
	}
}

// With a list of authenticator models for administrators, an
// administrator's passkey of another model is refused at registration;
// other people's passkeys are not restricted.
func TestAdministratorsPasskeyModels(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.StartWith(t, b, func(o *service.Options) {
				o.Passkeys.AdminAAGUIDs = []uuid.UUID{uuid.MustParse("ee882879-721c-4913-9775-3dfcce97072a")}
			})
			site := e.CreateAccount(t, "client", "Store", e.CreateAccount(t, "integrator", "Acme", ""))
			addActive(t, e, site, "boss@example.com", "client_admin", nil)
			addActive(t, e, site, "ann@example.com", "client_user", nil)
			boss := adminSession(t, e, "boss@example.com")
			start := e.Must(t, 200, "POST", "/api/v1/me/passkeys/options", boss, nil)
			if pk := start.Body["options"].(map[string]any)["publicKey"].(map[string]any); pk["attestation"] != "direct" {
				t.Errorf("an administrator's registration asks for attestation %v", pk["attestation"])
			}
			cred, _ := passkeytest.New(rpID, origin).Create(optionsOf(t, start))
			if r := e.Do(t, "POST", "/api/v1/me/passkeys", boss, map[string]any{"ceremony": start.String("ceremony"), "name": "Phone",
				"credential": json.RawMessage(cred)}); r.Status != 400 || r.Field() != "credential" {
				t.Errorf("an administrator's passkey of a model not listed: %d %s", r.Status, r.Raw)
			}
			registerPasskey(t, e, session(t, e, "ann@example.com"), "Phone")
		})
	}
}

// A ceremony lives in the database: a node other than the one that gave
// the options checks the answer (nodes behind a load balancer), and the
// challenge is still used once across both.
func TestPasskeyCeremonyFinishesOnAnotherNode(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			first := apitest.Start(t, b)
			second := apitest.Serve(t, first.Store, first.DatabaseURL, nil)
			site := first.CreateAccount(t, "client", "Store", first.CreateAccount(t, "integrator", "Acme", ""))
			addActive(t, first, site, "ann@example.com", "client_user", nil)
			self := session(t, first, "ann@example.com")

			a := passkeytest.New(rpID, origin)
			start := first.Must(t, 200, "POST", "/api/v1/me/passkeys/options", self, nil)
			cred, _ := a.Create(optionsOf(t, start))
			second.Must(t, 201, "POST", "/api/v1/me/passkeys", self, map[string]any{"ceremony": start.String("ceremony"), "name": "Key",
				"credential": json.RawMessage(cred)})

			start = second.Must(t, 200, "POST", "/api/v1/sessions/passkey/options", "", nil)
			cred, _ = a.Get(optionsOf(t, start))
			body := map[string]any{"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)}
			first.Must(t, 201, "POST", "/api/v1/sessions/passkey", "", body)
			if r := second.Do(t, "POST", "/api/v1/sessions/passkey", "", body); r.Status != 401 {
				t.Errorf("the same answer on the other node: %d %s", r.Status, r.Raw)
			}
		})
	}
}
