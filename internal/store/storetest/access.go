package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The access rules of an account (roles, folders, groups, grants, R-A1…R-A5)
// and its authz version.

func runAccess(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("AuthzVersionRisesWithEveryRuleChange", func(t *testing.T) { testAuthzVersionRises(t, open(t)) })
	t.Run("AuthzVersionOfFailedWritesIsNotPublished", func(t *testing.T) { testFailedBumpsNotPublished(t, open(t)) })
	t.Run("AccessSnapshotRoundTrip", func(t *testing.T) { testAccessSnapshot(t, open(t)) })
	t.Run("FolderTree", func(t *testing.T) { testFolderTree(t, open(t)) })
	t.Run("ReachesFolder", func(t *testing.T) { testReachesFolder(t, open(t)) })
	t.Run("RemovedMemberLeavesNoAccess", func(t *testing.T) { testRemovedMemberLeavesNoAccess(t, open(t)) })
	t.Run("NamesUniquePerAccount", func(t *testing.T) { testAccessNamesUnique(t, open(t)) })
	t.Run("CheckTokens", func(t *testing.T) { testCheckTokens(t, open(t)) })
	t.Run("SignInFailures", func(t *testing.T) { testSignInFailures(t, open(t)) })
	t.Run("PurgeExpired", func(t *testing.T) { testPurgeExpired(t, open(t)) })
	t.Run("SignInSecretsWorkOnce", func(t *testing.T) { testSignInSecretsWorkOnce(t, open(t)) })
	t.Run("AuditFilters", func(t *testing.T) { testAuditFilters(t, open(t)) })
	t.Run("AuditChanges", func(t *testing.T) { testAuditChanges(t, open(t)) })
	t.Run("EndedAccess", func(t *testing.T) { testEndedAccess(t, open(t)) })
	t.Run("ProviderAccess", func(t *testing.T) { testProviderAccess(t, open(t)) })
	t.Run("ProviderAccessRequests", func(t *testing.T) { testProviderAccessRequests(t, open(t)) })
}

// site is an integrator with one client, for the access tests.
func site(t testing.TB, s *store.DB) gatehouse.Account {
	in := integrator("Acme")
	cl := client(in.ID, "Store 12")
	insertAccounts(t, s, in, cl)
	return cl
}

