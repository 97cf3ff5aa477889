package ops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/filelock"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
)

// CopyOptions says which installation to copy where.
type CopyOptions struct {
	// From is the SQLite installation: its data dir, or its gatehouse.db.
	From string
	// To is the URL of the PostgreSQL database, which must be empty.
	To string
	// Progress, if not nil, hears of each table once it is copied.
	Progress func(TableCopied)
}

// TableCopied is one table copied, then read back and compared.
type TableCopied struct {
	Table string
	Rows  int64
	// Checksum is the canonical checksum of the rows (tableSum), the same
	// on both databases once verified.
	Checksum string
	Took     time.Duration
}

// Copied is what a copy did.
type Copied struct {
	SchemaVersion int64
	Tables        []TableCopied
	// Migrate, CopyRows, Verify and Analyze are the times of the steps.
	Migrate, CopyRows, Verify, Analyze time.Duration
	// KeyFile is the data dir's key file, whose key the PostgreSQL nodes
	// need as GATEHOUSE_SECRET_KEY; "" when the data dir has none.
	KeyFile string
}

// Rows is the number of rows copied.
func (c Copied) Rows() int64 {
	var n int64
	for _, t := range c.Tables {
		n += t.Rows
	}
	return n
}

// The two schemas differ in these places only (see the migrations of both
// databases); anything else that differs is a schema the copy does not
// know, and it stops before writing anything.
var (
	// sqliteOnlyTables are left behind, or become something else.
	sqliteOnlyTables = map[string]string{
		migrations.VersionTable: "each database records its own migrations",
		"sqlite_sequence":       "SQLite's AUTOINCREMENT counters, goose's alone",
		eventCounterTable:       "where the feed's numbers stood before a purge; audit_events' sequence on PostgreSQL",
	}
	postgresOnlyTables = map[string]string{
		migrations.VersionTable: "each database records its own migrations",
	}
	// postgresOnlyColumns are filled by the copy (copyTable).
	postgresOnlyColumns = map[string]string{
		"audit_events.tx": "the transaction that wrote an event, which orders the feed on PostgreSQL",
	}
)

const (
	eventCounterTable = "event_sequence"
	// keyVersionsTable records which username key rules re-keyed the
	// identities. Migrating the empty target records today's rules there;
	// the copy takes the source's record instead, so that a node re-keys
	// the copy if the source was never re-keyed under them.
	keyVersionsTable = "username_key_versions"
)

