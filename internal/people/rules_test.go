package people_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A client account's limit of client users holds when many administrators
// add people at once: the database decides, and exactly the limit gets in.
func TestClientUserLimitHoldsUnderConcurrency(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			limit := 3
			if _, err := e.Accounts.UpdateSettings(ctx, servicetest.Operator, site.ID, accounts.SettingsPatch{MaxClientUsers: &limit}); err != nil {
				t.Fatal(err)
			}
			admin := e.Member(t, site.ID, gatehouse.LevelClientAdmin)
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				outcomes = map[string]int{}
			)
			for i := range 12 {
				wg.Go(func() {
					_, err := e.People.AddUser(ctx, admin, site.ID, people.NewMember{Username: fmt.Sprintf("guard%d@example.com", i),
						FirstName: "Guard", LastName: fmt.Sprint(i), Language: "en", Level: gatehouse.LevelClientUser})
					mu.Lock()
					outcomes[servicetest.Code(err)]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if outcomes[""] != 3 || outcomes[gatehouse.EUSERLIMIT] != 9 {
				t.Errorf("outcomes %v: want 3 added and 9 user_limit_reached", outcomes)
			}
		})
	}
}

// A person's identity is shared by every account they belong to: one
// site's administrator changes it only while the person belongs to no
// account the administrator does not manage; membership attributes stay
// theirs. An active identity added to a site is registered at once.
func TestSharedIdentityRules(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			rival := e.Account(t, gatehouse.KindIntegrator, "Rival", "")
			lyon := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			paris := e.Account(t, gatehouse.KindClient, "Paris", rival.ID)
			person := e.Person(t, lyon.ID, "zoe@example.com", gatehouse.LevelClientUser)
			lyonAdmin := e.Member(t, lyon.ID, gatehouse.LevelClientAdmin)
			parisAdmin := e.Member(t, paris.ID, gatehouse.LevelClientAdmin)

			name := "Zoé"
			if _, err := e.People.UpdateProfile(ctx, lyonAdmin, person.UserID, people.ProfilePatch{FirstName: &name}); err != nil {
				t.Fatalf("the administrator of the person's only site: %v", err)
			}
			again, err := e.People.AddUser(ctx, parisAdmin, paris.ID, people.NewMember{Username: "ZOE@example.com", FirstName: "Other",
				LastName: "Name", Level: gatehouse.LevelClientUser})
			if err != nil || again.Status != gatehouse.MembershipActive || again.UserID != person.UserID {
				t.Fatalf("an active identity added to another site: %v %+v", err, again)
			}
			for who, c := range map[string]gatehouse.Caller{"Lyon's administrator": lyonAdmin, "Paris's administrator": parisAdmin} {
				if _, err := e.People.UpdateProfile(ctx, c, person.UserID, people.ProfilePatch{FirstName: &name}); servicetest.Code(err) != gatehouse.ESHAREDIDENTITY {
					t.Errorf("%s changed a person of two integrators: %v", who, err)
				}
			}
			roles := []string{"editor"}
			if _, err := e.People.UpdateMember(ctx, parisAdmin, paris.ID, again.ID, people.MemberPatch{Roles: &roles}); err != nil {
				t.Errorf("Paris's administrator changing the Paris membership: %v", err)
			}
			if _, err := e.People.UpdateProfile(ctx, servicetest.Operator, person.UserID, people.ProfilePatch{FirstName: &name}); err != nil {
				t.Errorf("the operator: %v", err)
			}
		})
	}
}
