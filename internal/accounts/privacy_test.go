package accounts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// fieldOf is the field an error names.
func fieldOf(err error) string {
	var e *gatehouse.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// setClock moves the test clock to a known instant.
func setClock(e *servicetest.Env, at time.Time) { e.Clock.Advance(at.Sub(e.Clock.Now())) }

// person writes an active identity with a name and a language, holding
// level in the account, and returns it acting with a session.
func person(t *testing.T, e *servicetest.Env, accountID, first, lang string, level gatehouse.Level) gatehouse.Caller {
	t.Helper()
	ctx := context.Background()
	id := kernel.NewID()
	err := e.DB.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.InsertUser(ctx, gatehouse.User{ID: id, Username: strings.ToLower(first) + "@example.com", FirstName: first,
			LastName: "Example", Language: lang, Status: gatehouse.UserActive}); err != nil {
			return err
		}
		return tx.InsertMembership(ctx, gatehouse.Membership{ID: kernel.NewID(), AccountID: accountID, UserID: id,
			Level: level, Status: gatehouse.MembershipActive, Email: strings.ToLower(first) + "@example.com"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return gatehouse.Caller{Principal: gatehouse.Principal{UserID: id, SessionID: "session-of-" + id}, IP: "192.0.2.9"}
}

// The default end of the service provider's access is the next midnight
// in the account's own time zone; a chosen end is ahead and at most 30
// days ahead. Through the use cases alone, on both databases.
func TestProviderAccessEnds(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			// Saturday 28 March 2026, 22:30 UTC: 23:30 in Paris (winter
			// time until the night after), 18:30 in New York (summer time
			// since 8 March).
			setClock(e, time.Date(2026, 3, 28, 22, 30, 0, 0, time.UTC))
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			paris := e.Account(t, gatehouse.KindClient, "Paris", acme.ID)
			newYork := e.Account(t, gatehouse.KindClient, "New York", acme.ID)
			for _, s := range []struct {
				account gatehouse.Account
				zone    string
				want    time.Time
			}{
				{paris, "Europe/Paris", time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)},
				{newYork, "America/New_York", time.Date(2026, 3, 29, 4, 0, 0, 0, time.UTC)},
			} {
				zone := s.zone
				if _, err := e.Accounts.UpdateAccount(ctx, servicetest.Operator, s.account.ID, accounts.AccountPatch{TimeZone: &zone}); err != nil {
					t.Fatal(err)
				}
				admin := person(t, e, s.account.ID, "Admin"+strings.ReplaceAll(s.account.Name, " ", ""), "en", gatehouse.LevelClientAdmin)
				st, err := e.Accounts.GrantProviderAccess(ctx, admin, s.account.ID, nil)
				if err != nil || !st.Open || !st.Until.Equal(s.want) {
					t.Errorf("%s: open until %v (%v), want %v", s.zone, st.Until, err, s.want)
				}
			}
			// An hour and a half later it is the night of the clock change
			// in Paris: its next midnight is 23 hours away.
			e.Clock.Advance(90 * time.Minute)
			if st, err := e.Accounts.ProviderAccessOf(ctx, servicetest.Operator, paris.ID); err != nil || st.Open ||
				!st.DefaultUntil.Equal(time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC)) {
				t.Errorf("Paris after midnight: %+v %v, want closed, next end at 22:00 UTC", st, err)
			}

			admin := person(t, e, paris.ID, "Zoe", "fr", gatehouse.LevelClientAdmin)
			now := e.Clock.Now()
			for _, c := range []struct {
				until time.Time
				ok    bool
			}{
				{now.Add(gatehouse.MaxProviderAccess), true},
				{now.Add(gatehouse.MaxProviderAccess + time.Second), false},
				{now, false},
				{now.Add(-time.Hour), false},
				{now.Add(time.Minute), true},
			} {
				until := c.until
				st, err := e.Accounts.GrantProviderAccess(ctx, admin, paris.ID, &until)
				if c.ok && (err != nil || !st.Until.Equal(until)) {
					t.Errorf("until %v: %+v %v", until, st, err)
				}
				if !c.ok && (servicetest.Code(err) != gatehouse.EINVALID || fieldOf(err) != "until") {
					t.Errorf("until %v (now %v): %v, want invalid at until", until, now, err)
				}
			}
			zone := "Mars/Olympus_Mons"
			if _, err := e.Accounts.UpdateAccount(ctx, admin, paris.ID, accounts.AccountPatch{TimeZone: &zone}); servicetest.Code(err) != gatehouse.EINVALID {
				t.Errorf("an unknown time zone: %v", err)
			}
		})
	}
}