// Copy moves a whole SQLite installation into an empty PostgreSQL database:
// every table, sealed secrets as they are (the nodes need the same key),
// the outbox with what it has still to send, sessions, the audit log and
// the feed's order, and the counters. It holds the data dir's lock, so no
// node writes the source meanwhile; migrates the target to this binary's
// schema; copies every table with COPY in one transaction that also locks
// the target's tables; reads every table back and compares its row count and
// canonical checksum with the source's; and only then commits. A failure
// at any step leaves the target as empty as it was.
func Copy(ctx context.Context, opts CopyOptions) (Copied, error) {
	var done Copied
	dbPath, dataDir := opts.From, filepath.Dir(opts.From)
	if info, err := os.Stat(opts.From); err == nil && info.IsDir() {
		dbPath, dataDir = filepath.Join(opts.From, databaseFile), opts.From
	}
	if _, err := os.Stat(filepath.Join(dataDir, secretbox.KeyFile)); err == nil {
		done.KeyFile = filepath.Join(dataDir, secretbox.KeyFile)
	}
	lock, err := filelock.Exclusive(dbPath + ".lock")
	if err != nil {
		return done, refuse(ErrInUse, "%s: %v; stop the node first: the copy must be the installation's last state", dbPath, err)
	}
	defer lock.Close()
	source, err := openReadOnly(ctx, dbPath)
	if err != nil {
		return done, err
	}
	defer source.Close()
	if done.SchemaVersion, err = migrations.Version(ctx, source); err != nil {
		return done, fmt.Errorf("%s is no Gatehouse database: %w", dbPath, err)
	}
	switch latest := migrations.Latest(false); {
	case done.SchemaVersion > latest:
		return done, refuse(ErrNewerSchema, "%s is at schema version %d, and this gatehouse knows versions up to %d: copy it with the gatehouse that serves it",
			dbPath, done.SchemaVersion, latest)
	case done.SchemaVersion < latest:
		return done, refuse(ErrOlderSchema, "%s is at schema version %d, and this gatehouse's is %d: run `gatehouse migrate --data-dir %s` with it first",
			dbPath, done.SchemaVersion, latest, dataDir)
	}

	target, err := pgx.Connect(ctx, opts.To)
	if err != nil {
		return done, fmt.Errorf("connect to %s: %w", redactURL(opts.To), err)
	}
	defer target.Close(context.WithoutCancel(ctx))
	if err := checkTargetEmpty(ctx, target, nil); err != nil {
		return done, err
	}
	started := time.Now()
	if err := migrateTarget(ctx, opts.To); err != nil {
		return done, err
	}
	done.Migrate = time.Since(started)

	plan, err := planCopy(ctx, source, target)
	if err != nil {
		return done, err
	}
	srcTx, err := source.BeginTx(ctx, nil) // one state of the source throughout
	if err != nil {
		return done, err
	}
	defer srcTx.Rollback() //nolint:errcheck // read only
	tx, err := target.Begin(ctx)
	if err != nil {
		return done, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op once committed
	names := make([]string, len(plan))
	for i, t := range plan {
		names[i] = pgx.Identifier{t.name}.Sanitize()
	}
	// Nodes started on the target early wait for the commit, rather than
	// write between the copied rows.
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return done, fmt.Errorf("lock the target's tables: %w", err)
	}
	if err := checkTargetEmpty(ctx, tx, plan); err != nil {
		return done, err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+keyVersionsTable); err != nil {
		return done, err
	}
	var counter int64
	if err := srcTx.QueryRowContext(ctx, store.LastEventNumberSQLite).Scan(&counter); err != nil {
		return done, fmt.Errorf("read the feed's counter: %w", err)
	}

	started = time.Now()
	sums := make([]*tableSum, len(plan))
	feed := &feedNumbers{next: counter}
	for i, t := range plan {
		began := time.Now()
		src := &tableSource{table: t, sum: &tableSum{}}
		if t.feed != nil {
			src.feed = feed
		}
		if err := src.open(ctx, srcTx); err != nil {
			return done, err
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.targetColumns(), src)
		if err == nil {
			err = src.Err()
		}
		src.rows.Close()
		if err != nil {
			return done, fmt.Errorf("copy %s: %w", t.name, err)
		}
		if n != src.sum.rows {
			return done, fmt.Errorf("copy %s: PostgreSQL took %d rows of %d", t.name, n, src.sum.rows)
		}
		sums[i] = src.sum
		copied := TableCopied{Table: t.name, Rows: n, Checksum: src.sum.String(), Took: time.Since(began)}
		done.Tables = append(done.Tables, copied)
		if opts.Progress != nil {
			opts.Progress(copied)
		}
	}
	if err := setSequences(ctx, tx, feed.next); err != nil {
		return done, err
	}
	done.CopyRows = time.Since(started)

	started = time.Now()
	for i, t := range plan {
		got, err := targetSum(ctx, tx, t)
		if err != nil {
			return done, fmt.Errorf("read back %s: %w", t.name, err)
		}
		if got.rows != sums[i].rows || got.String() != sums[i].String() {
			return done, fmt.Errorf("verify %s: SQLite has %d rows of checksum %s, PostgreSQL %d rows of %s; nothing was committed",
				t.name, sums[i].rows, sums[i], got.rows, got)
		}
	}
	done.Verify = time.Since(started)
	if err := tx.Commit(ctx); err != nil {
		return done, fmt.Errorf("commit the copy: %w", err)
	}
	// Statistics now rather than when autovacuum comes by, so that the
	// first requests are planned for the tables as they are.
	started = time.Now()
	if _, err := target.Exec(ctx, "ANALYZE"); err != nil {
		return done, fmt.Errorf("analyze: %w", err)
	}
	done.Analyze = time.Since(started)
	return done, nil
}

// migrateTarget brings the target to this binary's schema, as a node
// starting on it would.
func migrateTarget(ctx context.Context, url string) error {
	db, err := store.OpenPostgres(ctx, url)
	if err != nil {
		return err
	}
	_, err = db.Migrate(ctx)
	return errors.Join(err, db.Close())
}

