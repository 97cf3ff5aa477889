package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/pkg/client"
)

const password = "tramway olive canyon"

// asAPIError fails the test unless err is a *client.Error of that status
// and code.
func asAPIError(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T), want a *client.Error %d %s", err, err, status, code)
	}
	if apiErr.StatusCode != status || apiErr.Code != code {
		t.Fatalf("error %d %q (%s), want %d %s", apiErr.StatusCode, apiErr.Code, apiErr.Message, status, code)
	}
	return apiErr
}

// must returns v, after failing the test if err is not nil:
// must(op.GetAccount(ctx, id))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// signedIn adds username to the account at level (one that signs in
// without a second factor), activates them through their e-mailed link and
// returns a client with their session.
func signedIn(t *testing.T, e *apitest.Env, op *client.Client, accountID, username, level string) (*client.Client, client.Membership) {
	t.Helper()
	ctx := context.Background()
	m := must(op.AddUser(ctx, accountID, client.NewMember{Username: username, FirstName: "Pat", LastName: "Lee", Level: level}))(t)
	tokens := e.ActivationTokens(t, username)
	if len(tokens) != 1 {
		t.Fatalf("%d activation e-mails to %s", len(tokens), username)
	}
	e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": password})
	session := e.Must(t, 201, "POST", "/api/v1/sessions", "", map[string]string{"username": username, "password": password}).String("token")
	return client.New(e.URL, session), m
}

// Accounts are made, found by their filters page after page, suspended,
// restored and deleted through the client, with the server's own field
// values (R-T4, R-T5).
func TestClientAccounts(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			ctx := context.Background()
			op := client.New(e.URL, apitest.OperatorToken)

			acme := must(op.CreateAccount(ctx, client.NewAccount{Kind: client.KindIntegrator, Name: "Acme", Address: "1 Main St"}))(t)
			if acme.ID == "" || acme.Kind != "integrator" || acme.Status != "active" || acme.Address != "1 Main St" || acme.IntegratorID != "" ||
				acme.TimeZone != "UTC" || acme.CreatedAt.IsZero() {
				t.Fatalf("integrator %+v", acme)
			}
			ids := map[string]string{}
			for _, name := range []string{"Paris Store", "Lyon Store", "Nice Store"} {
				a := must(op.CreateAccount(ctx, client.NewAccount{Kind: client.KindClient, Name: name, IntegratorID: acme.ID}))(t)
				if a.IntegratorID != acme.ID || a.Settings.MaxClientUsers == 0 {
					t.Fatalf("client %+v", a)
				}
				ids[name] = a.ID
			}

			clients := client.AccountFilter{Kind: client.KindClient, IntegratorID: acme.ID, PageRequest: client.PageRequest{Limit: 2}}
			first := must(op.ListAccounts(ctx, clients))(t)
			if got := accountNames(first.Items); !slices.Equal(got, []string{"Lyon Store", "Nice Store"}) || first.NextCursor == "" {
				t.Fatalf("first page %v, next %q", got, first.NextCursor)
			}
			clients.Cursor = first.NextCursor
			last := must(op.ListAccounts(ctx, clients))(t)
			if got := accountNames(last.Items); !slices.Equal(got, []string{"Paris Store"}) || last.NextCursor != "" {
				t.Fatalf("last page %v, next %q", got, last.NextCursor)
			}
			var all []string
			for a, err := range client.All(func(cursor string) (client.Page[client.Account], error) {
				return op.ListAccounts(ctx, client.AccountFilter{IntegratorID: acme.ID, PageRequest: client.PageRequest{Limit: 1, Cursor: cursor}})
			}) {
				all = append(all, must(a, err)(t).Name)
			}
			if !slices.Equal(all, []string{"Lyon Store", "Nice Store", "Paris Store"}) {
				t.Errorf("every page: %v", all)
			}
			if got := accountNames(must(op.ListAccounts(ctx, client.AccountFilter{Query: "PARI"}))(t).Items); !slices.Equal(got, []string{"Paris Store"}) {
				t.Errorf("search: %v", got)
			}

			lyon := ids["Lyon Store"]
			if a := must(op.SuspendAccount(ctx, lyon))(t); a.Status != client.AccountSuspended {
				t.Errorf("suspended: %+v", a)
			}
			if got := accountNames(must(op.ListAccounts(ctx, client.AccountFilter{Status: client.AccountSuspended}))(t).Items); !slices.Equal(got, []string{"Lyon Store"}) {
				t.Errorf("suspended accounts: %v", got)
			}
			if a := must(op.RestoreAccount(ctx, lyon))(t); a.Status != client.AccountActive {
				t.Errorf("restored: %+v", a)
			}
			if got := must(op.GetAccount(ctx, lyon))(t); got.Name != "Lyon Store" || got.Status != "active" {
				t.Errorf("get: %+v", got)
			}

			_, err := op.DeleteAccount(ctx, ids["Nice Store"], "Lyon Store")
			if apiErr := asAPIError(t, err, 400, client.CodeValidationFailed); apiErr.Field != "confirm_name" {
				t.Errorf("a wrong name deleted with field %q", apiErr.Field)
			}
			deleted := must(op.DeleteAccount(ctx, ids["Nice Store"], "Nice Store"))(t)
			if deleted.Status != client.AccountDeleted || deleted.PurgeAfter == nil || !deleted.PurgeAfter.After(deleted.CreatedAt) {
				t.Errorf("deleted: %+v", deleted)
			}

			_, err = op.GetAccount(ctx, "0193a5c4-0000-7000-8000-000000000000")
			asAPIError(t, err, 404, client.CodeNotFound)
			_, err = op.CreateAccount(ctx, client.NewAccount{Kind: client.KindClient, IntegratorID: acme.ID})
			if apiErr := asAPIError(t, err, 400, client.CodeValidationFailed); apiErr.Field != "name" || apiErr.Message == "" {
				t.Errorf("no name: field %q, message %q", apiErr.Field, apiErr.Message)
			}
		})
	}
}

