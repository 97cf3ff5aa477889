package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Bulk invitations (R-B1…R-B4): previews with their lines, and the
// lease and progress of the job that applies them.

const bulkPreviewColumns = `id, account_id, created_by, level, status, rows_total, to_invite, totals, next_line,
	processed, invited, failed, created_at, expires_at, finished_at, claimed_by, claimed_until`

func scanBulkPreview(row scanner) (gatehouse.BulkPreview, error) {
	var (
		p                                  gatehouse.BulkPreview
		totals                             string
		createdAt, expiresAt, claimedUntil int64
		finishedAt                         sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.AccountID, &p.CreatedBy, &p.Level, &p.Status, &p.Rows, &p.ToInvite, &totals, &p.NextLine,
		&p.Processed, &p.Invited, &p.Failed, &createdAt, &expiresAt, &finishedAt, &p.ClaimedBy, &claimedUntil)
	if err != nil {
		return p, err
	}
	p.Totals = map[gatehouse.BulkOutcome]int{}
	if totals != "" {
		if err := json.Unmarshal([]byte(totals), &p.Totals); err != nil {
			return p, err
		}
	}
	p.CreatedAt, p.ExpiresAt, p.FinishedAt = fromMicros(createdAt), fromMicros(expiresAt), fromNullMicros(finishedAt)
	p.ClaimedUntil = fromMicros(claimedUntil)
	return p, nil
}

func (r reader) BulkPreview(ctx context.Context, accountID, id string) (gatehouse.BulkPreview, error) {
	p, err := scanBulkPreview(r.q.QueryRowContext(ctx, `SELECT `+bulkPreviewColumns+` FROM bulk_previews
		WHERE account_id = $1 AND id = $2`, accountID, id))
	if err == sql.ErrNoRows {
		return p, gatehouse.NotFound("bulk invitation")
	}
	return p, mapErr(err)
}

func (r reader) BulkPreviewByID(ctx context.Context, id string) (gatehouse.BulkPreview, error) {
	p, err := scanBulkPreview(r.q.QueryRowContext(ctx, `SELECT `+bulkPreviewColumns+` FROM bulk_previews WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return p, gatehouse.NotFound("bulk invitation")
	}
	return p, mapErr(err)
}

func (r reader) ClientUsers(ctx context.Context, accountID string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT client_users FROM accounts WHERE id = $1`, accountID).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, gatehouse.NotFound("account")
	}
	return n, mapErr(err)
}

func (r reader) BulkRows(ctx context.Context, previewID string, afterLine, limit int, inviteOnly bool) ([]gatehouse.BulkRow, error) {
	query := `SELECT line, email, first_name, last_name, role, home_folder, role_id, folder_id, outcome, message, result FROM bulk_rows
		WHERE preview_id = $1 AND line > $2`
	if inviteOnly {
		query += ` AND outcome = 'invite'`
	}
	rows := make([]gatehouse.BulkRow, 0, limit)
	err := r.each(ctx, query+` ORDER BY line LIMIT $3`, []any{previewID, afterLine, limit}, func(rs *sql.Rows) error {
		var b gatehouse.BulkRow
		err := rs.Scan(&b.Line, &b.Email, &b.FirstName, &b.LastName, &b.Role, &b.HomeFolder, &b.RoleID, &b.FolderID, &b.Outcome,
			&b.Message, &b.Result)
		rows = append(rows, b)
		return err
	})
	return rows, err
}

func (r reader) UsernameStates(ctx context.Context, accountID string, usernames []string) (map[string]gatehouse.UsernameState, error) {
	states := make(map[string]gatehouse.UsernameState, len(usernames))
	if len(usernames) == 0 {
		return states, nil
	}
	var args argList
	account := r.mark(&args, accountID)
	keys := make([]string, len(usernames))
	for i, u := range usernames {
		keys[i] = gatehouse.UsernameKey(u)
	}
	users := r.usersWithKeys(&args, keys)
	err := r.each(ctx, `SELECT u.username_key, u.status, `+r.isMember("u.id", account)+` FROM `+users, r.customPlan(args), func(rows *sql.Rows) error {
		var (
			key    string
			status gatehouse.UserStatus
			st     gatehouse.UsernameState
		)
		err := rows.Scan(&key, &status, &st.Member)
		st.Exists, st.Active = true, status == gatehouse.UserActive
		states[key] = st
		return err
	})
	return states, err
}

// isMember is a column telling whether the user whose id is user has a
// membership of account (each an expression of the query). On PostgreSQL
// the subquery has an OFFSET, which keeps the planner from answering it by
// hashing every membership of the account, as it chose to do for a bulk
// chunk's 500 usernames (a hundred thousand memberships for each chunk of
// a large account), so that it probes the index a user at a time.
func (r reader) isMember(user, account string) string {
	probe := "SELECT 1 FROM memberships m WHERE m.user_id = " + user + " AND m.account_id = " + account
	if r.dialect == Postgres {
		probe += " OFFSET 0"
	}
	return "EXISTS (" + probe + ")"
}

