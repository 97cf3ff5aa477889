package people_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A bulk job works out each chunk's lines ahead of the chunk's transaction.
// Whatever changes in between — a person's names, a username taken by
// someone else, a person who joined, the account's name — the chunk writes
// what it would have written without working ahead.
func TestBulkChunksSeeWhatChangedAfterTheirDraft(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("people", func(t *testing.T) {
				e, acme, admin := bulkDraftSetup(t, b)
				ctx := context.Background()
				other := e.Account(t, gatehouse.KindIntegrator, "Other", "")
				e.Person(t, other.ID, "bea@example.com", gatehouse.LevelIntegratorUser) // active, named Ann
				e.People.SetAfterBulkDraft(once(func() {
					bea, err := e.DB.UserByUsername(ctx, "bea@example.com")
					if err != nil {
						t.Error(err)
						return
					}
					bea.FirstName = "Beatrice"
					if err := e.DB.Write(ctx, func(tx *store.WriteTx) error { return tx.UpdateUser(ctx, bea) }); err != nil {
						t.Error(err)
					}
					// Someone else's administrator invites ann first: her
					// identity is theirs, and the bulk line adds it.
					if _, err := e.People.AddUser(ctx, servicetest.Operator, other.ID, people.NewMember{Username: "ann@example.com",
						FirstName: "Annie", LastName: "Other", Language: "en", Level: gatehouse.LevelIntegratorUser}); err != nil {
						t.Error(err)
					}
					if _, err := e.People.AddUser(ctx, admin, acme.ID, people.NewMember{Username: "cyd@example.com",
						FirstName: "Cyd", LastName: "Single", Language: "en", Level: gatehouse.LevelIntegratorUser}); err != nil {
						t.Error(err)
					}
				}))
				results := confirmBulk(t, e, admin, acme.ID,
					"email,first_name,last_name\nann@example.com,Ann,Bulk\nbea@example.com,Bea,Bulk\ncyd@example.com,Cyd,Bulk\n")
				if results["ann@example.com"] != "invited" || results["bea@example.com"] != "registered" || results["cyd@example.com"] != "skipped" {
					t.Errorf("results %v: want ann invited, bea registered, cyd skipped (joined after the preview)", results)
				}
				ann, err := e.DB.UserByUsername(ctx, "ann@example.com")
				if err != nil {
					t.Fatal(err)
				}
				if ann.FirstName != "Annie" {
					t.Errorf("ann's identity is named %q: the bulk line made another identity instead of adding the one that had the username", ann.FirstName)
				}
				memberships, err := e.DB.MembershipsOf(ctx, ann.ID, e.Clock.Now())
				if err != nil || len(memberships) != 2 {
					t.Errorf("ann's identity belongs to %d accounts (%v), want 2", len(memberships), err)
				}
				sent := e.Mail(t)
				mails := mailTo(sent, "bea@example.com")
				if len(mails) != 1 || !strings.Contains(mails[0].Body, "Hello Beatrice") {
					t.Errorf("bea's notice greets her by the name she had when the chunk was drafted: %+v", mails)
				}
				if got := len(mailTo(sent, "cyd@example.com")); got != 1 {
					t.Errorf("cyd got %d e-mails, want only the single add's", got)
				}
			})
			t.Run("account", func(t *testing.T) {
				e, acme, admin := bulkDraftSetup(t, b)
				ctx := context.Background()
				renamed := "Acme Security"
				e.People.SetAfterBulkDraft(once(func() {
					if _, err := e.Accounts.UpdateAccount(ctx, servicetest.Operator, acme.ID, accounts.AccountPatch{Name: &renamed}); err != nil {
						t.Error(err)
					}
				}))
				results := confirmBulk(t, e, admin, acme.ID, "email\ndan@example.com\n")
				if results["dan@example.com"] != "invited" {
					t.Fatalf("results %v", results)
				}
				mails := mailTo(e.Mail(t), "dan@example.com")
				if len(mails) != 1 || !strings.Contains(mails[0].Subject, renamed) {
					t.Errorf("the invitation names the account as it was when the chunk was drafted: %+v", mails)
				}
			})
		})
	}
}