func accountNames(accounts []client.Account) []string {
	var names []string
	for _, a := range accounts {
		names = append(names, a.Name)
	}
	return names
}

// An administrator adds people, finds their invitations, sends one again
// (a new e-mail), cancels another (the waiting membership goes) and
// removes a user; a user without the right is refused (R-U1, R-M5, R-M7).
func TestClientUsersAndInvitations(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			ctx := context.Background()
			op := client.New(e.URL, apitest.OperatorToken)
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", acme)

			ann := must(op.AddUser(ctx, site, client.NewMember{Username: "ann@example.com", FirstName: "Ann", LastName: "Ames",
				Level: client.LevelClientUser, Language: "fr"}))(t)
			if ann.Username != "ann@example.com" || ann.Status != client.MembershipActivationRequired || !slices.Equal(ann.Roles, []string{"viewer"}) ||
				ann.Language != "fr" || ann.AccountID != site || ann.ExpiresAt != nil {
				t.Fatalf("added %+v", ann)
			}
			if n := len(e.ActivationTokens(t, "ann@example.com")); n != 1 {
				t.Fatalf("%d invitation e-mails to ann", n)
			}
			_, err := op.AddUser(ctx, site, client.NewMember{Username: "ANN@example.com", Level: client.LevelClientUser})
			asAPIError(t, err, 409, client.CodeAlreadyMember)
			_, err = op.AddUser(ctx, site, client.NewMember{Username: "not an address", FirstName: "X", LastName: "Y", Phone: "12",
				Level: client.LevelClientUser})
			if apiErr := asAPIError(t, err, 400, client.CodeValidationFailed); len(apiErr.Fields) < 2 || apiErr.Fields[0].Field != apiErr.Field {
				t.Errorf("every invalid field: %+v", apiErr)
			}
			bob := must(op.AddUser(ctx, site, client.NewMember{Username: "bob@example.com", FirstName: "Bob", LastName: "Best",
				Level: client.LevelClientUser}))(t)

			pending := must(op.ListInvitations(ctx, site, client.InvitationFilter{Status: client.InvitationPending}))(t)
			if len(pending.Items) != 2 || pending.Items[0].Email != "bob@example.com" || pending.Items[1].Email != "ann@example.com" {
				t.Fatalf("pending invitations, newest first: %+v", pending.Items)
			}
			annInvite := pending.Items[1]
			if annInvite.MembershipID != ann.ID || annInvite.InvitedBy != "operator" || !annInvite.ExpiresAt.After(annInvite.SentAt) {
				t.Errorf("invitation %+v", annInvite)
			}

			e.Clock.Advance(time.Hour)
			resent := must(op.ResendInvitation(ctx, annInvite.ID))(t)
			if !resent.SentAt.After(annInvite.SentAt) || resent.Status != client.InvitationPending {
				t.Errorf("resent %+v after %+v", resent, annInvite)
			}
			if n := len(e.ActivationTokens(t, "ann@example.com")); n != 1 {
				t.Errorf("%d new e-mails to ann after the resend", n)
			}

			bobInvite := must(op.ListInvitations(ctx, site, client.InvitationFilter{Query: "BOB"}))(t).Items
			if len(bobInvite) != 1 {
				t.Fatalf("search by address: %+v", bobInvite)
			}
			if inv := must(op.CancelInvitation(ctx, bobInvite[0].ID))(t); inv.Status != client.InvitationCancelled {
				t.Errorf("cancelled %+v", inv)
			}
			if inv := must(op.GetInvitation(ctx, bobInvite[0].ID))(t); inv.Status != client.InvitationCancelled {
				t.Errorf("read back %+v", inv)
			}
			_, err = op.CancelInvitation(ctx, bobInvite[0].ID)
			asAPIError(t, err, 409, client.CodeConflict)
			_, err = op.GetUser(ctx, site, bob.ID)
			asAPIError(t, err, 404, client.CodeNotFound)

			users := must(op.ListUsers(ctx, site, client.UserFilter{}))(t)
			if len(users.Items) != 1 || users.Items[0].ID != ann.ID {
				t.Fatalf("users after the cancel: %+v", users.Items)
			}
			if got := must(op.ListUsers(ctx, site, client.UserFilter{Status: client.MembershipActive}))(t); len(got.Items) != 0 {
				t.Errorf("active users before any activation: %+v", got.Items)
			}

			viewerToken, _ := e.Member(t, site, gatehouse.LevelClientUser)
			viewer := client.New(e.URL, viewerToken)
			_, err = viewer.AddUser(ctx, site, client.NewMember{Username: "cid@example.com", FirstName: "C", LastName: "D", Level: client.LevelClientUser})
			asAPIError(t, err, 403, client.CodeForbidden)

			if err := op.RemoveUser(ctx, site, ann.ID); err != nil {
				t.Fatal(err)
			}
			if got := must(op.ListUsers(ctx, site, client.UserFilter{Query: "ann"}))(t); len(got.Items) != 0 {
				t.Errorf("ann after her removal: %+v", got.Items)
			}
			asAPIError(t, op.RemoveUser(ctx, site, ann.ID), 404, client.CodeNotFound)
		})
	}
}

