package people_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// groupedAdd is one add of a group and the answer it must get: the one it
// would get written alone, after the adds queued before it.
type groupedAdd struct {
	caller   gatehouse.Caller
	in       people.NewMember
	wantCode string // "" for added
}

// Adds that arrive while their account's group is being written are
// written together, in one transaction; each still gets the answer it would
// get written alone after the adds before it.
func TestAddsWrittenTogetherAnswerAsIfAlone(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("mixed", func(t *testing.T) {
				e := servicetest.Start(t, b)
				ctx := context.Background()
				acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
				site := e.Account(t, gatehouse.KindClient, "Site", acme.ID) // 9 client users at most
				for i := range 7 {
					e.Person(t, site.ID, fmt.Sprintf("old%d@example.com", i), gatehouse.LevelClientUser)
				}
				elsewhere := e.Account(t, gatehouse.KindClient, "Elsewhere", acme.ID)
				e.Person(t, elsewhere.ID, "known@example.com", gatehouse.LevelClientAdmin) // active, named Ann
				clientUser := e.Member(t, site.ID, gatehouse.LevelClientUser)              // may not add anyone
				named := func(username string, level gatehouse.Level) people.NewMember {
					return people.NewMember{Username: username, FirstName: "New", LastName: "Person", Level: level}
				}
				noNames := named("nameless@example.com", gatehouse.LevelClientUser)
				noNames.FirstName, noNames.LastName = "", ""
				badRole := named("role@example.com", gatehouse.LevelClientUser)
				badRole.Roles = []string{"no such role"}
				first := groupedAdd{servicetest.Operator, named("first@example.com", gatehouse.LevelClientUser), ""} // the 8th client user
				queued := []groupedAdd{
					{servicetest.Operator, named("dup@example.com", gatehouse.LevelClientAdmin), ""},
					{servicetest.Operator, named("DUP@example.com", gatehouse.LevelClientUser), gatehouse.EALREADYMEMBER},
					{servicetest.Operator, noNames, gatehouse.EINVALID},
					{servicetest.Operator, badRole, gatehouse.EINVALID},
					{clientUser, named("forbidden@example.com", gatehouse.LevelClientUser), gatehouse.EFORBIDDEN},
					{servicetest.Operator, named("old0@example.com", gatehouse.LevelClientAdmin), gatehouse.EALREADYMEMBER},
					{servicetest.Operator, named("last@example.com", gatehouse.LevelClientUser), ""}, // the 9th
					{servicetest.Operator, named("over@example.com", gatehouse.LevelClientUser), gatehouse.EUSERLIMIT},
					{servicetest.Operator, named("known@example.com", gatehouse.LevelClientAdmin), ""},
				}
				sizes := addAsGroup(t, e, site.ID, first, queued)
				if !slices.Equal(sizes, []int{1, len(queued)}) {
					t.Errorf("groups of %v: want the first add alone, then the %d queued behind it together", sizes, len(queued))
				}
				if n, err := e.DB.ClientUsers(ctx, site.ID); err != nil || n != 9 {
					t.Errorf("the account counts %d client users (%v), want its limit of 9", n, err)
				}
				sent := e.Mail(t)
				for _, to := range []string{"first@example.com", "dup@example.com", "last@example.com"} {
					if mails := mailTo(sent, to); len(mails) != 1 || !strings.Contains(mails[0].Body, "/activate?token=") {
						t.Errorf("%s got %d e-mails, want one invitation: %+v", to, len(mails), mails)
					}
				}
				if mails := mailTo(sent, "known@example.com"); len(mails) != 1 || strings.Contains(mails[0].Body, "/activate?token=") {
					t.Errorf("known@, active elsewhere, got %+v: want one notice of the new site, no invitation", mails)
				}
				for _, to := range []string{"nameless@example.com", "role@example.com", "forbidden@example.com", "over@example.com"} {
					if mails := mailTo(sent, to); len(mails) != 0 {
						t.Errorf("%s, refused, got %d e-mails", to, len(mails))
					}
					if _, err := e.DB.UserByUsername(ctx, to); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
						t.Errorf("%s, refused, has an identity: %v", to, err)
					}
				}
			})
			t.Run("an external id another member has", func(t *testing.T) {
				// Only the database sees this one: the group is written
				// again one add at a time, and only the add that clashes
				// is refused.
				e := servicetest.Start(t, b)
				acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
				old := e.Person(t, acme.ID, "old@example.com", gatehouse.LevelIntegratorUser)
				externalID := "E-1"
				if _, err := e.People.UpdateMember(context.Background(), servicetest.Operator, acme.ID, old.ID, people.MemberPatch{ExternalID: &externalID}); err != nil {
					t.Fatal(err)
				}
				named := func(username, externalID string) people.NewMember {
					return people.NewMember{Username: username, FirstName: "New", LastName: "Person", Level: gatehouse.LevelIntegratorUser, ExternalID: externalID}
				}
				first := groupedAdd{servicetest.Operator, named("first@example.com", ""), ""}
				queued := []groupedAdd{
					{servicetest.Operator, named("a@example.com", "E-2"), ""},
					{servicetest.Operator, named("clash@example.com", "E-1"), gatehouse.ECONFLICT},
					{servicetest.Operator, named("b@example.com", "E-2"), gatehouse.ECONFLICT},
					{servicetest.Operator, named("c@example.com", ""), ""},
				}
				if sizes := addAsGroup(t, e, acme.ID, first, queued); !slices.Equal(sizes, []int{1, 4, 1, 1, 1, 1}) {
					t.Errorf("groups of %v: want the queued group, then each of its adds alone", sizes)
				}
				if _, err := e.DB.UserByUsername(context.Background(), "clash@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
					t.Errorf("the add refused left an identity behind: %v", err)
				}
			})
			t.Run("one person twice at the limit", func(t *testing.T) {
				// A client user refused at the limit does not join, so the
				// same person asked for as an administrator next joins.
				e := servicetest.Start(t, b)
				acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
				site := e.Account(t, gatehouse.KindClient, "Site", acme.ID)
				for i := range 8 {
					e.Person(t, site.ID, fmt.Sprintf("old%d@example.com", i), gatehouse.LevelClientUser)
				}
				named := func(username string, level gatehouse.Level) people.NewMember {
					return people.NewMember{Username: username, FirstName: "New", LastName: "Person", Level: level}
				}
				first := groupedAdd{servicetest.Operator, named("first@example.com", gatehouse.LevelClientUser), ""} // the 9th
				queued := []groupedAdd{
					{servicetest.Operator, named("twice@example.com", gatehouse.LevelClientUser), gatehouse.EUSERLIMIT},
					{servicetest.Operator, named("twice@example.com", gatehouse.LevelClientAdmin), ""},
				}
				addAsGroup(t, e, site.ID, first, queued)
				m, err := e.People.FindMembers(context.Background(), servicetest.Operator, site.ID, gatehouse.MemberFilter{Query: "twice@"})
				if err != nil || len(m.Items) != 1 || m.Items[0].Level != gatehouse.LevelClientAdmin {
					t.Errorf("twice@ in the account: %+v (%v), want one client administrator", m.Items, err)
				}
			})
		})
	}
}