// pgQuerier is what a connection and a transaction share.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkTargetEmpty refuses a target that holds anything but an empty
// Gatehouse schema of this binary's version or older: tables of something
// else, or rows in any table. plan, once the target is migrated, names the
// tables to look into; before, they are read from the catalog.
func checkTargetEmpty(ctx context.Context, q pgQuerier, plan []tablePlan) error {
	var tables []string
	if plan == nil {
		rows, err := q.Query(ctx, `SELECT c.relname FROM pg_class c
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') ORDER BY c.relname`)
		if err != nil {
			return fmt.Errorf("read the target's tables: %w", err)
		}
		if tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("read the target's tables: %w", err)
		}
		if len(tables) == 0 {
			return nil
		}
		if !slices.Contains(tables, migrations.VersionTable) {
			return refuse(ErrNotEmpty, "the target database holds tables that are not Gatehouse's (%s): copy into an empty database", shortList(tables))
		}
		var version int64
		if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+migrations.VersionTable).Scan(&version); err != nil {
			return fmt.Errorf("read the target's schema version: %w", err)
		}
		if latest := migrations.Latest(true); version > latest {
			return refuse(ErrNewerSchema, "the target database is at schema version %d, and this gatehouse knows versions up to %d", version, latest)
		}
	} else {
		for _, t := range plan {
			tables = append(tables, t.name)
		}
	}
	var holding []string
	for _, table := range tables {
		if table == migrations.VersionTable || table == keyVersionsTable {
			continue
		}
		var found bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{table}.Sanitize()+`)`).Scan(&found); err != nil {
			return fmt.Errorf("look into %s: %w", table, err)
		}
		if found {
			holding = append(holding, table)
		}
	}
	if len(holding) > 0 {
		return refuse(ErrNotEmpty, "the target database already holds data (in %s): copy into an empty database, so that nothing is mixed or overwritten", shortList(holding))
	}
	return nil
}

// shortList names a few of many.
func shortList(names []string) string {
	if len(names) > 6 {
		return strings.Join(names[:6], ", ") + fmt.Sprintf(" and %d more", len(names)-6)
	}
	return strings.Join(names, ", ")
}

// redactURL hides a URL's password in messages.
func redactURL(raw string) string {
	if i, j := strings.Index(raw, "://"), strings.LastIndex(raw, "@"); i >= 0 && j > i {
		if k := strings.Index(raw[i+3:j], ":"); k >= 0 {
			return raw[:i+3+k] + ":xxxxx" + raw[j:]
		}
	}
	return raw
}

// tablePlan is one table to copy.
type tablePlan struct {
	name string
	// columns are the columns both databases have, in PostgreSQL's order.
	columns []columnPlan
	// feed is set on audit_events: the copy fills its tx and numbers the
	// rows SQLite left without seq (feedNumbers).
	feed *feedColumns
}

type columnPlan struct {
	name string
	kind kind
}

// feedColumns are the places of audit_events' columns that the copy
// treats apart.
type feedColumns struct{ seq, eventType int }

func (t tablePlan) sourceColumns() []string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return names
}

func (t tablePlan) targetColumns() []string {
	if t.feed != nil {
		return append(t.sourceColumns(), "tx")
	}
	return t.sourceColumns()
}

// comparable clears what the two databases may hold differently for the
// same row, before the checksum: PostgreSQL numbers the audit events that
// are no event of the feed (SQLite leaves their seq NULL), and those
// numbers mean nothing.
func (t tablePlan) comparable(values []any) {
	if t.feed != nil && values[t.feed.eventType] == nil {
		values[t.feed.seq] = nil
	}
}

