package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// virtualAuthenticator gives the browser a platform authenticator that
// keeps discoverable credentials and verifies its user, as a phone or a
// laptop with a fingerprint reader does, through the DevTools WebAuthn
// domain. The function it returns turns its answering by itself on and
// off: on, it also answers the sign-in page's passkey suggestions
// (conditional mediation) at once, as a person picking theirs would; off,
// those wait, and a test can type a password instead.
func virtualAuthenticator(t *testing.T, ctx context.Context) func(on bool) {
	t.Helper()
	var id webauthn.AuthenticatorID
	step(t, ctx, "a virtual authenticator", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		added, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		id = added.AuthenticatorID
		return err
	}))
	return func(on bool) {
		step(t, ctx, fmt.Sprintf("the authenticator answers by itself: %v", on), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation, webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
			return err
		}))
	}
}

// signOut uses the portal's sign-out button.
func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), waitLocation("/login"), chromedp.WaitVisible(chromedp.ID("passkey-sign-in")))
}

// R-S6 in a browser: a person adds a passkey on their profile, signs out,
// and signs in with it alone from the sign-in page (its button, and the
// username field's suggestions); an administrator signs in with their
// password and a passkey as the second step.
func TestPasskeysInABrowser(t *testing.T) {
	ctx := startBrowser(t)
	answering := virtualAuthenticator(t, ctx)
	e := apitest.StartOnLocalhost(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	const password = "tramway olive canyon"
	in := e.CreateAccount(t, "integrator", "Acme Security", "")
	site := e.CreateAccount(t, "client", "Store 12", in)
	activated(t, e, site, map[string]any{"username": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "level": "client_user"}, password)
	activated(t, e, site, map[string]any{"username": "zoe@example.com", "first_name": "Zoé", "last_name": "Martin", "level": "client_admin"}, password)

	// Ann adds a passkey on her profile.
	step(t, ctx, "Ann signs in with her password", chromedp.Navigate(e.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "ann@example.com"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), waitLocation("/accounts"))
	step(t, ctx, "profile", chromedp.Navigate(e.URL+"/profile"), chromedp.WaitVisible(chromedp.ID("no-passkeys")))
	step(t, ctx, "add a passkey", chromedp.SendKeys(chromedp.ID("passkey_name"), "Ann's laptop"), chromedp.Click(chromedp.ID("add-passkey")),
		waitText("#passkeys", "Ann's laptop"))
	screenshot(t, ctx, "passkeys-profile")
	if flash := text(t, ctx, "#flash"); !strings.Contains(flash, "Ann's laptop") {
		t.Errorf("the flash after adding a passkey: %q", flash)
	}

	// Signed out, she signs in with the passkey alone, with the button.
	answering(false)
	signOut(t, ctx)
	if ac, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("username"), "autocomplete")); err != nil || ac.Value != "username webauthn" {
		t.Errorf("the username field offers no passkeys: %q %v", ac.Value, err)
	}
	screenshot(t, ctx, "passkeys-login")
	answering(true)
	step(t, ctx, "sign in with a passkey", chromedp.Click(chromedp.ID("passkey-sign-in")), waitLocation("/accounts"))
	if who := text(t, ctx, "body"); !strings.Contains(who, "ann@example.com") {
		t.Errorf("signed in with the passkey, the page shows %.300q", who)
	}
	// And from the username field's suggestions, which the browser offers
	// as soon as the sign-in page opens.
	step(t, ctx, "sign out, and pick the passkey offered", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), waitLocation("/login"),
		waitLocation("/accounts"))
	answering(false)
	step(t, ctx, "sign out again", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), waitLocation("/login"),
		chromedp.WaitVisible(chromedp.ID("passkey-sign-in")))

	// Zoé, an administrator, sets up her authenticator app at her first
	// sign-in, adds a passkey, and from then on signs in with her password
	// and the passkey.
	signInEnrolling(t, ctx, e, "zoe@example.com", password, "members", "")
	answering(true)
	step(t, ctx, "Zoé's profile", chromedp.Navigate(e.URL+"/profile"), chromedp.WaitVisible(chromedp.ID("no-passkeys")),
		chromedp.SendKeys(chromedp.ID("passkey_name"), "Security key"), chromedp.Click(chromedp.ID("add-passkey")),
		waitText("#passkeys", "Security key"))
	answering(false)
	signOut(t, ctx)
	step(t, ctx, "Zoé's password", chromedp.SendKeys(chromedp.ID("username"), "zoe@example.com"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("use-passkey")))
	screenshot(t, ctx, "passkeys-second-step")
	answering(true)
	step(t, ctx, "Zoé's passkey as the second step", chromedp.Click(chromedp.ID("use-passkey")), waitLocation("/accounts"))
	if who := text(t, ctx, "body"); !strings.Contains(who, "zoe@example.com") {
		t.Errorf("signed in with password and passkey, the page shows %.300q", who)
	}

	// Removing a passkey asks first.
	step(t, ctx, "remove Zoé's passkey?", chromedp.Navigate(e.URL+"/profile"), chromedp.WaitVisible(chromedp.ID("passkeys")),
		chromedp.Click(chromedp.CSS(`#passkeys a.danger`)), chromedp.WaitVisible(chromedp.ID("confirm")))
	screenshot(t, ctx, "passkeys-remove")
	step(t, ctx, "yes", chromedp.Click(chromedp.CSS(`#confirm button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("no-passkeys")))
}

// R-M3, R-S6 in a browser: an invitation is activated with a passkey
// instead of a password, and the person signs in with it.
func TestActivationWithPasskeyInABrowser(t *testing.T) {
	ctx := startBrowser(t)
	_ = virtualAuthenticator(t, ctx)
	e := apitest.StartOnLocalhost(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	site := e.CreateAccount(t, "client", "Store 12", e.CreateAccount(t, "integrator", "Acme Security", ""))
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", apitest.OperatorToken, map[string]any{"username": "ben@example.com",
		"first_name": "Ben", "last_name": "Roux", "level": "client_user"})
	tokens := e.ActivationTokens(t, "ben@example.com")
	if len(tokens) == 0 {
		t.Fatal("no activation link")
	}
	step(t, ctx, "activation page", chromedp.Navigate(e.URL+"/activate?token="+tokens[len(tokens)-1]), chromedp.WaitVisible(chromedp.ID("activate-with-passkey")))
	screenshot(t, ctx, "passkeys-activate")
	step(t, ctx, "activate with a passkey", chromedp.Click(chromedp.ID("activate-with-passkey")), chromedp.WaitVisible(chromedp.CSS(`p[role=status]`)))
	// The sign-in page offers the new passkey at once (conditional
	// mediation), and the authenticator answers.
	step(t, ctx, "sign in with it", chromedp.Click(chromedp.ID("sign-in-link")), waitLocation("/accounts"))
	if who := text(t, ctx, "body"); !strings.Contains(who, "ben@example.com") {
		t.Errorf("signed in after activating with a passkey, the page shows %.300q", who)
	}
}
