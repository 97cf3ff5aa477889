package oidcprovider

import (
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Device sign-in (RFC 8628): a device client (a signage player, a
// monitoring station, with no keyboard) asks /oauth2/device_authorization
// for a device code and a short user code; a person opens /device on their
// phone, signs in, types the code, picks the account when the device asked
// for the scope "account", and approves or denies; the device polls
// /oauth2/token with the device code and gets tokens for that account.

const (
	// DevicePath is the page where a person approves a device.
	DevicePath = "/device"
	// DeviceCodeLifetime is how long a user code may be typed.
	DeviceCodeLifetime = 10 * time.Minute
	// DevicePollInterval is how often a device may poll.
	DevicePollInterval = 5 * time.Second
	// Wrong user codes allowed per person, and per source address, in
	// DeviceFailureWindow.
	DeviceFailuresPerPerson = 5
	DeviceFailuresPerSource = 20
	DeviceFailureWindow     = 15 * time.Minute
)

var _ op.DeviceAuthorizationStorage = storage{}

// StoreDeviceAuthorization records a device authorization. Its lifetime
// runs on the service's clock.
func (st storage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, _ time.Time, scopes []string) error {
	c, err := st.s.client(ctx, clientID)
	if err != nil {
		return err
	}
	if !c.Device {
		return oidc.ErrUnauthorizedClient().WithDescription("not a device client")
	}
	if countAccountScopes(scopes) > 1 {
		return oidc.ErrInvalidScope().WithDescription("ask for one account at a time")
	}
	now := st.s.Now()
	d := gatehouse.OIDCDeviceCode{ID: st.s.NewID(), ClientID: clientID, DeviceCodeHash: gatehouse.HashToken(deviceCode),
		UserCode: userCode, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(DeviceCodeLifetime)}
	return st.s.store.Write(ctx, func(tx Tx) error { return tx.InsertOIDCDeviceCode(ctx, d) })
}

// GetDeviceAuthorizatonState tells the polling device where its
// authorization stands: denied, expired (on the service's clock), pending,
// or approved, which gives tokens once.
func (st storage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	d, err := st.s.store.OIDCDeviceCode(ctx, gatehouse.HashToken(deviceCode))
	if err != nil {
		return nil, err
	}
	if d.ClientID != clientID {
		return nil, gatehouse.NotFound("device code")
	}
	now := st.s.Now()
	state := &op.DeviceAuthorizationState{ClientID: d.ClientID, Scopes: d.Scopes, Audience: []string{d.ClientID},
		Expires: time.Now().Add(d.ExpiresAt.Sub(now))}
	switch {
	case d.State == gatehouse.DeviceCodeDenied:
		state.Denied = true
	case !now.Before(d.ExpiresAt):
		state.Expires = time.Time{} // op answers expired_token
	case d.State == gatehouse.DeviceCodeApproved:
		if err := st.s.store.Write(ctx, func(tx Tx) error { return tx.UseOIDCDeviceCode(ctx, d.ID, now) }); err != nil {
			return nil, err // used already: access_denied
		}
		state.Done, state.Subject, state.AMR, state.AuthTime = true, d.UserID, d.AMR, d.AuthTime
	}
	return state, nil
}

// deviceTexts are the /device page's words, in every language of the
// portal.
var deviceTexts = map[string]map[string]string{
	"en": {
		"title":    "Sign in a device",
		"intro":    "Type the code the device shows.",
		"code":     "Code shown on the device",
		"hint":     "8 letters, for example BCDF-GHJK",
		"check":    "Continue",
		"wrong":    "This code is wrong or has expired. Check it on the device.",
		"limited":  "Too many wrong codes. Wait a few minutes and try again.",
		"asks":     "%s asks to sign in as you.",
		"legend":   "Account the device signs in to",
		"approve":  "Approve",
		"deny":     "Deny",
		"approved": "Done: the device is signed in. You can close this page.",
		"denied":   "The device was refused. You can close this page.",
		"noaccess": "You may not sign this device in to that account.",
		"second":   "Administrators approve devices with a second factor: sign out, then sign in again with yours.",
		"none":     "You have no active account to sign the device in to.",
		"client":   "site",
		"integ":    "integrator",
		"back":     "Back to Gatehouse",
	},
	"fr": {
		"title":    "Connecter un appareil",
		"intro":    "Saisissez le code affiché par l’appareil.",
		"code":     "Code affiché par l’appareil",
		"hint":     "8 lettres, par exemple BCDF-GHJK",
		"check":    "Continuer",
		"wrong":    "Ce code est erroné ou a expiré. Vérifiez-le sur l’appareil.",
		"limited":  "Trop de codes erronés. Patientez quelques minutes et réessayez.",
		"asks":     "%s demande à se connecter en votre nom.",
		"legend":   "Compte auquel connecter l’appareil",
		"approve":  "Autoriser",
		"deny":     "Refuser",
		"approved": "C’est fait : l’appareil est connecté. Vous pouvez fermer cette page.",
		"denied":   "L’appareil a été refusé. Vous pouvez fermer cette page.",
		"noaccess": "Vous ne pouvez pas connecter cet appareil à ce compte.",
		"second":   "Les administrateurs approuvent les appareils avec un second facteur : déconnectez-vous, puis reconnectez-vous avec le vôtre.",
		"none":     "Vous n’avez aucun compte actif auquel connecter l’appareil.",
		"client":   "site",
		"integ":    "intégrateur",
		"back":     "Retour à Gatehouse",
	},
}

type devicePage struct {
	Lang, Code, Error, Asks, Message string
	T                                map[string]string
	Confirm, Chooser, Any            bool
	Choices                          []choice
}

var deviceTemplate = template.Must(template.New("device").Parse(pageHead + `<body>
<main>
<h1>{{index .T "title"}}</h1>
{{if .Message}}<p role="status">{{.Message}}</p><p><a href="/accounts">{{index .T "back"}}</a></p>
{{else if .Confirm}}<p>{{.Asks}}</p>
<form method="post" action="/device">
<input type="hidden" name="user_code" value="{{.Code}}">
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Chooser}}{{if .Any}}<fieldset>
<legend>{{index .T "legend"}}</legend>
<ul>
{{range $i, $c := .Choices}}<li><input type="radio" name="account" id="account-{{$i}}" value="{{$c.AccountID}}"{{if not $c.Choosable}} disabled{{end}}{{if and $c.Choosable (eq $i 0)}} required{{end}}>
<label for="account-{{$i}}">{{$c.AccountName}}{{if $c.IntegratorName}} · {{$c.IntegratorName}}{{end}}
<span class="hint">{{if eq (print $c.AccountKind) "integrator"}}{{index $.T "integ"}}{{else}}{{index $.T "client"}}{{end}}</span></label></li>
{{end}}</ul>
</fieldset>
{{else}}<p>{{index .T "none"}}</p>{{end}}{{end}}
{{if or .Any (not .Chooser)}}<button type="submit" class="primary" name="action" value="approve">{{index .T "approve"}}</button>{{end}}
<button type="submit" class="secondary" name="action" value="deny" formnovalidate>{{index .T "deny"}}</button>
</form>
{{else}}<p>{{index .T "intro"}}</p>
<form method="post" action="/device">
<label class="field" for="user_code">{{index .T "code"}}</label>
<span class="hint" id="user_code-hint">{{index .T "hint"}}</span>
<input type="text" id="user_code" name="user_code" value="{{.Code}}" required autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="20"
 aria-describedby="user_code-hint{{if .Error}} user_code-error{{end}}"{{if .Error}} aria-invalid="true"{{end}}>
{{if .Error}}<p class="error" id="user_code-error" role="alert">{{.Error}}</p>{{end}}
<button type="submit" class="primary" name="action" value="check">{{index .T "check"}}</button>
</form>{{end}}
</main>
</body>
</html>
`))

// normalUserCode is a typed code as issued: upper case, without spaces,
// with its dash.
func normalUserCode(code string) string {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(code) == 8 {
		code = code[:4] + "-" + code[4:]
	}
	return code
}

func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// deviceHandler serves /device: the code form (GET, prefilled from
// ?user_code=), then the approval (POST, guarded against cross-origin
// requests) for the person signed in to the portal.
func (s *Service) deviceHandler(signedIn SignedIn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := signedIn(r)
		if !ok || caller.Principal.UserID == "" {
			next := DevicePath
			if code := r.FormValue("user_code"); code != "" {
				next += "?" + url.Values{"user_code": {code}}.Encode()
			}
			http.Redirect(w, r, "/login?"+url.Values{"next": {next}}.Encode(), http.StatusSeeOther)
			return
		}
		ctx := r.Context()
		userID := caller.Principal.UserID
		lang := "en"
		if user, err := s.store.User(ctx, userID); err == nil && deviceTexts[user.Language] != nil {
			lang = user.Language
		}
		t := deviceTexts[lang]
		page := devicePage{Lang: lang, T: t, Code: r.FormValue("user_code")}
		status := http.StatusOK
		render := func() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
			w.WriteHeader(status)
			_ = deviceTemplate.Execute(w, page)
		}
		if r.Method != http.MethodPost {
			render()
			return
		}
		now := s.Now()
		subjects := []string{"user:" + userID, "source:" + sourceOf(r)}
		for i, limit := range []int{DeviceFailuresPerPerson, DeviceFailuresPerSource} {
			n, err := s.store.OIDCDeviceCodeFailures(ctx, subjects[i], now.Add(-DeviceFailureWindow))
			if err != nil {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			if n >= limit {
				page.Error, status = t["limited"], http.StatusTooManyRequests
				render()
				return
			}
		}
		d, err := s.store.OIDCDeviceCodeByUserCode(ctx, normalUserCode(page.Code), now)
		if err != nil {
			if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			if err := s.store.Write(ctx, func(tx Tx) error { return tx.RecordOIDCDeviceCodeFailure(ctx, subjects, now) }); err != nil {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			page.Error, status = t["wrong"], http.StatusBadRequest
			render()
			return
		}
		page.Code = d.UserCode
		name := d.ClientID
		if c, err := s.store.OIDCClient(ctx, d.ClientID); err == nil {
			name = c.Name
		}
		page.Confirm, page.Asks, page.Chooser = true, fmt.Sprintf(t["asks"], name), wantsChooser(d.Scopes)
		if page.Chooser {
			if page.Choices, err = s.choices(r, userID, ""); err != nil {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			for _, c := range page.Choices {
				page.Any = page.Any || c.Choosable
			}
		}
		switch r.PostFormValue("action") {
		case "deny":
			if err := s.store.Write(ctx, func(tx Tx) error {
				return tx.DecideOIDCDeviceCode(ctx, d.ID, gatehouse.DeviceCodeDenied, userID, d.Scopes, nil, now)
			}); err != nil {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			page.Message = t["denied"]
		case "approve":
			scopes := d.Scopes
			if page.Chooser {
				account := r.PostFormValue("account")
				if !slices.ContainsFunc(page.Choices, func(c choice) bool { return c.Choosable && c.AccountID == account }) {
					page.Error, status = t["noaccess"], http.StatusForbidden
					break
				}
				scopes = chosen(d.Scopes, account)
			}
			if _, err := s.accountClaims(ctx, userID, scopes, ""); err != nil {
				page.Error, status = t["noaccess"], http.StatusForbidden
				break
			}
			amr, missing, err := s.signInStrength(ctx, caller.Principal.SessionID, userID, nil)
			if err != nil {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			if missing {
				page.Error, status = t["second"], http.StatusForbidden
				break
			}
			if err := s.store.Write(ctx, func(tx Tx) error {
				if err := tx.DecideOIDCDeviceCode(ctx, d.ID, gatehouse.DeviceCodeApproved, userID, scopes, amr, now); err != nil {
					return err
				}
				return tx.InsertAuditEvent(ctx, s.Audit(caller, now, accountOf(scopes), "oidc.signed_in", "oidc_client", d.ClientID))
			}); err != nil {
				http.Error(w, "server error", http.StatusInternalServerError)
				return
			}
			page.Message = t["approved"]
		}
		render()
	})
}