// versionAfterCommit reads the version the way checks do (outside any
// transaction) and, for comparison, inside a transaction, which always reads
// the column. The two must agree.
func versionAfterCommit(t testing.TB, s *store.DB, accountID string) gatehouse.AuthzVersion {
	t.Helper()
	ctx := context.Background()
	v, err := s.AuthzVersion(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	var column gatehouse.AuthzVersion
	write(t, s, func(tx *store.WriteTx) error {
		column, err = tx.AuthzVersion(ctx, accountID)
		return err
	})
	if v != column {
		t.Fatalf("version outside a transaction %d, in the database %d", v, column)
	}
	return v
}

func testAuthzVersionRises(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	other := client(cl.IntegratorID, "Store 13")
	insertAccounts(t, s, other)
	if _, err := s.AuthzVersion(ctx, newID()); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("unknown account: %v", err)
	}
	last := versionAfterCommit(t, s, cl.ID)
	otherVersion := versionAfterCommit(t, s, other.ID)
	u := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	folder := gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "Stores", CreatedAt: t0}
	role := gatehouse.Role{ID: newID(), AccountID: cl.ID, Name: "Guard", Permissions: gatehouse.PermissionSetOf("cameras.view"), CreatedAt: t0}
	group := gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "Night", CreatedAt: t0}
	grant := gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: folder.ID, UserID: u.ID, RoleID: "viewer", CreatedAt: t0}
	var membershipID string
	changes := []struct {
		name string
		fn   func(tx *store.WriteTx) error
	}{
		{"insert folder", func(tx *store.WriteTx) error { return tx.InsertFolder(ctx, folder) }},
		{"insert role", func(tx *store.WriteTx) error { return tx.InsertRole(ctx, role) }},
		{"insert group", func(tx *store.WriteTx) error { return tx.InsertGroup(ctx, group) }},
		{"add group member", func(tx *store.WriteTx) error { return tx.AddGroupMember(ctx, cl.ID, group.ID, u.ID) }},
		{"insert grant", func(tx *store.WriteTx) error { return tx.InsertGrant(ctx, grant) }},
		{"membership roles", func(tx *store.WriteTx) error {
			m, err := tx.MemberByUser(ctx, cl.ID, u.ID)
			membershipID = m.ID
			if err != nil {
				return err
			}
			return tx.SetMembershipRoles(ctx, cl.ID, m.ID, []string{role.ID})
		}},
		{"membership status", func(tx *store.WriteTx) error {
			return tx.SetMembershipStatus(ctx, cl.ID, membershipID, gatehouse.MembershipActivationRequired)
		}},
		{"home folder", func(tx *store.WriteTx) error { return tx.SetMembershipHomeFolder(ctx, cl.ID, membershipID, folder.ID) }},
		{"end of access", func(tx *store.WriteTx) error {
			return tx.SetMembershipExpiry(ctx, cl.ID, membershipID, t0.Add(time.Hour))
		}},
		{"rename role", func(tx *store.WriteTx) error { role.Name = "Guards"; return tx.UpdateRole(ctx, role) }},
		{"rename folder", func(tx *store.WriteTx) error { folder.Name = "Shops"; return tx.UpdateFolder(ctx, folder) }},
		{"delete grant", func(tx *store.WriteTx) error { return tx.DeleteGrant(ctx, cl.ID, grant.ID) }},
		{"remove group member", func(tx *store.WriteTx) error { return tx.RemoveGroupMember(ctx, cl.ID, group.ID, u.ID) }},
		{"delete group", func(tx *store.WriteTx) error { return tx.DeleteGroup(ctx, cl.ID, group.ID) }},
		{"delete membership", func(tx *store.WriteTx) error { return tx.DeleteMembership(ctx, cl.ID, membershipID) }},
		{"delete folder", func(tx *store.WriteTx) error { return tx.DeleteFolder(ctx, cl.ID, folder.ID) }},
		{"delete role", func(tx *store.WriteTx) error { return tx.DeleteRole(ctx, cl.ID, role.ID) }},
	}
	for _, c := range changes {
		write(t, s, c.fn)
		v := versionAfterCommit(t, s, cl.ID)
		if v.Own <= last.Own {
			t.Errorf("%s: version %+v did not rise above %+v", c.name, v, last)
		}
		last = v
	}
	// A change of the integrator's staff moves the integrator part of its
	// clients' versions: their staff act on them.
	before := versionAfterCommit(t, s, cl.ID)
	integratorAccount, err := s.Account(ctx, cl.IntegratorID)
	if err != nil {
		t.Fatal(err)
	}
	staff := member(t, s, integratorAccount, gatehouse.LevelIntegratorUser, gatehouse.MembershipActive)
	if v := versionAfterCommit(t, s, cl.ID); v.Own != before.Own || v.Integrator <= before.Integrator {
		t.Errorf("after a staff change the client's version is %+v, was %+v", v, before)
	}
	if snap, err := s.AccessSnapshot(ctx, cl.ID); err != nil || len(snap.Staff) != 1 || snap.Staff[0].UserID != staff.ID {
		t.Errorf("client snapshot staff %+v %v", snap.Staff, err)
	}
	otherVersion.Integrator = versionAfterCommit(t, s, other.ID).Integrator
	if v := versionAfterCommit(t, s, other.ID); v != otherVersion {
		t.Errorf("another account's version moved from %+v to %+v", otherVersion, v)
	}
}

