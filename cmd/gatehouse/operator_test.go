package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A fresh server's way to a first operator who uses the portal, without the
// API: `gatehouse operator add` invites the person and delivers the e-mail,
// `gatehouse mail last --link` gives the activation link, activation sets
// the password, the first sign-in asks for an authenticator like an
// administrator's (R-P4), and the session then acts as an operator.
func TestOperatorAddThenActivateAndSignIn(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			vars := map[string]string{"GATEHOUSE_DATA_DIR": filepath.Join(t.TempDir(), "data"), "GATEHOUSE_ADDR": freeAddr(t),
				"GATEHOUSE_LOG_FORMAT": "json"}
			if backend == "postgres" {
				if !storetest.PostgresAvailable(t) {
					return
				}
				vars["GATEHOUSE_DATABASE_URL"] = storetest.CreatePostgresDatabase(t)
			}
			getenv := func(k string) string { return vars[k] }
			command := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), args, getenv, nil, &out, &errOut)
				return out.String(), err
			}

			out, err := command("operator", "add", "ops@example.com", "--first-name", "Olga", "--last-name", "Perez")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`Created the integrator account "Platform operators"`, "Invited ops@example.com",
				"Made ops@example.com an operator", "gatehouse mail last --to ops@example.com --link"} {
				if !strings.Contains(out, want) {
					t.Errorf("operator add said nothing of %q:\n%s", want, out)
				}
			}
			// Again: nothing changes, and it says so.
			if out, err := command("operator", "add", "--account", "Other", "OPS@example.com"); err != nil || !strings.Contains(out, "is an operator already, and has not activated yet") {
				t.Errorf("second run: %v\n%s", err, out)
			}
			for _, bad := range [][]string{{"operator", "add"}, {"operator", "add", "not an address"}, {"operator", "remove", "ops@example.com"},
				{"operator", "add", "a@example.com", "b@example.com"}} {
				if _, err := command(bad...); err == nil {
					t.Errorf("%q was accepted", bad)
				}
			}

			link, err := command("mail", "last", "--to", "ops@example.com", "--link")
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(strings.TrimSpace(link))
			if err != nil || u.Path != "/activate" || !strings.HasPrefix(u.Query().Get("token"), "gh_inv_") {
				t.Fatalf("activation link %q (%v)", link, err)
			}

			// The server starts after the command: a SQLite database serves
			// one process at a time.
			cfg, err := app.ParseConfig("serve", nil, getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			served, ready := make(chan error, 1), make(chan string, 1)
			go func() {
				served <- app.Serve(ctx, cfg, app.NewLogger(cfg, io.Discard), func(addr string) { ready <- addr })
			}()
			t.Cleanup(func() {
				stop()
				if err := <-served; err != nil {
					t.Errorf("serve: %v", err)
				}
			})
			var api *apitest.Env
			select {
			case addr := <-ready:
				api = &apitest.Env{URL: "http://" + addr}
			case err := <-served:
				t.Fatalf("serve: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("the server did not start")
			}
			if want := api.URL + "/activate"; u.Scheme+"://"+u.Host+u.Path != want {
				t.Errorf("the link leads to %s, not to this server's %s", link, want)
			}

			const password = "first operator passphrase"
			api.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": u.Query().Get("token"), "password": password})
			first := api.Must(t, 200, "POST", "/api/v1/sessions", "", map[string]string{"username": "ops@example.com", "password": password})
			if first.Body["mfa_enrollment_required"] != true || first.String("totp_secret") == "" || first.Body["token"] != nil {
				t.Fatalf("an operator's first sign-in must enrol a second factor: %s", first.Raw)
			}
			code, err := totp.GenerateCodeCustom(first.String("totp_secret"), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			session := api.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": first.String("challenge"), "code": code}).String("token")

			operators := api.Must(t, 200, "GET", "/api/v1/operators", session, nil)
			if !strings.Contains(string(operators.Raw), `"ops@example.com"`) {
				t.Errorf("the operators do not include ops@example.com: %s", operators.Raw)
			}
			// As an operator, they see and make integrators.
			api.Must(t, 201, "POST", "/api/v1/accounts", session, `{"kind":"integrator","name":"Acme Security"}`)
			accounts := api.Must(t, 200, "GET", "/api/v1/accounts?kind=integrator", session, nil)
			if names := fmt.Sprint(accounts.Items()); !strings.Contains(names, "Platform operators") || !strings.Contains(names, "Acme Security") {
				t.Errorf("an operator's accounts: %s", accounts.Raw)
			}
		})
	}
}