// A person signed in makes a personal API token, sees its secret once, uses
// it within its scopes, and revokes it; a token cannot make tokens (R-S4).
func TestClientAPITokens(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			ctx := context.Background()
			op := client.New(e.URL, apitest.OperatorToken)
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", acme)
			must(op.AddUser(ctx, site, client.NewMember{Username: "ann@example.com", FirstName: "Ann", LastName: "Ames", Level: client.LevelClientUser}))(t)
			// Integrator staff: their token for the integrator reaches its
			// clients.
			pat, _ := signedIn(t, e, op, acme, "pat@example.com", client.LevelIntegratorUser)

			expires := e.Clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
			made := must(pat.CreateAPIToken(ctx, acme, client.NewAPIToken{Name: "HR sync", Scopes: []string{client.ScopeUsersRead}, ExpiresAt: &expires}))(t)
			if !strings.HasPrefix(made.Secret, "gh_api_") || made.AccountID != acme || made.ExpiresAt == nil || !made.ExpiresAt.Equal(expires) {
				t.Fatalf("made %+v", made)
			}
			listed := must(pat.ListAPITokens(ctx, acme))(t)
			if len(listed) != 1 || listed[0].ID != made.ID || listed[0].Name != "HR sync" || listed[0].Secret != "" ||
				!slices.Equal(listed[0].Scopes, []string{"users:read"}) {
				t.Fatalf("listed %+v", listed)
			}

			hr := client.New(e.URL, made.Secret)
			if users := must(hr.ListUsers(ctx, site, client.UserFilter{}))(t); len(users.Items) != 1 {
				t.Errorf("users through the token: %+v", users.Items)
			}
			_, err := hr.AddUser(ctx, site, client.NewMember{Username: "x@example.com", FirstName: "X", LastName: "Y", Level: client.LevelClientUser})
			asAPIError(t, err, 403, client.CodeForbidden)
			_, err = hr.CreateAPIToken(ctx, acme, client.NewAPIToken{Name: "more", Scopes: []string{client.ScopeUsersRead}})
			asAPIError(t, err, 403, client.CodeForbidden)
			_, err = op.CreateAPIToken(ctx, acme, client.NewAPIToken{Name: "ops", Scopes: []string{client.ScopeUsersRead}})
			asAPIError(t, err, 403, client.CodeForbidden)
			_, err = pat.CreateAPIToken(ctx, acme, client.NewAPIToken{Name: "x", Scopes: []string{"users:delete"}})
			if apiErr := asAPIError(t, err, 400, client.CodeValidationFailed); apiErr.Field != "scopes" {
				t.Errorf("unknown scope named field %q", apiErr.Field)
			}

			if err := pat.RevokeAPIToken(ctx, acme, made.ID); err != nil {
				t.Fatal(err)
			}
			_, err = hr.ListUsers(ctx, site, client.UserFilter{})
			asAPIError(t, err, 401, client.CodeUnauthenticated)
			if listed := must(pat.ListAPITokens(ctx, acme))(t); len(listed) != 0 {
				t.Errorf("tokens after the revocation: %+v", listed)
			}
		})
	}
}

