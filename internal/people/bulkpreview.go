package people

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Bulk invitations (R-B1…R-B4). A preview reads the file once, judging
// its lines in batches against the account and storing them with their
// outcomes; nothing else is written. A confirm judges every line again
// against the account as it is now and refuses (preview_stale) if any
// outcome changed; then a job invites the lines to invite in chunks, one
// transaction each, recording the line reached in the same transaction, so
// that a job stopped anywhere resumes after its last chunk and invites
// nobody twice. See docs/bulk-invitations.md.

const (
	// MaxBulkFile caps an uploaded file (about 500,000 lines of typical
	// addresses).
	MaxBulkFile = 32 << 20
	// bulkPreviewTTL is how long a preview may be confirmed.
	bulkPreviewTTL = time.Hour
	// bulkKeep is how long previews and finished jobs stay readable.
	bulkKeep = 7 * 24 * time.Hour
	// bulkBatch is how many lines a preview judges and stores at once.
	bulkBatch = 1000
	// defaultBulkChunk is how many people one transaction of a job invites
	// unless Options say otherwise: large enough to amortise the commit,
	// small enough that other writers wait little behind it.
	defaultBulkChunk = 500
	// bulkLearnLines is the size of a file from which the store is told to
	// learn the preview's lines (LearnBulkRows) before its job reads them.
	bulkLearnLines = 10000
)

// bulkLevel is what bulk invitees become in an account of this kind: client
// users in a client account, integrator users in an integrator account.
func bulkLevel(kind gatehouse.AccountKind) gatehouse.Level {
	if kind == gatehouse.KindIntegrator {
		return gatehouse.LevelIntegratorUser
	}
	return gatehouse.LevelClientUser
}

// authorizeBulk decides whether the caller may invite the account's bulk
// level there (R-P2) and returns the account.
func (s *Service) authorizeBulk(ctx context.Context, c gatehouse.Caller, accountID string) (gatehouse.Account, error) {
	account, acc, err := s.AuthorizeAccess(ctx, s.bulkPreviewStore, c, accountID, policy.AddMember, policy.Target{})
	if err != nil {
		return account, err
	}
	return account, kernel.DecideOn(c, acc, account, policy.AddMember, policy.Target{Level: bulkLevel(account.Kind)})
}

// PreviewBulk reads a bulk file and stores its preview: each line with its
// outcome, and the totals. Only the preview is written; a file that is not
// CSV, or is too large, leaves nothing behind.
func (s *Service) PreviewBulk(ctx context.Context, c gatehouse.Caller, accountID string, file io.Reader) (gatehouse.BulkPreview, error) {
	account, err := s.authorizeBulk(ctx, c, accountID)
	if err != nil {
		return gatehouse.BulkPreview{}, err
	}
	now := s.Now()
	preview := gatehouse.BulkPreview{ID: s.NewID(), AccountID: account.ID, CreatedBy: c.Principal.ActorID(),
		Level: bulkLevel(account.Kind), Status: gatehouse.BulkBuilding, Totals: map[gatehouse.BulkOutcome]int{},
		CreatedAt: now, ExpiresAt: now.Add(bulkPreviewTTL)}
	if err := s.bulkPreviewStore.Write(ctx, func(tx BulkPreviewTx) error { return tx.InsertBulkPreview(ctx, preview) }); err != nil {
		return preview, err
	}
	judge, err := s.newBulkJudge(ctx, account.ID)
	if err == nil {
		err = s.buildPreview(ctx, judge, &preview, file)
	}
	if err != nil {
		// Leave nothing behind, even when the request was cancelled.
		cleanup := context.WithoutCancel(ctx)
		_ = s.bulkPreviewStore.Write(cleanup, func(tx BulkPreviewTx) error { return tx.DeleteBulkPreview(cleanup, preview.ID) })
		return gatehouse.BulkPreview{}, err
	}
	return preview, nil
}

