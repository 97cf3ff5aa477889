package httpapi_test

import (
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A service of the platform holding a person's access token asks checks
// about its holder (subject_token) rather than about a user id: the answer
// is the person's rights in the token's account, and only there — the same
// person's rights in another account do not answer for a token of the
// first; a removed member's token, or a revoked one, allows nothing; only
// those who may ask checks learn anything.
func TestChecksAcceptOpenIDAccessTokens(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			paris := e.CreateAccount(t, "client", "Paris Store", in)
			body := newUser("pierre@example.com", "client_user")
			body["roles"] = []string{"viewer"}
			inLyon := e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, body)
			tokens := e.ActivationTokens(t, "pierre@example.com")
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
			e.Must(t, 201, "POST", "/api/v1/accounts/"+paris+"/users", op, body)
			memberToken, _ := e.Member(t, lyon, "client_admin")

			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op,
				map[string]any{"name": "Video wall", "redirect_uris": []string{"https://app.example.com/callback"}, "type": "public"})
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			config := oauth2.Config{ClientID: created.String("client_id"), Endpoint: provider.Endpoint(),
				RedirectURL: "https://app.example.com/callback", Scopes: []string{oidc.ScopeOpenID, "account:" + lyon}}
			pkce := oauth2.GenerateVerifier()
			back := signInThroughGatehouse(t, &browser{e: e}, config.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)), "pierre@example.com")
			token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			checkToken := e.Must(t, 201, "POST", "/api/v1/check-tokens", op, map[string]any{"name": "video"}).String("token")
			ask := func(question map[string]any) bool {
				t.Helper()
				r := e.Must(t, 200, "POST", "/api/v1/check", checkToken, question)
				allowed, ok := r.Body["allowed"].(bool)
				if !ok {
					t.Fatalf("check answered %s", r.Raw)
				}
				return allowed
			}

			if !ask(map[string]any{"subject_token": token.AccessToken, "permission": "media.view"}) {
				t.Errorf("the token's holder may not view media in the token's account")
			}
			if !ask(map[string]any{"subject_token": token.AccessToken, "account_id": lyon, "permission": "media.view"}) {
				t.Errorf("naming the token's own account changed the answer")
			}
			if ask(map[string]any{"subject_token": token.AccessToken, "permission": "media.edit"}) {
				t.Errorf("a viewer's token may edit media")
			}
			if ask(map[string]any{"subject_token": token.AccessToken, "account_id": paris, "permission": "media.view"}) {
				t.Errorf("a token of Lyon answered for Paris, where the same person is a viewer too")
			}
			if !ask(map[string]any{"user_id": inLyon.String("user_id"), "account_id": paris, "permission": "media.view"}) {
				t.Errorf("the person themselves may view media in Paris (the refusal above must come from the token)")
			}
			if ask(map[string]any{"subject_token": token.AccessToken + "x", "permission": "media.view"}) {
				t.Errorf("a forged token allowed something")
			}
			batch := e.Must(t, 200, "POST", "/api/v1/check/batch", checkToken, map[string]any{"checks": []map[string]any{
				{"subject_token": token.AccessToken, "permission": "media.view"},
				{"subject_token": token.AccessToken, "account_id": paris, "permission": "media.view"}}})
			if results, _ := batch.Body["results"].([]any); len(results) != 2 ||
				results[0].(map[string]any)["allowed"] != true || results[1].(map[string]any)["allowed"] != false {
				t.Errorf("the batch answered %s", batch.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/check", checkToken, map[string]any{"subject_token": token.AccessToken,
				"user_id": inLyon.String("user_id"), "permission": "media.view"}); r.Status != 400 {
				t.Errorf("both a user id and a subject token: %d", r.Status)
			}
			// Someone who may not ask checks learns nothing about the token.
			if r := e.Do(t, "POST", "/api/v1/check", memberToken, map[string]any{"subject_token": token.AccessToken, "permission": "media.view"}); r.Status != 403 {
				t.Errorf("a client administrator asked a check about a token: %d %s", r.Status, r.Raw)
			}

			// Removed from Lyon: the token allows nothing any more, at once.
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+lyon+"/users/"+inLyon.String("id"), op, nil)
			if ask(map[string]any{"subject_token": token.AccessToken, "permission": "media.view"}) {
				t.Errorf("a removed member's token still allows viewing media")
			}
		})
	}
}
