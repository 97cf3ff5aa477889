package access

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

var (
	mediaView   = gatehouse.PermissionBit("media.view")
	mediaEdit   = gatehouse.PermissionBit("media.edit")
	camerasView = gatehouse.PermissionBit("cameras.view")
)

// site is a small account: /Stores, /Stores/East, /Stores/East/Lyon,
// /Stores/West, /Offices; a custom role "Guard" (cameras.view); a group
// "Night shift" holding nothing account-wide.
func site() gatehouse.AccessSnapshot {
	active, pending := gatehouse.MembershipActive, gatehouse.MembershipActivationRequired
	return gatehouse.AccessSnapshot{
		Account: gatehouse.Account{ID: "acct", Kind: gatehouse.KindClient, IntegratorID: "integ"},
		Version: gatehouse.AuthzVersion{Own: 7},
		Members: []gatehouse.MemberAccess{
			{MembershipID: "m-admin", UserID: "admin", Level: gatehouse.LevelClientAdmin, Status: active},
			{MembershipID: "m-viewer", UserID: "viewer", Level: gatehouse.LevelClientUser, Status: active, RoleIDs: []string{"viewer"}},
			{MembershipID: "m-scoped", UserID: "scoped", Level: gatehouse.LevelClientUser, Status: active, HomeFolderID: "west"},
			{MembershipID: "m-guard", UserID: "guard", Level: gatehouse.LevelClientUser, Status: active},
			{MembershipID: "m-pending", UserID: "pending", Level: gatehouse.LevelClientUser, Status: pending, RoleIDs: []string{"manager"}},
			{MembershipID: "m-rm", UserID: "rm", Level: gatehouse.LevelRemoteMonitoring, Status: active},
		},
		CustomRoles: []gatehouse.Role{{ID: "role-guard", AccountID: "acct", Name: "Guard", Permissions: camerasView}},
		Folders: []gatehouse.Folder{
			{ID: "lyon", ParentID: "east", Name: "Lyon"},
			{ID: "stores", Name: "Stores"},
			{ID: "east", ParentID: "stores", Name: "East"},
			{ID: "west", ParentID: "stores", Name: "West"},
			{ID: "offices", Name: "Offices"},
		},
		Groups:       []gatehouse.Group{{ID: "night", Name: "Night shift"}},
		GroupMembers: map[string][]string{"night": {"guard"}},
		Grants: []gatehouse.Grant{
			{ID: "g1", FolderID: "east", UserID: "scoped", RoleID: "editor"},
			{ID: "g2", FolderID: "offices", GroupID: "night", RoleID: "role-guard"},
			{ID: "g3", FolderID: "lyon", UserID: "pending", RoleID: "viewer"},
		},
	}
}

// Checks combine levels, account-wide roles, grants on a folder or above
// it, and groups (R-A1, R-A2, R-A4, R-A5); pending members hold nothing.
func TestAllowed(t *testing.T) {
	m := NewModel(site())
	cases := []struct {
		user       string
		permission gatehouse.PermissionSet
		folder     string
		want       bool
	}{
		{"admin", foldersManage, "", true},
		{"admin", camerasView, "lyon", true},
		{"viewer", mediaView, "", true},
		{"viewer", mediaView, "offices", true},
		{"viewer", mediaEdit, "lyon", false},
		{"scoped", mediaEdit, "east", true},
		{"scoped", mediaEdit, "lyon", true}, // the grant covers everything under East
		{"scoped", mediaEdit, "stores", false},
		{"scoped", mediaEdit, "west", false},
		{"scoped", mediaView, "", false}, // nothing account-wide
		{"guard", camerasView, "offices", true},
		{"guard", camerasView, "stores", false},
		{"guard", mediaView, "offices", false},
		{"pending", mediaView, "", false},
		{"pending", mediaView, "lyon", false},
		{"rm", camerasView, "lyon", true},
		{"rm", mediaView, "", false},
		{"stranger", mediaView, "", false},
		{"viewer", mediaView, "no-such-folder", false},
	}
	for _, c := range cases {
		if got := m.Allowed(c.user, c.permission, c.folder, time.Now()); got != c.want {
			t.Errorf("%s %v on %q: %v, want %v", c.user, c.permission.Names(), c.folder, got, c.want)
		}
	}
	// Integrator staff of the owning integrator hold everything here;
	// pending staff nothing.
	snap := site()
	snap.Staff = []gatehouse.MemberAccess{{UserID: "staff", Level: gatehouse.LevelIntegratorUser, Status: gatehouse.MembershipActive},
		{UserID: "new-staff", Level: gatehouse.LevelIntegratorAdmin, Status: gatehouse.MembershipActivationRequired}}
	withStaff := NewModel(snap)
	if !withStaff.Allowed("staff", foldersManage, "lyon", time.Now()) || withStaff.Allowed("new-staff", mediaView, "", time.Now()) || withStaff.Allowed("staff", mediaView, "gone", time.Now()) {
		t.Errorf("integrator staff checks")
	}
}