// Writes that run together (SQLite group commit) and fail alone must not
// leave their version raised where checks read it.
func testFailedBumpsNotPublished(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	start := versionAfterCommit(t, s, cl.ID)
	refused := errors.New("refused after the bump")
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := 0
	for i := range 40 {
		wg.Go(func() {
			err := s.Write(ctx, func(tx *store.WriteTx) error {
				if err := tx.BumpAuthzVersion(ctx, cl.ID); err != nil {
					return err
				}
				if i%2 == 1 {
					return refused
				}
				return nil
			})
			if err == nil {
				mu.Lock()
				succeeded++
				mu.Unlock()
			} else if !errors.Is(err, refused) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if v := versionAfterCommit(t, s, cl.ID); v.Own != start.Own+int64(succeeded) {
		t.Errorf("version %+v after %d committed bumps from %+v", v, succeeded, start)
	}
}

func testAccessSnapshot(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	u := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	top := gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "Stores", CreatedAt: t0}
	sub := gatehouse.Folder{ID: newID(), AccountID: cl.ID, ParentID: top.ID, Name: "East", CreatedAt: t0}
	role := gatehouse.Role{ID: newID(), AccountID: cl.ID, Name: "Guard", Permissions: gatehouse.PermissionSetOf("cameras.view", "cameras.control"), CreatedAt: t0}
	group := gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "Night", RoleIDs: []string{"viewer", role.ID}, CreatedAt: t0}
	userGrant := gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: sub.ID, UserID: u.ID, RoleID: "editor", CreatedAt: t0}
	groupGrant := gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: top.ID, GroupID: group.ID, RoleID: role.ID, CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error {
		for _, err := range []error{
			tx.InsertFolder(ctx, top), tx.InsertFolder(ctx, sub), tx.InsertRole(ctx, role), tx.InsertGroup(ctx, group),
			tx.AddGroupMember(ctx, cl.ID, group.ID, u.ID), tx.InsertGrant(ctx, userGrant), tx.InsertGrant(ctx, groupGrant),
		} {
			if err != nil {
				return err
			}
		}
		m, err := tx.MemberByUser(ctx, cl.ID, u.ID)
		if err != nil {
			return err
		}
		if err := tx.SetMembershipRoles(ctx, cl.ID, m.ID, []string{"viewer", role.ID}); err != nil {
			return err
		}
		return tx.SetMembershipHomeFolder(ctx, cl.ID, m.ID, sub.ID)
	})
	snap, err := s.AccessSnapshot(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Account.ID != cl.ID || snap.Version != versionAfterCommit(t, s, cl.ID) {
		t.Errorf("account %s version %+v", snap.Account.ID, snap.Version)
	}
	if len(snap.Members) != 1 || snap.Members[0].UserID != u.ID || snap.Members[0].HomeFolderID != sub.ID ||
		!slices.Equal(sortedCopy(snap.Members[0].RoleIDs), sortedCopy([]string{"viewer", role.ID})) {
		t.Errorf("members %+v", snap.Members)
	}
	if len(snap.CustomRoles) != 1 || snap.CustomRoles[0].Permissions != role.Permissions || snap.CustomRoles[0].Name != "Guard" {
		t.Errorf("roles %+v", snap.CustomRoles)
	}
	if len(snap.Folders) != 2 || snap.Folders[1].ParentID != top.ID || snap.Folders[0].ParentID != "" {
		t.Errorf("folders %+v", snap.Folders)
	}
	if len(snap.Groups) != 1 || !slices.Equal(sortedCopy(snap.Groups[0].RoleIDs), sortedCopy(group.RoleIDs)) ||
		!slices.Equal(snap.GroupMembers[group.ID], []string{u.ID}) {
		t.Errorf("groups %+v members %v", snap.Groups, snap.GroupMembers)
	}
	if len(snap.Grants) != 2 || snap.Grants[0] != userGrant || snap.Grants[1] != groupGrant {
		t.Errorf("grants %+v", snap.Grants)
	}
	if _, err := s.AccessSnapshot(ctx, newID()); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("snapshot of an unknown account: %v", err)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func testFolderTree(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	var ids []string
	write(t, s, func(tx *store.WriteTx) error {
		parent := ""
		for _, name := range []string{"A", "B", "C", "D"} {
			f := gatehouse.Folder{ID: newID(), AccountID: cl.ID, ParentID: parent, Name: name, CreatedAt: t0}
			if err := tx.InsertFolder(ctx, f); err != nil {
				return err
			}
			ids, parent = append(ids, f.ID), f.ID
		}
		return nil
	})
	lineage, err := s.FolderLineage(ctx, cl.ID, ids[3])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range lineage {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"D", "C", "B", "A"}) {
		t.Errorf("lineage %v", names)
	}
	for i, want := range []int{4, 3, 2, 1} {
		if h, err := s.FolderHeight(ctx, cl.ID, ids[i]); err != nil || h != want {
			t.Errorf("height of level %d: %d %v, want %d", i+1, h, err, want)
		}
	}
	if has, _ := s.FolderHasChildren(ctx, cl.ID, ids[2]); !has {
		t.Errorf("C has D under it")
	}
	if has, _ := s.FolderHasChildren(ctx, cl.ID, ids[3]); has {
		t.Errorf("D has nothing under it")
	}
	// Sibling names are unique without regard to case, at the top too.
	err = s.Write(ctx, func(tx *store.WriteTx) error {
		return tx.InsertFolder(ctx, gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "a", CreatedAt: t0})
	})
	wantCode(t, err, gatehouse.ECONFLICT)
	// Another account cannot read the folder, nor its lineage.
	other := client(cl.IntegratorID, "Elsewhere")
	insertAccounts(t, s, other)
	if _, err := s.Folder(ctx, other.ID, ids[0]); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("folder read through another account: %v", err)
	}
	if _, err := s.FolderLineage(ctx, other.ID, ids[3]); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("lineage read through another account: %v", err)
	}
	// A move keeps the subtree: D under A directly.
	write(t, s, func(tx *store.WriteTx) error {
		return tx.UpdateFolder(ctx, gatehouse.Folder{ID: ids[3], AccountID: cl.ID, ParentID: ids[0], Name: "D"})
	})
	if lineage, _ := s.FolderLineage(ctx, cl.ID, ids[3]); len(lineage) != 2 {
		t.Errorf("after the move D is %d deep, want 2", len(lineage))
	}
}

