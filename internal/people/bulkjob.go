package people

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// ConfirmBulk applies a preview: exactly its lines to invite, once. When any
// line's outcome would now differ (someone joined, the limit changed, a role
// or folder went) it fails with preview_stale. Confirming again, or while
// the job runs, invites nobody twice: it waits for the same job. With wait,
// it returns when the job is done (or ctx ends; the job then goes on);
// otherwise at once, the job running in the background.
func (s *Service) ConfirmBulk(ctx context.Context, c gatehouse.Caller, accountID, previewID string, wait bool) (gatehouse.BulkPreview, error) {
	if _, err := s.authorizeBulk(ctx, c, accountID); err != nil {
		return gatehouse.BulkPreview{}, err
	}
	p, err := s.bulkPreviewOf(ctx, s.bulkJobStore, c, accountID, previewID)
	if err != nil {
		return p, err
	}
	if p.Status == gatehouse.BulkPreviewed {
		if p.StatusAt(s.Now()) == gatehouse.BulkExpired {
			return p, gatehouse.Errorf(gatehouse.EPREVIEWSTALE, "the preview expired; upload the file again")
		}
		line, err := s.bulkStaleLine(ctx, p)
		if err != nil {
			return p, err
		}
		if line > 0 {
			// The lines may differ because another confirm of this preview
			// started meanwhile and invited them: then join its job.
			if again, err := s.bulkJobStore.BulkPreview(ctx, accountID, previewID); err != nil || again.Status == gatehouse.BulkPreviewed {
				return p, gatehouse.Errorf(gatehouse.EPREVIEWSTALE, "the account changed since the preview (line %d would now be different); upload the file again", line)
			}
		}
		err = s.bulkJobStore.Write(ctx, func(tx BulkJobTx) error {
			if err := tx.StartBulkConfirm(ctx, accountID, previewID); err != nil {
				return err
			}
			return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "bulk_invitation.confirmed", "bulk_invitation", previewID))
		})
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND { // ENOTFOUND: another confirm won
			return p, err
		}
	}
	if !wait {
		// RunBulkJobs takes it: the job is due, no node holds it yet.
		select {
		case s.bulkWake <- struct{}{}:
		default:
		}
	} else {
		// Driven by this request, without its cancellation: a client that
		// gives up, or an answer given before the end, leaves the job
		// running here rather than waiting for its lease to end elsewhere.
		driven := make(chan error, 1)
		go func() { driven <- s.driveBulkJob(context.WithoutCancel(ctx), previewID) }()
		waited := time.NewTimer(s.bulkConfirmWait)
		defer waited.Stop()
		select {
		case err := <-driven:
			if err != nil {
				return p, err
			}
		case <-waited.C: // still running: the answer is its progress
		case <-ctx.Done():
			return p, ctx.Err()
		}
	}
	return s.bulkJobStore.BulkPreview(ctx, accountID, previewID)
}

