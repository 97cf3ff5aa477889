package people_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A member's new level is in the audit log with the level they had, on
// both databases.
func TestAuditKeepsLevelChanges(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			zoe := e.Person(t, site.ID, "zoe@example.com", gatehouse.LevelClientUser)
			admin := gatehouse.LevelClientAdmin
			if _, err := e.People.UpdateMember(ctx, servicetest.Operator, site.ID, zoe.ID, people.MemberPatch{Level: &admin}); err != nil {
				t.Fatal(err)
			}
			got := changesOf(t, e, site.ID, "user.level_changed", "membership")
			want := []gatehouse.AuditChange{{Field: "level", Before: "client_user", After: "client_admin"}}
			if !slices.Equal(got, want) {
				t.Errorf("level change recorded %q, want %q", got, want)
			}
		})
	}
}