// The audit log lists an account's actions newest first and by action;
// the feed gives its changes in commit order, and a reader waiting on it
// gets a change made meanwhile at once.
func TestClientAuditAndEvents(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			ctx := context.Background()
			op := client.New(e.URL, apitest.OperatorToken)
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", acme)
			ann := must(op.AddUser(ctx, site, client.NewMember{Username: "ann@example.com", FirstName: "Ann", LastName: "Ames", Level: client.LevelClientUser}))(t)

			log := must(op.ListAuditEvents(ctx, site, client.AuditFilter{}))(t)
			if len(log.Items) < 2 || log.Items[0].At.Before(log.Items[len(log.Items)-1].At) {
				t.Fatalf("audit log: %+v", log.Items)
			}
			added := must(op.ListAuditEvents(ctx, site, client.AuditFilter{Action: "user.added"}))(t).Items
			if len(added) != 1 || added[0].ActorID != "operator" || added[0].TargetID != ann.ID || added[0].AccountID != site {
				t.Errorf("user.added events: %+v", added)
			}
			if later := must(op.ListAuditEvents(ctx, site, client.AuditFilter{Since: e.Clock.Now().Add(time.Minute)}))(t).Items; len(later) != 0 {
				t.Errorf("events after now: %+v", later)
			}

			// On PostgreSQL the feed holds a change back while a transaction
			// begun before it commits may still be running anywhere on the
			// server (other tests' too): wait until the three are given out.
			e.ReadFeedUntil(t, apitest.OperatorToken, "account_id="+site, "", func(events []map[string]any) bool { return len(events) >= 3 })
			feed := must(op.Events(ctx, client.EventQuery{AccountID: site}))(t)
			var types []string
			for _, ev := range feed.Items {
				types = append(types, ev.Type)
			}
			if !slices.Equal(types, []string{"account.created", "member.added", "invitation.sent"}) || feed.NextCursor != feed.Items[2].Cursor {
				t.Fatalf("feed %v, next %q", types, feed.NextCursor)
			}
			if s := feed.Items[1].Subject; s.Type != "membership" || s.ID != ann.ID || s.UserID != ann.UserID {
				t.Errorf("member.added subject %+v", s)
			}

			type answer struct {
				page EventPage
				err  error
				took time.Duration
			}
			waited := make(chan answer, 1)
			go func() {
				start := time.Now()
				page, err := op.Events(ctx, client.EventQuery{AccountID: site, After: feed.NextCursor, Wait: 20 * time.Second})
				waited <- answer{page, err, time.Since(start)}
			}()
			time.Sleep(300 * time.Millisecond)
			must(op.SuspendAccount(ctx, site))(t)
			got := <-waited
			if got.err != nil {
				t.Fatal(got.err)
			}
			if len(got.page.Items) != 1 || got.page.Items[0].Type != "account.suspended" || got.took > 10*time.Second {
				t.Fatalf("waiting reader got %+v after %v", got.page.Items, got.took)
			}
			if after := must(op.Events(ctx, client.EventQuery{AccountID: site, After: got.page.NextCursor}))(t); len(after.Items) != 0 ||
				after.NextCursor != got.page.NextCursor {
				t.Errorf("after the last event: %+v", after)
			}
			_, err := op.Events(ctx, client.EventQuery{After: "not-a-cursor"})
			if apiErr := asAPIError(t, err, 400, client.CodeValidationFailed); apiErr.Field != "after" {
				t.Errorf("a bad cursor named field %q", apiErr.Field)
			}
		})
	}
}

