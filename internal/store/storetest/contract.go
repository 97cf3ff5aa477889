package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Run holds a store to the contract of *store.DB. open must return a
// fresh, empty, migrated store each time it is called.
func Run(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("AccountRoundTrip", func(t *testing.T) { testAccountRoundTrip(t, open(t)) })
	t.Run("AccountNotFound", func(t *testing.T) { testAccountNotFound(t, open(t)) })
	t.Run("AccountRules", func(t *testing.T) { testAccountRules(t, open(t)) })
	t.Run("UpdateAccount", func(t *testing.T) { testUpdateAccount(t, open(t)) })
	t.Run("ListOrderAndSearch", func(t *testing.T) { testListOrderAndSearch(t, open(t)) })
	t.Run("ListPagination", func(t *testing.T) { testListPagination(t, open(t)) })
	t.Run("ClientNamesUniquePerIntegrator", func(t *testing.T) { testClientNamesUnique(t, open(t)) })
	t.Run("PageLimitCapped", func(t *testing.T) { testPageLimitCapped(t, open(t)) })
	t.Run("ListVisibility", func(t *testing.T) { testListVisibility(t, open(t)) })
	t.Run("AccessTo", func(t *testing.T) { testAccessTo(t, open(t)) })
	t.Run("SharedReadsOutsideTransactions", func(t *testing.T) { testSharedReadsOutsideTransactions(t, open(t)) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, open(t)) })
	t.Run("UsernamesUniqueWithoutCase", func(t *testing.T) { testUsernamesUnique(t, open(t)) })
	t.Run("AuditNewestFirst", func(t *testing.T) { testAuditNewestFirst(t, open(t)) })
	t.Run("WriteRollsBack", func(t *testing.T) { testWriteRollsBack(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, open(t)) })
	t.Run("ConcurrentWritesFailAlone", func(t *testing.T) { testConcurrentWritesFailAlone(t, open(t)) })
	t.Run("SearchFollowsRenames", func(t *testing.T) { testSearchFollowsRenames(t, open(t)) })
	t.Run("SearchPagination", func(t *testing.T) { testSearchPagination(t, open(t)) })
	t.Run("OutboxLeases", func(t *testing.T) { testOutboxLeases(t, open(t)) })
	t.Run("OutboxClaimsAreExclusive", func(t *testing.T) { testOutboxClaimsAreExclusive(t, open(t)) })
	t.Run("OutboxWebhookRuns", func(t *testing.T) { testOutboxWebhookRuns(t, open(t)) })
	t.Run("OutboxClaimsFromAMark", func(t *testing.T) { testOutboxClaimsFromAMark(t, open(t)) })
	t.Run("OutboxClaimsBesideBulk", func(t *testing.T) { testOutboxClaimsBesideBulk(t, open(t)) })
	t.Run("OutboxWebhookRunsUnderRacingClaims", func(t *testing.T) { testOutboxWebhookRunsUnderRacingClaims(t, open(t)) })
	t.Run("BatchRoundTrip", func(t *testing.T) { testBatchRoundTrip(t, open(t)) })
	t.Run("ClientUserSlots", func(t *testing.T) { testClientUserSlots(t, open(t)) })
	t.Run("ReadsForManyAccounts", func(t *testing.T) { testReadsForManyAccounts(t, open(t)) })
	runAccess(t, open)
	runOIDC(t, open)
	runSCIM(t, open)
	runBrands(t, open)
}

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func write(t testing.TB, s *store.DB, fn func(tx *store.WriteTx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func integrator(name string) gatehouse.Account {
	return gatehouse.Account{ID: newID(), Kind: gatehouse.KindIntegrator, Name: name,
		Settings: gatehouse.AccountSettings{MaxClientUsers: 9}, TimeZone: gatehouse.DefaultTimeZone, CreatedAt: t0, UpdatedAt: t0, Status: gatehouse.AccountActive}
}

func client(integratorID, name string) gatehouse.Account {
	a := integrator(name)
	a.Kind, a.IntegratorID, a.Address = gatehouse.KindClient, integratorID, "1 Main St\nSpringfield"
	a.IntegratorStatus = gatehouse.AccountActive
	return a
}

func insertAccounts(t testing.TB, s *store.DB, accounts ...gatehouse.Account) {
	t.Helper()
	write(t, s, func(tx *store.WriteTx) error {
		for _, a := range accounts {
			if err := tx.InsertAccount(context.Background(), a); err != nil {
				return err
			}
		}
		return nil
	})
}

// member creates a user holding level on account, with the given status.
func member(t testing.TB, s *store.DB, account gatehouse.Account, level gatehouse.Level, status gatehouse.MembershipStatus) gatehouse.User {
	t.Helper()
	u := gatehouse.User{ID: newID(), Username: newID() + "@example.com", FirstName: "Ann", LastName: "Lee",
		Language: "en", Status: gatehouse.UserActive, CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.InsertUser(context.Background(), u); err != nil {
			return err
		}
		return tx.InsertMembership(context.Background(), gatehouse.Membership{ID: newID(), AccountID: account.ID,
			UserID: u.ID, Level: level, Status: status, Email: u.Username, CreatedAt: t0})
	})
	return u
}

func names(accounts []gatehouse.Account) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = a.Name
	}
	return out
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := gatehouse.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func testAccountRoundTrip(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Acme Security")
	c := client(in.ID, "Store 12 — Lyon")
	c.Settings = gatehouse.AccountSettings{MaxClientUsers: 4, ClientAdminsCanAddRemoteMonitoring: true}
	insertAccounts(t, s, in, c)
	for _, want := range []gatehouse.Account{in, c} {
		got, err := s.Account(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("read back %+v\nwant        %+v", got, want)
		}
	}
}