// Access that ends by itself ends exactly at its end, in a model built
// before: a member, a member of the integrator's staff, a grant, and a
// group's grant hold everything a microsecond before and nothing from the
// end on.
func TestAccessEndsExactlyAtItsEnd(t *testing.T) {
	end := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	snap := site()
	snap.Members[1].ExpiresAt = end // viewer: a role account-wide
	snap.Grants[0].ExpiresAt = end  // scoped: editor on East
	snap.Grants[1].ExpiresAt = end  // the night shift: Guard on Offices
	snap.Staff = []gatehouse.MemberAccess{{UserID: "staff", Level: gatehouse.LevelIntegratorUser, Status: gatehouse.MembershipActive, ExpiresAt: end}}
	m := NewModel(snap)
	cases := []struct {
		user       string
		permission gatehouse.PermissionSet
		folder     string
	}{
		{"viewer", mediaView, ""}, {"viewer", mediaView, "lyon"}, {"scoped", mediaEdit, "lyon"},
		{"guard", camerasView, "offices"}, {"staff", foldersManage, "lyon"},
	}
	for _, c := range cases {
		if !m.Allowed(c.user, c.permission, c.folder, end.Add(-time.Microsecond)) {
			t.Errorf("%s on %q refused before the end", c.user, c.folder)
		}
		for _, at := range []time.Time{end, end.Add(time.Hour)} {
			if m.Allowed(c.user, c.permission, c.folder, at) {
				t.Errorf("%s on %q allowed at %s, after the end", c.user, c.folder, at)
			}
		}
	}
	if !m.Reaches("scoped", "lyon", end.Add(-time.Second)) || m.Reaches("scoped", "lyon", end) {
		t.Errorf("the ended grant still reaches Lyon, or reached it not before")
	}
	if views, _ := m.VisibleFolders("scoped", false, "", "", "", 0, end); len(views) != 0 {
		t.Errorf("an ended grant still shows folders: %v", views)
	}
	if sources, _ := m.Explain("m-scoped", end); len(sources) != 0 {
		t.Errorf("an ended grant still explains permissions: %v", sources)
	}
	// The admin, without an end, is untouched.
	if !m.Allowed("admin", foldersManage, "", end.Add(time.Hour)) {
		t.Errorf("a permanent member lost access")
	}
}