// addAsGroup adds first, holds its group until every add of queued waits
// behind it, in order, then lets them all be written; it checks each add's
// answer and returns the sizes of the groups written.
func addAsGroup(t *testing.T, e *servicetest.Env, accountID string, first groupedAdd, queued []groupedAdd) []int {
	t.Helper()
	ctx := context.Background()
	var (
		mu      sync.Mutex
		sizes   []int
		release = make(chan struct{})
	)
	e.People.SetBeforeAddGroup(func(size int) {
		mu.Lock()
		sizes = append(sizes, size)
		firstGroup := len(sizes) == 1
		mu.Unlock()
		if firstGroup {
			<-release
		}
	})
	t.Cleanup(func() { e.People.SetBeforeAddGroup(nil) })
	all := append([]groupedAdd{first}, queued...)
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, a := range all {
		wg.Go(func() { _, errs[i] = e.People.AddUser(ctx, a.caller, accountID, a.in) })
		// Each add waits behind the first before the next is made, so the
		// queue holds them in this order.
		waitFor(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(sizes) == 1 && e.People.WaitingAdds(accountID) == i
		})
	}
	close(release)
	wg.Wait()
	for i, a := range all {
		if got := gatehouse.ErrorCode(errs[i]); got != a.wantCode {
			t.Errorf("add %d (%s, %s): %q (%v), want %q", i, a.in.Username, a.in.Level, got, errs[i], a.wantCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(sizes)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
