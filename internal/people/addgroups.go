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

// Adds into one account are written in groups. On PostgreSQL an add takes
// the account's lock (the version of its rules and its count of client users
// are on its row) and keeps it until it commits, so adds into one account go
// one at a time, each paying its round trips and its commit under the lock.
// An add that arrives while a group of its account is being written waits
// for the next group, and a group is written in one transaction that reads
// the usernames of all its adds at once, reserves their client-user slots at
// once and writes each table's rows in one statement, as a bulk chunk does.
//
// Each add is still judged on its own, in arrival order, as if it were
// written alone after the adds before it: who may add, the level, the roles,
// the provider and home folder, already a user, the names of a new identity,
// the limit of client users. A group changes how many statements are sent,
// never what an add answers. Where the group cannot tell an answer ahead of
// the database (an external id another member has, a person asked twice in
// a group that hits the limit), it is written again one add at a time. An
// add that requires a second factor is written alone: whether its caller may
// require one is decided on the identity as the add leaves it.

// maxAddGroup bounds a group: its account stays locked while it is written.
const maxAddGroup = 64

// pendingAdd is one add, its fields checked, waiting for its group.
type pendingAdd struct {
	ctx            context.Context
	caller         gatehouse.Caller
	in             enrolment
	requestedRoles []string
	mfaRequired    bool
	done           chan addOutcome
}

type addOutcome struct {
	member gatehouse.Member
	err    error
}

// addQueues holds, for each account with a group being written, the adds
// that wait for its next group.
type addQueues struct {
	mu      sync.Mutex
	waiting map[string][]*pendingAdd
}

// errRegroup rolls a group back to write its adds one at a time.
var errRegroup = errors.New("people: the group is written again one add at a time")

// errNoneAdmitted rolls back a group none of whose adds may be written.
var errNoneAdmitted = errors.New("people: no add of the group is admitted")

// addInGroup writes the add with the others of its account that arrive
// meanwhile, and returns its own answer.
func (s *Service) addInGroup(accountID string, p *pendingAdd) (gatehouse.Member, error) {
	q := &s.addQueues
	q.mu.Lock()
	if waiting, busy := q.waiting[accountID]; busy {
		q.waiting[accountID] = append(waiting, p)
		q.mu.Unlock()
	} else {
		if q.waiting == nil {
			q.waiting = map[string][]*pendingAdd{}
		}
		q.waiting[accountID] = nil // a group of the account is being written
		q.mu.Unlock()
		go s.writeAddGroups(accountID, []*pendingAdd{p})
	}
	// Once queued, an add is written even if its caller goes: it may be in
	// a group already, and then its answer is known only at the commit.
	out := <-p.done
	return out.member, out.err
}

// writeAddGroups writes the account's group, then the adds that arrived
// meanwhile, until none waits.
func (s *Service) writeAddGroups(accountID string, group []*pendingAdd) {
	q := &s.addQueues
	for {
		s.writeAddGroup(accountID, group)
		q.mu.Lock()
		waiting := q.waiting[accountID]
		if len(waiting) == 0 {
			delete(q.waiting, accountID)
			q.mu.Unlock()
			return
		}
		group, q.waiting[accountID] = nextAddGroup(waiting)
		q.mu.Unlock()
	}
}

// nextAddGroup takes the next group from the adds waiting, in arrival
// order: an add that requires a second factor alone, the others up to
// maxAddGroup.
func nextAddGroup(waiting []*pendingAdd) (group, rest []*pendingAdd) {
	n := 1
	if !waiting[0].mfaRequired {
		for n < len(waiting) && n < maxAddGroup && !waiting[n].mfaRequired {
			n++
		}
	}
	return waiting[:n:n], slices.Clone(waiting[n:])
}

