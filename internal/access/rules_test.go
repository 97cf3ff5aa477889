package access_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Built-in roles never change; a custom role held by someone is not deleted;
// a grant gives its role's permissions in its folder and below, and nowhere
// else, and a check sees the change at once. Through the use cases alone, on
// both databases.
func TestAccessRules(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			admin := e.Member(t, site.ID, gatehouse.LevelClientAdmin)

			name := "Viewer plus"
			if _, err := e.Access.UpdateRole(ctx, admin, site.ID, "viewer", access.RolePatch{Name: &name}); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("a built-in role renamed: %v", err)
			}
			if err := e.Access.DeleteRole(ctx, admin, site.ID, "manager"); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("a built-in role deleted: %v", err)
			}
			guards, err := e.Access.CreateRole(ctx, admin, site.ID, "Guards", []string{"cameras.view"})
			if err != nil {
				t.Fatal(err)
			}
			// Active, with the default viewer role (media alone).
			guard := e.Person(t, site.ID, "guard@example.com", gatehouse.LevelClientUser)
			stores, err := e.Access.CreateFolder(ctx, admin, site.ID, "Stores", "")
			if err != nil {
				t.Fatal(err)
			}
			east, err := e.Access.CreateFolder(ctx, admin, site.ID, "East", stores.ID)
			if err != nil {
				t.Fatal(err)
			}
			west, err := e.Access.CreateFolder(ctx, admin, site.ID, "West", "")
			if err != nil {
				t.Fatal(err)
			}
			may := func(folder string) bool {
				ok, err := e.Access.Check(ctx, servicetest.Operator, access.CheckQuestion{UserID: guard.UserID, AccountID: site.ID, Permission: "cameras.view", FolderID: folder})
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if may(east.ID) {
				t.Error("a user without a grant sees cameras")
			}
			if _, err := e.Access.CreateGrant(ctx, admin, site.ID, stores.ID, access.NewGrant{UserID: guard.UserID, Role: "Guards"}); err != nil {
				t.Fatal(err)
			}
			if !may(stores.ID) || !may(east.ID) || may(west.ID) {
				t.Errorf("after a grant on /Stores: stores %v, east %v, west %v; want true, true, false", may(stores.ID), may(east.ID), may(west.ID))
			}
			if err := e.Access.DeleteRole(ctx, admin, site.ID, guards.ID); servicetest.Code(err) != gatehouse.EROLEINUSE {
				t.Errorf("a role a grant holds was deleted: %v", err)
			}
		})
	}
}
