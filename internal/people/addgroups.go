package people

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// Adds are written in groups. An add takes its account's lock (the version
// of its rules and its count of client users are on its row) and keeps it
// until it commits, and every transaction pays its round trips and its
// commit. An add that arrives while groups are being written waits for the
// next group, and a group is written in one transaction: it locks its
// accounts in one order, reads the usernames of all its adds, reserves their
// client-user slots and writes each table's rows in one statement, as a
// bulk chunk does. Adds into one account share its lock; adds spread over
// many accounts share the transaction and its commit.
//
// Each add is still judged on its own, in arrival order, as if it were
// written alone after the adds before it: who may add, the level, the roles,
// the provider and home folder, already a user, the names of a new identity,
// the limit of client users. A group changes how many statements are sent,
// never what an add answers. So a group holds the adds of an account in
// their order and never two accounts' adds of one username (the second
// would meet an identity the first creates), and an account's adds are in
// one group under way at most. Where the group cannot tell an answer ahead
// of the database (an external id another member has, a person asked twice
// in a group that hits the limit), it is written again one add at a time.
// An add that requires a second factor is written alone: whether its caller
// may require one is decided on the identity as the add leaves it.

// maxAddGroup bounds a group: its accounts stay locked while it is written.
const maxAddGroup = 64

// defaultAddWriters is how many groups are written at once, of different
// accounts, unless Options.AddWriters says otherwise. One writer for every
// account would let a group that waits for an account's lock (a bulk chunk
// holds it) hold back the adds of every other account; more than two
// measured no faster.
const defaultAddWriters = 2

// pendingAdd is one add, its fields checked, waiting for its group.
type pendingAdd struct {
	ctx            context.Context
	caller         gatehouse.Caller
	accountID      string
	in             enrolment
	requestedRoles []string
	mfaRequired    bool
	done           chan addOutcome
}

type addOutcome struct {
	member gatehouse.Member
	err    error
}

// addQueues holds the adds that wait for a group, and the accounts of the
// groups being written.
type addQueues struct {
	mu      sync.Mutex
	waiting []*pendingAdd
	busy    map[string]bool // accounts with a group being written
	writers int
}

// errRegroup rolls a group back to write its adds one at a time.
var errRegroup = errors.New("people: the group is written again one add at a time")

// errNoneAdmitted rolls back a group none of whose adds may be written.
var errNoneAdmitted = errors.New("people: no add of the group is admitted")

// addInGroup writes the add with others that arrive meanwhile, and returns
// its own answer.
func (s *Service) addInGroup(p *pendingAdd) (gatehouse.Member, error) {
	q := &s.addQueues
	q.mu.Lock()
	q.waiting = append(q.waiting, p)
	if q.writers < s.addWriters {
		q.writers++
		go s.writeAddGroups()
	}
	q.mu.Unlock()
	// Once queued, an add is written even if its caller goes: it may be in
	// a group already, and then its answer is known only at the commit.
	out := <-p.done
	return out.member, out.err
}

// writeAddGroups writes the next group of the adds waiting, then the next,
// until none can be formed: the adds left, if any, are of accounts another
// writer holds, and that writer takes them after its group.
func (s *Service) writeAddGroups() {
	q := &s.addQueues
	q.mu.Lock()
	for {
		var group []*pendingAdd
		group, q.waiting = nextAddGroup(q.waiting, q.busy)
		if len(group) == 0 {
			q.writers--
			q.mu.Unlock()
			return
		}
		if q.busy == nil {
			q.busy = map[string]bool{}
		}
		for _, p := range group {
			q.busy[p.accountID] = true
		}
		q.mu.Unlock()
		s.writeAddGroup(group)
		q.mu.Lock()
		for _, p := range group {
			delete(q.busy, p.accountID)
		}
	}
}

// nextAddGroup takes the next group from the adds waiting, in arrival
// order: an add that requires a second factor alone, the others up to
// maxAddGroup. An account with a group under way (busy) waits for it; an
// account one of whose adds is left for later has its later adds left too,
// so that each account's adds keep their order.
func nextAddGroup(waiting []*pendingAdd, busy map[string]bool) (group, rest []*pendingAdd) {
	left := map[string]bool{}        // accounts whose adds wait for a later group
	usernames := map[string]string{} // username key → the account of the group's add
	rest = make([]*pendingAdd, 0, len(waiting))
	for k, p := range waiting {
		if len(group) == 1 && group[0].mfaRequired {
			return group, append(rest, waiting[k:]...)
		}
		key := gatehouse.UsernameKey(p.in.Username)
		other, named := usernames[key]
		if busy[p.accountID] || left[p.accountID] || len(group) == maxAddGroup ||
			(p.mfaRequired && len(group) > 0) || (named && other != p.accountID) {
			left[p.accountID] = true
			rest = append(rest, p)
			continue
		}
		usernames[key] = p.accountID
		group = append(group, p)
	}
	return group, rest
}

