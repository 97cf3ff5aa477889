package access_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The audit log keeps the before and after of the access rules: a role's
// name and permissions, a folder's name and parent, a group's name and
// roles. Through the use cases alone, on both databases.
func TestAuditKeepsAccessRuleChanges(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			admin := e.Member(t, site.ID, gatehouse.LevelClientAdmin)

			guards, err := e.Access.CreateRole(ctx, admin, site.ID, "Guards", []string{"cameras.view"})
			if err != nil {
				t.Fatal(err)
			}
			name, perms := "Night guards", []string{"cameras.control", "cameras.view"}
			if _, err := e.Access.UpdateRole(ctx, admin, site.ID, guards.ID, access.RolePatch{Name: &name, Permissions: &perms}); err != nil {
				t.Fatal(err)
			}
			stores, err := e.Access.CreateFolder(ctx, admin, site.ID, "Stores", "")
			if err != nil {
				t.Fatal(err)
			}
			hall, err := e.Access.CreateFolder(ctx, admin, site.ID, "Hall", "")
			if err != nil {
				t.Fatal(err)
			}
			lobby := "Lobby"
			if _, err := e.Access.UpdateFolder(ctx, admin, site.ID, hall.ID, access.FolderPatch{Name: &lobby, ParentID: &stores.ID}); err != nil {
				t.Fatal(err)
			}
			team, err := e.Access.CreateGroup(ctx, admin, site.ID, "Team", []string{"viewer"})
			if err != nil {
				t.Fatal(err)
			}
			crew, roles := "Crew", []string{"Night guards", "editor"}
			if _, err := e.Access.UpdateGroup(ctx, admin, site.ID, team.ID, access.GroupPatch{Name: &crew, Roles: &roles}); err != nil {
				t.Fatal(err)
			}

			events, err := e.Accounts.AuditEvents(ctx, servicetest.Operator, site.ID, gatehouse.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]gatehouse.AuditChange{}
			for _, ev := range events.Items {
				got[ev.Action] = ev.Changes
			}
			for action, want := range map[string][]gatehouse.AuditChange{
				"role.updated": {{Field: "name", Before: "Guards", After: "Night guards"},
					{Field: "permissions", Before: "cameras.view", After: "cameras.view, cameras.control"}},
				"folder.moved": {{Field: "name", Before: "Hall", After: "Lobby"}, {Field: "parent_id", Before: "", After: stores.ID}},
				"group.updated": {{Field: "name", Before: "Team", After: "Crew"},
					{Field: "roles", Before: "viewer", After: "Night guards, editor"}},
				"role.created": nil,
			} {
				if !slices.Equal(got[action], want) {
					t.Errorf("%s recorded %q, want %q", action, got[action], want)
				}
			}
		})
	}
}
