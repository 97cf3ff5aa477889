package people_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The audit log keeps the before and after of a person's profile and of
// their membership: names, language, phone, roles and home folder read as
// they were and became, and a password change leaves no trace of any
// password in the log. Through the use cases alone, on both databases.
func TestAuditKeepsPeopleChanges(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			zoe := e.Person(t, site.ID, "zoe@example.com", gatehouse.LevelClientUser)
			admin := e.Member(t, site.ID, gatehouse.LevelClientAdmin)

			first, lang, phone, last := "Zoé", "fr", "+33 6 12 34 56 78", "Example"
			if _, err := e.People.UpdateProfile(ctx, admin, zoe.UserID, people.ProfilePatch{FirstName: &first, LastName: &last,
				Language: &lang, Phone: &phone}); err != nil {
				t.Fatal(err)
			}
			hall, err := e.Access.CreateFolder(ctx, admin, site.ID, "Hall", "")
			if err != nil {
				t.Fatal(err)
			}
			roles := []string{"editor", "viewer"}
			if _, err := e.People.UpdateMember(ctx, admin, site.ID, zoe.ID, people.MemberPatch{Roles: &roles, HomeFolderID: &hall.ID}); err != nil {
				t.Fatal(err)
			}

			profile := changesOf(t, e, site.ID, "user.updated", "user")
			wantProfile := []gatehouse.AuditChange{{Field: "first_name", Before: "Ann", After: "Zoé"},
				{Field: "language", Before: "en", After: "fr"}, {Field: "phone", Before: "", After: "+33612345678"}}
			if !slices.Equal(profile, wantProfile) {
				t.Errorf("profile change recorded %q, want %q (the last name sent unchanged adds nothing)", profile, wantProfile)
			}
			member := changesOf(t, e, site.ID, "user.updated", "membership")
			wantMember := []gatehouse.AuditChange{{Field: "roles", Before: "viewer", After: "editor, viewer"},
				{Field: "home_folder_id", Before: "", After: hall.ID}}
			if !slices.Equal(member, wantMember) {
				t.Errorf("membership change recorded %q, want %q", member, wantMember)
			}

			self := gatehouse.Caller{Principal: gatehouse.Principal{UserID: zoe.UserID, SessionID: "session-of-zoe"}, IP: "192.0.2.4"}
			const next = "granite harbour lantern"
			if err := e.SignIn.ChangePassword(ctx, self, servicetest.Password, next); err != nil {
				t.Fatal(err)
			}
			// The password change is a platform-wide event, outside any
			// account's log: every event there is, is read from the table.
			changed := false
			for _, row := range auditRows(t, e) {
				if row.action == "password.changed" {
					changed = true
					if row.changes != "" {
						t.Errorf("the password change recorded changes: %s", row.changes)
					}
				}
				if strings.Contains(row.changes, next) || strings.Contains(row.changes, servicetest.Password) {
					t.Errorf("%s keeps a password in the audit log: %s", row.action, row.changes)
				}
			}
			if !changed {
				t.Error("no password.changed event in the audit log")
			}
		})
	}
}

// changesOf is the changes of the newest event of the account with this
// action and target type.
func changesOf(t *testing.T, e *servicetest.Env, accountID, action, targetType string) []gatehouse.AuditChange {
	t.Helper()
	events, err := e.Accounts.AuditEvents(context.Background(), servicetest.Operator, accountID, gatehouse.AuditFilter{ActionPrefix: action})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events.Items {
		if ev.Action == action && ev.TargetType == targetType {
			return ev.Changes
		}
	}
	t.Fatalf("no %s event on a %s in the log", action, targetType)
	return nil
}

// auditRows reads the action and the changes column of every audit event,
// oldest first, straight from the database.
func auditRows(t *testing.T, e *servicetest.Env) []struct{ action, changes string } {
	t.Helper()
	pool := e.DB.Pools()["main"]
	if pool == nil {
		pool = e.DB.Pools()["read"]
	}
	rows, err := pool.QueryContext(context.Background(), `SELECT action, COALESCE(changes, '') FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []struct{ action, changes string }
	for rows.Next() {
		var row struct{ action, changes string }
		if err := rows.Scan(&row.action, &row.changes); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