// UsernameStatesByAccount is UsernameStates for several accounts at once,
// keyed by account id then by UsernameKey: one statement (on SQLite, for up
// to maxPairsInOneList usernames; one per account beyond).
func (r reader) UsernameStatesByAccount(ctx context.Context, usernames map[string][]string) (map[string]map[string]gatehouse.UsernameState, error) {
	states := make(map[string]map[string]gatehouse.UsernameState, len(usernames))
	if r.dialect == SQLite && len(usernames) > 1 && pairsOf(usernames) <= maxPairsInOneList {
		return states, r.usernameStatesInOneList(ctx, usernames, states)
	}
	if r.dialect == SQLite || len(usernames) < 2 {
		for id, names := range usernames {
			found, err := r.UsernameStates(ctx, id, names)
			if err != nil {
				return nil, err
			}
			states[id] = found
		}
		return states, nil
	}
	var accounts, keys []string
	for id, names := range usernames {
		states[id] = map[string]gatehouse.UsernameState{}
		for _, u := range names {
			accounts, keys = append(accounts, id), append(keys, gatehouse.UsernameKey(u))
		}
	}
	// Each username looked for on its own, as usersWithKeys explains.
	err := r.each(ctx, `SELECT w.account_id, u.username_key, u.status, `+r.isMember("u.id", "w.account_id")+`
		FROM unnest($1::text[], $2::text[]) AS w(account_id, username_key)
		CROSS JOIN LATERAL (SELECT * FROM users WHERE username_key = w.username_key LIMIT 1) u`,
		r.customPlan([]any{accounts, keys}), scanStatesByAccount(states))
	return states, err
}

// scanStatesByAccount reads rows of account, username key, status and
// membership into states, whose accounts are all there already.
func scanStatesByAccount(states map[string]map[string]gatehouse.UsernameState) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var (
			account, key string
			status       gatehouse.UserStatus
			st           gatehouse.UsernameState
		)
		err := rows.Scan(&account, &key, &status, &st.Member)
		st.Exists, st.Active = true, status == gatehouse.UserActive
		states[account][key] = st
		return err
	}
}

// maxPairsInOneList bounds the VALUES list of usernameStatesInOneList, two
// placeholders a pair, well within SQLite's limit on a statement's.
const maxPairsInOneList = 1000

// pairsOf counts the account and username pairs of usernames.
func pairsOf(usernames map[string][]string) int {
	n := 0
	for _, names := range usernames {
		n += len(names)
	}
	return n
}