// The integrator's staff ask; the client's administrators are mailed in
// their languages, and approve (access opens) or refuse (it stays
// closed); every step is in the client's audit log. Through the use
// cases alone, on both databases.
func TestProviderAccessRequests(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			other := e.Account(t, gatehouse.KindIntegrator, "Other", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			staff := person(t, e, acme.ID, "Iris", "en", gatehouse.LevelIntegratorUser)
			outsider := person(t, e, other.ID, "Oscar", "en", gatehouse.LevelIntegratorAdmin)
			ann := person(t, e, site.ID, "Ann", "en", gatehouse.LevelClientAdmin)
			zoe := person(t, e, site.ID, "Zoe", "fr", gatehouse.LevelClientAdmin)
			user := person(t, e, site.ID, "Guy", "en", gatehouse.LevelClientUser)
			e.Mail(t)
			check := func() bool {
				allowed, err := e.Access.CheckInProcess(ctx, access.CheckQuestion{UserID: staff.Principal.UserID, AccountID: site.ID, Permission: "cameras.view"})
				if err != nil {
					t.Fatal(err)
				}
				return allowed
			}

			if _, err := e.Accounts.RequestProviderAccess(ctx, outsider, site.ID, ""); servicetest.Code(err) != gatehouse.ENOTFOUND {
				t.Errorf("another integrator's staff asking: %v", err)
			}
			for who, c := range map[string]gatehouse.Caller{"administrator": ann, "user": user, "operator": servicetest.Operator} {
				if _, err := e.Accounts.RequestProviderAccess(ctx, c, site.ID, ""); servicetest.Code(err) != gatehouse.EFORBIDDEN {
					t.Errorf("the client's %s asking: %v", who, err)
				}
			}
			req, err := e.Accounts.RequestProviderAccess(ctx, staff, site.ID, "  Camera 3\nis offline  ")
			if err != nil || req.Status != gatehouse.ProviderAccessPending || req.Reason != "Camera 3 is offline" || req.RequestedByName != "Iris Example (iris@example.com)" {
				t.Fatalf("asking: %+v %v", req, err)
			}
			if _, err := e.Accounts.RequestProviderAccess(ctx, staff, site.ID, ""); servicetest.Code(err) != gatehouse.ECONFLICT {
				t.Errorf("a second request while one waits: %v", err)
			}
			mail := map[string]gatehouse.Message{}
			for _, m := range e.Mail(t) {
				mail[m.To] = m
			}
			link := "https://gatehouse.example.com/accounts/" + site.ID + "/provider-access/requests/" + req.ID
			if m := mail["ann@example.com"]; !strings.Contains(m.Subject, "asks for access to the cameras of Lyon") || !strings.Contains(m.Body, link) ||
				!strings.Contains(m.Body, "Iris Example (iris@example.com)") || !strings.Contains(m.Body, "Camera 3 is offline") {
				t.Errorf("the English mail: %q\n%s", m.Subject, m.Body)
			}
			if m := mail["zoe@example.com"]; !strings.Contains(m.Subject, "demande l'accès aux caméras de Lyon") || !strings.Contains(m.Body, link) {
				t.Errorf("the French mail: %q\n%s", m.Subject, m.Body)
			}
			if len(mail) != 2 {
				t.Errorf("mail went to %d addresses, want the two administrators", len(mail))
			}

			// Refused: it stays closed, and the answer is final.
			if _, err := e.Accounts.RefuseProviderAccessRequest(ctx, staff, site.ID, req.ID); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("the staff answering their own request: %v", err)
			}
			refused, err := e.Accounts.RefuseProviderAccessRequest(ctx, zoe, site.ID, req.ID)
			if err != nil || refused.Status != gatehouse.ProviderAccessRefused || refused.DecidedBy != zoe.Principal.UserID || check() {
				t.Errorf("refused: %+v %v", refused, err)
			}
			if _, err := e.Accounts.ApproveProviderAccessRequest(ctx, ann, site.ID, req.ID, nil); servicetest.Code(err) != gatehouse.ECONFLICT {
				t.Errorf("approving a refused request: %v", err)
			}

			// Approved: it opens until the next midnight, and closes when
			// an administrator ends it.
			again, err := e.Accounts.RequestProviderAccess(ctx, staff, site.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Accounts.ApproveProviderAccessRequest(ctx, servicetest.Operator, site.ID, again.ID, nil); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("an operator approving in the client's stead: %v", err)
			}
			if _, err := e.Accounts.ApproveProviderAccessRequest(ctx, outsider, site.ID, again.ID, nil); servicetest.Code(err) != gatehouse.ENOTFOUND {
				t.Errorf("another integrator's staff approving: %v", err)
			}
			approved, err := e.Accounts.ApproveProviderAccessRequest(ctx, ann, site.ID, again.ID, nil)
			if midnight := gatehouse.NextMidnight(e.Clock.Now(), time.UTC); err != nil || approved.Status != gatehouse.ProviderAccessApproved || !approved.Until.Equal(midnight) || !check() {
				t.Errorf("approved: %+v %v, want open until %v", approved, err, midnight)
			}
			if _, err := e.Accounts.EndProviderAccess(ctx, staff, site.ID); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("the staff ending it: %v", err)
			}
			if st, err := e.Accounts.EndProviderAccess(ctx, ann, site.ID); err != nil || st.Open || check() {
				t.Errorf("ended: %+v %v", st, err)
			}
			if _, err := e.Accounts.EndProviderAccess(ctx, ann, site.ID); err != nil {
				t.Errorf("ending a closed access: %v", err)
			}
			// Support may end it, never open it.
			if _, err := e.Accounts.GrantProviderAccess(ctx, servicetest.Operator, site.ID, nil); servicetest.Code(err) != gatehouse.EFORBIDDEN {
				t.Errorf("an operator opening it: %v", err)
			}
			if _, err := e.Accounts.GrantProviderAccess(ctx, ann, site.ID, nil); err != nil {
				t.Fatal(err)
			}
			if st, err := e.Accounts.EndProviderAccess(ctx, servicetest.Operator, site.ID); err != nil || st.Open || check() {
				t.Errorf("ended by support: %+v %v", st, err)
			}

			events, err := e.Accounts.AuditEvents(ctx, ann, site.ID, gatehouse.AuditFilter{ActionPrefix: "provider_access."})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range events.Items {
				got = append(got, ev.Action+" by "+ev.ActorID)
			}
			want := []string{
				"provider_access.ended by operator",
				"provider_access.granted by " + ann.Principal.UserID,
				"provider_access.ended by " + ann.Principal.UserID,
				"provider_access.request_approved by " + ann.Principal.UserID,
				"provider_access.requested by " + staff.Principal.UserID,
				"provider_access.request_refused by " + zoe.Principal.UserID,
				"provider_access.requested by " + staff.Principal.UserID,
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("the client's audit log, newest first:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			staffNames, err := e.Accounts.AuditStaff(ctx, ann, site.ID)
			if err != nil || len(staffNames) != 1 || staffNames[0].ID != staff.Principal.UserID {
				t.Errorf("the staff the client's audit log names: %+v %v", staffNames, err)
			}
		})
	}
}

