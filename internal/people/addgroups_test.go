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
	into := make([]accountAdd, len(queued))
	for i, a := range queued {
		into[i] = accountAdd{accountID, a}
	}
	return addAcrossAccounts(t, e, []accountAdd{{accountID, first}}, into)
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

// Adds to several accounts that wait together are written in one group;
// each account's adds keep their order, a username is in one account of a
// group only, and each add still gets the answer it would get alone.
func TestAddsToSeveralAccountsWrittenTogether(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			siteA := e.Account(t, gatehouse.KindClient, "Site A", acme.ID) // 9 client users at most
			for i := range 7 {
				e.Person(t, siteA.ID, fmt.Sprintf("old%d@example.com", i), gatehouse.LevelClientUser)
			}
			siteB := e.Account(t, gatehouse.KindClient, "Site B", acme.ID)
			zed := e.Account(t, gatehouse.KindIntegrator, "Zed", "")
			siteZ := e.Account(t, gatehouse.KindClient, "Site Z", zed.ID)
			hold1 := e.Account(t, gatehouse.KindClient, "Held 1", acme.ID)
			hold2 := e.Account(t, gatehouse.KindClient, "Held 2", acme.ID)
			adminOfA := e.Member(t, siteA.ID, gatehouse.LevelClientAdmin) // may add in A, not in B
			named := func(username string, level gatehouse.Level) people.NewMember {
				return people.NewMember{Username: username, FirstName: "New", LastName: "Person", Level: level}
			}
			op := servicetest.Operator
			// The writers each hold a group of one until the others wait
			// behind them, in this order.
			held := heldByWriters(t, e, []accountAdd{
				{hold1.ID, groupedAdd{op, named("h1@example.com", gatehouse.LevelClientUser), ""}},
				{hold2.ID, groupedAdd{op, named("h2@example.com", gatehouse.LevelClientUser), ""}},
			})
			queued := []accountAdd{
				{siteA.ID, groupedAdd{op, named("a1@example.com", gatehouse.LevelClientUser), ""}}, // A's 8th
				{siteB.ID, groupedAdd{op, named("shared@example.com", gatehouse.LevelClientUser), ""}},
				// The same username into A waits for the next group, and
				// so do A's adds after it: alone, a2 would come after it.
				{siteA.ID, groupedAdd{op, named("shared@example.com", gatehouse.LevelClientUser), ""}}, // A's 9th
				{siteA.ID, groupedAdd{op, named("a2@example.com", gatehouse.LevelClientUser), gatehouse.EUSERLIMIT}},
				// A's administrator does not see B, so B is not found.
				{siteB.ID, groupedAdd{adminOfA, named("b2@example.com", gatehouse.LevelClientUser), gatehouse.ENOTFOUND}},
				{siteA.ID, groupedAdd{op, named("a3@example.com", gatehouse.LevelClientAdmin), ""}}, // not counted
				{siteZ.ID, groupedAdd{op, named("z1@example.com", gatehouse.LevelClientUser), ""}},
			}
			sizes := addAcrossAccounts(t, e, held, queued)
			if want := heldThen(held, 4, 3); !slices.Equal(sizes, want) {
				t.Errorf("groups of %v, want %v: the held ones, then a1, B's shared, b2 and z1, then A's last three", sizes, want)
			}
			for _, c := range []struct {
				accountID string
				want      int
			}{{siteA.ID, 9}, {siteB.ID, 1}, {siteZ.ID, 1}} {
				if n, err := e.DB.ClientUsers(ctx, c.accountID); err != nil || n != c.want {
					t.Errorf("account %s counts %d client users (%v), want %d", c.accountID, n, err, c.want)
				}
			}
			shared, err := e.DB.UserByUsername(ctx, "shared@example.com")
			if err != nil {
				t.Fatal(err)
			}
			for _, accountID := range []string{siteA.ID, siteB.ID} {
				m, err := e.People.FindMembers(ctx, op, accountID, gatehouse.MemberFilter{Query: "shared@"})
				if err != nil || len(m.Items) != 1 || m.Items[0].UserID != shared.ID {
					t.Errorf("shared@ in %s: %+v (%v), want the one identity", accountID, m.Items, err)
				}
			}
			for _, refused := range []string{"a2@example.com", "b2@example.com"} {
				if _, err := e.DB.UserByUsername(ctx, refused); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
					t.Errorf("%s, refused, has an identity: %v", refused, err)
				}
			}
		})
	}
}

