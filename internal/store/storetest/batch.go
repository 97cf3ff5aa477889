package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// A batch writes each table's rows in one statement, the many rows of a
// bulk chunk otherwise than a single add's few (on PostgreSQL, arrays a
// column against a VALUES list): a batch mixing both reads back whole,
// NULLs and all, and identities whose usernames are taken keep theirs (the
// store says which it stored).
func testBatchRoundTrip(t *testing.T, s *store.DB) {
	ctx := context.Background()
	account := integrator("Batched")
	insertAccounts(t, s, account)
	const people = 40 // more than a statement's VALUES rows, and than the arrays' threshold
	taken := gatehouse.User{ID: newID(), Username: "Person3@example.com", FirstName: "Taken", Language: "fr",
		Status: gatehouse.UserActive, CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error { return tx.InsertUser(ctx, taken) })

	var users []gatehouse.User
	var usernames []string
	for i := range people {
		users = append(users, gatehouse.User{ID: newID(), Username: fmt.Sprintf("person%d@example.com", i), FirstName: "Bulk",
			LastName: fmt.Sprint(i), Language: "en", Status: gatehouse.UserPending, CreatedAt: t0})
		usernames = append(usernames, users[i].Username)
	}
	var byUsername map[string]gatehouse.User
	var batch gatehouse.WriteBatch
	write(t, s, func(tx *store.WriteTx) error {
		stored, err := tx.InsertUsersIfAbsent(ctx, users)
		if err != nil {
			return err
		}
		if len(stored) != people-1 || stored["person3@example.com"] || !stored["person4@example.com"] {
			t.Errorf("stored %d usernames (person3 %v, person4 %v), want all but the taken one", len(stored),
				stored["person3@example.com"], stored["person4@example.com"])
		}
		if byUsername, err = tx.UsersByUsername(ctx, usernames); err != nil {
			return err
		}
		for i, username := range usernames {
			user := byUsername[gatehouse.UsernameKey(username)]
			m := gatehouse.Membership{ID: newID(), AccountID: account.ID, UserID: user.ID, Level: gatehouse.LevelIntegratorUser,
				Status: gatehouse.MembershipActivationRequired, Email: username, AddedBy: "operator", CreatedAt: t0}
			if i%2 == 0 {
				m.ExpiresAt, m.ExternalID = t0.Add(time.Duration(i)*time.Hour), fmt.Sprint("ext-", i)
			}
			batch.Memberships = append(batch.Memberships, m)
			batch.MembershipRoles = append(batch.MembershipRoles, [2]string{m.ID, "viewer"})
			batch.Invitations = append(batch.Invitations, gatehouse.Invitation{ID: newID(), AccountID: account.ID, MembershipID: m.ID,
				UserID: user.ID, Email: username, Status: gatehouse.InvitationPending, TokenHash: []byte{byte(i), 0, 0xff, byte(i)},
				InvitedBy: "operator", SentAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)})
			batch.AuditEvents = append(batch.AuditEvents, gatehouse.AuditEvent{ID: newID(), AccountID: account.ID, At: t0,
				ActorID: "operator", Action: "user.added", TargetType: "membership", TargetID: m.ID})
			if i < 3 { // a table with a few rows beside the many
				batch.Messages = append(batch.Messages, gatehouse.Message{ID: newID(), MessageID: newID() + "@example.com",
					Channel: gatehouse.ChannelEmail, To: username, Subject: "Hello", Body: "Text\n", CreatedAt: t0})
			}
		}
		return tx.InsertBatch(ctx, batch)
	})
	if got := byUsername["person3@example.com"]; got.ID != taken.ID || got.FirstName != "Taken" {
		t.Errorf("a taken username's identity read back as %+v, want the one that had it", got)
	}
	if got := byUsername["person4@example.com"]; got.ID != users[4].ID || got.LastName != "4" {
		t.Errorf("a new identity read back as %+v", got)
	}
	for i, want := range batch.Memberships {
		got, err := s.Member(ctx, account.ID, want.ID)
		if err != nil {
			t.Fatalf("membership %d: %v", i, err)
		}
		if !got.ExpiresAt.Equal(want.ExpiresAt) || got.ExternalID != want.ExternalID || got.HomeFolderID != "" ||
			len(got.Roles) != 1 || got.UserID != want.UserID {
			t.Errorf("membership %d read back as %+v, want %+v with role viewer", i, got, want)
		}
	}
	for i, want := range batch.Invitations {
		got, err := s.InvitationByTokenHash(ctx, want.TokenHash)
		if err != nil || got.ID != want.ID || !bytes.Equal(got.TokenHash, want.TokenHash) || !got.EndedAt.IsZero() {
			t.Errorf("invitation %d read back as %+v (%v)", i, got, err)
		}
	}
	claimed, err := s.ClaimMessages(ctx, "batch-test", t0.Add(time.Minute), time.Minute, 100)
	if err != nil || len(claimed) != 3 {
		t.Errorf("claimed %d messages (%v), want the batch's 3", len(claimed), err)
	}
	page, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{AccountID: account.ID, Page: gatehouse.PageRequest{Limit: 100}})
	if err != nil || len(page.Items) != people {
		t.Errorf("%d audit events (%v), want %d", len(page.Items), err, people)
	}
}

// Client-user slots are taken several at once up to the account's limit,
// never past it, however many writers take them at the same moment.
func testClientUserSlots(t *testing.T, s *store.DB) {
	ctx := context.Background()
	parent := integrator("Slots Integrator")
	site := client(parent.ID, "Slots Site") // a limit of 9
	insertAccounts(t, s, parent, site)
	reserve := func(accountID string, n int) (int, error) {
		var granted int
		err := s.Write(ctx, func(tx *store.WriteTx) error {
			var err error
			granted, err = tx.ReserveClientUserSlots(ctx, accountID, n)
			return err
		})
		return granted, err
	}
	for _, step := range []struct{ ask, want int }{{0, 0}, {5, 5}, {10, 4}, {1, 0}} {
		if got, err := reserve(site.ID, step.ask); err != nil || got != step.want {
			t.Fatalf("reserve %d: granted %d, %v; want %d", step.ask, got, err, step.want)
		}
	}
	if _, err := reserve(newID(), 1); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("reserve in a missing account: %v, want ENOTFOUND", err)
	}
	// Many writers at once on a fresh account: the grants add up to the
	// limit exactly, and the count stored says so.
	fresh := client(parent.ID, "Slots Site Two")
	insertAccounts(t, s, fresh)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 12 {
		wg.Go(func() {
			got, err := reserve(fresh.ID, 2)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += got
			mu.Unlock()
		})
	}
	wg.Wait()
	stored, err := s.ClientUsers(ctx, fresh.ID)
	if err != nil || total != 9 || stored != 9 {
		t.Fatalf("12 writers taking 2 slots each of 9: granted %d, stored %d (%v); want 9 and 9", total, stored, err)
	}
}