// Two administrators answering one request at once: one answer is kept,
// the other is told it came too late, and the access is open only if the
// answer kept is an approval. On both databases.
func TestOneAnswerPerRequest(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			staff := person(t, e, acme.ID, "Iris", "en", gatehouse.LevelIntegratorUser)
			admins := []gatehouse.Caller{person(t, e, site.ID, "Ann", "en", gatehouse.LevelClientAdmin), person(t, e, site.ID, "Zoe", "fr", gatehouse.LevelClientAdmin)}
			for round := range 5 {
				req, err := e.Accounts.RequestProviderAccess(ctx, staff, site.ID, "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.Accounts.EndProviderAccess(ctx, admins[0], site.ID); err != nil {
					t.Fatal(err)
				}
				errs := make([]error, 4)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() {
						if i%2 == 0 {
							_, errs[i] = e.Accounts.ApproveProviderAccessRequest(ctx, admins[i%2], site.ID, req.ID, nil)
						} else {
							_, errs[i] = e.Accounts.RefuseProviderAccessRequest(ctx, admins[i%2], site.ID, req.ID)
						}
					})
				}
				wg.Wait()
				won := -1
				for i, err := range errs {
					switch {
					case err == nil && won < 0:
						won = i
					case err == nil:
						t.Errorf("round %d: answers %d and %d both kept", round, won, i)
					case servicetest.Code(err) != gatehouse.ECONFLICT:
						t.Errorf("round %d: answer %d: %v", round, i, err)
					}
				}
				st, err := e.Accounts.ProviderAccessOf(ctx, admins[0], site.ID)
				if err != nil || won < 0 || st.Open != (won%2 == 0) {
					t.Errorf("round %d: kept answer %d, access open %v (%v)", round, won, st.Open, err)
				}
			}
		})
	}
}