// usernameStatesInOneList is UsernameStatesByAccount on SQLite: the pairs
// of account and username as one VALUES list, each username found in the
// unique index (CROSS JOIN keeps the list the outer loop). A group of adds
// over several accounts asked once per account before.
func (r reader) usernameStatesInOneList(ctx context.Context, usernames map[string][]string, states map[string]map[string]gatehouse.UsernameState) error {
	var (
		args  argList
		pairs []string
	)
	for id, names := range usernames {
		states[id] = map[string]gatehouse.UsernameState{}
		for _, u := range names {
			pairs = append(pairs, "("+r.mark(&args, id)+", "+r.mark(&args, gatehouse.UsernameKey(u))+")")
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return r.each(ctx, `WITH wanted (account_id, username_key) AS (VALUES `+strings.Join(pairs, ", ")+`)
		SELECT w.account_id, u.username_key, u.status, `+r.isMember("u.id", "w.account_id")+`
		FROM wanted w CROSS JOIN users u ON u.username_key = w.username_key`, args, scanStatesByAccount(states))
}

func (r reader) DueBulkJobs(ctx context.Context, now time.Time) ([]gatehouse.BulkPreview, error) {
	var jobs []gatehouse.BulkPreview
	err := r.each(ctx, `SELECT `+bulkPreviewColumns+` FROM bulk_previews
		WHERE status = 'confirming' AND claimed_until < $1 ORDER BY id LIMIT 10`, []any{micros(now)}, func(rows *sql.Rows) error {
		p, err := scanBulkPreview(rows)
		jobs = append(jobs, p)
		return err
	})
	return jobs, err
}

func (t *tx) InsertBulkPreview(ctx context.Context, p gatehouse.BulkPreview) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO bulk_previews (id, account_id, created_by, level, status, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, p.AccountID, p.CreatedBy, string(p.Level), string(p.Status),
		micros(p.CreatedAt), micros(p.ExpiresAt))
	return mapErr(err)
}

func (t *tx) InsertBulkRows(ctx context.Context, previewID string, rows []gatehouse.BulkRow) error {
	values := make([][]any, len(rows))
	for i, b := range rows {
		values[i] = []any{previewID, b.Line, b.Email, b.FirstName, b.LastName, b.Role, b.HomeFolder, b.RoleID, b.FolderID,
			string(b.Outcome), b.Message}
	}
	return t.insertRows(ctx, "bulk_rows", []string{"preview_id", "line", "email", "first_name", "last_name", "role", "home_folder",
		"role_id", "folder_id", "outcome", "message"}, "", values)
}

func (t *tx) UpdateBulkPreview(ctx context.Context, p gatehouse.BulkPreview) error {
	totals, err := json.Marshal(p.Totals)
	if err != nil {
		return err
	}
	return t.guarded(ctx, "bulk invitation", `UPDATE bulk_previews SET status = $3, rows_total = $4, to_invite = $5, totals = $6,
		next_line = $7, processed = $8, invited = $9, failed = $10, finished_at = $11, claimed_by = $12, claimed_until = $13
		WHERE account_id = $1 AND id = $2`, p.AccountID, p.ID, string(p.Status), p.Rows, p.ToInvite, string(totals),
		p.NextLine, p.Processed, p.Invited, p.Failed, nullMicros(p.FinishedAt), p.ClaimedBy, micros(p.ClaimedUntil))
}

func (t *tx) StartBulkConfirm(ctx context.Context, accountID, id string) error {
	return t.guarded(ctx, "previewed bulk invitation", `UPDATE bulk_previews SET status = 'confirming'
		WHERE account_id = $1 AND id = $2 AND status = 'previewed'`, accountID, id)
}

func (t *tx) ClaimBulkJob(ctx context.Context, id, worker string, until, now time.Time) error {
	return t.guarded(ctx, "bulk job", `UPDATE bulk_previews SET claimed_by = $2, claimed_until = $3
		WHERE id = $1 AND status = 'confirming' AND (claimed_by = $2 OR claimed_until < $4)`, id, worker, micros(until), micros(now))
}

// LearnBulkRows gathers PostgreSQL's statistics of bulk_rows. Without them,
// a preview's lines stored a moment ago are unknown to the planner, which
// takes the new preview for a handful of lines: every chunk of its job then
// read all the lines left to find its next 500, and marked its results by
// hashing all the preview's lines (38 ms a chunk at 100,000 lines, where the
// primary key answers in under a millisecond). SQLite's planner goes by its
// indexes; nothing to learn there.
func (t *tx) LearnBulkRows(ctx context.Context) error {
	if t.dialect != Postgres {
		return nil
	}
	_, err := t.q.ExecContext(ctx, "ANALYZE bulk_rows")
	return mapErr(err)
}

// SetBulkRowResults stores what a job did with lines, in one statement a
// chunk.
func (t *tx) SetBulkRowResults(ctx context.Context, previewID string, rows []gatehouse.BulkRow) error {
	if len(rows) == 0 {
		return nil
	}
	if t.dialect == Postgres {
		// Three arrays, joined to the rows by their primary key: the CASE
		// form below made PostgreSQL plan 1,500 parameters and compare each
		// row's line with every WHEN, for every chunk of a bulk.
		lines := make([]int64, len(rows))
		results := make([]string, len(rows))
		notes := make([]string, len(rows))
		for i, r := range rows {
			lines[i], results[i], notes[i] = int64(r.Line), r.Result, r.Message
		}
		// The rows' range bounds the lines the plan may visit, whatever
		// the planner believes of the preview's size.
		_, err := t.q.ExecContext(ctx, `UPDATE bulk_rows SET result = v.result, message = v.message
			FROM unnest($2::bigint[], $3::text[], $4::text[]) AS v(line, result, message)
			WHERE bulk_rows.preview_id = $1 AND bulk_rows.line = v.line AND bulk_rows.line BETWEEN $5 AND $6`,
			previewID, lines, results, notes, slices.Min(lines), slices.Max(lines))
		return mapErr(err)
	}
	var (
		args  argList
		query strings.Builder
	)
	query.WriteString("UPDATE bulk_rows SET result = CASE line")
	for _, r := range rows {
		fmt.Fprintf(&query, " WHEN %s THEN %s", t.mark(&args, r.Line), t.mark(&args, r.Result))
	}
	query.WriteString(" END, message = CASE line")
	for _, r := range rows {
		fmt.Fprintf(&query, " WHEN %s THEN %s", t.mark(&args, r.Line), t.mark(&args, r.Message))
	}
	fmt.Fprintf(&query, " END WHERE preview_id = %s AND line IN (", t.mark(&args, previewID))
	for i, r := range rows {
		if i > 0 {
			query.WriteString(", ")
		}
		query.WriteString(t.mark(&args, r.Line))
	}
	query.WriteString(")")
	_, err := t.q.ExecContext(ctx, query.String(), args...)
	return mapErr(err)
}

func (t *tx) DeleteBulkPreview(ctx context.Context, id string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM bulk_rows WHERE preview_id = $1`, id); err != nil {
		return mapErr(err)
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM bulk_previews WHERE id = $1`, id)
	return mapErr(err)
}

func (t *tx) DeleteBulkPreviewsBefore(ctx context.Context, before time.Time) error {
	old := `SELECT id FROM bulk_previews WHERE (status IN ('building', 'previewed') AND expires_at < $1)
		OR (status = 'done' AND finished_at < $1)`
	if _, err := t.q.ExecContext(ctx, `DELETE FROM bulk_rows WHERE preview_id IN (`+old+`)`, micros(before)); err != nil {
		return mapErr(err)
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM bulk_previews WHERE id IN (`+old+`)`, micros(before))
	return mapErr(err)
}
