// Package servicetest runs the use cases of every context over a real
// database, without HTTP, for the tests of each context's rules: the same
// tests run on SQLite and on PostgreSQL (storetest.Backends).
package servicetest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Password is the password of every person Env.Person activates.
const Password = "tramway olive canyon"

// Env is one node's use cases over a fresh database.
type Env struct {
	*service.Services
	DB    *store.DB
	Clock *apitest.Clock
}

// Start opens a fresh database of backend b and wires the contexts over it,
// with a test clock, fast password hashing and no real waiting.
func Start(t testing.TB, b storetest.Backend) *Env {
	t.Helper()
	db, _ := b.Open(t)
	clock := apitest.NewClock(time.Now().UTC())
	svc := service.New(db, service.Options{PublicURL: "https://gatehouse.example.com", Clock: clock,
		PasswordParams: apitest.FastPasswords,
		Sleep:          func(context.Context, time.Duration) {}})
	return &Env{Services: svc, DB: db, Clock: clock}
}

// Operator is platform support.
var Operator = gatehouse.Caller{Principal: gatehouse.Principal{Operator: true}, IP: "192.0.2.1"}

// Account creates an account as the operator and returns it.
func (e *Env) Account(t testing.TB, kind gatehouse.AccountKind, name, integratorID string) gatehouse.Account {
	t.Helper()
	a, err := e.Accounts.CreateAccount(context.Background(), Operator,
		accounts.NewAccount{Kind: kind, Name: name, IntegratorID: integratorID})
	if err != nil {
		t.Fatalf("create %s %q: %v", kind, name, err)
	}
	return a
}

// Member writes an active identity holding level in the account straight
// through the store, and returns it acting with a session.
func (e *Env) Member(t testing.TB, accountID string, level gatehouse.Level) gatehouse.Caller {
	t.Helper()
	ctx := context.Background()
	userID := kernel.NewID()
	err := e.DB.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.InsertUser(ctx, gatehouse.User{ID: userID, Username: userID + "@example.com", FirstName: "Test",
			LastName: string(level), Language: "en", Status: gatehouse.UserActive}); err != nil {
			return err
		}
		return tx.InsertMembership(ctx, gatehouse.Membership{ID: kernel.NewID(), AccountID: accountID, UserID: userID,
			Level: level, Status: gatehouse.MembershipActive, Email: userID + "@example.com"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return gatehouse.Caller{Principal: gatehouse.Principal{UserID: userID, SessionID: "session-of-" + userID}, IP: "192.0.2.2"}
}

// Person adds username to the account at level as the operator, activates
// the identity with Password through the link mailed, and returns the
// member.
func (e *Env) Person(t testing.TB, accountID, username string, level gatehouse.Level) gatehouse.Member {
	t.Helper()
	ctx := context.Background()
	m, err := e.People.AddUser(ctx, Operator, accountID, people.NewMember{Username: username, FirstName: "Ann",
		LastName: "Example", Language: "en", Level: level})
	if err != nil {
		t.Fatalf("add %s: %v", username, err)
	}
	if m.Status == gatehouse.MembershipActive {
		return m
	}
	links := e.Links(t, username, "/activate?token=")
	if len(links) == 0 {
		t.Fatalf("no activation link mailed to %s", username)
	}
	if _, err := e.SignIn.Activate(ctx, "192.0.2.3", "", links[len(links)-1], Password); err != nil {
		t.Fatalf("activate %s: %v", username, err)
	}
	m.Status = gatehouse.MembershipActive
	return m
}

var linkSecret = regexp.MustCompile(`token=([A-Za-z0-9_%-]+)`)

// Links delivers the queued mail and returns the secrets of the links in
// the messages to the address whose path holds marker, oldest first.
func (e *Env) Links(t testing.TB, to, marker string) []string {
	t.Helper()
	var out []string
	for _, m := range e.Mail(t) {
		if m.To != to {
			continue
		}
		for _, line := range regexp.MustCompile(`https?://\S+`).FindAllString(m.Body, -1) {
			if match := linkSecret.FindStringSubmatch(line); match != nil && regexp.MustCompile(regexp.QuoteMeta(marker)).MatchString(line) {
				out = append(out, match[1])
			}
		}
	}
	return out
}

// Mail delivers every queued message and returns them, oldest first.
func (e *Env) Mail(t testing.TB) []gatehouse.Message {
	t.Helper()
	return apitest.DeliverMail(t, e.DB, e.Clock.Now())
}

// Code is the error code of err ("" for nil).
func Code(err error) string { return gatehouse.ErrorCode(err) }
