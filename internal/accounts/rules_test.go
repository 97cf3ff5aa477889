package accounts_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Operators create integrators; an integrator's staff create clients under
// their own integrator and see no other; only operators change the limits;
// every change is in the account's audit log. Through the use cases alone,
// on both databases.
func TestAccountsRules(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			other := e.Account(t, gatehouse.KindIntegrator, "Other", "")
			staff := e.Member(t, acme.ID, gatehouse.LevelIntegratorUser)

			if _, err := e.Accounts.CreateAccount(ctx, staff, accounts.NewAccount{Kind: gatehouse.KindIntegrator, Name: "Mine"}); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("integrator staff created an integrator: %v", err)
			}
			site, err := e.Accounts.CreateAccount(ctx, staff, accounts.NewAccount{Kind: gatehouse.KindClient, Name: "Lyon", IntegratorID: acme.ID})
			if err != nil || site.IntegratorID != acme.ID {
				t.Fatalf("integrator staff creating a client of their own: %v %+v", err, site)
			}
			if _, err := e.Accounts.CreateAccount(ctx, staff, accounts.NewAccount{Kind: gatehouse.KindClient, Name: "Paris", IntegratorID: other.ID}); servicetest.Code(err) != gatehouse.ENOTFOUND {
				t.Errorf("a client under another integrator: %v, want not found", err)
			}

			limit := 3
			if _, err := e.Accounts.UpdateSettings(ctx, staff, site.ID, accounts.SettingsPatch{MaxClientUsers: &limit}); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("integrator staff changed the limit: %v", err)
			}
			if got, err := e.Accounts.UpdateSettings(ctx, servicetest.Operator, site.ID, accounts.SettingsPatch{MaxClientUsers: &limit}); err != nil || got.Settings.MaxClientUsers != 3 {
				t.Errorf("the operator's limit: %v %+v", err, got.Settings)
			}

			events, err := e.Accounts.AuditEvents(ctx, servicetest.Operator, site.ID, gatehouse.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]string{}
			for _, ev := range events.Items {
				actions[ev.Action] = ev.ActorID
			}
			if actions["account.created"] != staff.Principal.UserID || actions["account.settings_changed"] != "operator" {
				t.Errorf("audit log %v: want the creation by the staff member and the settings by the operator", actions)
			}
		})
	}
}
