package people

import (
	"context"
	"reflect"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// A job's chunks are written one after the other, each in a transaction
// that holds the account's lock (PostgreSQL) or the database's one writer
// (SQLite). What a line writes — identifiers, the invitation's token, the
// message's texts, the audit events — takes a fifth of a chunk's time to
// work out and needs no lock: so the next chunk's lines are drafted from
// what the store held a moment before, while the chunk before them is being
// written, and the chunk's transaction keeps each drafted line only when
// what it reads under the lock is what the draft was made from (the
// account's name, its brand, the person's identity, the line's role and home
// folder). A line that differs is worked out again in the transaction, as
// every line was before: a draft can save time, never change an outcome.

// bulkDraft is a chunk's lines worked out before its transaction.
type bulkDraft struct {
	// afterLine is the line the chunk's lines follow (the job's NextLine
	// when the chunk is written) and lastLine the chunk's last.
	afterLine, lastLine int
	account             gatehouse.Account
	brand               gatehouse.Brand
	lines               map[int]draftedLine
}

// draftedLine is what one line would write.
type draftedLine struct {
	// user is the identity the line was drafted for: the one that had the
	// username, or a new one to create (fresh).
	user     gatehouse.User
	fresh    bool
	roleID   string
	folderID string
	batch    gatehouse.WriteBatch
	result   string
}

// draftBulkChunks drafts the job's chunks in order, each one ahead of the
// chunk being written, and sends them on the channel it returns until the
// lines run out or ctx ends. A chunk it could not draft is sent as nil: its
// transaction then works every line out itself.
func (s *Service) draftBulkChunks(ctx context.Context, p gatehouse.BulkPreview) <-chan *bulkDraft {
	drafts := make(chan *bulkDraft) // unbuffered: one draft ahead, no more
	go func() {
		defer close(drafts)
		for after := p.NextLine; ; {
			d, err := s.draftBulkChunk(ctx, p, after)
			if err == nil && d == nil {
				return // no lines left
			}
			select {
			case drafts <- d:
			case <-ctx.Done():
				return
			}
			if d == nil {
				return // the rest are worked out in their transactions
			}
			after = d.lastLine
		}
	}()
	return drafts
}

// draftBulkChunk drafts the chunk of lines after the given one; nil when
// there are none.
func (s *Service) draftBulkChunk(ctx context.Context, p gatehouse.BulkPreview, after int) (*bulkDraft, error) {
	r := s.bulkJobStore
	rows, err := r.BulkRows(ctx, p.ID, after, s.bulkChunkSize, true)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	account, err := r.Account(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	brand, err := s.MailBrand(ctx, r, kernel.MailScope{AccountID: account.ID})
	if err != nil {
		return nil, err
	}
	emails := make([]string, len(rows))
	for i, row := range rows {
		emails[i] = row.Email
	}
	states, err := r.UsernameStates(ctx, account.ID, emails)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, email := range emails {
		if states[gatehouse.UsernameKey(email)].Exists {
			known = append(known, email)
		}
	}
	users, err := r.UsersByUsername(ctx, known)
	if err != nil {
		return nil, err
	}
	lookups := newBulkLookups(r, account.ID)
	actor, now := bulkActor(p), s.Now()
	d := &bulkDraft{afterLine: after, lastLine: rows[len(rows)-1].Line, account: account, brand: brand, lines: map[int]draftedLine{}}
	for _, row := range rows {
		key := gatehouse.UsernameKey(row.Email)
		if states[key].Member {
			continue // skipped in its transaction
		}
		role, err := lookups.role(ctx, row.RoleID)
		if err != nil {
			return nil, err
		}
		if role == nil {
			continue // skipped in its transaction
		}
		if row.FolderID != "" {
			if exists, err := lookups.folderExists(ctx, row.FolderID); err != nil {
				return nil, err
			} else if !exists {
				continue // worked out in its transaction
			}
		}
		line := draftedLine{roleID: row.RoleID, folderID: row.FolderID}
		if user, ok := users[key]; ok {
			line.user = user
		} else if states[key].Exists {
			continue // the identity went between the two reads
		} else {
			line.user, line.fresh = s.freshBulkUser(row, now), true
		}
		batch, member, err := s.admission(actor, account, brand, line.user, enrolment{Username: row.Email, Email: row.Email,
			Language: "en", Level: p.Level, Roles: []gatehouse.Role{*role}, HomeFolderID: row.FolderID}, now)
		if err != nil {
			return nil, err
		}
		line.batch, line.result = batch, bulkResult(member)
		d.lines[row.Line] = line
	}
	return d, nil
}

// drafted returns the line's draft when the chunk's transaction reads what
// the draft was made from: the same account and brand, the line's role and
// home folder, and the same identity for its username.
func (d *bulkDraft) drafted(row gatehouse.BulkRow, user gatehouse.User) (draftedLine, bool) {
	if d == nil {
		return draftedLine{}, false
	}
	line, ok := d.lines[row.Line]
	if !ok || line.roleID != row.RoleID || line.folderID != row.FolderID {
		return draftedLine{}, false
	}
	u := line.user
	same := u.ID == user.ID && u.Username == user.Username && u.FirstName == user.FirstName &&
		u.LastName == user.LastName && u.Language == user.Language && u.Status == user.Status
	return line, same
}

// fitsLines tells whether the draft is of the chunk whose lines follow
// afterLine: another worker may have written some meanwhile.
func (d *bulkDraft) fitsLines(afterLine int) bool {
	return d != nil && d.afterLine == afterLine
}

// fits tells whether the draft was made from the account and brand as the
// chunk's transaction reads them.
func (d *bulkDraft) fits(account gatehouse.Account, brand gatehouse.Brand) bool {
	return d != nil && d.account.ID == account.ID && d.account.Name == account.Name && reflect.DeepEqual(d.brand, brand)
}

// freshUser is the identity a line's draft would create, if the draft is
// kept and its username is still free.
func (d *bulkDraft) freshUser(line int) (gatehouse.User, bool) {
	if d == nil {
		return gatehouse.User{}, false
	}
	l, ok := d.lines[line]
	return l.user, ok && l.fresh
}

// freshBulkUser is a new identity for a line whose username nobody has. The
// preview checked the names (invalid_name); a line without them makes an
// identity without names, which the person or an administrator fills in
// later.
func (s *Service) freshBulkUser(row gatehouse.BulkRow, now time.Time) gatehouse.User {
	return gatehouse.User{ID: s.NewID(), Username: row.Email, FirstName: row.FirstName, LastName: row.LastName,
		Language: "en", Status: gatehouse.UserPending, CreatedAt: now}
}

// bulkActor is on whose behalf a job adds people: whoever confirmed.
func bulkActor(p gatehouse.BulkPreview) gatehouse.Caller {
	if p.CreatedBy == (gatehouse.Principal{Operator: true}).ActorID() {
		return gatehouse.Caller{Principal: gatehouse.Principal{Operator: true}}
	}
	return gatehouse.Caller{Principal: gatehouse.Principal{UserID: p.CreatedBy}}
}

// bulkResult is a line's result once its person is added.
func bulkResult(m gatehouse.Member) string {
	if m.Status == gatehouse.MembershipActive {
		return "registered"
	}
	return "invited"
}

// bulkLookups reads a chunk's roles and home folders, each once.
type bulkLookups struct {
	r         BulkJobReader
	accountID string
	roles     map[string]*gatehouse.Role
	folders   map[string]bool
}

func newBulkLookups(r BulkJobReader, accountID string) *bulkLookups {
	return &bulkLookups{r: r, accountID: accountID, roles: map[string]*gatehouse.Role{}, folders: map[string]bool{}}
}

// role returns the role of this id, built in or the account's; nil when
// the account has no such role (any more).
func (l *bulkLookups) role(ctx context.Context, id string) (*gatehouse.Role, error) {
	if role, seen := l.roles[id]; seen {
		return role, nil
	}
	var role *gatehouse.Role
	if builtin, ok := gatehouse.BuiltinRole(id); ok {
		role = &builtin
	} else if custom, err := l.r.Role(ctx, l.accountID, id); err == nil {
		role = &custom
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return nil, err
	}
	l.roles[id] = role
	return role, nil
}

// folderExists tells whether the account still has the folder.
func (l *bulkLookups) folderExists(ctx context.Context, id string) (bool, error) {
	if exists, seen := l.folders[id]; seen {
		return exists, nil
	}
	_, err := l.r.Folder(ctx, l.accountID, id)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return false, err
	}
	l.folders[id] = err == nil
	return err == nil, nil
}