// planCopy reads both schemas, checks that they differ only where they
// are known to, and orders the tables so that each comes after those its
// foreign keys refer to.
func planCopy(ctx context.Context, source *sql.DB, target *pgx.Conn) ([]tablePlan, error) {
	sqliteColumns := map[string][]string{}
	rows, err := source.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, fmt.Errorf("read the source's schema: %w", err)
	}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			rows.Close()
			return nil, err
		}
		sqliteColumns[table] = append(sqliteColumns[table], column)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	pgRows, err := target.Query(ctx, `SELECT c.relname, a.attname, t.typname
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`)
	if err != nil {
		return nil, fmt.Errorf("read the target's schema: %w", err)
	}
	type pgColumn struct{ Table, Name, Type string }
	pgColumns, err := pgx.CollectRows(pgRows, pgx.RowToStructByPos[pgColumn])
	if err != nil {
		return nil, fmt.Errorf("read the target's schema: %w", err)
	}

	var problems []string
	plans := map[string]*tablePlan{}
	onPostgres := map[string]bool{}
	for _, c := range pgColumns {
		if _, skip := postgresOnlyTables[c.Table]; skip {
			continue
		}
		if _, ok := sqliteColumns[c.Table]; !ok {
			problems = append(problems, "table "+c.Table+" is on PostgreSQL only")
			continue
		}
		p := plans[c.Table]
		if p == nil {
			p = &tablePlan{name: c.Table}
			plans[c.Table] = p
		}
		onPostgres[c.Table+"."+c.Name] = true
		if _, ok := postgresOnlyColumns[c.Table+"."+c.Name]; ok {
			continue
		}
		if !slices.Contains(sqliteColumns[c.Table], c.Name) {
			problems = append(problems, "column "+c.Table+"."+c.Name+" is on PostgreSQL only")
			continue
		}
		k, ok := kindOf(c.Type)
		if !ok {
			problems = append(problems, "column "+c.Table+"."+c.Name+" has PostgreSQL type "+c.Type+", which the copy does not know")
			continue
		}
		p.columns = append(p.columns, columnPlan{name: c.Name, kind: k})
	}
	for table, columns := range sqliteColumns {
		if _, skip := sqliteOnlyTables[table]; skip || strings.HasPrefix(table, "sqlite_stat") {
			continue
		}
		if plans[table] == nil {
			problems = append(problems, "table "+table+" is on SQLite only")
			continue
		}
		for _, column := range columns {
			if !onPostgres[table+"."+column] {
				problems = append(problems, "column "+table+"."+column+" is on SQLite only")
			}
		}
	}
	if feed := plans["audit_events"]; feed != nil {
		feed.feed = &feedColumns{seq: -1, eventType: -1}
		for i, c := range feed.columns {
			switch c.name {
			case "seq":
				feed.feed.seq = i
			case "event_type":
				feed.feed.eventType = i
			}
		}
		if feed.feed.seq < 0 || feed.feed.eventType < 0 {
			problems = append(problems, "audit_events lacks seq or event_type")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("the schemas of the two databases differ where the copy does not expect it, so it copies nothing: %s",
			strings.Join(problems, "; "))
	}
	return orderByForeignKeys(ctx, target, plans)
}

// orderByForeignKeys lists the tables so that each comes after the tables
// its foreign keys refer to (a table referring to itself is checked at the
// end of its COPY, whatever the order of its rows).
func orderByForeignKeys(ctx context.Context, target *pgx.Conn, plans map[string]*tablePlan) ([]tablePlan, error) {
	rows, err := target.Query(ctx, `SELECT c.relname, r.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("read the target's foreign keys: %w", err)
	}
	type reference struct{ From, To string }
	refs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[reference])
	if err != nil {
		return nil, fmt.Errorf("read the target's foreign keys: %w", err)
	}
	needs := map[string]map[string]bool{}
	for _, r := range refs {
		if r.From == r.To || plans[r.From] == nil || plans[r.To] == nil {
			continue
		}
		if needs[r.From] == nil {
			needs[r.From] = map[string]bool{}
		}
		needs[r.From][r.To] = true
	}
	var names []string
	for name := range plans {
		names = append(names, name)
	}
	slices.Sort(names)
	var ordered []tablePlan
	placed := map[string]bool{}
	for len(ordered) < len(names) {
		progressed := false
		for _, name := range names {
			if placed[name] {
				continue
			}
			ready := true
			for dep := range needs[name] {
				ready = ready && placed[dep]
			}
			if ready {
				ordered, placed[name], progressed = append(ordered, *plans[name]), true, true
			}
		}
		if !progressed {
			return nil, errors.New("the target's foreign keys form a cycle between tables; the copy cannot order them")
		}
	}
	return ordered, nil
}

// feedNumbers gives the audit events that SQLite left without a place in
// the feed (those that are no event) numbers after its counter, since
// PostgreSQL numbers every row; next is the last number given.
type feedNumbers struct{ next int64 }

// tableSource streams a table's rows from SQLite to COPY, summing them as
// they go.
type tableSource struct {
	table  tablePlan
	rows   *sql.Rows
	sum    *tableSum
	feed   *feedNumbers
	raw    []any
	ptrs   []any
	values []any
	err    error
}

func (s *tableSource) open(ctx context.Context, tx *sql.Tx) error {
	columns := s.table.sourceColumns()
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = `"` + c + `"`
	}
	var err error
	s.rows, err = tx.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+s.table.name+`"`)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.table.name, err)
	}
	s.raw, s.ptrs = make([]any, len(columns)), make([]any, len(columns))
	for i := range s.raw {
		s.ptrs[i] = &s.raw[i]
	}
	s.values = make([]any, len(s.table.targetColumns()))
	return nil
}