// accountAdd is a grouped add into the given account.
type accountAdd struct {
	accountID string
	add       groupedAdd
}

// heldByWriters keeps of held one add for each of the service's add
// writers (two on PostgreSQL, one on SQLite, which writes one transaction
// at a time): each writer holds one group until the queued adds wait.
func heldByWriters(t *testing.T, e *servicetest.Env, held []accountAdd) []accountAdd {
	t.Helper()
	if len(held) < e.People.AddWriters() {
		t.Fatalf("%d held adds for %d writers", len(held), e.People.AddWriters())
	}
	return held[:e.People.AddWriters()]
}

// heldThen is the sizes of the groups written: one add for each held
// group, then sizes.
func heldThen(held []accountAdd, sizes ...int) []int {
	var all []int
	for range held {
		all = append(all, 1)
	}
	return append(all, sizes...)
}

// addAcrossAccounts makes the held adds, whose groups each hold a writer
// until every add of queued waits behind them, in order, then lets them all
// be written; it checks each add's answer and returns the groups' sizes.
func addAcrossAccounts(t *testing.T, e *servicetest.Env, held, queued []accountAdd) []int {
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
		holding := len(sizes) <= len(held)
		mu.Unlock()
		if holding {
			<-release
		}
	})
	t.Cleanup(func() { e.People.SetBeforeAddGroup(nil) })
	all := append(slices.Clone(held), queued...)
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, a := range all {
		wg.Go(func() { _, errs[i] = e.People.AddUser(ctx, a.add.caller, a.accountID, a.add.in) })
		waitFor(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			if i < len(held) {
				return len(sizes) == i+1
			}
			return len(sizes) == len(held) && e.People.WaitingAdds() == i+1-len(held)
		})
	}
	close(release)
	wg.Wait()
	for i, a := range all {
		if got := gatehouse.ErrorCode(errs[i]); got != a.add.wantCode {
			t.Errorf("add %d (%s into %s): %q (%v), want %q", i, a.add.in.Username, a.accountID, got, errs[i], a.add.wantCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(sizes)
}

// A fault while writing a group over several accounts is written again one
// add at a time: only the add it comes from gets it, whatever account
// shares its group.
func TestAFaultInASharedGroupIsOnlyItsOwnAddsAnswer(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			faulty := e.Account(t, gatehouse.KindClient, "Faulty", acme.ID)
			zed := e.Account(t, gatehouse.KindIntegrator, "Zed", "")
			sound := e.Account(t, gatehouse.KindClient, "Sound", zed.ID)
			hold1 := e.Account(t, gatehouse.KindClient, "Held 1", acme.ID)
			hold2 := e.Account(t, gatehouse.KindClient, "Held 2", acme.ID)
			e.People.SetAddFault(func(accountID string) error {
				if accountID == faulty.ID {
					return gatehouse.Errorf(gatehouse.EINTERNAL, "a fault of the store")
				}
				return nil
			})
			t.Cleanup(func() { e.People.SetAddFault(nil) })
			named := func(username string) people.NewMember {
				return people.NewMember{Username: username, FirstName: "New", LastName: "Person", Level: gatehouse.LevelClientUser}
			}
			op := servicetest.Operator
			held := heldByWriters(t, e, []accountAdd{
				{hold1.ID, groupedAdd{op, named("h1@example.com"), ""}},
				{hold2.ID, groupedAdd{op, named("h2@example.com"), ""}},
			})
			queued := []accountAdd{
				{sound.ID, groupedAdd{op, named("before@example.com"), ""}},
				{faulty.ID, groupedAdd{op, named("fault@example.com"), gatehouse.EINTERNAL}},
				{sound.ID, groupedAdd{op, named("after@example.com"), ""}},
			}
			sizes := addAcrossAccounts(t, e, held, queued)
			if want := heldThen(held, 3, 1, 1, 1); !slices.Equal(sizes, want) {
				t.Errorf("groups of %v, want %v: the held ones, the shared group, then each of its adds alone", sizes, want)
			}
			if n, err := e.DB.ClientUsers(ctx, sound.ID); err != nil || n != 2 {
				t.Errorf("the sound account counts %d client users (%v), want its two", n, err)
			}
			if _, err := e.DB.UserByUsername(ctx, "fault@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("the add that failed left an identity: %v", err)
			}
		})
	}
}
