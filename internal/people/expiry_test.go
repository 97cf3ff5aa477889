package people_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Memberships that end are removed as removals are, with what the person
// was still waiting for: a pending invitation is cancelled with its
// membership. The sweep signs out a person who belongs nowhere any more,
// but not an operator, whose sessions act everywhere. The staff of an
// integrator whose membership there ends lose its clients at the end.
func TestEndedMembershipsGoLikeRemovals(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			end := e.Clock.Now().Add(time.Hour).Truncate(time.Second)
			temporary := func(accountID string, level gatehouse.Level) gatehouse.Caller {
				t.Helper()
				c := e.Member(t, accountID, level)
				m, err := e.DB.MemberByUser(ctx, accountID, c.Principal.UserID)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.People.UpdateMember(ctx, servicetest.Operator, accountID, m.ID, people.MemberPatch{ExpiresAt: &end}); err != nil {
					t.Fatal(err)
				}
				return c
			}
			// An operator, and a plain person, each with one membership
			// that ends and a session.
			operator, person := temporary(site.ID, gatehouse.LevelClientUser), temporary(site.ID, gatehouse.LevelClientUser)
			staff := temporary(acme.ID, gatehouse.LevelIntegratorUser)
			err := e.DB.Write(ctx, func(tx *store.WriteTx) error {
				if err := tx.SetOperator(ctx, operator.Principal.UserID, true); err != nil {
					return err
				}
				for _, c := range []gatehouse.Caller{operator, person} {
					if err := tx.InsertSession(ctx, gatehouse.Session{ID: kernel.NewID(), UserID: c.Principal.UserID,
						Hash: gatehouse.HashToken(kernel.NewID()), CreatedAt: e.Clock.Now(), ExpiresAt: end.Add(12 * time.Hour),
						LastSeenAt: end.Add(time.Hour)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A new person invited until the end, who never activates.
			invited, err := e.People.AddUser(ctx, servicetest.Operator, site.ID, people.NewMember{Username: "late@example.com",
				FirstName: "Late", LastName: "Comer", Level: gatehouse.LevelClientUser, ExpiresAt: end})
			if err != nil {
				t.Fatal(err)
			}

			staffSees := func() bool {
				t.Helper()
				ok, err := e.Access.Check(ctx, servicetest.Operator, access.CheckQuestion{UserID: staff.Principal.UserID,
					AccountID: site.ID, Permission: "folders.manage"})
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if !staffSees() {
				t.Fatal("the integrator's staff hold nothing on its client before their end")
			}
			e.Clock.Advance(end.Sub(e.Clock.Now()))
			if staffSees() {
				t.Error("the integrator's staff still hold its client at their end")
			}
			got, err := e.People.EndExpiredAccess(ctx)
			if err != nil || got != (people.ExpiryResult{Memberships: 4}) {
				t.Fatalf("the sweep removed %+v (%v), want 4 memberships", got, err)
			}
			sessions := func(c gatehouse.Caller) int {
				t.Helper()
				list, err := e.DB.SessionsOf(ctx, c.Principal.UserID, e.Clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return len(list)
			}
			if n := sessions(person); n != 0 {
				t.Errorf("a person who belongs nowhere keeps %d sessions", n)
			}
			if n := sessions(operator); n != 1 {
				t.Errorf("an operator whose last membership ended keeps %d sessions, want 1", n)
			}
			pending, err := e.People.Invitations(ctx, servicetest.Operator, site.ID, "", gatehouse.PageRequest{})
			if err != nil || len(pending.Items) != 1 || pending.Items[0].MembershipID != invited.ID || pending.Items[0].Status != gatehouse.InvitationCancelled {
				t.Errorf("the invitation of the ended membership: %+v (%v), want it cancelled", pending.Items, err)
			}
			if !pending.Items[0].ExpiresAt.Equal(end) {
				t.Errorf("the invitation's link lived until %s, past the access's end %s", pending.Items[0].ExpiresAt, end)
			}
		})
	}
}