func testReachesFolder(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	u := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	top := gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "Stores", CreatedAt: t0}
	sub := gatehouse.Folder{ID: newID(), AccountID: cl.ID, ParentID: top.ID, Name: "East", CreatedAt: t0}
	side := gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "Offices", CreatedAt: t0}
	group := gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "Night", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error {
		return errors.Join(tx.InsertFolder(ctx, top), tx.InsertFolder(ctx, sub), tx.InsertFolder(ctx, side), tx.InsertGroup(ctx, group))
	})
	reaches := func(folderID string) bool {
		t.Helper()
		ok, err := s.ReachesFolder(ctx, cl.ID, u.ID, folderID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if reaches(sub.ID) {
		t.Errorf("reached without any grant")
	}
	write(t, s, func(tx *store.WriteTx) error {
		return tx.InsertGrant(ctx, gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: top.ID, UserID: u.ID, RoleID: "viewer", CreatedAt: t0})
	})
	if !reaches(sub.ID) || !reaches(top.ID) || reaches(side.ID) {
		t.Errorf("a grant on Stores reaches Stores and East, not Offices")
	}
	write(t, s, func(tx *store.WriteTx) error {
		return errors.Join(tx.AddGroupMember(ctx, cl.ID, group.ID, u.ID),
			tx.InsertGrant(ctx, gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: side.ID, GroupID: group.ID, RoleID: "viewer", CreatedAt: t0}))
	})
	if !reaches(side.ID) {
		t.Errorf("a grant to the user's group does not reach")
	}
}

func testRemovedMemberLeavesNoAccess(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	u := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	keep := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	folder := gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "Stores", CreatedAt: t0}
	group := gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "Night", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error {
		return errors.Join(tx.InsertFolder(ctx, folder), tx.InsertGroup(ctx, group),
			tx.AddGroupMember(ctx, cl.ID, group.ID, u.ID), tx.AddGroupMember(ctx, cl.ID, group.ID, keep.ID),
			tx.InsertGrant(ctx, gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: folder.ID, UserID: u.ID, RoleID: "viewer", CreatedAt: t0}),
			tx.InsertGrant(ctx, gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: folder.ID, UserID: keep.ID, RoleID: "viewer", CreatedAt: t0}))
	})
	m, err := s.MemberByUser(ctx, cl.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.DeleteMembership(ctx, cl.ID, m.ID) })
	snap, err := s.AccessSnapshot(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Grants) != 1 || snap.Grants[0].UserID != keep.ID {
		t.Errorf("grants left: %+v", snap.Grants)
	}
	if !slices.Equal(snap.GroupMembers[group.ID], []string{keep.ID}) {
		t.Errorf("group members left: %v", snap.GroupMembers[group.ID])
	}
	if inUse, _ := s.RoleInUse(ctx, cl.ID, "viewer"); !inUse {
		t.Errorf("viewer is still granted to the other member")
	}
}