// writeAddGroup writes one group and answers each of its adds.
func (s *Service) writeAddGroup(group []*pendingAdd) {
	// Adds whose callers went before their group began are not written.
	live := group[:0:0]
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.done <- addOutcome{err: err}
		} else {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return
	}
	if s.beforeAddGroup != nil {
		s.beforeAddGroup(len(live))
	}
	// The group is written whatever becomes of the request that began it.
	ctx := context.WithoutCancel(live[0].ctx)
	outcomes, err := s.admitGroup(ctx, live)
	if len(live) > 1 && writeAgainAlone(live, err) {
		for _, p := range live {
			s.writeAddGroup([]*pendingAdd{p})
		}
		return
	}
	added := false
	for i, p := range live {
		out := addOutcome{err: err}
		if err == nil {
			out = outcomes[i]
			added = added || out.err == nil
		}
		p.done <- out
	}
	if added {
		s.MailQueued()
	}
}

// admitGroup writes a group's adds in one transaction and returns each
// add's answer; an error is every add's.
func (s *Service) admitGroup(ctx context.Context, group []*pendingAdd) ([]addOutcome, error) {
	var outcomes []addOutcome
	err := s.enrolmentStore.Write(ctx, func(tx EnrolmentTx) error {
		// The store may run this again (a PostgreSQL deadlock or
		// serialization failure): every answer is worked out anew.
		outcomes = make([]addOutcome, len(group))
		j := &groupJudge{s: s, tx: tx, group: group, outcomes: outcomes, now: s.Now()}
		return j.admit(ctx)
	})
	if errors.Is(err, errNoneAdmitted) {
		err = nil
	}
	return outcomes, err
}

// groupJudge works out one group's adds in its transaction.
type groupJudge struct {
	s        *Service
	tx       EnrolmentTx
	group    []*pendingAdd
	outcomes []addOutcome
	now      time.Time
	accounts map[string]gatehouse.Account // by id, as authorized
	brands   map[string]gatehouse.Brand   // by account id
	roles    [][]gatehouse.Role           // each add's, resolved
	users    []gatehouse.User             // each add's identity; ID "" for a new one
	// refusedFor names, for an add refused because an earlier add of the
	// group takes in the same username or external id, that earlier add.
	refusedFor map[int]int
}

// refuse answers add i with err when err is a refusal; an error of the store
// (internal, or the database out of reach) is the whole group's, and is
// returned.
func (j *groupJudge) refuse(i int, err error) error {
	if code := gatehouse.ErrorCode(err); code == gatehouse.EINTERNAL || code == gatehouse.EUNAVAILABLE {
		return err
	}
	j.outcomes[i].err = err
	return nil
}

// admitted lists the adds not refused yet, in arrival order.
func (j *groupJudge) admitted() []int {
	var ids []int
	for i := range j.group {
		if j.outcomes[i].err == nil {
			ids = append(ids, i)
		}
	}
	return ids
}

// admittedByAccount lists the adds not refused yet by account, the accounts
// in the order of their ids: the order the group locks them in, so that two
// groups never wait for each other's accounts.
func (j *groupJudge) admittedByAccount() (accountIDs []string, adds map[string][]int) {
	adds = map[string][]int{}
	for _, i := range j.admitted() {
		id := j.group[i].accountID
		if len(adds[id]) == 0 {
			accountIDs = append(accountIDs, id)
		}
		adds[id] = append(adds[id], i)
	}
	slices.Sort(accountIDs)
	return accountIDs, adds
}

// accountIDs lists the accounts of the group's adds, once each.
func (j *groupJudge) accountIDs() []string {
	var ids []string
	for _, p := range j.group {
		if !slices.Contains(ids, p.accountID) {
			ids = append(ids, p.accountID)
		}
	}
	return ids
}

// prefetchedAccounts answers Account from the accounts a group read at once,
// and every other read from its transaction.
type prefetchedAccounts struct {
	EnrolmentTx
	accounts map[string]gatehouse.Account
}