func TestPathsAndVisibility(t *testing.T) {
	m := NewModel(site())
	if f, ok := m.Folder("lyon"); !ok || f.Path != "/Stores/East/Lyon" {
		t.Errorf("path of lyon: %q %v", f.Path, ok)
	}
	if f, ok := m.FolderByPath("/stores/EAST/"); !ok || f.ID != "east" {
		t.Errorf("folder by path: %+v %v", f, ok)
	}
	if _, ok := m.FolderByPath("/Stores/North"); ok {
		t.Errorf("found a folder that is not there")
	}
	ids := func(views []FolderView) []string {
		var out []string
		for _, v := range views {
			out = append(out, v.ID)
		}
		return out
	}
	all, _ := m.VisibleFolders("viewer", false, "", "", "", 0, time.Now())
	if want := []string{"offices", "stores", "east", "lyon", "west"}; !slices.Equal(ids(all), want) {
		t.Errorf("viewer sees %v, want %v (path order, parents first)", ids(all), want)
	}
	scoped, _ := m.VisibleFolders("scoped", false, "", "", "", 0, time.Now())
	if want := []string{"east", "lyon"}; !slices.Equal(ids(scoped), want) {
		t.Errorf("scoped sees %v, want %v", ids(scoped), want)
	}
	if none, _ := m.VisibleFolders("stranger", false, "", "", "", 0, time.Now()); len(none) != 0 {
		t.Errorf("a stranger sees %v", ids(none))
	}
	children, _ := m.VisibleFolders("admin", true, "stores", "", "", 0, time.Now())
	if want := []string{"east", "west"}; !slices.Equal(ids(children), want) {
		t.Errorf("children of stores: %v", ids(children))
	}
	// Paging: two at a time, resuming after the last one.
	var paged []string
	afterKey, afterID := "", ""
	for {
		page, more := m.VisibleFolders("viewer", false, "", afterKey, afterID, 2, time.Now())
		paged = append(paged, ids(page)...)
		if !more {
			break
		}
		last := page[len(page)-1]
		afterKey, afterID = m.SortKey(last.ID), last.ID
	}
	if !slices.Equal(paged, ids(all)) {
		t.Errorf("paged %v, whole %v", paged, ids(all))
	}
}