func testAccountNotFound(t *testing.T, s *store.DB) {
	_, err := s.Account(context.Background(), newID())
	wantCode(t, err, gatehouse.ENOTFOUND)
}

// The schema itself refuses a client without an integrator, an integrator
// with one, and a second account with the same id.
func testAccountRules(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Acme")
	insertAccounts(t, s, in)
	orphan := client("", "Orphan")
	owned := integrator("Owned")
	owned.IntegratorID = in.ID
	dangling := client(newID(), "Dangling")
	for name, bad := range map[string]gatehouse.Account{"client without integrator": orphan, "integrator with integrator": owned, "client of unknown integrator": dangling} {
		err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.InsertAccount(ctx, bad) })
		if err == nil {
			t.Errorf("%s: stored, want refused", name)
		}
	}
	err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.InsertAccount(ctx, in) })
	wantCode(t, err, gatehouse.ECONFLICT)
}

func testUpdateAccount(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Acme")
	insertAccounts(t, s, in)
	in.Name, in.Address, in.UpdatedAt = "ACME Europe", "Rue 1\nParis", t0.Add(time.Hour)
	in.Settings.MaxClientUsers = 12
	write(t, s, func(tx *store.WriteTx) error { return tx.UpdateAccount(ctx, in) })
	got, err := s.Account(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != in {
		t.Errorf("after update %+v\nwant %+v", got, in)
	}
	page, err := s.ListAccounts(ctx, gatehouse.AccountFilter{Query: "europe"})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("search finds the new name: %v, %v", names(page.Items), err)
	}
	missing := integrator("Ghost")
	err = s.Write(ctx, func(tx *store.WriteTx) error { return tx.UpdateAccount(ctx, missing) })
	wantCode(t, err, gatehouse.ENOTFOUND)
}