// bulkStaleLine judges every line again against the account as it is now and
// returns the first line whose outcome, role or folder differs, or 0. The
// lines and their usernames' states are read a batch ahead of the judging.
func (s *Service) bulkStaleLine(ctx context.Context, p gatehouse.BulkPreview) (int, error) {
	judge, err := s.newBulkJudge(ctx, p.AccountID)
	if err != nil {
		return 0, err
	}
	type batch struct {
		rows   []gatehouse.BulkRow
		states map[string]gatehouse.UsernameState
		err    error
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	batches := make(chan batch, 1)
	go func() {
		defer close(batches)
		for after := 0; ; {
			var b batch
			b.rows, b.err = s.bulkJobStore.BulkRows(ctx, p.ID, after, bulkBatch, false)
			if b.err == nil && len(b.rows) > 0 {
				b.states, b.err = judge.states(ctx, s.bulkJobStore, b.rows)
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil || len(b.rows) == 0 {
				return
			}
			after = b.rows[len(b.rows)-1].Line
		}
	}()
	for b := range batches {
		if b.err != nil || len(b.rows) == 0 {
			return 0, b.err
		}
		again := make([]gatehouse.BulkRow, len(b.rows))
		copy(again, b.rows)
		judge.judgeWith(again, b.states)
		for i, row := range b.rows {
			if again[i].Outcome != row.Outcome || again[i].RoleID != row.RoleID || again[i].FolderID != row.FolderID {
				return row.Line, nil
			}
		}
	}
	return 0, ctx.Err()
}

var errLeaseLost = errors.New("service: the bulk job's lease was lost")

// driveBulkJob runs a confirmed preview's job to its end. It holds a lease
// while it works; when another node or request holds it, it waits, and
// takes the job over if that lease runs out (its holder died).
func (s *Service) driveBulkJob(ctx context.Context, previewID string) error {
	// Each driver is its own claimant, so that two requests of one node
	// never work on one job together.
	worker := s.instance + "/" + s.NewID()
	for {
		err := s.bulkJobStore.Write(ctx, func(tx BulkJobTx) error {
			return tx.ClaimBulkJob(ctx, previewID, worker, s.Now().Add(s.bulkLease), s.Now())
		})
		switch gatehouse.ErrorCode(err) {
		case "":
			if err := s.runBulkChunks(ctx, previewID, worker); !errors.Is(err, errLeaseLost) {
				return err
			} // else another worker took over; wait for it below
		case gatehouse.ENOTFOUND: // done, or another worker holds it
		default:
			return err
		}
		p, err := s.bulkJobStore.BulkPreviewByID(ctx, previewID)
		if err != nil || p.Status == gatehouse.BulkDone {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.bulkPoll):
		}
	}
}

// runBulkChunks writes a claimed job's chunks until it is done, each
// drafted while the one before it is written (bulkdraft.go).
func (s *Service) runBulkChunks(ctx context.Context, previewID, worker string) error {
	s.bulkWriting.Add(1)
	defer func() {
		// The senders left the bulk's e-mails for now: they go at once.
		if s.bulkWriting.Add(-1) == 0 {
			s.MailQueued()
		}
	}()
	p, err := s.bulkJobStore.BulkPreviewByID(ctx, previewID)
	if err != nil {
		return err
	}
	ctx, stopDrafting := context.WithCancel(ctx)
	defer stopDrafting()
	drafts := s.draftBulkChunks(ctx, p)
	for {
		draft := <-drafts // nil once the drafts ran out
		if s.afterBulkDraft != nil {
			s.afterBulkDraft()
		}
		done, err := s.bulkChunk(ctx, previewID, worker, draft)
		if err != nil || done {
			return err
		}
	}
}

// WritingBulk tells whether this node is writing a bulk invitation's
// chunks: someone waits for the confirm's answer, and the node's mail
// senders leave the cores to it meanwhile (outbox.Worker.Rest): one
// delivers the messages that are not a bulk's, the others rest.
func (s *Service) WritingBulk() bool { return s.bulkWriting.Load() > 0 }

// bulkChunk invites the next chunk of a job's lines in one transaction,
// together with the line reached, and reports whether the job is done. The
// chunk's draft, when it fits, spares working its lines out again.
func (s *Service) bulkChunk(ctx context.Context, previewID, worker string, draft *bulkDraft) (done bool, err error) {
	invited := false
	err = s.bulkJobStore.Write(ctx, func(tx BulkJobTx) error {
		now := s.Now()
		// Renewing the lease first locks the job's row (PostgreSQL) until
		// this chunk commits: a worker taking over waits, then sees the
		// lease renewed.
		if err := tx.ClaimBulkJob(ctx, previewID, worker, now.Add(s.bulkLease), now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return errLeaseLost
		} else if err != nil {
			return err
		}
		p, err := tx.BulkPreviewByID(ctx, previewID)
		if err != nil {
			return err
		}
		rows, err := tx.BulkRows(ctx, previewID, p.NextLine, s.bulkChunkSize, true)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			done = true
			p.Status, p.FinishedAt, p.ClaimedBy, p.ClaimedUntil = gatehouse.BulkDone, now, "", time.Time{}
			if err := tx.UpdateBulkPreview(ctx, p); err != nil {
				return err
			}
			return tx.InsertAuditEvent(ctx, gatehouse.AuditEvent{ID: s.NewID(), AccountID: p.AccountID, At: now,
				ActorID: p.CreatedBy, Action: "bulk_invitation.done", TargetType: "bulk_invitation", TargetID: p.ID})
		}
		account, err := tx.Account(ctx, p.AccountID)
		if err != nil {
			return err
		}
		if !draft.fitsLines(p.NextLine) {
			draft = nil
		}
		// The people are added on behalf of whoever confirmed.
		if err := s.inviteBulkRows(ctx, tx, bulkActor(p), account, p.Level, rows, now, draft); err != nil {
			return err
		}
		for _, row := range rows {
			if row.Result == "skipped" {
				p.Failed++
			} else {
				p.Invited++
				invited = true
			}
		}
		if err := tx.SetBulkRowResults(ctx, p.ID, rows); err != nil {
			return err
		}
		p.NextLine, p.Processed = rows[len(rows)-1].Line, p.Processed+len(rows)
		p.ClaimedUntil = now.Add(s.bulkLease)
		return tx.UpdateBulkPreview(ctx, p)
	})
	if invited {
		s.MailQueued()
	}
	return done, err
}

