package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Batched writes: a chunk of a bulk invitation job inserts hundreds of rows
// per table; one statement per hundred rows instead of one per row is most
// of what makes bulk faster than adding people one by one.

// rowsPerStatement keeps a statement's parameters well under SQLite's
// limit (32,766) and PostgreSQL's (65,535) for any table here.
const rowsPerStatement = 100

// insertRows inserts rows (each a value per column) into table, a hundred
// rows a statement; suffix ends each statement (an ON CONFLICT clause). On
// PostgreSQL, from unnestFrom rows, they all go in one statement, each
// column one array (see insertBatchAtOnce).
//
// On SQLite the placeholders are anonymous (?): modernc looks the name of
// every numbered parameter ($N) up in a list as long as the statement's
// parameters, which made a hundred-row statement cost more than a hundred
// single-row ones.
func (t *tx) insertRows(ctx context.Context, table string, columns []string, suffix string, rows [][]any) error {
	return t.insertRowsReturning(ctx, table, columns, suffix, rows, nil)
}

// insertRowsReturning is insertRows whose suffix ends in a RETURNING
// clause: scan reads each row it returns (nil: no clause).
func (t *tx) insertRowsReturning(ctx context.Context, table string, columns []string, suffix string, rows [][]any, scan func(*sql.Rows) error) error {
	run := func(query string, args argList) error {
		if scan != nil {
			return t.each(ctx, query, args, scan)
		}
		_, err := t.q.ExecContext(ctx, query, args...)
		return mapErr(err)
	}
	for len(rows) > 0 {
		n := min(len(rows), rowsPerStatement)
		if t.dialect == Postgres {
			n = len(rows) // arrays carry any number of rows
		}
		var args argList
		insert, err := t.insertStatement(&args, table, columns, rows[:n])
		if err != nil {
			return err
		}
		if err := run(insert+suffix, args); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// insertStatement is an INSERT of rows into table, their values added to
// args: on PostgreSQL from unnestFrom rows each column one array
// (unnestInsert), otherwise a VALUES list.
func (t *tx) insertStatement(args *argList, table string, columns []string, rows [][]any) (string, error) {
	if t.dialect == Postgres && len(rows) >= unnestFrom {
		return unnestInsert(args, table, columns, rows)
	}
	return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES " + t.values(args, rows), nil
}

// values adds the rows' values to args and returns their VALUES list. A
// bulk chunk's statements hold thousands of values, so the list is written
// in one builder and args grown once.
func (r reader) values(args *argList, rows [][]any) string {
	n := 0
	for _, row := range rows {
		n += len(row)
	}
	*args = slices.Grow(*args, n)
	var b strings.Builder
	b.Grow(8 * n)
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r.mark(args, v))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// oneOf adds values to args and returns the condition that a column is one
// of them: one array on PostgreSQL, whatever their number (a statement of a
// few parameters to encode and plan), a list of placeholders on SQLite. A
// query that reads with it passes its args through customPlan: the same
// statement then serves one value and hundreds.
func (r reader) oneOf(args *argList, values []string) string {
	if r.dialect == Postgres {
		return "= ANY(" + args.add(values) + "::text[])"
	}
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = r.mark(args, v)
	}
	return "IN (" + strings.Join(marks, ", ") + ")"
}

// usersWithKeys adds keys to args and returns a FROM item, aliased u, of
// the users whose username keys they are. On PostgreSQL each key is looked
// for in the unique index on its own (a lateral subquery with LIMIT 1 cannot
// be turned into a join): given 500 keys and a users table of 100,000, the
// planner otherwise read the whole table, or hashed it, for every bulk chunk
// (10 – 40 ms a chunk, growing with the table), estimating 500 probes dearer
// than a scan of pages that were all in memory. On SQLite an IN list, which
// its planner looks up in the index.
func (r reader) usersWithKeys(args *argList, keys []string) string {
	if r.dialect == Postgres {
		return "unnest(" + args.add(keys) + "::text[]) AS wanted(key) CROSS JOIN LATERAL (SELECT * FROM users WHERE username_key = wanted.key LIMIT 1) u"
	}
	return "(SELECT * FROM users WHERE username_key " + r.oneOf(args, keys) + ") u"
}

// customPlan makes PostgreSQL plan a query for the values it is given,
// each time, rather than settle on the generic plan its statement cache
// moves to after five runs. A lookup of a list of usernames is run with one
// name by single adds and with 500 by bulk chunks, over tables that grow
// from nothing to a hundred thousand rows during one bulk invitation: the
// generic plan chosen while they were small read every membership of the
// account for each chunk, and a 100,000-line bulk took four times as long.
func (r reader) customPlan(args []any) []any {
	if r.dialect != Postgres {
		return args
	}
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// mark adds v to args and returns its placeholder: anonymous on SQLite, as
// insertRows explains, so a value used twice must be added twice, in the
// order the placeholders stand in the query.
func (r reader) mark(args *argList, v any) string {
	if r.dialect == SQLite {
		*args = append(*args, v)
		return "?"
	}
	return args.add(v)
}

func (t *tx) InsertBatch(ctx context.Context, b gatehouse.WriteBatch) error {
	memberships := make([][]any, len(b.Memberships))
	for i, m := range b.Memberships {
		if err := t.BumpAuthzVersion(ctx, m.AccountID); err != nil {
			return err
		}
		memberships[i] = []any{m.ID, m.AccountID, m.UserID, string(m.Level), string(m.Status), m.Email,
			sql.NullString{String: m.HomeFolderID, Valid: m.HomeFolderID != ""},
			m.Notifications.Enabled, m.Notifications.Email, m.Notifications.SMS, m.AddedBy, micros(m.CreatedAt), m.Description,
			nullMicros(m.ExpiresAt), nullString(m.ExternalID)}
	}
	roles := make([][]any, len(b.MembershipRoles))
	for i, r := range b.MembershipRoles {
		roles[i] = []any{r[0], r[1]}
	}
	invitations := make([][]any, len(b.Invitations))
	for i, inv := range b.Invitations {
		invitations[i] = []any{inv.ID, inv.AccountID, inv.MembershipID, inv.UserID, inv.Email, string(inv.Status), inv.TokenHash,
			inv.InvitedBy, micros(inv.SentAt), micros(inv.ExpiresAt), nullMicros(inv.EndedAt)}
	}
	messages := make([][]any, len(b.Messages))
	for i, m := range b.Messages {
		messages[i] = []any{m.ID, m.MessageID, channelOf(m), m.To, m.Subject, m.Body, m.HTMLLayout, m.FromName, m.FromAddress, "queued", micros(m.CreatedAt), micros(m.CreatedAt), m.Bulk}
	}
	audits, events, err := t.batchAuditRows(ctx, b)
	if err != nil {
		return err
	}
	steps := []batchStep{
		{"memberships", []string{"id", "account_id", "user_id", "level", "status", "email", "home_folder_id",
			"notify", "notify_email", "notify_sms", "added_by", "created_at", "description", "expires_at", "external_id"}, memberships},
		{"membership_roles", []string{"membership_id", "role"}, roles},
		{"invitations", columnNames(invitationColumns, "i."), invitations},
		{"outbox", []string{"id", "message_id", "channel", "recipient", "subject", "body", "html_layout", "from_name", "from_address", "status", "next_attempt_at", "created_at", "bulk"}, messages},
		{"audit_events", t.auditColumns(), audits},
	}
	// Their webhooks: subscriptions are looked for once per batch.
	var accounts []string
	subscribed := map[string]bool{}
	for _, e := range events {
		if _, seen := subscribed[e.AccountID]; !seen {
			subscribed[e.AccountID] = false
			accounts = append(accounts, e.AccountID)
		}
	}
	if t.dialect == Postgres {
		if err := t.insertBatchAtOnce(ctx, steps, subscribed); err != nil {
			return err
		}
	} else {
		for _, step := range steps {
			if err := t.insertRows(ctx, step.table, step.columns, "", step.rows); err != nil {
				return err
			}
		}
		if err := t.subscribedAccounts(ctx, accounts, subscribed); err != nil {
			return err
		}
		t.subscribed = nil
	}
	for _, e := range events {
		if subscribed[e.AccountID] {
			if err := t.fanOutEvent(ctx, e.AuditEvent, e.eventType, e.UserID); err != nil {
				return err
			}
		}
	}
	return nil
}

// batchStep is the rows a batch writes into one table.
type batchStep struct {
	table   string
	columns []string
	rows    [][]any
}

// insertBatchAtOnce writes a batch on PostgreSQL in one statement, each
// table's rows a data-modifying WITH query, which also tells which of the
// events' accounts have webhook subscriptions: one round trip where the
// tables one by one took six, while an add holds its account's lock. Each
// column's values travel as one array, unnested into rows: a statement of a
// few dozen parameters, parsed and planned at once whatever the batch's
// size, where a VALUES list of a bulk chunk's 500 people took 33,000
// parameters to encode, parse and plan. The rows' foreign keys are checked
// at the statement's end, when every table has its rows; a broken unique
// rule fails the whole statement, as it failed the batch before.
func (t *tx) insertBatchAtOnce(ctx context.Context, steps []batchStep, subscribed map[string]bool) error {
	var (
		args  argList
		with  []string
		audit string
	)
	for i, step := range steps {
		if len(step.rows) == 0 {
			continue
		}
		insert, err := t.insertStatement(&args, step.table, step.columns, step.rows)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("step%d", i)
		if step.table == "audit_events" {
			insert, audit = insert+" RETURNING account_id, event_type", name
		}
		with = append(with, name+" AS ("+insert+")")
	}
	var query strings.Builder
	if len(with) > 0 {
		query.WriteString("WITH " + strings.Join(with, ", ") + " ")
	}
	// The events' accounts are read from the rows the statement writes, not
	// passed again: as an array, PostgreSQL planned the statement anew at
	// every run (see argList.list); as a list, every number of accounts
	// made one more statement to prepare.
	if audit == "" {
		query.WriteString(`SELECT NULL::text WHERE false`)
	} else {
		query.WriteString(`SELECT DISTINCT e.account_id FROM ` + audit + ` e
		WHERE e.event_type IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_subscriptions w
			WHERE w.account_id IN (e.account_id, (SELECT integrator_id FROM accounts WHERE id = e.account_id)) AND w.disabled_at IS NULL)`)
	}
	return t.each(ctx, query.String(), args, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		subscribed[id] = true
		return nil
	})
}

// unnestFrom is the fewest rows written as arrays on PostgreSQL: a single
// add's few rows went slower that way than as a VALUES list (one account's
// adds, serialised by its lock, 315 – 317 /s against 337 – 351 /s).
const unnestFrom = 16

// unnestInsert is a PostgreSQL INSERT of rows whose columns are passed as
// arrays (added to args) and unnested into rows.
func unnestInsert(args *argList, table string, columns []string, rows [][]any) (string, error) {
	arrays := make([]string, len(columns))
	for j := range columns {
		column, sqlType, err := columnArray(rows, j)
		if err != nil {
			return "", fmt.Errorf("%s.%s: %w", table, columns[j], err)
		}
		arrays[j] = args.add(column) + "::" + sqlType + "[]"
	}
	return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") SELECT * FROM unnest(" + strings.Join(arrays, ", ") + ")", nil
}

// columnNames splits a list of columns, each with the given prefix, into
// their names.
func columnNames(list, prefix string) []string {
	names := strings.Split(list, ",")
	for i, name := range names {
		names[i] = strings.TrimPrefix(strings.TrimSpace(name), prefix)
	}
	return names
}

// columnArray gathers column j of rows into one array of its Go type, with
// the SQL type of its elements; NULLs are nil pointers.
func columnArray(rows [][]any, j int) (any, string, error) {
	switch rows[0][j].(type) {
	case string:
		return gatherColumn(rows, j, func(v string) string { return v }, "text")
	case sql.NullString:
		return gatherColumn(rows, j, func(v sql.NullString) *string { return nullable(v.String, v.Valid) }, "text")
	case bool:
		return gatherColumn(rows, j, func(v bool) bool { return v }, "boolean")
	case int:
		return gatherColumn(rows, j, func(v int) int64 { return int64(v) }, "bigint")
	case int64:
		return gatherColumn(rows, j, func(v int64) int64 { return v }, "bigint")
	case sql.NullInt64:
		return gatherColumn(rows, j, func(v sql.NullInt64) *int64 { return nullable(v.Int64, v.Valid) }, "bigint")
	case []byte:
		return gatherColumn(rows, j, func(v []byte) []byte { return v }, "bytea")
	}
	return nil, "", fmt.Errorf("no array for a value of type %T", rows[0][j])
}

// gatherColumn converts column j of every row, all of type V.
func gatherColumn[V, E any](rows [][]any, j int, convert func(V) E, sqlType string) (any, string, error) {
	out := make([]E, len(rows))
	for i, row := range rows {
		v, ok := row[j].(V)
		if !ok {
			return nil, "", fmt.Errorf("a value of type %T among values of type %T", row[j], rows[0][j])
		}
		out[i] = convert(v)
	}
	return out, sqlType, nil
}

func nullable[T any](v T, valid bool) *T {
	if !valid {
		return nil
	}
	return &v
}

// batchEvent is an audit event of a batch that is an event, with its type
// and its person.
type batchEvent struct {
	gatehouse.AuditEvent
	eventType string
}

// batchAuditRows are a batch's audit events as rows, with what the events
// among them carry (see InsertAuditEvent): the person, found among the
// batch's memberships and invitations, and on SQLite a place in commit
// order, taken for the whole batch at once.
func (t *tx) batchAuditRows(ctx context.Context, b gatehouse.WriteBatch) ([][]any, []batchEvent, error) {
	people := map[string]string{}
	for _, m := range b.Memberships {
		people["membership:"+m.ID] = m.UserID
	}
	for _, inv := range b.Invitations {
		people["invitation:"+inv.ID] = inv.UserID
	}
	types := make([]string, len(b.AuditEvents))
	events := int64(0)
	for i, e := range b.AuditEvents {
		if types[i] = gatehouse.EventTypeOf(e); types[i] != "" {
			events++
		}
	}
	var seq sql.NullInt64
	if t.dialect == SQLite && events > 0 {
		last, err := t.takeEventNumbers(ctx, events)
		if err != nil {
			return nil, nil, err
		}
		seq = sql.NullInt64{Int64: last - events, Valid: true}
	}
	rows := make([][]any, len(b.AuditEvents))
	var out []batchEvent
	for i, e := range b.AuditEvents {
		var (
			userID    sql.NullString
			eventType sql.NullString
			eventSeq  sql.NullInt64
		)
		if types[i] != "" {
			eventType = sql.NullString{String: types[i], Valid: true}
			userID.String = cmp.Or(e.UserID, people[e.TargetType+":"+e.TargetID])
			userID.Valid = userID.String != ""
			if seq.Valid {
				seq.Int64++
				eventSeq = seq
			}
			e.UserID = userID.String
			out = append(out, batchEvent{e, types[i]})
		}
		rows[i] = []any{e.ID, sql.NullString{String: e.AccountID, Valid: e.AccountID != ""}, micros(e.At), e.ActorID,
			e.Action, e.TargetType, e.TargetID, e.IP, e.RequestID, auditChanges(e.Changes), userID, eventType}
		if t.dialect == SQLite {
			rows[i] = append(rows[i], eventSeq) // PostgreSQL numbers them itself
		}
	}
	return rows, out, nil
}

// auditColumns are the columns batchAuditRows fills.
func (t *tx) auditColumns() []string {
	columns := []string{"id", "account_id", "at", "actor_id", "action", "target_type", "target_id", "ip", "request_id", "changes",
		"user_id", "event_type"}
	if t.dialect == SQLite {
		columns = append(columns, "seq")
	}
	return columns
}

func (t *tx) InsertUsersIfAbsent(ctx context.Context, users []gatehouse.User) (map[string]bool, error) {
	rows := make([][]any, len(users))
	for i, u := range users {
		rows[i] = []any{u.ID, u.Username, gatehouse.UsernameKey(u.Username), u.FirstName, u.LastName, u.Language, u.Phone,
			u.UserType, nullString(u.IdentityProviderID), string(u.Status), micros(u.CreatedAt)}
	}
	stored := make(map[string]bool, len(users))
	err := t.insertRowsReturning(ctx, "users", []string{"id", "username", "username_key", "first_name", "last_name", "language", "phone",
		"user_type", "identity_provider_id", "status", "created_at"}, " ON CONFLICT (username_key) DO NOTHING RETURNING username_key", rows,
		func(rows *sql.Rows) error {
			var key string
			err := rows.Scan(&key)
			stored[key] = true
			return err
		})
	return stored, err
}

func (r reader) UsersByUsername(ctx context.Context, usernames []string) (map[string]gatehouse.User, error) {
	users := make(map[string]gatehouse.User, len(usernames))
	for len(usernames) > 0 {
		n := min(len(usernames), 500)
		var args argList
		keys := make([]string, n)
		for i, u := range usernames[:n] {
			keys[i] = gatehouse.UsernameKey(u)
		}
		err := r.each(ctx, `SELECT `+userColumns+` FROM `+r.usersWithKeys(&args, keys), r.customPlan(args),
			func(rows *sql.Rows) error {
				u, err := scanUser(rows)
				users[gatehouse.UsernameKey(u.Username)] = u
				return err
			})
		if err != nil {
			return nil, err
		}
		usernames = usernames[n:]
	}
	return users, nil
}

// ReserveClientUserSlots is the guarded counter of ReserveClientUserSlot for
// n users at once: it takes what is left when fewer than n are. On
// PostgreSQL it is one statement, which reads the free slots from the row it
// locks (an add holds its account's lock while it waits on this round trip);
// on SQLite, whose one writer excludes every other, a read and a guarded
// update.
func (t *tx) ReserveClientUserSlots(ctx context.Context, accountID string, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	if t.dialect == Postgres {
		var granted int
		err := t.q.QueryRowContext(ctx, `WITH free AS (
				SELECT LEAST($2::int, max_client_users - client_users) AS n FROM accounts WHERE id = $1 FOR UPDATE)
			UPDATE accounts SET client_users = client_users + free.n FROM free
			WHERE id = $1 AND free.n > 0 AND client_users + free.n <= max_client_users
			RETURNING free.n`, accountID, n).Scan(&granted)
		if err == sql.ErrNoRows {
			return 0, t.accountExists(ctx, accountID)
		}
		return granted, mapErr(err)
	}
	var free int
	err := t.q.QueryRowContext(ctx, `SELECT max_client_users - client_users FROM accounts WHERE id = $1`, accountID).Scan(&free)
	if err == sql.ErrNoRows {
		return 0, gatehouse.NotFound("account")
	} else if err != nil {
		return 0, mapErr(err)
	}
	granted := max(0, min(n, free))
	if granted == 0 {
		return 0, nil
	}
	res, err := t.q.ExecContext(ctx, `UPDATE accounts SET client_users = client_users + $2
		WHERE id = $1 AND client_users + $2 <= max_client_users`, accountID, granted)
	if err != nil {
		return 0, mapErr(err)
	}
	if changed, _ := res.RowsAffected(); changed == 0 {
		return 0, nil
	}
	return granted, nil
}

// LockAccounts reads several accounts, keyed by id, and keeps them locked
// until the transaction ends; an id it does not find is left out. On
// PostgreSQL one statement, which takes the rows' locks in the order of
// their ids, the order every group of adds locks in; SQLite's one writer
// holds the whole database already.
//
// On SQLite the same statement tells which of the accounts have a live
// webhook subscription, for the batch the group writes next (InsertBatch):
// a statement of its own in every group cost the writer as much as the
// accounts' read. PostgreSQL's batch tells it in its own statement.
func (t *tx) LockAccounts(ctx context.Context, ids []string) (map[string]gatehouse.Account, error) {
	accounts := make(map[string]gatehouse.Account, len(ids))
	if len(ids) == 0 {
		return accounts, nil
	}
	var args argList
	if t.dialect == SQLite {
		t.subscribed = make(map[string]bool, len(ids))
		err := t.each(ctx, `SELECT `+accountColumns+`, `+liveSubscription+` FROM accounts a WHERE a.id `+t.oneOf(&args, ids),
			args, func(rows *sql.Rows) error {
				var subscribed bool
				a, err := scanAccount(rows, &subscribed)
				accounts[a.ID], t.subscribed[a.ID] = a, subscribed
				return err
			})
		return accounts, err
	}
	err := t.each(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id IN (`+args.list(ids)+`) ORDER BY a.id FOR UPDATE OF a`,
		args, func(rows *sql.Rows) error {
			a, err := scanAccount(rows)
			accounts[a.ID] = a
			return err
		})
	return accounts, err
}

// BumpAndReserve raises the authz versions of accountIDs, as
// BumpAuthzVersion does, and reserves want[id] client-user slots in each
// (want names only ids of accountIDs), returning how many each got; an
// account it does not find gets none. On PostgreSQL one guarded statement,
// one new version of each account's row: a group of adds wrote each row
// twice, the version and then the slots, in two round trips.
func (t *tx) BumpAndReserve(ctx context.Context, accountIDs []string, want map[string]int) (map[string]int, error) {
	granted := make(map[string]int, len(want))
	var ids []string
	for _, id := range accountIDs {
		if _, done := t.bumped[id]; (!done || want[id] > 0) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if t.dialect == SQLite {
		for _, id := range ids {
			if err := t.BumpAuthzVersion(ctx, id); err != nil {
				return nil, err
			}
		}
		return granted, t.reserveUnderTheWriter(ctx, ids, want, granted)
	}
	if len(ids) == 0 {
		return granted, nil
	}
	slices.Sort(ids)
	counts := make([]int32, len(ids))
	for i, id := range ids {
		counts[i] = int32(max(want[id], 0))
	}
	if t.bumped == nil {
		t.bumped = map[string]int64{}
	}
	// free is read under the row's lock, so the count and the limit are
	// the ones the update adds to.
	err := t.each(ctx, `WITH free AS (
			SELECT a.id, GREATEST(LEAST(w.n, a.max_client_users - a.client_users), 0) AS n
			FROM accounts a JOIN unnest($1::text[], $2::int[]) AS w(id, n) ON w.id = a.id
			ORDER BY a.id FOR UPDATE OF a)
		UPDATE accounts SET authz_version = authz_version + 1, client_users = client_users + free.n FROM free
		WHERE accounts.id = free.id
		RETURNING accounts.id, accounts.authz_version, free.n`, []any{ids, counts}, func(rows *sql.Rows) error {
		var (
			id string
			v  int64
			n  int
		)
		err := rows.Scan(&id, &v, &n)
		t.bumped[id], granted[id] = v, n
		return err
	})
	return granted, err
}

// reserveUnderTheWriter reserves want[id] client-user slots in each of ids
// on SQLite, setting what each got in granted: the free slots of all the
// accounts in one read, then one update for all of them. SQLite's one
// writer excludes every other for the whole transaction, so nothing comes
// between the read and the update; the update is guarded all the same, and
// a guard that fails is an error, never a silent overdraft. An account it
// does not find gets none.
func (t *tx) reserveUnderTheWriter(ctx context.Context, ids []string, want map[string]int, granted map[string]int) error {
	var asking []string
	for _, id := range ids {
		if want[id] > 0 {
			asking = append(asking, id)
		}
	}
	if len(asking) == 0 {
		return nil
	}
	var args argList
	err := t.each(ctx, `SELECT id, max_client_users - client_users FROM accounts WHERE id `+t.oneOf(&args, asking), args,
		func(rows *sql.Rows) error {
			var (
				id   string
				free int
			)
			err := rows.Scan(&id, &free)
			if n := max(0, min(want[id], free)); n > 0 {
				granted[id] = n
			}
			return err
		})
	if err != nil || len(granted) == 0 {
		return err
	}
	var (
		update argList
		cases  strings.Builder
		taking []string
	)
	for _, id := range asking {
		if n := granted[id]; n > 0 {
			cases.WriteString(" WHEN " + t.mark(&update, id) + " THEN " + t.mark(&update, n))
			taking = append(taking, id)
		}
	}
	// The same cases again for the guard, then the ids: SQLite's anonymous
	// placeholders take their values in the order they stand in the query.
	taken := "CASE id" + cases.String() + " END"
	for _, id := range taking {
		update = append(update, id, granted[id])
	}
	res, err := t.q.ExecContext(ctx, `UPDATE accounts SET client_users = client_users + `+taken+`
		WHERE client_users + `+taken+` <= max_client_users AND id `+t.oneOf(&update, taking), update...)
	if err != nil {
		return mapErr(err)
	}
	if changed, err := res.RowsAffected(); err != nil || changed != int64(len(taking)) {
		return fmt.Errorf("store: reserving client-user slots changed %d accounts of %d (%v)", changed, len(taking), err)
	}
	return nil
}

// accountExists is nil when the account exists, ENOTFOUND otherwise.
func (t *tx) accountExists(ctx context.Context, accountID string) error {
	var exists bool
	if err := t.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`, accountID).Scan(&exists); err != nil {
		return mapErr(err)
	}
	if !exists {
		return gatehouse.NotFound("account")
	}
	return nil
}