func (r prefetchedAccounts) Account(ctx context.Context, id string) (gatehouse.Account, error) {
	if a, ok := r.accounts[id]; ok {
		return a, nil
	}
	return r.EnrolmentTx.Account(ctx, id)
}

// accountOf is the account add i is made to, as its caller was authorized
// on it.
func (j *groupJudge) accountOf(i int) gatehouse.Account {
	return j.accounts[j.group[i].accountID]
}

func (j *groupJudge) admit(ctx context.Context) error {
	steps := []func(context.Context) error{j.authorize, j.resolve, j.identify, j.reserve, j.write}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
		if len(j.admitted()) == 0 {
			return errNoneAdmitted
		}
	}
	return nil
}

// authorize decides who may add whom, once per caller and account, and locks
// the rules of the accounts added to for the rest of the transaction.
func (j *groupJudge) authorize(ctx context.Context) error {
	type decision struct {
		principal gatehouse.Principal
		accountID string
		account   gatehouse.Account
		held      gatehouse.Access
		err       error
	}
	var decided []decision
	j.accounts = map[string]gatehouse.Account{}
	// The group's accounts are read and locked at once, before anything
	// else: the roles and folders read below stay while this transaction
	// lasts, and no other add to these accounts slips between the reads and
	// the writes. Each decision reads its account from them. An account
	// whose adds are all refused stays locked, unchanged, until the group
	// ends; one that went meanwhile is not found, its adds' answer.
	locked, err := j.tx.LockAccounts(ctx, j.accountIDs())
	if err != nil {
		return err
	}
	reader := prefetchedAccounts{EnrolmentTx: j.tx, accounts: locked}
	for i, p := range j.group {
		k := slices.IndexFunc(decided, func(d decision) bool {
			return d.accountID == p.accountID && samePrincipal(d.principal, p.caller.Principal)
		})
		if k < 0 {
			d := decision{principal: p.caller.Principal, accountID: p.accountID}
			d.account, d.held, d.err = j.s.AuthorizeAccess(ctx, reader, p.caller, p.accountID, policy.AddMember, policy.Target{})
			decided, k = append(decided, d), len(decided)
		}
		d := decided[k]
		err := d.err
		if err == nil && !levelFitsAccount(p.in.Level, d.account.Kind) {
			err = gatehouse.Invalid("level", "a %s account takes %s", d.account.Kind, levelsOf(d.account.Kind))
		}
		if err == nil {
			err = kernel.DecideOn(p.caller, d.held, d.account, policy.AddMember, policy.Target{Level: p.in.Level})
		}
		if err := j.refuse(i, err); err != nil {
			return err
		}
		if err == nil {
			j.accounts[p.accountID] = d.account
		}
	}
	accountIDs, _ := j.admittedByAccount()
	// The brands only dress the e-mails. An account's people see its
	// integrator's brand, so accounts of one integrator share one read.
	j.brands = map[string]gatehouse.Brand{}
	byOwner := map[string]gatehouse.Brand{}
	for _, id := range accountIDs {
		owner := brandOwner(j.accounts[id])
		brand, read := byOwner[owner]
		if !read {
			var err error
			if brand, err = j.s.MailBrand(ctx, j.tx, kernel.MailScope{AccountID: id}); err != nil {
				return err
			}
			byOwner[owner] = brand
		}
		j.brands[id] = brand
	}
	return nil
}

// resolve finds each add's roles and checks its identity provider.
func (j *groupJudge) resolve(ctx context.Context) error {
	j.roles = make([][]gatehouse.Role, len(j.group))
	resolved := map[string][]gatehouse.Role{}
	for _, i := range j.admitted() {
		p := j.group[i]
		key := p.accountID + "\x00" + strings.Join(p.requestedRoles, "\x00")
		roles, seen := resolved[key]
		if !seen {
			var err error
			if roles, err = access.ResolveRoles(ctx, j.tx, p.accountID, "roles", p.requestedRoles); err != nil {
				if err := j.refuse(i, err); err != nil {
					return err
				}
				continue
			}
			resolved[key] = roles
		}
		j.roles[i] = roles
		if p.in.IdentityProviderID != "" {
			if err := j.refuse(i, signin.ProviderForAccount(ctx, j.tx, p.in.IdentityProviderID, j.accountOf(i))); err != nil {
				return err
			}
		}
	}
	return nil
}