// buildPreview judges and stores the file's lines, a batch at a time, then
// marks the preview previewed with its totals. A batch is stored while the
// next one is read and judged.
func (s *Service) buildPreview(ctx context.Context, judge *bulkJudge, preview *gatehouse.BulkPreview, file io.Reader) error {
	writes := make(chan []gatehouse.BulkRow, 1)
	written := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var err error
		for rows := range writes {
			if err == nil {
				err = s.bulkPreviewStore.Write(ctx, func(tx BulkPreviewTx) error { return tx.InsertBulkRows(ctx, preview.ID, rows) })
				failed.Store(err != nil)
			}
		}
		written <- err
	}()
	batch := make([]gatehouse.BulkRow, 0, bulkBatch)
	flush := func() error {
		if failed.Load() {
			return errBulkRowsNotStored
		}
		if err := judge.judge(ctx, s.bulkPreviewStore, batch); err != nil {
			return err
		}
		for _, row := range batch {
			preview.Totals[row.Outcome]++
		}
		writes <- batch
		batch = make([]gatehouse.BulkRow, 0, bulkBatch)
		return nil
	}
	err := readBulkCSV(file, func(l bulkLine) error {
		batch = append(batch, gatehouse.BulkRow{Line: l.Line, Email: gatehouse.Truncate(l.Email, 320), FirstName: bulkName(l.FirstName),
			LastName: bulkName(l.LastName), Role: gatehouse.Truncate(l.Role, 200), HomeFolder: gatehouse.Truncate(l.HomeFolder, 2000)})
		preview.Rows++
		if len(batch) == bulkBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	close(writes)
	// The store's error first: errBulkRowsNotStored only says there is one.
	if werr := <-written; werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if preview.Rows >= bulkLearnLines {
		if err := s.bulkPreviewStore.Write(ctx, func(tx BulkPreviewTx) error { return tx.LearnBulkRows(ctx) }); err != nil {
			return err
		}
	}
	preview.Status, preview.ToInvite = gatehouse.BulkPreviewed, preview.Totals[gatehouse.BulkInvite]
	return s.bulkPreviewStore.Write(ctx, func(tx BulkPreviewTx) error { return tx.UpdateBulkPreview(ctx, *preview) })
}

// errBulkRowsNotStored stops reading a file once storing its lines failed;
// buildPreview returns the store's error instead.
var errBulkRowsNotStored = errors.New("service: the preview's lines were not stored")

// bulkNameCut is the most bytes of a name a preview keeps: no valid name is
// longer (gatehouse.MaxNameLen characters of at most four bytes each).
const bulkNameCut = 4 * gatehouse.MaxNameLen

// bulkName is a name as the file wrote it, cut to bulkNameCut bytes. The
// preview is judged again from what it stored, so a cut name must stay as
// invalid as the whole one was: ending it with "…" keeps a cut that falls in
// a run of spaces from being trimmed back under the length limit.
func bulkName(name string) string {
	if len(name) <= bulkNameCut {
		return name
	}
	return gatehouse.Truncate(name, bulkNameCut) + "…"
}

// bulkJudge decides the outcome of a file's lines, in file order, against
// the account as it was when the judge was made.
type bulkJudge struct {
	model *access.Model
	// seen holds the usernames already met in the file.
	seen map[string]bool
	// slots is how many more client users the account takes; -1: no limit.
	slots int
}

func (s *Service) newBulkJudge(ctx context.Context, accountID string) (*bulkJudge, error) {
	account, err := s.bulkPreviewStore.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	model, err := s.Access.Models.Model(ctx, accountID)
	if err != nil {
		return nil, err
	}
	j := &bulkJudge{model: model, seen: map[string]bool{}, slots: -1}
	if account.Kind == gatehouse.KindClient {
		used, err := s.bulkPreviewStore.ClientUsers(ctx, accountID)
		if err != nil {
			return nil, err
		}
		j.slots = max(0, account.Settings.MaxClientUsers-used)
	}
	return j, nil
}

// judge sets the outcome, message, role and folder of each row. The first
// reason a line cannot be invited wins, in the order: invalid e-mail,
// duplicate in the file, invalid name, unknown role, unknown folder, already
// a member; lines past the client-user limit are over_limit, in file order.
// usernameStates tells, for usernames, whether each is unknown, pending,
// active, or a member of the account already.
type usernameStates interface {
	UsernameStates(ctx context.Context, accountID string, usernames []string) (map[string]gatehouse.UsernameState, error)
}

func (j *bulkJudge) judge(ctx context.Context, r usernameStates, rows []gatehouse.BulkRow) error {
	states, err := j.states(ctx, r, rows)
	if err != nil {
		return err
	}
	j.judgeWith(rows, states)
	return nil
}

// states reads what judging rows needs from the store: the states of their
// usernames. It leaves the judge as it was, so the next batch's states can
// be read while this one is judged.
func (j *bulkJudge) states(ctx context.Context, r usernameStates, rows []gatehouse.BulkRow) (map[string]gatehouse.UsernameState, error) {
	usernames := make([]string, 0, len(rows))
	for _, row := range rows {
		if email, err := gatehouse.ParseUsername("email", row.Email); err == nil {
			usernames = append(usernames, email)
		}
	}
	return r.UsernameStates(ctx, j.model.Account.ID, usernames)
}

// judgeWith judges rows, in order, with their usernames' states.
func (j *bulkJudge) judgeWith(rows []gatehouse.BulkRow, states map[string]gatehouse.UsernameState) {
	for i := range rows {
		j.judgeRow(&rows[i], states)
	}
}

func (j *bulkJudge) judgeRow(row *gatehouse.BulkRow, states map[string]gatehouse.UsernameState) {
	row.RoleID, row.FolderID = "", ""
	outcome := func(o gatehouse.BulkOutcome, message string) { row.Outcome, row.Message = o, message }
	email, err := gatehouse.ParseUsername("email", row.Email)
	if err != nil {
		outcome(gatehouse.BulkInvalidEmail, "not an e-mail address such as ann@example.com")
		return
	}
	key := gatehouse.UsernameKey(email)
	if j.seen[key] {
		outcome(gatehouse.BulkDuplicate, "this address is on an earlier line")
		return
	}
	j.seen[key] = true
	// A name given must be a name, even for an existing identity that will
	// keep its own: as for a single add, a wrong one is refused rather than
	// silently dropped.
	for _, name := range [...]struct{ field, value string }{{"first_name", row.FirstName}, {"last_name", row.LastName}} {
		if name.value == "" {
			continue
		}
		if _, err := gatehouse.ValidatePersonName(name.field, name.value); err != nil {
			message := err.Error()
			var e *gatehouse.Error
			if errors.As(err, &e) {
				message = e.Message
			}
			outcome(gatehouse.BulkInvalidName, message)
			return
		}
	}
	roleName := row.Role
	if roleName == "" {
		roleName = "viewer"
	}
	role, ok := j.model.RoleByName(roleName)
	if !ok {
		outcome(gatehouse.BulkUnknownRole, "the account has no role named "+gatehouse.Truncate(row.Role, 100))
		return
	}
	row.RoleID = role.ID
	if row.HomeFolder != "" {
		folder, ok := j.folder(row.HomeFolder)
		if !ok {
			outcome(gatehouse.BulkUnknownFolder, "the account has no folder "+gatehouse.Truncate(row.HomeFolder, 200))
			return
		}
		row.FolderID = folder
	}
	state := states[key]
	if state.Member {
		outcome(gatehouse.BulkAlreadyMember, "already a user of this account")
		return
	}
	if j.slots == 0 {
		outcome(gatehouse.BulkOverLimit, "past the account's limit of client users")
		return
	}
	if j.slots > 0 {
		j.slots--
	}
	if state.Active {
		outcome(gatehouse.BulkInvite, "already uses Gatehouse: will be added at once and told by e-mail")
	} else {
		outcome(gatehouse.BulkInvite, "will get an invitation e-mail")
	}
}

// folder finds a folder by path ("/Stores/East") or id.
func (j *bulkJudge) folder(ref string) (string, bool) {
	if strings.HasPrefix(ref, "/") {
		f, ok := j.model.FolderByPath(ref)
		return f.ID, ok
	}
	f, ok := j.model.Folder(ref)
	return f.ID, ok
}

// BulkStatus returns a preview with its job's progress; a preview past its
// time unconfirmed is expired.
func (s *Service) BulkStatus(ctx context.Context, c gatehouse.Caller, accountID, previewID string) (gatehouse.BulkPreview, error) {
	if _, err := s.authorizeBulk(ctx, c, accountID); err != nil {
		return gatehouse.BulkPreview{}, err
	}
	p, err := s.bulkPreviewOf(ctx, s.bulkPreviewStore, c, accountID, previewID)
	p.Status = p.StatusAt(s.Now())
	return p, err
}

// BulkRows returns a page of a preview's lines after the given line.
func (s *Service) BulkRows(ctx context.Context, c gatehouse.Caller, accountID, previewID string, afterLine, limit int) ([]gatehouse.BulkRow, error) {
	if _, err := s.BulkStatus(ctx, c, accountID, previewID); err != nil {
		return nil, err
	}
	return s.bulkPreviewStore.BulkRows(ctx, previewID, afterLine, limit, false)
}

// bulkPreviewOf reads a preview of the account made by the caller; another
// caller's preview is not found (R-X2).
// previewReader reads a bulk preview.
type previewReader interface {
	BulkPreview(ctx context.Context, accountID, id string) (gatehouse.BulkPreview, error)
}

func (s *Service) bulkPreviewOf(ctx context.Context, r previewReader, c gatehouse.Caller, accountID, previewID string) (gatehouse.BulkPreview, error) {
	p, err := r.BulkPreview(ctx, accountID, previewID)
	if err != nil {
		return p, err
	}
	if p.CreatedBy != c.Principal.ActorID() || p.Status == gatehouse.BulkBuilding {
		return gatehouse.BulkPreview{}, gatehouse.NotFound("bulk invitation")
	}
	return p, nil
}