func testListOrderAndSearch(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Zeta Installers")
	other := integrator("Other")
	insertAccounts(t, s, in, other,
		client(in.ID, "beta Store"), client(in.ID, "Alpha Store"), client(in.ID, "ÉCOLE Centrale"),
		client(in.ID, "100% Retail"), client(in.ID, "Under_score"), client(other.ID, "Alpha Bakery"))

	list := func(f gatehouse.AccountFilter) []string {
		t.Helper()
		page, err := s.ListAccounts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return names(page.Items)
	}
	cases := []struct {
		name   string
		filter gatehouse.AccountFilter
		want   []string
	}{
		{"all, by name without regard to case", gatehouse.AccountFilter{},
			[]string{"100% Retail", "Alpha Bakery", "Alpha Store", "beta Store", "Other", "Under_score", "Zeta Installers", "ÉCOLE Centrale"}},
		{"kind", gatehouse.AccountFilter{Kind: gatehouse.KindIntegrator}, []string{"Other", "Zeta Installers"}},
		{"integrator", gatehouse.AccountFilter{IntegratorID: other.ID}, []string{"Alpha Bakery"}},
		{"substring, any case", gatehouse.AccountFilter{Query: "STORE"}, []string{"Alpha Store", "beta Store"}},
		{"non-ASCII case", gatehouse.AccountFilter{Query: "école"}, []string{"ÉCOLE Centrale"}},
		{"percent is literal", gatehouse.AccountFilter{Query: "0%"}, []string{"100% Retail"}},
		{"underscore is literal", gatehouse.AccountFilter{Query: "r_s"}, []string{"Under_score"}},
		{"filters combine", gatehouse.AccountFilter{Query: "alpha", IntegratorID: in.ID}, []string{"Alpha Store"}},
		{"no match", gatehouse.AccountFilter{Query: "nothing"}, []string{}},
	}
	for _, c := range cases {
		if got := list(c.filter); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// The clients of one integrator have names unique without regard to case,
// also when many create the same name at once; another integrator's client
// and an integrator may bear it.
func testClientNamesUnique(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in, other := integrator("Acme"), integrator("Store 7")
	insertAccounts(t, s, in, other, client(in.ID, "Store 7"), client(other.ID, "STORE 7"))
	insert := func(a gatehouse.Account) error {
		return s.Write(ctx, func(tx *store.WriteTx) error { return tx.InsertAccount(ctx, a) })
	}
	err := insert(client(in.ID, "  store 7 "))
	if e, ok := err.(*gatehouse.Error); !ok || e.Code != gatehouse.ECONFLICT || e.Field != "name" {
		t.Errorf("a second Store 7 of one integrator: %v", err)
	}
	lyon := client(in.ID, "Lyon")
	insertAccounts(t, s, lyon)
	lyon.Name = "Store 7"
	err = s.Write(ctx, func(tx *store.WriteTx) error { return tx.UpdateAccount(ctx, lyon) })
	wantCode(t, err, gatehouse.ECONFLICT)
	lyon.Name, lyon.Address = "Lyon", "2 Quai"
	write(t, s, func(tx *store.WriteTx) error { return tx.UpdateAccount(ctx, lyon) })

	var wg sync.WaitGroup
	created := make(chan bool, 8)
	for range 8 {
		wg.Go(func() { created <- insert(client(in.ID, "Store 8")) == nil })
	}
	wg.Wait()
	close(created)
	n := 0
	for ok := range created {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d clients named Store 8 made at once, want 1", n)
	}
}

func testListPagination(t *testing.T, s *store.DB) {
	ctx := context.Background()
	var accounts []gatehouse.Account
	for i := range 11 {
		// Equal names force the id to break ties (integrators: the names
		// of one integrator's clients are unique).
		accounts = append(accounts, integrator(fmt.Sprintf("Site %d", i%4)))
	}
	insertAccounts(t, s, accounts...)

	var seen []string
	f := gatehouse.AccountFilter{Kind: gatehouse.KindIntegrator, Page: gatehouse.PageRequest{Limit: 3}}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page, err := s.ListAccounts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 3 {
			t.Fatalf("page of %d items, limit 3", len(page.Items))
		}
		for _, a := range page.Items {
			seen = append(seen, a.ID)
		}
		if pages == 0 {
			// An account added before the cursor's position must not shift
			// the pages that follow.
			insertAccounts(t, s, integrator("AAA first"))
		}
		if page.NextCursor == "" {
			break
		}
		f.Page.Cursor = page.NextCursor
	}
	if len(seen) != 11 {
		t.Fatalf("saw %d accounts over all pages, want 11", len(seen))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 11 {
		t.Errorf("an account appeared on two pages")
	}
	_, err := s.ListAccounts(ctx, gatehouse.AccountFilter{Page: gatehouse.PageRequest{Cursor: "not-a-cursor"}})
	wantCode(t, err, gatehouse.EINVALID)
}

func testListVisibility(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1, i2 := integrator("I1"), integrator("I2")
	c1, c2, c3 := client(i1.ID, "C1 of I1"), client(i1.ID, "C2 of I1"), client(i2.ID, "C3 of I2")
	insertAccounts(t, s, i1, i2, c1, c2, c3)
	staff := member(t, s, i1, gatehouse.LevelIntegratorUser, gatehouse.MembershipActive)
	clientAdmin := member(t, s, c1, gatehouse.LevelClientAdmin, gatehouse.MembershipActive)
	pending := member(t, s, c3, gatehouse.LevelClientUser, gatehouse.MembershipActivationRequired)
	// A client-level membership on an integrator account does not open its clients.
	odd := member(t, s, i2, gatehouse.LevelClientUser, gatehouse.MembershipActive)

	cases := []struct {
		name string
		v    gatehouse.Visibility
		want []string
	}{
		{"integrator staff see their integrator and its clients", gatehouse.Visibility{UserID: staff.ID}, []string{"C1 of I1", "C2 of I1", "I1"}},
		{"a client admin sees their client", gatehouse.Visibility{UserID: clientAdmin.ID}, []string{"C1 of I1"}},
		{"a pending member sees nothing", gatehouse.Visibility{UserID: pending.ID}, []string{}},
		{"no staff level, no clients", gatehouse.Visibility{UserID: odd.ID}, []string{"I2"}},
		{"a token scoped to a client of the integrator", gatehouse.Visibility{UserID: staff.ID, ScopeAccountID: c1.ID}, []string{}},
		{"a token scoped to the integrator", gatehouse.Visibility{UserID: staff.ID, ScopeAccountID: i1.ID}, []string{"C1 of I1", "C2 of I1", "I1"}},
		{"a token scoped to a foreign account", gatehouse.Visibility{UserID: clientAdmin.ID, ScopeAccountID: c3.ID}, []string{}},
	}
	for _, c := range cases {
		page, err := s.ListAccounts(ctx, gatehouse.AccountFilter{Visible: &c.v})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(page.Items); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func testAccessTo(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1 := integrator("I1")
	c1 := client(i1.ID, "C1")
	insertAccounts(t, s, i1, c1)
	admin := member(t, s, i1, gatehouse.LevelIntegratorAdmin, gatehouse.MembershipActive)
	write(t, s, func(tx *store.WriteTx) error {
		return tx.InsertMembership(ctx, gatehouse.Membership{ID: newID(), AccountID: c1.ID, UserID: admin.ID,
			Level: gatehouse.LevelClientAdmin, Status: gatehouse.MembershipActive, Email: "x@example.com", CreatedAt: t0})
	})
	pending := member(t, s, c1, gatehouse.LevelClientAdmin, gatehouse.MembershipActivationRequired)
	// A temporary integrator user, whose memberships end at t0 + 1h.
	end := t0.Add(time.Hour)
	temp := member(t, s, i1, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	write(t, s, func(tx *store.WriteTx) error {
		m, err := tx.MemberByUser(ctx, i1.ID, temp.ID)
		if err != nil {
			return err
		}
		if err := tx.SetMembershipLevel(ctx, i1.ID, m.ID, gatehouse.LevelIntegratorUser); err != nil {
			return err
		}
		if err := tx.SetMembershipExpiry(ctx, i1.ID, m.ID, end); err != nil {
			return err
		}
		return tx.InsertMembership(ctx, gatehouse.Membership{ID: newID(), AccountID: c1.ID, UserID: temp.ID,
			Level: gatehouse.LevelClientUser, Status: gatehouse.MembershipActive, Email: "t@example.com", CreatedAt: t0, ExpiresAt: end})
	})

	cases := []struct {
		name    string
		p       gatehouse.Principal
		account gatehouse.Account
		want    gatehouse.Access
		at      time.Time
	}{
		{"a membership before its end", gatehouse.Principal{UserID: temp.ID}, c1, gatehouse.Access{Level: gatehouse.LevelClientUser, IntegratorLevel: gatehouse.LevelIntegratorUser}, end.Add(-time.Microsecond)},
		{"a membership at its end holds nothing", gatehouse.Principal{UserID: temp.ID}, c1, gatehouse.Access{}, end},
		{"nor after", gatehouse.Principal{UserID: temp.ID}, i1, gatehouse.Access{}, end.Add(time.Hour)},
		{"operator", gatehouse.Principal{Operator: true}, c1, gatehouse.Access{Operator: true}, time.Time{}},
		{"both levels", gatehouse.Principal{UserID: admin.ID}, c1, gatehouse.Access{Level: gatehouse.LevelClientAdmin, IntegratorLevel: gatehouse.LevelIntegratorAdmin}, time.Time{}},
		{"on the integrator itself", gatehouse.Principal{UserID: admin.ID}, i1, gatehouse.Access{Level: gatehouse.LevelIntegratorAdmin}, time.Time{}},
		{"scoped to the client", gatehouse.Principal{UserID: admin.ID, ScopeAccountID: c1.ID}, c1, gatehouse.Access{Level: gatehouse.LevelClientAdmin}, time.Time{}},
		{"scoped to the integrator", gatehouse.Principal{UserID: admin.ID, ScopeAccountID: i1.ID}, c1, gatehouse.Access{IntegratorLevel: gatehouse.LevelIntegratorAdmin}, time.Time{}},
		{"pending membership holds nothing", gatehouse.Principal{UserID: pending.ID}, c1, gatehouse.Access{}, time.Time{}},
		{"unknown user", gatehouse.Principal{UserID: newID()}, c1, gatehouse.Access{}, time.Time{}},
	}
	for _, c := range cases {
		at := c.at
		if at.IsZero() {
			at = t0
		}
		got, err := s.AccessTo(ctx, c.p, c.account, at)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	// The lists of a person's memberships and of the accounts they see
	// leave out what ended.
	for _, c := range []struct {
		at   time.Time
		want int
	}{{end.Add(-time.Microsecond), 2}, {end, 0}} {
		if got, err := s.MembershipsOf(ctx, temp.ID, c.at); err != nil || len(got) != c.want {
			t.Errorf("memberships at %s: %d, want %d (%v)", c.at, len(got), c.want, err)
		}
		page, err := s.ListAccounts(ctx, gatehouse.AccountFilter{Visible: &gatehouse.Visibility{UserID: temp.ID, At: c.at}})
		if err != nil || len(page.Items) != c.want {
			t.Errorf("accounts seen at %s: %d, want %d (%v)", c.at, len(page.Items), c.want, err)
		}
	}
}

func testAPITokens(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("I")
	insertAccounts(t, s, in)
	u := member(t, s, in, gatehouse.LevelIntegratorAdmin, gatehouse.MembershipActive)
	_, liveHash := gatehouse.NewToken(gatehouse.TokenAPI)
	_, revokedHash := gatehouse.NewToken(gatehouse.TokenAPI)
	_, expiredHash := gatehouse.NewToken(gatehouse.TokenAPI)
	live := gatehouse.APIToken{ID: newID(), UserID: u.ID, AccountID: in.ID, Name: "ci", Hash: liveHash, CreatedAt: t0,
		Scopes: []string{gatehouse.ScopeUsersRead, gatehouse.ScopeCheck}}
	write(t, s, func(tx *store.WriteTx) error {
		return errors.Join(
			tx.InsertAPIToken(ctx, live),
			tx.InsertAPIToken(ctx, gatehouse.APIToken{ID: newID(), UserID: u.ID, AccountID: in.ID, Name: "old", Hash: revokedHash, CreatedAt: t0, RevokedAt: t0.Add(time.Minute)}),
			tx.InsertAPIToken(ctx, gatehouse.APIToken{ID: newID(), UserID: u.ID, AccountID: in.ID, Name: "tmp", Hash: expiredHash, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}),
		)
	})
	now := t0.Add(2 * time.Hour)
	got, err := s.APITokenByHash(ctx, liveHash, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != live.ID || got.UserID != u.ID || got.AccountID != in.ID || !slices.Equal(got.Scopes, live.Scopes) || !got.LastUsedAt.IsZero() {
		t.Errorf("live token read back as %+v", got)
	}
	for name, hash := range map[string][]byte{"revoked": revokedHash, "expired": expiredHash, "unknown": gatehouse.HashToken("gh_api_nope")} {
		_, err := s.APITokenByHash(ctx, hash, now)
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("%s token: error %v, want not found", name, err)
		}
	}
	// A use is recorded at most once a minute.
	write(t, s, func(tx *store.WriteTx) error { return tx.TouchAPIToken(ctx, live.ID, now) })
	write(t, s, func(tx *store.WriteTx) error { return tx.TouchAPIToken(ctx, live.ID, now.Add(30*time.Second)) })
	if got, _ := s.APITokenByHash(ctx, liveHash, now); !got.LastUsedAt.Equal(now) {
		t.Errorf("last used %v, want %v", got.LastUsedAt, now)
	}
	if list, err := s.APITokensOf(ctx, u.ID, in.ID, now); err != nil || len(list) != 1 || list[0].ID != live.ID {
		t.Errorf("live tokens of the user: %+v %v", list, err)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeAPIToken(ctx, u.ID, in.ID, live.ID, now) })
	if _, err := s.APITokenByHash(ctx, liveHash, now); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("a revoked token is still found: %v", err)
	}
	err = s.Write(ctx, func(tx *store.WriteTx) error { return tx.RevokeAPIToken(ctx, u.ID, in.ID, live.ID, now) })
	wantCode(t, err, gatehouse.ENOTFOUND)
}

func testUsernamesUnique(t *testing.T, s *store.DB) {
	ctx := context.Background()
	write(t, s, func(tx *store.WriteTx) error {
		return tx.InsertUser(ctx, gatehouse.User{ID: newID(), Username: "Store.Admin@Example.com", Language: "en", Status: gatehouse.UserPending, CreatedAt: t0})
	})
	err := s.Write(ctx, func(tx *store.WriteTx) error {
		return tx.InsertUser(ctx, gatehouse.User{ID: newID(), Username: " store.admin@example.COM", Language: "en", Status: gatehouse.UserPending, CreatedAt: t0})
	})
	wantCode(t, err, gatehouse.ECONFLICT)
}

func testAuditNewestFirst(t *testing.T, s *store.DB) {
	ctx := context.Background()
	a, b := integrator("A"), integrator("B")
	insertAccounts(t, s, a, b)
	var ids []string
	write(t, s, func(tx *store.WriteTx) error {
		for i := range 7 {
			e := gatehouse.AuditEvent{ID: newID(), AccountID: a.ID, At: t0.Add(time.Duration(i) * time.Second), ActorID: "operator",
				Action: "account.updated", TargetType: "account", TargetID: a.ID, IP: "192.0.2.1", RequestID: "r1"}
			ids = append(ids, e.ID)
			if err := tx.InsertAuditEvent(ctx, e); err != nil {
				return err
			}
		}
		return tx.InsertAuditEvent(ctx, gatehouse.AuditEvent{ID: newID(), AccountID: b.ID, At: t0, ActorID: "operator",
			Action: "account.created", TargetType: "account", TargetID: b.ID})
	})
	slices.Reverse(ids)
	var got []string
	f := gatehouse.AuditFilter{AccountID: a.ID, Page: gatehouse.PageRequest{Limit: 3}}
	for {
		page, err := s.ListAuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			if e.AccountID != a.ID {
				t.Fatalf("event of account %s in the log of %s", e.AccountID, a.ID)
			}
			got = append(got, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		f.Page.Cursor = page.NextCursor
	}
	if !slices.Equal(got, ids) {
		t.Errorf("events %v, want newest first %v", got, ids)
	}
	page, _ := s.ListAuditEvents(ctx, gatehouse.AuditFilter{AccountID: a.ID, Page: gatehouse.PageRequest{Limit: 1}})
	if e := page.Items[0]; e.IP != "192.0.2.1" || e.RequestID != "r1" || !e.At.Equal(t0.Add(6*time.Second)) {
		t.Errorf("newest event read back as %+v", e)
	}
}

// testSharedReadsOutsideTransactions: the use cases of one page may share
// the store's reads of an account and of the caller's access to it
// (kernel.ShareReads), never a transaction's, on which a change decides.
func testSharedReadsOutsideTransactions(t *testing.T, s *store.DB) {
	var outside kernel.Reader = s
	if o, ok := outside.(kernel.OutsideTransaction); !ok || !o.OutsideTransaction() {
		t.Error("the store's own reads do not say they are made outside a transaction")
	}
	err := s.Write(context.Background(), func(tx *store.WriteTx) error {
		var inside kernel.Reader = tx
		if o, ok := inside.(kernel.OutsideTransaction); !ok || o.OutsideTransaction() {
			t.Error("a transaction's reads may be shared")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testWriteRollsBack(t *testing.T, s *store.DB) {
	ctx := context.Background()
	a := integrator("Half written")
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.InsertAccount(ctx, a); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the function's error", err)
	}
	_, err = s.Account(ctx, a.ID)
	wantCode(t, err, gatehouse.ENOTFOUND)
}

// Many writers at once all succeed: SQLite's single writer queues them
// instead of failing with "database is locked".
func testConcurrentWriters(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Busy")
	insertAccounts(t, s, in)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Write(ctx, func(tx *store.WriteTx) error {
				if _, err := tx.Account(ctx, in.ID); err != nil {
					return err
				}
				return tx.InsertAccount(ctx, client(in.ID, fmt.Sprintf("Site %02d", i)))
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	page, err := s.ListAccounts(ctx, gatehouse.AccountFilter{IntegratorID: in.ID, Page: gatehouse.PageRequest{Limit: 100}})
	if err != nil || len(page.Items) != n {
		t.Errorf("%d clients stored (%v), want %d", len(page.Items), err, n)
	}
}

// Writes that run at the same time succeed or fail each on its own: a failed
// one leaves nothing behind and takes no other with it (SQLite groups them
// into one transaction; the promise is the same on every database).
func testConcurrentWritesFailAlone(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Mixed")
	insertAccounts(t, s, in)
	const n = 40
	var wg sync.WaitGroup
	refused := errors.New("refused on purpose")
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i] = s.Write(ctx, func(tx *store.WriteTx) error {
				if err := tx.InsertAccount(ctx, client(in.ID, fmt.Sprintf("Site %02d", i))); err != nil {
					return err
				}
				if i%2 == 1 {
					return refused
				}
				return tx.InsertAuditEvent(ctx, gatehouse.AuditEvent{ID: newID(), AccountID: in.ID, At: t0,
					ActorID: "operator", Action: "account.created", TargetType: "account", TargetID: fmt.Sprint(i)})
			})
		})
	}
	wg.Wait()
	for i, err := range results {
		if want := i%2 == 1; errors.Is(err, refused) != want || (!want && err != nil) {
			t.Errorf("write %d returned %v", i, err)
		}
	}
	page, err := s.ListAccounts(ctx, gatehouse.AccountFilter{IntegratorID: in.ID, Page: gatehouse.PageRequest{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != n/2 {
		t.Errorf("%d accounts stored, want the %d whose writes succeeded", len(page.Items), n/2)
	}
	for _, a := range page.Items {
		var i int
		fmt.Sscanf(a.Name, "Site %d", &i)
		if i%2 == 1 {
			t.Errorf("%s was stored although its write failed", a.Name)
		}
	}
	events, _ := s.ListAuditEvents(ctx, gatehouse.AuditFilter{AccountID: in.ID, Page: gatehouse.PageRequest{Limit: 100}})
	if len(events.Items) != n/2 {
		t.Errorf("%d audit events, want %d", len(events.Items), n/2)
	}

	// A write whose caller has given up before it starts does not run.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	err = s.Write(cancelled, func(tx *store.WriteTx) error { ran = true; return nil })
	if err == nil || ran {
		t.Errorf("write with a cancelled context: ran %v, error %v", ran, err)
	}
}

// Search finds an account by its current name only.
func testSearchFollowsRenames(t *testing.T, s *store.DB) {
	ctx := context.Background()
	a := integrator("Northwind Cameras")
	insertAccounts(t, s, a)
	a.Name = "Southwind Signage"
	write(t, s, func(tx *store.WriteTx) error { return tx.UpdateAccount(ctx, a) })
	for q, want := range map[string]int{"northwind": 0, "cameras": 0, "southwind": 1, "signage": 1, "wind": 1, "SIGN": 1} {
		page, err := s.ListAccounts(ctx, gatehouse.AccountFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != want {
			t.Errorf("search %q after rename found %v, want %d", q, names(page.Items), want)
		}
	}
}

// A search pages through all its matches exactly once, in name order.
func testSearchPagination(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Search Integrator")
	accounts := []gatehouse.Account{in}
	var want []string
	for i := range 23 {
		name := fmt.Sprintf("Depot %02d", 22-i)
		if i%3 == 0 {
			name = fmt.Sprintf("Shop %02d", i) // not a match
		} else {
			want = append(want, name)
		}
		accounts = append(accounts, client(in.ID, name))
	}
	insertAccounts(t, s, accounts...)
	slices.Sort(want)
	var got []string
	f := gatehouse.AccountFilter{Query: "depot", Page: gatehouse.PageRequest{Limit: 4}}
	for range 20 {
		page, err := s.ListAccounts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(page.Items)...)
		if page.NextCursor == "" {
			break
		}
		f.Page.Cursor = page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged search gave %q, want %q", got, want)
	}
}

func queue(t testing.TB, s *store.DB, n int, at time.Time) []string {
	t.Helper()
	ids := make([]string, n)
	write(t, s, func(tx *store.WriteTx) error {
		for i := range ids {
			ids[i] = newID()
			if err := tx.EnqueueMessage(context.Background(), gatehouse.Message{ID: ids[i], MessageID: ids[i] + "@example.com",
				To: "ann@example.com", Subject: "Hello", Body: "link gh_inv_secret", CreatedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

// The outbox hands a due message to one owner at a time, takes it back when
// the lease ends, retries failures when they are due, and forgets the body
// (which may hold a link's secret) once delivered (R-N1).
func testOutboxLeases(t *testing.T, s *store.DB) {
	ctx := context.Background()
	ids := queue(t, s, 1, t0)
	claimed, err := s.ClaimMessages(ctx, "node-a", t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != ids[0] || claimed[0].Attempts != 1 || claimed[0].Body != "link gh_inv_secret" {
		t.Fatalf("first claim: %+v, %v", claimed, err)
	}
	if again, _ := s.ClaimMessages(ctx, "node-b", t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("claimed twice within the lease: %+v", again)
	}
	// node-a died: after the lease, node-b gets the message.
	again, err := s.ClaimMessages(ctx, "node-b", t0.Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("claim after the lease: %+v, %v", again, err)
	}
	// A late answer from the old owner changes nothing.
	if err := s.MarkMessagesSent(ctx, []string{ids[0]}, "node-a", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMessageFailed(ctx, ids[0], "node-b", t0.Add(10*time.Minute), "421 try later", false); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.ClaimMessages(ctx, "node-b", t0.Add(9*time.Minute), time.Minute, 10); len(due) != 0 {
		t.Errorf("claimed before its retry time: %+v", due)
	}
	due, err := s.ClaimMessages(ctx, "node-b", t0.Add(10*time.Minute), time.Minute, 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 3 {
		t.Fatalf("claim at its retry time: %+v, %v", due, err)
	}
	if err := s.MarkMessagesSent(ctx, []string{ids[0]}, "node-b", t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.ClaimMessages(ctx, "node-c", t0.Add(time.Hour), time.Minute, 10); len(after) != 0 {
		t.Errorf("a sent message was claimed again: %+v", after)
	}

	parked := queue(t, s, 1, t0)
	if c, _ := s.ClaimMessages(ctx, "node-a", t0, time.Minute, 10); len(c) != 1 || c[0].ID != parked[0] {
		t.Fatalf("claim of the second message: %+v", c)
	}
	if err := s.MarkMessageFailed(ctx, parked[0], "node-a", t0, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimMessages(ctx, "node-a", t0.Add(24*time.Hour), time.Minute, 10); len(c) != 0 {
		t.Errorf("a parked message was claimed: %+v", c)
	}
}

// Claimers racing for one queue never hold the same message (PostgreSQL:
// FOR UPDATE SKIP LOCKED; SQLite: one writer).
func testOutboxClaimsAreExclusive(t *testing.T, s *store.DB) {
	ctx := context.Background()
	queue(t, s, 200, t0)
	var (
		mu    sync.Mutex
		seen  = map[string]string{}
		wg    sync.WaitGroup
		total int
	)
	for w := range 8 {
		wg.Go(func() {
			owner := fmt.Sprintf("node-%d", w)
			for {
				claimed, err := s.ClaimMessages(ctx, owner, t0, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, m := range claimed {
					if other, dup := seen[m.ID]; dup {
						t.Errorf("%s claimed by %s and %s", m.ID, other, owner)
					}
					seen[m.ID] = owner
					total++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if total != 200 {
		t.Errorf("%d claims of 200 messages", total)
	}
}

// queueWebhooks queues n events for each subscription, interleaved, and
// returns each subscription's message ids in the order queued.
func queueWebhooks(t testing.TB, s *store.DB, n int, at time.Time, subscriptions ...string) map[string][]string {
	t.Helper()
	ids := map[string][]string{}
	write(t, s, func(tx *store.WriteTx) error {
		for range n {
			for _, sub := range subscriptions {
				id := newID()
				ids[sub] = append(ids[sub], id)
				if err := tx.EnqueueMessage(context.Background(), gatehouse.Message{ID: id, MessageID: id, Channel: gatehouse.ChannelWebhook,
					To: sub, Subject: id, Body: `{"type":"member.added"}`, CreatedAt: at}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return ids
}

func messageIDs(ms []gatehouse.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// A webhook subscription's messages are claimed in runs of its oldest, in
// order; when one fails, the rest given back wait for its retry and then
// follow it, their attempt not counted.
func testOutboxWebhookRuns(t *testing.T, s *store.DB) {
	ctx := context.Background()
	ids := queueWebhooks(t, s, 3, t0, "sub-a")["sub-a"]
	claimed, err := s.ClaimMessages(ctx, "node-a", t0, time.Minute, 2)
	if err != nil || !slices.Equal(messageIDs(claimed), ids[:2]) {
		t.Fatalf("first claim: %v, %v; want %v", messageIDs(claimed), err, ids[:2])
	}
	if other, _ := s.ClaimMessages(ctx, "node-b", t0, time.Minute, 10); len(other) != 0 {
		t.Fatalf("a message claimed while older ones of its subscription are out: %v", messageIDs(other))
	}
	// The first fails; the second goes back untried.
	if err := s.MarkMessageFailed(ctx, ids[0], "node-a", t0.Add(10*time.Minute), "the receiver answered 500", false); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseMessages(ctx, ids[1:2], "node-a"); err != nil {
		t.Fatal(err)
	}
	if early, _ := s.ClaimMessages(ctx, "node-b", t0.Add(time.Minute), time.Minute, 10); len(early) != 0 {
		t.Fatalf("claimed before the failed message's retry: %v", messageIDs(early))
	}
	retry, err := s.ClaimMessages(ctx, "node-b", t0.Add(10*time.Minute), time.Minute, 10)
	if err != nil || !slices.Equal(messageIDs(retry), ids) {
		t.Fatalf("at the retry: %v, %v; want %v in that order", messageIDs(retry), err, ids)
	}
	if retry[0].Attempts != 2 || retry[1].Attempts != 1 || retry[2].Attempts != 1 {
		t.Errorf("attempts %d, %d, %d; want 2, 1, 1", retry[0].Attempts, retry[1].Attempts, retry[2].Attempts)
	}
}

// A claim from a mark looks at the queue from the mark on and says where
// the next may go on from; a message due before the mark (queued by a node
// whose clock is behind, say) is left to a claim from the queue's start.
// When a claim gives back a webhook run it could not hold whole, the mark
// it returns is the first message given back, so that it is looked at again.
func testOutboxClaimsFromAMark(t *testing.T, s *store.DB) {
	ctx := context.Background()
	first := queue(t, s, 3, t0)
	claimed, mark, err := s.ClaimMessagesFrom(ctx, "node-a", t0, time.Minute, 2, gatehouse.QueueMark{})
	if err != nil || !slices.Equal(messageIDs(claimed), first[:2]) {
		t.Fatalf("claim from the start: %v, %v; want %v", messageIDs(claimed), err, first[:2])
	}
	if mark.ID != first[1] || !mark.DueAt.Equal(t0) {
		t.Errorf("mark %+v, want the second message's", mark)
	}
	behind := queue(t, s, 1, t0.Add(-time.Minute))
	rest, next, err := s.ClaimMessagesFrom(ctx, "node-a", t0, time.Minute, 10, mark)
	if err != nil || !slices.Equal(messageIDs(rest), first[2:]) {
		t.Fatalf("claim from the mark: %v, %v; want %v, not the message due behind the mark", messageIDs(rest), err, first[2:])
	}
	if next.ID != first[2] {
		t.Errorf("next mark %+v, want the third message's", next)
	}
	if all, _, err := s.ClaimMessagesFrom(ctx, "node-b", t0, time.Minute, 10, gatehouse.QueueMark{}); err != nil || !slices.Equal(messageIDs(all), behind) {
		t.Errorf("claim from the start: %v, %v; want the message due behind the mark, %v", messageIDs(all), err, behind)
	}

	at := t0.Add(time.Second)
	hooks := queueWebhooks(t, s, 3, at, "sub-a")["sub-a"]
	cut, back, err := s.ClaimMessagesFrom(ctx, "node-a", at, time.Minute, 10, gatehouse.QueueMark{DueAt: at, ID: hooks[1]})
	if err != nil || len(cut) != 0 {
		t.Fatalf("a claim from the middle of a webhook run: %v, %v; want nothing, its oldest is behind", messageIDs(cut), err)
	}
	if back.ID != hooks[1] {
		t.Errorf("mark after giving the run back %+v, want its first message given back, %s", back, hooks[1])
	}
	if run, _, err := s.ClaimMessagesFrom(ctx, "node-b", at, time.Minute, 10, gatehouse.QueueMark{}); err != nil || !slices.Equal(messageIDs(run), hooks) {
		t.Errorf("claim from the start: %v, %v; want the whole run %v, none of it held by the claim that gave it back", messageIDs(run), err, hooks)
	}
}

// While a node writes a bulk invitation its senders claim the other
// messages, even those due after the bulk's, and leave the bulk's e-mails
// queued and unleased for any claim after it.
func testOutboxClaimsBesideBulk(t *testing.T, s *store.DB) {
	ctx := context.Background()
	var bulk gatehouse.WriteBatch
	for range 3 {
		id := newID()
		bulk.Messages = append(bulk.Messages, gatehouse.Message{ID: id, MessageID: id + "@example.com", To: "bob@example.com",
			Subject: "Welcome", Body: "link gh_inv_secret", CreatedAt: t0.Add(-time.Minute), Bulk: true})
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.InsertBatch(ctx, bulk) })
	others := queue(t, s, 2, t0)
	claimed, err := s.ClaimMessagesBesideBulk(ctx, "node-a", t0, time.Minute, 10)
	if err != nil || !slices.Equal(messageIDs(claimed), others) {
		t.Fatalf("claim beside the bulk: %v, %v; want the other messages %v", messageIDs(claimed), err, others)
	}
	if again, err := s.ClaimMessagesBesideBulk(ctx, "node-b", t0, time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("second claim beside the bulk: %v, %v; want nothing", messageIDs(again), err)
	}
	rest, err := s.ClaimMessages(ctx, "node-b", t0, time.Minute, 10)
	if err != nil || !slices.Equal(messageIDs(rest), messageIDs(bulk.Messages)) {
		t.Errorf("claim of the whole queue: %v, %v; want the bulk's e-mails %v", messageIDs(rest), err, messageIDs(bulk.Messages))
	}
}

// Claimers racing for several subscriptions' queues never hand a message
// out before every older one of its subscription was delivered or handed
// out with it, so each subscription's messages come out in order. (On
// PostgreSQL a claim may come back empty while another claim holds the
// rows it looked at; the claimers here keep trying until all is out.)
func testOutboxWebhookRunsUnderRacingClaims(t *testing.T, s *store.DB) {
	ctx := context.Background()
	subscriptions := []string{"sub-a", "sub-b", "sub-c"}
	const each = 40
	ids := queueWebhooks(t, s, each, t0, subscriptions...)
	position := map[string]int{}
	for _, sub := range subscriptions {
		for i, id := range ids[sub] {
			position[id] = i
		}
	}
	var (
		mu        sync.Mutex
		delivered = map[string]int{} // subscription → how many delivered, in order
		total     int
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(time.Minute)
	for w := range 6 {
		wg.Go(func() {
			owner := fmt.Sprintf("node-%d", w)
			for time.Now().Before(deadline) {
				claimed, err := s.ClaimMessages(ctx, owner, t0, time.Minute, 5)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, m := range claimed {
					if position[m.ID] != delivered[m.To] {
						t.Errorf("%s: message %d handed out after %d were delivered", m.To, position[m.ID], delivered[m.To])
					}
					delivered[m.To]++
					total++
				}
				done := total == each*len(subscriptions)
				mu.Unlock()
				if err := s.MarkMessagesSent(ctx, messageIDs(claimed), owner, t0); err != nil {
					t.Error(err)
					return
				}
				if done {
					return
				}
				if len(claimed) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	for _, sub := range subscriptions {
		if delivered[sub] != each {
			t.Errorf("%s: %d of %d delivered", sub, delivered[sub], each)
		}
	}
}

// A page holds at most 500 items, whatever limit was asked for (docs/api.md).
func testPageLimitCapped(t *testing.T, s *store.DB) {
	accounts := make([]gatehouse.Account, 501)
	for i := range accounts {
		accounts[i] = integrator(fmt.Sprintf("Integrator %03d", i))
	}
	insertAccounts(t, s, accounts...)
	page, err := s.ListAccounts(context.Background(), gatehouse.AccountFilter{Page: gatehouse.PageRequest{Limit: 100000}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != gatehouse.MaxPageLimit || page.NextCursor == "" {
		t.Errorf("%d items and cursor %q, want %d and a next page", len(page.Items), page.NextCursor, gatehouse.MaxPageLimit)
	}
}