// identify finds the identity of each add's username and refuses the adds
// of people already in the account, of new identities without names, and of
// home folders out of reach.
func (j *groupJudge) identify(ctx context.Context) error {
	// A username is in one account of the group only (nextAddGroup), so
	// the states of all the accounts' usernames go in one map.
	usernames := map[string][]string{}
	for _, i := range j.admitted() {
		p := j.group[i]
		usernames[p.accountID] = append(usernames[p.accountID], p.in.Username)
	}
	byAccount, err := j.tx.UsernameStatesByAccount(ctx, usernames)
	if err != nil {
		return err
	}
	states := map[string]gatehouse.UsernameState{}
	for _, found := range byAccount {
		for key, st := range found {
			states[key] = st
		}
	}
	var existing []string
	for _, i := range j.admitted() {
		u := j.group[i].in.Username
		if st := states[gatehouse.UsernameKey(u)]; st.Exists && !st.Member {
			existing = append(existing, u)
		}
	}
	known := map[string]gatehouse.User{}
	if len(existing) > 0 {
		if known, err = j.tx.UsersByUsername(ctx, existing); err != nil {
			return err
		}
	}
	j.users = make([]gatehouse.User, len(j.group))
	j.refusedFor = map[int]int{}
	// The usernames and external ids (by account) an earlier add of the
	// group takes in, with that add.
	joining, externalIDs := map[string]int{}, map[string]int{}
	for _, i := range j.admitted() {
		p := &j.group[i].in
		key := gatehouse.UsernameKey(p.Username)
		if earlier, ok := joining[key]; ok || states[key].Member {
			j.outcomes[i].err = gatehouse.Errorf(gatehouse.EALREADYMEMBER, "%s is already a user of this account", p.Username)
			if ok {
				j.refusedFor[i] = earlier
			}
			continue
		}
		user, found := known[key]
		if !found && !j.validNames(i) {
			continue
		}
		if p.HomeFolderID != "" {
			// A new member holds no grant yet: they reach a folder only
			// through their level or their roles, which cover every folder.
			probe := gatehouse.Membership{AccountID: j.group[i].accountID, UserID: user.ID, Level: p.Level}
			if err := j.refuse(i, j.s.checkHomeFolder(ctx, j.tx, probe, len(j.roles[i]) > 0, p.HomeFolderID)); err != nil {
				return err
			}
			if j.outcomes[i].err != nil {
				continue
			}
		}
		externalKey := j.group[i].accountID + "\x00" + p.ExternalID
		if earlier, ok := externalIDs[externalKey]; ok && p.ExternalID != "" {
			j.outcomes[i].err, j.refusedFor[i] = externalIDTaken(), earlier
			continue
		}
		j.users[i], joining[key], externalIDs[externalKey] = user, i, i
	}
	return nil
}

// validNames checks the names of add i, whose username is new, when its
// caller must give them; it refuses the add and returns false otherwise.
func (j *groupJudge) validNames(i int) bool {
	p := &j.group[i].in
	if !p.NamesRequired {
		return true
	}
	var err error
	if p.FirstName, err = gatehouse.ValidatePersonName("first_name", p.FirstName); err == nil {
		p.LastName, err = gatehouse.ValidatePersonName("last_name", p.LastName)
	}
	j.outcomes[i].err = err
	return err == nil
}

// reserve counts the client users among each account's adds against the
// account's limit, in arrival order: those past the limit are refused. It
// raises the versions of the accounts added to in the same statement.
func (j *groupJudge) reserve(ctx context.Context) error {
	clientUsers := map[string][]int{} // by account, in arrival order
	want := map[string]int{}
	for _, i := range j.admitted() {
		if p := j.group[i]; p.in.Level == gatehouse.LevelClientUser {
			clientUsers[p.accountID] = append(clientUsers[p.accountID], i)
			want[p.accountID]++
		}
	}
	accountIDs, _ := j.admittedByAccount()
	granted, err := j.tx.BumpAndReserve(ctx, accountIDs, want)
	if err != nil {
		return err
	}
	for id, adds := range clientUsers {
		for _, i := range adds[granted[id]:] {
			j.outcomes[i].err = gatehouse.Errorf(gatehouse.EUSERLIMIT, "the account has reached its limit of client users")
		}
	}
	for _, earlier := range j.refusedFor {
		if j.outcomes[earlier].err != nil {
			// A later add of the same person (or external id) was refused
			// as already taken in by an add the limit has now refused:
			// alone, each is judged by what the ones before it really did.
			return errRegroup
		}
	}
	return nil
}