func testAccessNamesUnique(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	other := client(cl.IntegratorID, "Store 13")
	insertAccounts(t, s, other)
	insert := func(accountID, name string) error {
		return s.Write(ctx, func(tx *store.WriteTx) error {
			return errors.Join(
				tx.InsertRole(ctx, gatehouse.Role{ID: newID(), AccountID: accountID, Name: name, Permissions: 1, CreatedAt: t0}))
		})
	}
	if err := insert(cl.ID, "Guard"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, insert(cl.ID, "GUARD"), gatehouse.ECONFLICT)
	if err := insert(other.ID, "Guard"); err != nil {
		t.Errorf("another account may have its own Guard: %v", err)
	}
	err := s.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.InsertGroup(ctx, gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "Night", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.InsertGroup(ctx, gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "night", CreatedAt: t0})
	})
	wantCode(t, err, gatehouse.ECONFLICT)
	if role, err := s.RoleByName(ctx, cl.ID, "guard"); err != nil || role.Name != "Guard" {
		t.Errorf("role by name: %+v %v", role, err)
	}
}

func testCheckTokens(t *testing.T, s *store.DB) {
	ctx := context.Background()
	secret, hash := gatehouse.NewToken(gatehouse.TokenCheck)
	tok := gatehouse.CheckToken{ID: newID(), Name: "video", CreatedBy: "operator", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error { return tx.InsertCheckToken(ctx, tok, hash) })
	got, err := s.CheckTokenByHash(ctx, gatehouse.HashToken(secret))
	if err != nil || got.ID != tok.ID || got.Name != "video" {
		t.Fatalf("token by hash: %+v %v", got, err)
	}
	if list, _ := s.ListCheckTokens(ctx); len(list) != 1 {
		t.Errorf("listed %d tokens", len(list))
	}
	// A check confirms the token in the read of the account's version: many
	// at once (on PostgreSQL they share reads of several accounts and
	// tokens), over two accounts and an unknown one, with the live token and
	// one that never was.
	_, otherHash := gatehouse.NewToken(gatehouse.TokenCheck)
	other := gatehouse.CheckToken{ID: newID(), Name: "doors", CreatedBy: "operator", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error { return tx.InsertCheckToken(ctx, other, otherHash) })
	accounts := []gatehouse.Account{site(t, s), site(t, s)}
	versions := map[string]gatehouse.AuthzVersion{}
	for _, a := range accounts {
		versions[a.ID] = versionAfterCommit(t, s, a.ID)
	}
	askAll := func(revoked map[string]bool) {
		t.Helper()
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := range 20 {
					accountID, token := newID(), []string{tok.ID, other.ID, "never-was"}[(g+i)%3]
					if i%3 > 0 {
						accountID = accounts[(g+i)%2].ID
					}
					v, err := s.AuthzVersionAsked(ctx, accountID, token)
					want, known := versions[accountID]
					switch {
					case token == "never-was" || revoked[token]:
						if gatehouse.ErrorCode(err) != gatehouse.EUNAUTHENTICATED {
							t.Errorf("account %s asked with token %s: %v, want unauthenticated", accountID, token, err)
						}
					case !known:
						if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
							t.Errorf("an unknown account asked with a live token: %v", err)
						}
					case err != nil || v != want:
						t.Errorf("account %s asked with a live token: %+v %v, want %+v", accountID, v, err, want)
					}
				}
			})
		}
		wg.Wait()
	}
	askAll(nil)
	if err := s.ConfirmCheckToken(ctx, tok.ID); err != nil {
		t.Errorf("confirm a live token: %v", err)
	}
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeCheckToken(ctx, tok.ID, t0) })
	if _, err := s.CheckTokenByHash(ctx, hash); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("a revoked token still found: %v", err)
	}
	if err := s.ConfirmCheckToken(ctx, tok.ID); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHENTICATED {
		t.Errorf("confirm a revoked token: %v", err)
	}
	askAll(map[string]bool{tok.ID: true})
	if list, _ := s.ListCheckTokens(ctx); len(list) != 1 || list[0].ID != other.ID {
		t.Errorf("a revoked token is still listed: %+v", list)
	}
}