// "/A" and what is under it come before "/A B": a folder is followed by its
// subfolders.
func TestPathOrderKeepsSubtreesTogether(t *testing.T) {
	m := NewModel(gatehouse.AccessSnapshot{Folders: []gatehouse.Folder{
		{ID: "ab", Name: "A B"}, {ID: "a", Name: "A"}, {ID: "a-z", ParentID: "a", Name: "Z"},
	}})
	views, _ := m.VisibleFolders("", true, "", "", "", 0, time.Now())
	var got []string
	for _, v := range views {
		got = append(got, v.Path)
	}
	if want := []string{"/A", "/A/Z", "/A B"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// R-A3: the chosen home folder while reachable, else the first reachable
// folder, else none.
func TestHomeFolder(t *testing.T) {
	snap := site()
	if got := NewModel(snap).HomeFolder("m-scoped", time.Now()); got != "east" {
		t.Errorf("home of a user who cannot reach West: %q, want the fallback east", got)
	}
	snap.Grants = append(snap.Grants, gatehouse.Grant{ID: "g4", FolderID: "west", UserID: "scoped", RoleID: "viewer"})
	if got := NewModel(snap).HomeFolder("m-scoped", time.Now()); got != "west" {
		t.Errorf("home once West is granted: %q", got)
	}
	snap.Grants = nil
	if got := NewModel(snap).HomeFolder("m-scoped", time.Now()); got != "" {
		t.Errorf("home with no access at all: %q", got)
	}
	if got := NewModel(snap).HomeFolder("m-viewer", time.Now()); got != "" {
		t.Errorf("home never chosen: %q", got)
	}
}

func TestExplain(t *testing.T) {
	m := NewModel(site())
	sources, ok := m.Explain("m-guard", time.Now())
	if !ok {
		t.Fatal("no such membership")
	}
	want := []Source{{Permission: "cameras.view", FolderID: "offices", FolderPath: "/Offices", Via: "group_grant",
		RoleID: "role-guard", RoleName: "Guard", GroupID: "night", GroupName: "Night shift", GrantID: "g2"}}
	if !slices.Equal(sources, want) {
		t.Errorf("guard: %+v", sources)
	}
	sources, _ = m.Explain("m-scoped", time.Now())
	if len(sources) != 2 || sources[0].Via != "grant" || sources[0].FolderID != "east" {
		t.Errorf("scoped: %+v", sources)
	}
	sources, _ = m.Explain("m-admin", time.Now())
	if len(sources) != len(gatehouse.Permissions) || sources[0].Via != "level" {
		t.Errorf("admin: %d sources, want one per permission from the level", len(sources))
	}
}

// A tree the store should never hold (a cycle, a missing parent) is left out
// instead of looping.
func TestCorruptTreesDoNotLoop(t *testing.T) {
	m := NewModel(gatehouse.AccessSnapshot{Folders: []gatehouse.Folder{
		{ID: "a", ParentID: "b", Name: "A"}, {ID: "b", ParentID: "a", Name: "B"},
		{ID: "orphan", ParentID: "gone", Name: "Orphan"}, {ID: "ok", Name: "OK"},
	}})
	views, _ := m.VisibleFolders("", true, "", "", "", 0, time.Now())
	if len(views) != 1 || views[0].ID != "ok" {
		t.Errorf("kept %+v", views)
	}
}

// countingSource counts snapshot reads and lets the test move the version.
type countingSource struct {
	version atomic.Int64
	loads   atomic.Int64
}

// AuthzVersionAsked refuses the check token "revoked".
func (s *countingSource) AuthzVersionAsked(ctx context.Context, accountID, checkTokenID string) (gatehouse.AuthzVersion, error) {
	if checkTokenID == "revoked" {
		return gatehouse.AuthzVersion{}, gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "missing or invalid token")
	}
	if accountID == "missing" {
		return gatehouse.AuthzVersion{}, gatehouse.NotFound("account")
	}
	return gatehouse.AuthzVersion{Integrator: s.version.Load()}, nil
}

func (s *countingSource) AccessSnapshot(ctx context.Context, accountID string) (gatehouse.AccessSnapshot, error) {
	s.loads.Add(1)
	snap := site()
	snap.Account.ID, snap.Version = accountID, gatehouse.AuthzVersion{Integrator: s.version.Load()}
	return snap, nil
}

// The cache rebuilds a model exactly when the version moved, and keeps no
// more accounts than its capacity.
func TestCacheFollowsVersions(t *testing.T) {
	ctx := context.Background()
	src := &countingSource{}
	c := NewCache(src, 10)
	for range 5 {
		if _, err := c.Model(ctx, "acct"); err != nil {
			t.Fatal(err)
		}
	}
	if n := src.loads.Load(); n != 1 {
		t.Errorf("%d loads for an unchanged account, want 1", n)
	}
	src.version.Add(1)
	m, _ := c.Model(ctx, "acct")
	if n := src.loads.Load(); n != 2 || m.Version.Integrator != 1 {
		t.Errorf("after a change of the integrator's part: %d loads, version %+v", n, m.Version)
	}
	if _, err := c.Model(ctx, "missing"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("missing account: %v", err)
	}
	// A model in the cache is not given to a check whose token the version
	// read found revoked.
	if m, err := c.ModelAsked(ctx, "acct", "live"); err != nil || m.Version.Integrator != 1 {
		t.Errorf("asked with a live check token: %v", err)
	}
	if m, err := c.ModelAsked(ctx, "acct", "revoked"); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHENTICATED || m != nil {
		t.Errorf("asked with a revoked check token: %v %v", m, err)
	}
	for i := range 50 {
		if _, err := c.Model(ctx, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() > 10 {
		t.Errorf("cache holds %d accounts, capacity 10", c.Len())
	}
	// The most recent account is still there.
	before := src.loads.Load()
	c.Model(ctx, "a49")
	if src.loads.Load() != before {
		t.Errorf("the most recently used account was evicted")
	}
}

func BenchmarkAllowed(b *testing.B) {
	m := NewModel(site())
	now := time.Now()
	for b.Loop() {
		m.Allowed("scoped", mediaEdit, "lyon", now)
	}
}