// write creates the new identities and writes every admitted add.
func (j *groupJudge) write(ctx context.Context) error {
	admitted := j.admitted()
	var fresh []gatehouse.User
	for _, i := range admitted {
		if j.users[i].ID == "" {
			p := j.group[i].in
			j.users[i] = gatehouse.User{ID: j.s.NewID(), Username: p.Username, FirstName: p.FirstName,
				LastName: p.LastName, Language: p.Language, Phone: p.Phone, UserType: p.UserType,
				IdentityProviderID: p.IdentityProviderID, Status: gatehouse.UserPending, CreatedAt: j.now}
			fresh = append(fresh, j.users[i])
		}
	}
	if len(fresh) > 0 {
		// In one order of usernames: two groups creating the same ones
		// wait for each other in turn, never both at once.
		slices.SortFunc(fresh, func(a, b gatehouse.User) int {
			return strings.Compare(gatehouse.UsernameKey(a.Username), gatehouse.UsernameKey(b.Username))
		})
		// Another request may have created one of these usernames
		// meanwhile; then its identity is the one, with its names (R-U1,
		// R-U2).
		stored, err := j.tx.InsertUsersIfAbsent(ctx, fresh)
		if err != nil {
			return err
		}
		var taken []string
		for _, u := range fresh {
			if !stored[gatehouse.UsernameKey(u.Username)] {
				taken = append(taken, u.Username)
			}
		}
		if len(taken) > 0 {
			others, err := j.tx.UsersByUsername(ctx, taken)
			if err != nil {
				return err
			}
			for _, i := range admitted {
				if other, ok := others[gatehouse.UsernameKey(j.users[i].Username)]; ok {
					j.users[i] = other
				}
			}
		}
	}
	var batch gatehouse.WriteBatch
	for _, i := range admitted {
		p := j.group[i]
		if j.s.addFault != nil {
			if err := j.s.addFault(p.accountID); err != nil {
				return err
			}
		}
		in := p.in
		in.Roles = j.roles[i]
		b, member, err := j.s.admission(p.caller, j.accountOf(i), j.brands[p.accountID], j.users[i], in, j.now)
		if err != nil {
			return err
		}
		batch.Add(b)
		j.outcomes[i].member = member
	}
	if err := j.tx.InsertBatch(ctx, batch); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		if len(j.group) > 1 {
			return errRegroup
		}
		return j.conflict()
	} else if err != nil {
		return err
	}
	if p := j.group[0]; len(j.group) == 1 && p.mfaRequired {
		return j.requireMFA(ctx, p.caller, j.users[0].ID)
	}
	return nil
}

// conflict says why the one add of a group met a conflict writing. Under
// the account's lock the person was seen not to be a user of the account,
// so the directory's id is the one taken when the add has one. (A failed
// statement ends a PostgreSQL transaction: nothing more can be read in it.)
func (j *groupJudge) conflict() error {
	in := j.group[0].in
	if in.ExternalID != "" {
		return externalIDTaken()
	}
	return gatehouse.Errorf(gatehouse.EALREADYMEMBER, "%s is already a user of this account", in.Username)
}

// requireMFA makes a second factor mandatory for the identity an add
// admitted. It changes the identity, which an existing person shares with
// their other accounts: the caller must be allowed to change it.
func (j *groupJudge) requireMFA(ctx context.Context, c gatehouse.Caller, userID string) error {
	user, err := j.tx.User(ctx, userID)
	if err != nil {
		return err
	}
	if _, err := j.s.AuthorizeIdentity(ctx, j.tx, c, user, policy.EditIdentity, "mfa_required"); err != nil {
		return err
	}
	return j.tx.RequireMFA(ctx, userID)
}

// writeAgainAlone tells whether a group that failed with err is written
// again one add at a time: when it asks so, and on a fault in a group over
// several accounts, so that a fault is only ever its own add's answer. With
// the database out of reach each add alone would fail as well.
func writeAgainAlone(group []*pendingAdd, err error) bool {
	if errors.Is(err, errRegroup) {
		return true
	}
	spansAccounts := slices.ContainsFunc(group, func(p *pendingAdd) bool { return p.accountID != group[0].accountID })
	return err != nil && spansAccounts && gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE
}

// brandOwner is the account whose brand (over the platform's default) an
// account's people see: its integrator.
func brandOwner(a gatehouse.Account) string {
	if a.Kind == gatehouse.KindIntegrator {
		return a.ID
	}
	return a.IntegratorID
}

// samePrincipal tells whether two requests act as the same principal, so
// that one decision serves both.
func samePrincipal(a, b gatehouse.Principal) bool {
	return reflect.DeepEqual(a, b)
}