// Next reads the next row, adds it to the sum and converts it to
// PostgreSQL's types.
func (s *tableSource) Next() bool {
	if s.err != nil || !s.rows.Next() {
		return false
	}
	if s.err = s.rows.Scan(s.ptrs...); s.err != nil {
		return false
	}
	copy(s.values, s.raw)
	s.table.comparable(s.values)
	for i, c := range s.table.columns {
		if err := s.sum.canonical(c.kind, s.values[i]); err != nil {
			s.err = fmt.Errorf("%s.%s: %w", s.table.name, c.name, err)
			return false
		}
	}
	s.sum.endRow()
	for i, c := range s.table.columns {
		s.values[i], s.err = toPostgres(c.kind, s.raw[i])
		if s.err != nil {
			s.err = fmt.Errorf("%s.%s: %w", s.table.name, c.name, s.err)
			return false
		}
	}
	if s.feed != nil {
		// Copied events are older than any transaction of the target:
		// their tx is 0, so the feed reads them first, by seq, which they
		// keep; a consumer's cursor ("0.<seq>" on SQLite) goes on from
		// where it was.
		if s.values[s.table.feed.seq] == nil {
			s.feed.next++
			s.values[s.table.feed.seq] = s.feed.next
		}
		s.values[len(s.values)-1] = uint64(0)
	}
	return true
}

func (s *tableSource) Values() ([]any, error) { return s.values, s.err }

func (s *tableSource) Err() error { return errors.Join(s.err, s.rows.Err()) }

// toPostgres converts a value SQLite gave to what the PostgreSQL column of
// kind k takes.
func toPostgres(k kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case kindBool:
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
	case kindText:
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
	case kindBytes:
		switch v := v.(type) {
		case []byte:
			return v, nil
		case string:
			return []byte(v), nil
		}
	}
	return nil, fmt.Errorf("SQLite holds a %T (%v) where PostgreSQL takes a %s", v, v, [...]string{"number", "boolean", "text", "bytes"}[k])
}

// setSequences sets every sequence of the target past the values copied,
// so that the next row numbered gets a number no copied row has; the feed's
// sequence goes past SQLite's counter too, which never goes back even when
// old events were purged.
func setSequences(ctx context.Context, tx pgx.Tx, feedFloor int64) error {
	rows, err := tx.Query(ctx, `SELECT table_name::text, column_name::text, pg_get_serial_sequence(quote_ident(table_name), column_name)
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("read the target's sequences: %w", err)
	}
	type sequence struct{ Table, Column, Name string }
	sequences, err := pgx.CollectRows(rows, pgx.RowToStructByPos[sequence])
	if err != nil {
		return fmt.Errorf("read the target's sequences: %w", err)
	}
	for _, s := range sequences {
		if s.Table == migrations.VersionTable {
			continue
		}
		var highest int64
		query := `SELECT COALESCE(MAX(` + pgx.Identifier{s.Column}.Sanitize() + `), 0) FROM ` + pgx.Identifier{s.Table}.Sanitize()
		if err := tx.QueryRow(ctx, query).Scan(&highest); err != nil {
			return fmt.Errorf("read %s.%s: %w", s.Table, s.Column, err)
		}
		if s.Table == "audit_events" && s.Column == "seq" {
			highest = max(highest, feedFloor)
		}
		if highest > 0 {
			if _, err := tx.Exec(ctx, `SELECT setval($1::text::regclass, $2)`, s.Name, highest); err != nil {
				return fmt.Errorf("set %s: %w", s.Name, err)
			}
		}
	}
	return nil
}

// targetSum reads a copied table back from PostgreSQL and sums it as the
// source was.
func targetSum(ctx context.Context, tx pgx.Tx, t tablePlan) (*tableSum, error) {
	columns := t.sourceColumns()
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM `+pgx.Identifier{t.name}.Sanitize())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sum := &tableSum{}
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			return nil, err
		}
		t.comparable(values)
		for i, c := range t.columns {
			if err := sum.canonical(c.kind, values[i]); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.name, c.name, err)
			}
		}
		sum.endRow()
	}
	return sum, rows.Err()
}
