package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// runSCIM holds the store to the SCIM context's contract: tokens found by
// hash while live and in their account, a suspended membership holding
// nothing, the directory's ids unique per account, filters compared in
// SQL as the parser reads them, and the call log kept, paged and purged.
func runSCIM(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("SCIMTokens", func(t *testing.T) { testSCIMTokens(t, open(t)) })
	t.Run("SCIMSuspensionHoldsNothing", func(t *testing.T) { testSCIMSuspension(t, open(t)) })
	t.Run("SCIMFilters", func(t *testing.T) { testSCIMFilters(t, open(t)) })
	t.Run("SCIMCallLog", func(t *testing.T) { testSCIMCallLog(t, open(t)) })
}

func testSCIMTokens(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1 := integrator("I1")
	c1, c2 := client(i1.ID, "C1"), client(i1.ID, "C2")
	insertAccounts(t, s, i1, c1, c2)
	_, hash := gatehouse.NewToken(gatehouse.TokenSCIM)
	tok := gatehouse.SCIMToken{ID: newID(), AccountID: c1.ID, Name: "Entra", Hash: hash, ActsAs: gatehouse.LevelClientAdmin,
		CreatedBy: "operator", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error { return tx.InsertSCIMToken(ctx, tok) })
	got, err := s.SCIMTokenByHash(ctx, hash)
	if err != nil || got.ID != tok.ID || got.AccountID != c1.ID || got.ActsAs != gatehouse.LevelClientAdmin || !got.CreatedAt.Equal(t0) {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.TouchSCIMToken(ctx, tok.ID, t0.Add(time.Hour)) })
	if listed, _ := s.SCIMTokens(ctx, c1.ID); len(listed) != 1 || !listed[0].LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("listed: %+v", listed)
	}
	if err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.RevokeSCIMToken(ctx, c2.ID, tok.ID, t0) }); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("another account revoked the token: %v", err)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeSCIMToken(ctx, c1.ID, tok.ID, t0) })
	if _, err := s.SCIMTokenByHash(ctx, hash); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("a revoked token was found: %v", err)
	}
	if listed, _ := s.SCIMTokens(ctx, c1.ID); len(listed) != 0 {
		t.Errorf("a revoked token is listed")
	}
	// A token holds what it acts as in its own account, and nothing in
	// another.
	p := gatehouse.Principal{SCIMTokenID: tok.ID, ScopeAccountID: c1.ID, SCIMActsAs: gatehouse.LevelIntegratorAdmin}
	if a, _ := s.AccessTo(ctx, p, c1, t0); a != (gatehouse.Access{IntegratorLevel: gatehouse.LevelIntegratorAdmin}) {
		t.Errorf("in its account: %+v", a)
	}
	if a, _ := s.AccessTo(ctx, p, c2, t0); a != (gatehouse.Access{}) {
		t.Errorf("in another account: %+v", a)
	}
}

func testSCIMSuspension(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1 := integrator("I1")
	c1 := client(i1.ID, "C1")
	insertAccounts(t, s, i1, c1)
	u := member(t, s, c1, gatehouse.LevelClientAdmin, gatehouse.MembershipActive)
	m, err := s.MemberByUser(ctx, c1.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.SetMembershipSuspended(ctx, c1.ID, m.ID, t0) })
	if a, _ := s.AccessTo(ctx, gatehouse.Principal{UserID: u.ID}, c1, t0); a != (gatehouse.Access{}) {
		t.Errorf("a suspended membership holds %+v", a)
	}
	snap, err := s.AccessSnapshot(ctx, c1.ID)
	if err != nil || len(snap.Members) != 1 || snap.Members[0].Holds(t0) {
		t.Errorf("the access model sees the suspended membership as holding: %+v %v", snap.Members, err)
	}
	if got, _ := s.Member(ctx, c1.ID, m.ID); !got.SuspendedAt.Equal(t0) {
		t.Errorf("suspended at %v", got.SuspendedAt)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.SetMembershipSuspended(ctx, c1.ID, m.ID, time.Time{}) })
	if a, _ := s.AccessTo(ctx, gatehouse.Principal{UserID: u.ID}, c1, t0); a.Level != gatehouse.LevelClientAdmin {
		t.Errorf("a restored membership holds %+v", a)
	}
	// The directory's id is one person's in an account.
	other := member(t, s, c1, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	om, _ := s.MemberByUser(ctx, c1.ID, other.ID)
	write(t, s, func(tx *store.WriteTx) error { return tx.SetMembershipExternalID(ctx, c1.ID, m.ID, "ext-1") })
	if err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.SetMembershipExternalID(ctx, c1.ID, om.ID, "ext-1") }); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("two people of an account took one external id: %v", err)
	}
}

