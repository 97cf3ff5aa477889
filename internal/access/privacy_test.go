package access

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// withStaff is site() with an active integrator user and administrator of
// its integrator, and a client administrator who is also integrator staff.
func withStaff(until time.Time) gatehouse.AccessSnapshot {
	snap := site()
	snap.Account.ProviderAccessUntil = until
	snap.Staff = []gatehouse.MemberAccess{
		{UserID: "staff", Level: gatehouse.LevelIntegratorUser, Status: gatehouse.MembershipActive},
		{UserID: "boss", Level: gatehouse.LevelIntegratorAdmin, Status: gatehouse.MembershipActive},
		{UserID: "admin", Level: gatehouse.LevelIntegratorAdmin, Status: gatehouse.MembershipActive},
	}
	return snap
}

// The client's privacy (R-PV1…R-PV3): the integrator's staff hold everything but
// the cameras and media of a client, until the client opens them, and
// exactly until the end it chose; the client's own members and its remote
// monitoring user are not concerned.
func TestProviderPrivacy(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	private := []string{"cameras.view", "cameras.control", "media.view", "media.edit"}
	managing := []string{"screens.view", "screens.manage", "folders.manage", "users.view"}
	if got := gatehouse.ProviderPrivatePermissions.Names(); len(got) != len(private) {
		t.Fatalf("private permissions %v, want %v", got, private)
	}

	closed := NewModel(withStaff(time.Time{}))
	for _, who := range []string{"staff", "boss"} {
		for _, p := range private {
			if closed.Allowed(who, gatehouse.PermissionBit(p), "", now) || closed.Allowed(who, gatehouse.PermissionBit(p), "lyon", now) {
				t.Errorf("closed: %s holds %s", who, p)
			}
		}
		for _, p := range managing {
			if !closed.Allowed(who, gatehouse.PermissionBit(p), "", now) || !closed.Allowed(who, gatehouse.PermissionBit(p), "lyon", now) {
				t.Errorf("closed: %s lost %s", who, p)
			}
		}
	}
	// Members keep what their membership holds, staff or not.
	for _, c := range []struct {
		user, permission string
		want             bool
	}{{"admin", "cameras.view", true}, {"admin", "media.edit", true}, {"viewer", "media.view", true}, {"rm", "cameras.view", true},
		{"rm", "cameras.control", true}, {"rm", "media.view", false}, {"guard", "cameras.view", false}} {
		if got := closed.Allowed(c.user, gatehouse.PermissionBit(c.permission), "", now); got != c.want {
			t.Errorf("closed: %s %s = %v, want %v", c.user, c.permission, got, c.want)
		}
	}

	// Open until T: allowed a second before, refused at T and after, by the
	// same model: the end needs no rebuild.
	until := now.Add(9 * time.Hour)
	open := NewModel(withStaff(until))
	for _, p := range private {
		bit := gatehouse.PermissionBit(p)
		if !open.Allowed("staff", bit, "lyon", now) || !open.Allowed("staff", bit, "", until.Add(-time.Second)) || !open.Allowed("staff", bit, "", until.Add(-time.Microsecond)) {
			t.Errorf("open: staff refused %s before the end", p)
		}
		if open.Allowed("staff", bit, "", until) || open.Allowed("staff", bit, "", until.Add(time.Hour)) {
			t.Errorf("open: staff hold %s at or after the end", p)
		}
	}
	// An end in the past is closed.
	if NewModel(withStaff(now.Add(-time.Minute))).Allowed("staff", camerasView, "", now) {
		t.Errorf("an access that ended is open")
	}
	// A folder of another account stays refused, open or not.
	if open.Allowed("staff", camerasView, "no-such-folder", now) {
		t.Errorf("open: a folder of another account")
	}
}

// BenchmarkAllowedStaff is a check about an integrator's staff member in a
// client: the path the client's privacy changes.
func BenchmarkAllowedStaff(b *testing.B) {
	now := time.Now()
	m := NewModel(withStaff(now.Add(time.Hour)))
	for b.Loop() {
		m.Allowed("staff", mediaEdit, "lyon", now)
	}
}
