package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The client's privacy (R-PV1…R-PV3): the end of the service provider's access,
// kept on the account and raising its authz version; the account's time
// zone; the requests for access, one waiting per account at a time.

func testProviderAccess(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	if got, err := s.Account(ctx, cl.ID); err != nil || !got.ProviderAccessUntil.IsZero() || got.TimeZone != gatehouse.DefaultTimeZone {
		t.Fatalf("a new account: %+v %v, want closed, in UTC", got, err)
	}
	until := t0.Add(36 * time.Hour)
	before := versionAfterCommit(t, s, cl.ID)
	write(t, s, func(tx *store.WriteTx) error { return tx.SetProviderAccess(ctx, cl.ID, until) })
	if v := versionAfterCommit(t, s, cl.ID); v.Own <= before.Own {
		t.Errorf("opening the access left the version at %+v (was %+v)", v, before)
	}
	if snap, err := s.AccessSnapshot(ctx, cl.ID); err != nil || !snap.Account.ProviderAccessUntil.Equal(until) {
		t.Errorf("the snapshot's end %v (%v), want %v", snap.Account.ProviderAccessUntil, err, until)
	}
	before = versionAfterCommit(t, s, cl.ID)
	write(t, s, func(tx *store.WriteTx) error { return tx.SetProviderAccess(ctx, cl.ID, time.Time{}) })
	if v := versionAfterCommit(t, s, cl.ID); v.Own <= before.Own {
		t.Errorf("ending the access left the version at %+v (was %+v)", v, before)
	}
	if got, _ := s.Account(ctx, cl.ID); !got.ProviderAccessUntil.IsZero() {
		t.Errorf("after the end: %v, want closed", got.ProviderAccessUntil)
	}
	err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.SetProviderAccess(ctx, newID(), until) })
	wantCode(t, err, gatehouse.ENOTFOUND)

	// The time zone is stored with the account's other fields, and a
	// change of them keeps the access as it is.
	write(t, s, func(tx *store.WriteTx) error { return tx.SetProviderAccess(ctx, cl.ID, until) })
	cl.TimeZone, cl.Name = "Europe/Paris", "Store 12 — Paris"
	write(t, s, func(tx *store.WriteTx) error { return tx.UpdateAccount(ctx, cl) })
	if got, _ := s.Account(ctx, cl.ID); got.TimeZone != "Europe/Paris" || !got.ProviderAccessUntil.Equal(until) {
		t.Errorf("after an update: %q until %v", got.TimeZone, got.ProviderAccessUntil)
	}
}

func testProviderAccessRequests(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	other := client(cl.IntegratorID, "Store 13")
	insertAccounts(t, s, other)
	integratorAccount, err := s.Account(ctx, cl.IntegratorID)
	if err != nil {
		t.Fatal(err)
	}
	staff := member(t, s, integratorAccount, gatehouse.LevelIntegratorUser, gatehouse.MembershipActive)
	admin := member(t, s, cl, gatehouse.LevelClientAdmin, gatehouse.MembershipActive)
	member(t, s, cl, gatehouse.LevelClientAdmin, gatehouse.MembershipActivationRequired)
	member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)

	ask := func(account gatehouse.Account, at time.Time) (gatehouse.ProviderAccessRequest, error) {
		r := gatehouse.ProviderAccessRequest{ID: newID(), AccountID: account.ID, RequestedBy: staff.ID, Reason: "camera 3 is offline",
			Status: gatehouse.ProviderAccessPending, CreatedAt: at}
		return r, s.Write(ctx, func(tx *store.WriteTx) error { return tx.InsertProviderAccessRequest(ctx, r) })
	}
	first, err := ask(cl, t0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ask(cl, t0.Add(time.Minute))
	wantCode(t, err, gatehouse.ECONFLICT) // one waits already
	if _, err := ask(other, t0); err != nil {
		t.Errorf("a request of another account: %v", err)
	}
	got, err := s.ProviderAccessRequest(ctx, cl.ID, first.ID)
	if err != nil || got != first {
		t.Errorf("read back %+v (%v)\nwant %+v", got, err, first)
	}
	_, err = s.ProviderAccessRequest(ctx, other.ID, first.ID)
	wantCode(t, err, gatehouse.ENOTFOUND) // named through another account

	approved := first
	approved.Status, approved.DecidedBy, approved.DecidedAt, approved.Until = gatehouse.ProviderAccessApproved, admin.ID, t0.Add(time.Hour), t0.Add(10*time.Hour)
	write(t, s, func(tx *store.WriteTx) error { return tx.DecideProviderAccessRequest(ctx, approved) })
	if got, _ := s.ProviderAccessRequest(ctx, cl.ID, first.ID); got != approved {
		t.Errorf("approved: %+v\nwant %+v", got, approved)
	}
	refused := approved
	refused.Status, refused.Until = gatehouse.ProviderAccessRefused, time.Time{}
	err = s.Write(ctx, func(tx *store.WriteTx) error { return tx.DecideProviderAccessRequest(ctx, refused) })
	wantCode(t, err, gatehouse.ECONFLICT) // answered already
	refused.ID = newID()
	err = s.Write(ctx, func(tx *store.WriteTx) error { return tx.DecideProviderAccessRequest(ctx, refused) })
	wantCode(t, err, gatehouse.ENOTFOUND)

	second, err := ask(cl, t0.Add(2*time.Hour)) // the first one answered, another may wait
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ProviderAccessRequests(ctx, cl.ID, gatehouse.ProviderAccessRequestFilter{Page: gatehouse.PageRequest{Limit: 1}})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != second.ID || page.NextCursor == "" {
		t.Fatalf("first page %+v %v, want the newest and a cursor", page, err)
	}
	page, err = s.ProviderAccessRequests(ctx, cl.ID, gatehouse.ProviderAccessRequestFilter{Page: gatehouse.PageRequest{Limit: 1, Cursor: page.NextCursor}})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != first.ID || page.NextCursor != "" {
		t.Errorf("second page %+v %v, want the oldest and no cursor", page, err)
	}
	page, err = s.ProviderAccessRequests(ctx, cl.ID, gatehouse.ProviderAccessRequestFilter{Status: gatehouse.ProviderAccessPending})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != second.ID {
		t.Errorf("pending ones: %+v %v", page.Items, err)
	}

	admins, err := s.AdminRecipients(ctx, cl.ID)
	if err != nil || len(admins) != 1 || admins[0].UserID != admin.ID || admins[0].Address != admin.Username || admins[0].Language != "en" {
		t.Errorf("the active administrators: %+v %v", admins, err)
	}
	people, err := s.IntegratorStaff(ctx, cl.ID)
	if err != nil || len(people) != 1 || people[0].ID != staff.ID || people[0].FirstName != "Ann" {
		t.Errorf("the integrator's staff: %+v %v", people, err)
	}
	if people, err := s.IntegratorStaff(ctx, cl.IntegratorID); err != nil || len(people) != 0 {
		t.Errorf("an integrator has no integrator's staff: %+v %v", people, err)
	}
}