func testSCIMFilters(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1 := integrator("I1")
	c1 := client(i1.ID, "C1")
	insertAccounts(t, s, i1, c1)
	ann := member(t, s, c1, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	bob := member(t, s, c1, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	am, _ := s.MemberByUser(ctx, c1.ID, ann.ID)
	bm, _ := s.MemberByUser(ctx, c1.ID, bob.ID)
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.SetMembershipExternalID(ctx, c1.ID, am.ID, "A-1"); err != nil {
			return err
		}
		return tx.SetMembershipSuspended(ctx, c1.ID, bm.ID, t0)
	})
	eq := func(attr, value string) *gatehouse.SCIMFilter {
		return &gatehouse.SCIMFilter{Op: "eq", Attribute: attr, Value: value}
	}
	cases := []struct {
		name   string
		filter *gatehouse.SCIMFilter
		want   int
	}{
		{"userName without regard to case", eq(gatehouse.SCIMAttrUserName, upper(ann.Username)), 1},
		{"externalId exactly", eq(gatehouse.SCIMAttrExternalID, "A-1"), 1},
		{"externalId of another case", eq(gatehouse.SCIMAttrExternalID, "a-1"), 0},
		{"externalId present", &gatehouse.SCIMFilter{Op: "pr", Attribute: gatehouse.SCIMAttrExternalID}, 1},
		{"externalId other than", &gatehouse.SCIMFilter{Op: "ne", Attribute: gatehouse.SCIMAttrExternalID, Value: "A-1"}, 1},
		{"active", eq(gatehouse.SCIMAttrActive, "true"), 1},
		{"not active", eq(gatehouse.SCIMAttrActive, "false"), 1},
		{"an e-mail address", eq(gatehouse.SCIMAttrEmail, bob.Username), 1},
		{"a name's start", &gatehouse.SCIMFilter{Op: "sw", Attribute: gatehouse.SCIMAttrGivenName, Value: "an"}, 2},
		{"a % is no wildcard", &gatehouse.SCIMFilter{Op: "co", Attribute: gatehouse.SCIMAttrGivenName, Value: "%"}, 0},
		{"or", &gatehouse.SCIMFilter{Op: "or", Left: eq(gatehouse.SCIMAttrExternalID, "A-1"), Right: eq(gatehouse.SCIMAttrActive, "false")}, 2},
		{"and", &gatehouse.SCIMFilter{Op: "and", Left: eq(gatehouse.SCIMAttrExternalID, "A-1"), Right: eq(gatehouse.SCIMAttrActive, "false")}, 0},
		{"not of a missing value", &gatehouse.SCIMFilter{Op: "not", Left: eq(gatehouse.SCIMAttrExternalID, "A-1")}, 1},
		{"decided false", &gatehouse.SCIMFilter{Op: "false"}, 0},
	}
	for _, c := range cases {
		_, total, err := s.SCIMMembers(ctx, c1.ID, gatehouse.SCIMMemberQuery{Filter: c.filter, Count: 10})
		if err != nil || total != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, total, err, c.want)
		}
	}
	page, total, err := s.SCIMMembers(ctx, c1.ID, gatehouse.SCIMMemberQuery{Offset: 1, Count: 10})
	if err != nil || total != 2 || len(page) != 1 || page[0].ID != bm.ID {
		t.Errorf("the second of two: %d %v %v", total, page, err)
	}
	if _, _, err := s.SCIMMembers(ctx, c1.ID, gatehouse.SCIMMemberQuery{Filter: eq("title", "x")}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("an unknown attribute: %v", err)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func testSCIMCallLog(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1 := integrator("I1")
	c1, c2 := client(i1.ID, "C1"), client(i1.ID, "C2")
	insertAccounts(t, s, i1, c1, c2)
	write(t, s, func(tx *store.WriteTx) error {
		for i := range 3 {
			c := gatehouse.SCIMCall{ID: newID(), AccountID: c1.ID, TokenID: "t", At: t0.Add(time.Duration(i) * 24 * time.Hour), Method: "GET",
				Path: "/Users", Status: 200, Outcome: gatehouse.SCIMCallOK}
			if err := tx.InsertSCIMCall(ctx, c); err != nil {
				return err
			}
		}
		return tx.InsertSCIMCall(ctx, gatehouse.SCIMCall{ID: newID(), AccountID: c2.ID, TokenID: "t", At: t0, Method: "POST", Path: "/Users",
			Status: 409, Outcome: gatehouse.SCIMCallRefused, Detail: "C2 already has 9 client users"})
	})
	first, err := s.SCIMCalls(ctx, c1.ID, gatehouse.PageRequest{Limit: 2})
	if err != nil || len(first.Items) != 2 || first.NextCursor == "" || !first.Items[0].At.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("first page: %+v %v", first, err)
	}
	second, err := s.SCIMCalls(ctx, c1.ID, gatehouse.PageRequest{Limit: 2, Cursor: first.NextCursor})
	if err != nil || len(second.Items) != 1 || second.NextCursor != "" || !second.Items[0].At.Equal(t0) {
		t.Fatalf("second page: %+v %v", second, err)
	}
	var purged int
	write(t, s, func(tx *store.WriteTx) error {
		var err error
		purged, err = tx.DeleteSCIMCallsBefore(ctx, t0.Add(time.Hour))
		return err
	})
	if purged != 2 {
		t.Errorf("purged %d calls made before the hour, want 2 (one per account)", purged)
	}
	if left, _ := s.SCIMCalls(ctx, c2.ID, gatehouse.PageRequest{}); len(left.Items) != 0 {
		t.Errorf("the other account's old call stayed")
	}
}