// inviteBulkRows adds a chunk of previewed lines as single adds would
// (enrol), with each table's rows written in a few statements, and sets each
// line's Result and Message. When the account changed under the job in a
// way that forbids a line (the person joined meanwhile, the limit was
// reached, the role went) the line is skipped and says why; a home folder
// deleted meanwhile is left out.
func (s *Service) inviteBulkRows(ctx context.Context, tx BulkJobTx, c gatehouse.Caller, account gatehouse.Account, level gatehouse.Level, rows []gatehouse.BulkRow, now time.Time, draft *bulkDraft) error {
	// The account's rules stay as read below until the chunk commits.
	if err := tx.BumpAuthzVersion(ctx, account.ID); err != nil {
		return err
	}
	emails := make([]string, len(rows))
	for i, row := range rows {
		emails[i] = row.Email // the preview kept only valid addresses to invite
	}
	states, err := tx.UsernameStates(ctx, account.ID, emails)
	if err != nil {
		return err
	}
	lookups := newBulkLookups(tx, account.ID)
	var admitted []int
	for i := range rows {
		row := &rows[i]
		role, err := lookups.role(ctx, row.RoleID)
		if err != nil {
			return err
		}
		if row.FolderID != "" {
			exists, err := lookups.folderExists(ctx, row.FolderID)
			if err != nil {
				return err
			}
			if !exists {
				row.FolderID, row.Message = "", "invited without a home folder: the folder was deleted after the preview"
			}
		}
		switch {
		case states[gatehouse.UsernameKey(row.Email)].Member:
			row.Result, row.Message = "skipped", "became a user of the account after the preview"
		case role == nil:
			row.Result, row.Message = "skipped", "the role was deleted after the preview"
		default:
			admitted = append(admitted, i)
		}
	}
	if level == gatehouse.LevelClientUser {
		granted, err := tx.ReserveClientUserSlots(ctx, account.ID, len(admitted))
		if err != nil {
			return err
		}
		for _, i := range admitted[granted:] {
			rows[i].Result, rows[i].Message = "skipped", "the account reached its limit of client users after the preview"
		}
		admitted = admitted[:granted]
	}
	var fresh []gatehouse.User
	for _, i := range admitted {
		if !states[gatehouse.UsernameKey(rows[i].Email)].Exists {
			user, drafted := draft.freshUser(rows[i].Line)
			if !drafted {
				user = s.freshBulkUser(rows[i], now)
			}
			fresh = append(fresh, user)
		}
	}
	// A username taken meanwhile by another request keeps that identity
	// and its names (R-U1, R-U2): the identities stored here are known, the
	// others are read.
	stored, err := tx.InsertUsersIfAbsent(ctx, fresh)
	if err != nil {
		return err
	}
	users := make(map[string]gatehouse.User, len(admitted))
	for _, u := range fresh {
		if key := gatehouse.UsernameKey(u.Username); stored[key] {
			users[key] = u
		}
	}
	var others []string
	for _, i := range admitted {
		if _, known := users[gatehouse.UsernameKey(rows[i].Email)]; !known {
			others = append(others, rows[i].Email)
		}
	}
	read, err := tx.UsersByUsername(ctx, others)
	if err != nil {
		return err
	}
	maps.Copy(users, read)
	brand, err := s.MailBrand(ctx, tx, kernel.MailScope{AccountID: account.ID})
	if err != nil {
		return err
	}
	if !draft.fits(account, brand) {
		draft = nil
	}
	var batch gatehouse.WriteBatch
	for _, i := range admitted {
		row := &rows[i]
		user := users[gatehouse.UsernameKey(row.Email)]
		if drafted, ok := draft.drafted(*row, user); ok {
			batch.Add(drafted.batch)
			row.Result = drafted.result
			continue
		}
		role, err := lookups.role(ctx, row.RoleID) // read above
		if err != nil {
			return err
		}
		b, member, err := s.admission(c, account, brand, user, enrolment{Username: row.Email, Email: row.Email, Language: "en",
			Level: level, Roles: []gatehouse.Role{*role}, HomeFolderID: row.FolderID}, now)
		if err != nil {
			return err
		}
		batch.Add(b)
		row.Result = bulkResult(member)
	}
	// The node's senders leave these to after the bulk (WritingBulk).
	for i := range batch.Messages {
		batch.Messages[i].Bulk = true
	}
	return tx.InsertBatch(ctx, batch)
}

// purgeEvery is how often ended sessions, challenges and links are removed.
const purgeEvery = 10 * time.Minute

// RunBulkJobs runs the confirmed jobs that no node holds: those confirmed
// without waiting (it is woken for them), and, every poll interval, those
// whose node stopped or died. It also removes old previews, and every ten
// minutes what sign-in left behind (PurgeExpired). It returns when
// ctx ends; a job it was running is taken over by the next node to look.
func (s *Service) RunBulkJobs(ctx context.Context, poll time.Duration) {
	var lastPurge time.Time
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		if jobs, err := s.bulkJobStore.DueBulkJobs(ctx, s.Now()); err == nil {
			for _, job := range jobs {
				_ = s.driveBulkJob(ctx, job.ID)
			}
		}
		_ = s.bulkJobStore.Write(ctx, func(tx BulkJobTx) error { return tx.DeleteBulkPreviewsBefore(ctx, s.Now().Add(-bulkKeep)) })
		if time.Since(lastPurge) >= purgeEvery {
			// An hour's grace: nothing is removed while a clock skew
			// between nodes could still make it look alive.
			_ = s.bulkJobStore.Write(ctx, func(tx BulkJobTx) error { return tx.PurgeExpired(ctx, s.Now().Add(-time.Hour)) })
			lastPurge = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-s.bulkWake:
		}
	}
}