// EventPage is the feed's answer, named for the test's channel.
type EventPage = client.EventPage

// Errors are told apart the way callers need: the contract's body by code,
// a proxy's page by status, a server out of reach by being no *Error at
// all; an id cannot lead a request to another route.
func TestClientErrors(t *testing.T) {
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	ctx := context.Background()

	_, err := client.New(e.URL, "gh_api_unknown").ListAccounts(ctx, client.AccountFilter{})
	if apiErr := asAPIError(t, err, 401, client.CodeUnauthenticated); apiErr.RequestID == "" || apiErr.Method != "GET" || apiErr.Path != "/api/v1/accounts" {
		t.Errorf("unknown token: %+v", apiErr)
	}
	wrapped := fmt.Errorf("syncing users: %w", err)
	var apiErr *client.Error
	if !errors.As(wrapped, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("errors.As through a wrap: %v", wrapped)
	}

	op := client.New(e.URL+"/", apitest.OperatorToken)
	_, err = op.GetAccount(ctx, "../accounts")
	asAPIError(t, err, 404, client.CodeNotFound)

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	}))
	defer proxy.Close()
	_, err = client.New(proxy.URL, "x").ListAccounts(ctx, client.AccountFilter{})
	if apiErr := asAPIError(t, err, 502, ""); !strings.Contains(apiErr.Message, "Bad Gateway") {
		t.Errorf("a proxy's page: %q", apiErr.Message)
	}

	proxy.Close()
	_, err = client.New(proxy.URL, "x").ListAccounts(ctx, client.AccountFilter{})
	var urlErr *url.Error
	if !errors.As(err, &urlErr) || errors.As(err, &apiErr) {
		t.Errorf("a server out of reach: %v (%T)", err, err)
	}
}