// writeAddGroup writes one group and answers each of its adds.
func (s *Service) writeAddGroup(accountID string, group []*pendingAdd) {
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
	outcomes, err := s.admitGroup(ctx, accountID, live)
	if errors.Is(err, errRegroup) && len(live) > 1 {
		for _, p := range live {
			s.writeAddGroup(accountID, []*pendingAdd{p})
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
func (s *Service) admitGroup(ctx context.Context, accountID string, group []*pendingAdd) ([]addOutcome, error) {
	var outcomes []addOutcome
	err := s.enrolmentStore.Write(ctx, func(tx EnrolmentTx) error {
		// The store may run this again (a PostgreSQL deadlock or
		// serialization failure): every answer is worked out anew.
		outcomes = make([]addOutcome, len(group))
		j := &groupJudge{s: s, tx: tx, group: group, outcomes: outcomes, now: s.Now()}
		return j.admit(ctx, accountID)
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
	account  gatehouse.Account
	brand    gatehouse.Brand
	roles    [][]gatehouse.Role // each add's, resolved
	users    []gatehouse.User   // each add's identity; ID "" for a new one
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

func (j *groupJudge) admit(ctx context.Context, accountID string) error {
	steps := []func(context.Context, string) error{j.authorize, j.resolve, j.identify, j.reserve, j.write}
	for _, step := range steps {
		if err := step(ctx, accountID); err != nil {
			return err
		}
		if len(j.admitted()) == 0 {
			return errNoneAdmitted
		}
	}
	return nil
}

// authorize decides who may add whom, once per caller, and locks the
// account's rules for the rest of the transaction.
func (j *groupJudge) authorize(ctx context.Context, accountID string) error {
	type decision struct {
		principal gatehouse.Principal
		account   gatehouse.Account
		held      gatehouse.Access
		err       error
	}
	var decided []decision
	for i, p := range j.group {
		k := slices.IndexFunc(decided, func(d decision) bool { return samePrincipal(d.principal, p.caller.Principal) })
		if k < 0 {
			d := decision{principal: p.caller.Principal}
			d.account, d.held, d.err = j.s.AuthorizeAccess(ctx, j.tx, p.caller, accountID, policy.AddMember, policy.Target{})
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
		if err == nil && j.account.ID == "" {
			j.account = d.account
		}
	}
	if j.account.ID == "" {
		return nil
	}
	// The brand only dresses the e-mails: it is read before the lock, which
	// the account's other adds wait for.
	var err error
	if j.brand, err = j.s.MailBrand(ctx, j.tx, kernel.MailScope{AccountID: j.account.ID}); err != nil {
		return err
	}
	// Lock the account's rules: the roles and folders read below stay
	// while this transaction lasts, and no other add to the account slips
	// between the reads and the writes.
	return j.tx.BumpAuthzVersion(ctx, j.account.ID)
}

// resolve finds each add's roles and checks its identity provider.
func (j *groupJudge) resolve(ctx context.Context, _ string) error {
	j.roles = make([][]gatehouse.Role, len(j.group))
	resolved := map[string][]gatehouse.Role{}
	for _, i := range j.admitted() {
		p := j.group[i]
		key := strings.Join(p.requestedRoles, "\x00")
		roles, seen := resolved[key]
		if !seen {
			var err error
			if roles, err = access.ResolveRoles(ctx, j.tx, j.account.ID, "roles", p.requestedRoles); err != nil {
				if err := j.refuse(i, err); err != nil {
					return err
				}
				continue
			}
			resolved[key] = roles
		}
		j.roles[i] = roles
		if p.in.IdentityProviderID != "" {
			if err := j.refuse(i, signin.ProviderForAccount(ctx, j.tx, p.in.IdentityProviderID, j.account)); err != nil {
				return err
			}
		}
	}
	return nil
}

// identify finds the identity of each add's username and refuses the adds
// of people already in the account, of new identities without names, and of
// home folders out of reach.
func (j *groupJudge) identify(ctx context.Context, _ string) error {
	var usernames []string
	for _, i := range j.admitted() {
		usernames = append(usernames, j.group[i].in.Username)
	}
	states, err := j.tx.UsernameStates(ctx, j.account.ID, usernames)
	if err != nil {
		return err
	}
	var existing []string
	for _, u := range usernames {
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
	// The usernames and external ids an earlier add of the group takes in,
	// with that add.
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
			probe := gatehouse.Membership{AccountID: j.account.ID, UserID: user.ID, Level: p.Level}
			if err := j.refuse(i, j.s.checkHomeFolder(ctx, j.tx, probe, len(j.roles[i]) > 0, p.HomeFolderID)); err != nil {
				return err
			}
			if j.outcomes[i].err != nil {
				continue
			}
		}
		if earlier, ok := externalIDs[p.ExternalID]; ok && p.ExternalID != "" {
			j.outcomes[i].err, j.refusedFor[i] = externalIDTaken(), earlier
			continue
		}
		j.users[i], joining[key], externalIDs[p.ExternalID] = user, i, i
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

// reserve counts the client users among the adds against the account's
// limit, in arrival order: those past the limit are refused.
func (j *groupJudge) reserve(ctx context.Context, _ string) error {
	var clientUsers []int
	for _, i := range j.admitted() {
		if j.group[i].in.Level == gatehouse.LevelClientUser {
			clientUsers = append(clientUsers, i)
		}
	}
	if len(clientUsers) == 0 {
		return nil
	}
	granted, err := j.tx.ReserveClientUserSlots(ctx, j.account.ID, len(clientUsers))
	if err != nil {
		return err
	}
	for _, i := range clientUsers[granted:] {
		j.outcomes[i].err = gatehouse.Errorf(gatehouse.EUSERLIMIT, "the account has reached its limit of client users")
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
func (j *groupJudge) write(ctx context.Context, _ string) error {
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
		in := p.in
		in.Roles = j.roles[i]
		b, member, err := j.s.admission(p.caller, j.account, j.brand, j.users[i], in, j.now)
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

// samePrincipal tells whether two requests act as the same principal, so
// that one decision serves both.
func samePrincipal(a, b gatehouse.Principal) bool {
	return reflect.DeepEqual(a, b)
}