// Memberships and grants that end: listed once ended, soonest first, and
// deleted only by a guarded delete that refuses what has not ended (or is
// gone already), so that two sweepers never both remove one. A membership
// takes its holder's grants and group places in the account with it.
func testEndedAccess(t *testing.T, s *store.DB) {
	ctx := context.Background()
	cl := site(t, s)
	end := t0.Add(time.Hour)
	u := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	keep := member(t, s, cl, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	folder := gatehouse.Folder{ID: newID(), AccountID: cl.ID, Name: "Doors", CreatedAt: t0}
	group := gatehouse.Group{ID: newID(), AccountID: cl.ID, Name: "Night", CreatedAt: t0}
	ending := gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: folder.ID, UserID: keep.ID, RoleID: "viewer", CreatedAt: t0, ExpiresAt: end}
	held := gatehouse.Grant{ID: newID(), AccountID: cl.ID, FolderID: folder.ID, UserID: u.ID, RoleID: "editor", CreatedAt: t0}
	var m gatehouse.Member
	write(t, s, func(tx *store.WriteTx) error {
		var err error
		if m, err = tx.MemberByUser(ctx, cl.ID, u.ID); err != nil {
			return err
		}
		for _, step := range []func() error{
			func() error { return tx.InsertFolder(ctx, folder) },
			func() error { return tx.InsertGroup(ctx, group) },
			func() error { return tx.AddGroupMember(ctx, cl.ID, group.ID, u.ID) },
			func() error { return tx.InsertGrant(ctx, ending) },
			func() error { return tx.InsertGrant(ctx, held) },
			func() error { return tx.SetMembershipExpiry(ctx, cl.ID, m.ID, end) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if got, err := s.Member(ctx, cl.ID, m.ID); err != nil || !got.ExpiresAt.Equal(end) {
		t.Fatalf("the membership's end reads %v (%v), want %v", got.ExpiresAt, err, end)
	}
	if got, err := s.Grant(ctx, cl.ID, ending.ID); err != nil || !got.ExpiresAt.Equal(end) {
		t.Fatalf("the grant's end reads %v (%v), want %v", got.ExpiresAt, err, end)
	}
	before := end.Add(-time.Microsecond)
	if ms, _ := s.ExpiredMemberships(ctx, before, 10); len(ms) != 0 {
		t.Errorf("listed before its end: %v", ms)
	}
	if gs, _ := s.ExpiredGrants(ctx, before, 10); len(gs) != 0 {
		t.Errorf("a grant listed before its end: %v", gs)
	}
	notYet := func(tx *store.WriteTx) error {
		if _, err := tx.DeleteExpiredMembership(ctx, cl.ID, m.ID, before); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a membership deleted before its end: %v", err)
		}
		if err := tx.DeleteExpiredGrant(ctx, cl.ID, ending.ID, before); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a grant deleted before its end: %v", err)
		}
		if err := tx.DeleteExpiredGrant(ctx, cl.ID, held.ID, end.Add(time.Hour)); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a grant without an end deleted: %v", err)
		}
		return nil
	}
	write(t, s, notYet)
	ms, err := s.ExpiredMemberships(ctx, end, 10)
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID || ms[0].AccountID != cl.ID || !ms[0].ExpiresAt.Equal(end) {
		t.Fatalf("ended memberships at the end: %+v (%v)", ms, err)
	}
	if gs, err := s.ExpiredGrants(ctx, end, 10); err != nil || len(gs) != 1 || gs[0].ID != ending.ID {
		t.Fatalf("ended grants at the end: %+v (%v)", gs, err)
	}
	write(t, s, func(tx *store.WriteTx) error {
		gone, err := tx.DeleteExpiredMembership(ctx, cl.ID, m.ID, end)
		if err != nil || gone.UserID != u.ID || gone.Level != gatehouse.LevelClientUser {
			t.Errorf("deleting the ended membership: %+v (%v)", gone, err)
		}
		if _, err := tx.DeleteExpiredMembership(ctx, cl.ID, m.ID, end); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("deleted twice: %v", err)
		}
		if err := tx.DeleteExpiredGrant(ctx, cl.ID, ending.ID, end); err != nil {
			t.Errorf("deleting the ended grant: %v", err)
		}
		if err := tx.DeleteExpiredGrant(ctx, cl.ID, ending.ID, end); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a grant deleted twice: %v", err)
		}
		return nil
	})
	if _, err := s.Grant(ctx, cl.ID, held.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("the grant of the removed member stays: %v", err)
	}
	if members, _ := s.GroupMemberIDs(ctx, cl.ID, group.ID); len(members) != 0 {
		t.Errorf("the removed member keeps a group place: %v", members)
	}
	if _, err := s.MemberByUser(ctx, cl.ID, keep.ID); err != nil {
		t.Errorf("another member went too: %v", err)
	}
}