func bulkDraftSetup(t *testing.T, b storetest.Backend) (*servicetest.Env, gatehouse.Account, gatehouse.Caller) {
	e := servicetest.Start(t, b)
	acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
	return e, acme, e.Member(t, acme.ID, gatehouse.LevelIntegratorAdmin)
}

// confirmBulk previews and confirms a file, and returns each line's result
// by e-mail address.
func confirmBulk(t *testing.T, e *servicetest.Env, admin gatehouse.Caller, accountID, file string) map[string]string {
	t.Helper()
	ctx := context.Background()
	p, err := e.People.PreviewBulk(ctx, admin, accountID, strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if p, err = e.People.ConfirmBulk(ctx, admin, accountID, p.ID, true); err != nil || p.Status != gatehouse.BulkDone {
		t.Fatalf("confirm: %v, status %s", err, p.Status)
	}
	rows, err := e.DB.BulkRows(ctx, p.ID, 0, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]string{}
	for _, row := range rows {
		results[row.Email] = row.Result
	}
	return results
}

func mailTo(sent []gatehouse.Message, to string) []gatehouse.Message {
	var out []gatehouse.Message
	for _, m := range sent {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// once runs fn the first time only.
func once(fn func()) func() {
	var o sync.Once
	return func() { o.Do(fn) }
}

// While a node writes a bulk invitation's chunks it says so, for its extra
// mail senders to rest until the confirm is answered; once the job is done
// it says so no longer.
func TestNodeSaysWhileItWritesABulk(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, acme, admin := bulkDraftSetup(t, b)
			if e.People.WritingBulk() {
				t.Fatal("writing a bulk before any was confirmed")
			}
			var (
				during []bool
				mu     sync.Mutex
				woken  []bool // whether the node wrote a bulk, each time the senders were woken
			)
			e.People.SetAfterBulkDraft(func() { during = append(during, e.People.WritingBulk()) })
			e.People.MailQueued = func() {
				mu.Lock()
				defer mu.Unlock()
				woken = append(woken, e.People.WritingBulk())
			}
			results := confirmBulk(t, e, admin, acme.ID, "email,first_name,last_name\nann@example.com,Ann,Bulk\n")
			if results["ann@example.com"] != "invited" {
				t.Fatalf("results %v", results)
			}
			if len(during) == 0 || slices.Contains(during, false) {
				t.Errorf("while its chunks were written the node said it wrote a bulk: %v, want true each time", during)
			}
			if e.People.WritingBulk() {
				t.Error("still writing a bulk after its confirm was answered")
			}
			// The senders, which left the bulk's e-mails while it was
			// written, are woken once it is, and find them.
			mu.Lock()
			last := len(woken) > 0 && !woken[len(woken)-1]
			mu.Unlock()
			if !last {
				t.Errorf("senders woken while writing a bulk: %v; want a last wake once it was written", woken)
			}
			ctx := context.Background()
			if beside, err := e.DB.ClaimMessagesBesideBulk(ctx, "node-a", e.Clock.Now(), time.Minute, 10); err != nil || len(mailTo(beside, "ann@example.com")) != 0 {
				t.Errorf("claim beside bulks: %d e-mails to ann, %v; want none, her invitation is the bulk's", len(mailTo(beside, "ann@example.com")), err)
			}
			if all, err := e.DB.ClaimMessages(ctx, "node-a", e.Clock.Now(), time.Minute, 10); err != nil || len(mailTo(all, "ann@example.com")) != 1 {
				t.Errorf("claim: %d e-mails to ann, %v; want her invitation", len(mailTo(all, "ann@example.com")), err)
			}
		})
	}
}
