package accounts_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The audit log keeps what a change changed: the limit raised from 9 to 12
// reads as such, the remote-monitoring switch and the account's name and
// address say their old and new values, and a field sent again unchanged
// adds nothing. Through the use cases alone, on both databases.
func TestAuditKeepsBeforeAndAfter(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			nine, twelve, on := 9, 12, true
			for _, p := range []accounts.SettingsPatch{{MaxClientUsers: &nine}, {MaxClientUsers: &twelve, ClientAdminsCanAddRemoteMonitoring: &on}} {
				if _, err := e.Accounts.UpdateSettings(ctx, servicetest.Operator, site.ID, p); err != nil {
					t.Fatal(err)
				}
			}
			name, address, same := "Lyon Part-Dieu", "17 Rue du Dr Bouchut\n69003 Lyon", "Lyon Part-Dieu"
			if _, err := e.Accounts.UpdateAccount(ctx, servicetest.Operator, site.ID, accounts.AccountPatch{Name: &name, Address: &address}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Accounts.UpdateAccount(ctx, servicetest.Operator, site.ID, accounts.AccountPatch{Name: &same}); err != nil {
				t.Fatal(err)
			}

			events, err := e.Accounts.AuditEvents(ctx, servicetest.Operator, site.ID, gatehouse.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var got [][]gatehouse.AuditChange
			for _, ev := range events.Items { // newest first
				if ev.Action == "account.settings_changed" || ev.Action == "account.updated" {
					got = append(got, ev.Changes)
				}
			}
			want := [][]gatehouse.AuditChange{
				nil,
				{{Field: "name", Before: "Lyon", After: "Lyon Part-Dieu"}, {Field: "address", Before: "", After: address}},
				{{Field: "max_client_users", Before: "9", After: "12"},
					{Field: "client_admins_can_add_remote_monitoring", Before: "false", After: "true"}},
			}
			if len(got) != 4 || !slices.EqualFunc(got[:3], want, slices.Equal) {
				t.Errorf("changes, newest first:\n got %q\nwant %q", got, want)
			}
		})
	}
}
