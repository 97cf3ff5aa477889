// Package store keeps Gatehouse's data in SQLite (embedded, the default) or
// PostgreSQL (production, several nodes). Both run the same SQL: queries are
// written with $N placeholders, which modernc's SQLite binds by position too;
// only the schema (migrations/sqlite, migrations/postgres) and error codes
// differ. Every query of tenant data names its account.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/filelock"
	"github.com/gatehouse/gatehouse/internal/store/groupcommit"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
	"github.com/gatehouse/gatehouse/internal/store/stmtcache"
	"github.com/gatehouse/gatehouse/internal/store/versionbatch"
	"github.com/gatehouse/gatehouse/internal/store/versionbook"
)

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is Gatehouse's store on SQLite or PostgreSQL. Each bounded context
// reaches it through its own narrow interfaces (see Over).
type DB struct {
	reader
	dialect Dialect
	// write takes every write transaction. On SQLite it is a pool of one
	// connection whose transactions begin IMMEDIATE: SQLite has one writer,
	// and a transaction that reads and then writes must hold the lock from
	// its start or it fails with SQLITE_BUSY instead of waiting.
	write *sql.DB
	// read serves reads outside transactions; the same pool on PostgreSQL.
	read *sql.DB
	// writeStmts and readStmts cache prepared statements (SQLite only).
	writeStmts, readStmts *stmtcache.Cache
	// committer groups concurrent writes into one transaction (SQLite only).
	committer *groupcommit.Committer[*tx]
	// versions knows every account's authz version without a query (SQLite
	// only; see internal/store/versionbook).
	versions *versionbook.Book
	// lock is held while the SQLite database is open, so that no other
	// process writes it behind the version book's back.
	lock *os.File
	// checkpointer copies the write-ahead log into the database file beside
	// the writer (SQLite only; checkpoint.go).
	checkpointer *checkpointer
	// events numbers the feed's events (SQLite only; eventsequence.go).
	events eventSequence
}

// Open opens the database named by databaseURL: a postgres:// or
// postgresql:// URL selects PostgreSQL; empty selects SQLite at
// <dataDir>/gatehouse.db. Migrations are not run; call Migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return OpenPostgres(ctx, databaseURL)
	}
	if databaseURL != "" {
		return nil, fmt.Errorf("database URL must start with postgres:// (or be empty for SQLite in the data dir)")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return OpenSQLite(ctx, filepath.Join(dataDir, "gatehouse.db"))
}

// OpenSQLite opens (creating if needed) the SQLite database at path.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	lock, err := filelock.Exclusive(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	opened := false
	defer func() {
		if !opened {
			lock.Close()
		}
	}()
	// busy_timeout comes first so that the pragmas after it wait for a lock
	// instead of failing; WAL lets readers run beside the writer; a 64 MiB
	// page cache per connection keeps the indexes of a large installation
	// in memory; temp_store=MEMORY keeps the savepoint journals of group
	// commit (groupcommit.go) off the disk.
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-65536)&_pragma=temp_store(2)"
	dsn := "file:" + path + "?" + pragmas
	// The page cache first: SQLite takes one only before it is
	// initialized, which registering a VFS does (pagecache.go).
	installPageCache()
	// The writer's log writes are gathered (walwrites.go).
	if err := registerBatchedWAL(); err != nil {
		return nil, err
	}
	write, err := sql.Open("sqlite", dsn+"&vfs="+batchedWALVFS+"&_txlock=immediate"+fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", writerCheckpointPages))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	checkpoints, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	checkpoints.SetMaxOpenConns(1)
	readers := max(4, 2*runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	db := &DB{dialect: SQLite, write: write, read: read, writeStmts: stmtcache.New(write), readStmts: stmtcache.New(read),
		versions: versionbook.New(), lock: lock, checkpointer: startCheckpointer(checkpoints)}
	db.reader = reader{q: stmtcache.Queryer{Cache: db.readStmts}, dialect: SQLite, versions: db.versions}
	db.committer = groupcommit.Start(groupcommit.Hooks[*tx]{
		Begin: func(ctx context.Context) (*sql.Tx, error) { return write.BeginTx(ctx, nil) },
		NewTx: func(sqlTx *sql.Tx, missed *[]string) *tx {
			q := stmtcache.Queryer{Cache: db.writeStmts, Tx: sqlTx, Missed: missed, Detach: true}
			return &tx{reader: reader{q: q, dialect: SQLite, versions: db.versions, inTransaction: true}, events: &db.events}
		},
		Committed: func(t *tx) {
			db.versions.Publish(t.bumped)
			db.checkpointer.committed()
		},
		After:  db.writeStmts.PrepareMissed,
		MapErr: mapErr,
	})
	opened = true
	return db, nil
}

// OpenPostgres connects to PostgreSQL. The URL may name several servers
// (postgres://primary:5432,standby:5432/gatehouse?target_session_attrs=read-write):
// each new connection goes to the first that takes writes, so the nodes
// follow a standby's promotion without a restart (docs/operations.md,
// "Fail over").
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	config, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	pool := stdlib.OpenDB(*config, stdlib.OptionResetSession(dropReadOnly))
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	r := reader{q: pool, dialect: Postgres}
	r.sharedVersions = versionbatch.New(r.authzVersions)
	return &DB{reader: r, dialect: Postgres, write: pool, read: pool}, nil
}

// dropReadOnly takes out of the pool, before its next use, a connection
// whose server no longer takes writes: a primary made read-only for a
// switchover, or one that became a standby. The server tells its clients
// when either setting changes (PostgreSQL 14 and later report both), so
// this costs no round trip. A kept connection would fail every write, and
// once the standby is promoted it would read the old primary's frozen
// data; a new connection goes through target_session_attrs to the server
// that takes writes now.
func dropReadOnly(_ context.Context, conn *pgx.Conn) error {
	pg := conn.PgConn()
	if pg.ParameterStatus("default_transaction_read_only") == "on" || pg.ParameterStatus("in_hot_standby") == "on" {
		return driver.ErrBadConn
	}
	return nil
}

// Dialect tells which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Pools returns the connection pools, for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	if db.write == db.read {
		return map[string]*sql.DB{"main": db.write}
	}
	return map[string]*sql.DB{"write": db.write, "read": db.read}
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.committer != nil {
		db.committer.Close()
		db.checkpointer.close()
	}
	if db.writeStmts != nil {
		db.writeStmts.Close()
		db.readStmts.Close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.lock != nil {
		err = errors.Join(err, db.lock.Close()) // closing releases the lock
	}
	return err
}

// Migrate brings the schema up to date, then re-keys the identities made
// under older username key rules (see internal/store/migrations);
// UsernameKeyCollisions lists those that could not be.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	if applied, err = db.MigrateFS(ctx, migrations.FS(db.dialect == Postgres)); err != nil {
		return applied, err
	}
	return applied, migrations.RekeyUsernames(ctx, db.write, db.dialect == Postgres)
}

// MigrateFS applies the goose migrations in dir alone; tests pass their own.
func (db *DB) MigrateFS(ctx context.Context, dir fs.FS) (applied int, err error) {
	return migrations.Up(ctx, db.write, db.dialect == Postgres, dir)
}

// UsernameKeyCollision is two identities whose usernames share one key.
type UsernameKeyCollision = migrations.UsernameKeyCollision

// UsernameKeyCollisions lists the identities left with their old key
// because another holds their username's key, oldest first.
func (db *DB) UsernameKeyCollisions(ctx context.Context) ([]UsernameKeyCollision, error) {
	return migrations.UsernameKeyCollisions(ctx, db.read)
}

// Over is db seen by a bounded context through its interface T of the
// writes it makes: its Write passes the transaction to fn as a T. The reads
// come from db itself. internal/service checks, when the program is built,
// that the transaction offers every method of each T it wires.
type Over[T any] struct{ *DB }

// Write runs fn in a write transaction, as db.Write does.
func (o Over[T]) Write(ctx context.Context, fn func(T) error) error {
	return o.DB.Write(ctx, func(t *WriteTx) error {
		asT, ok := any(t).(T)
		if !ok {
			return fmt.Errorf("store: the transaction lacks a method of %T", (*T)(nil))
		}
		return fn(asT)
	})
}

// Write runs fn in a write transaction. On SQLite, writes that arrive
// together share one transaction and one commit, each in its own savepoint
// (see groupcommit.go). On PostgreSQL a serialization failure or deadlock is
// retried a few times with the whole of fn. Either way fn must have no effect
// outside the transaction, and must not call Write itself.
func (db *DB) Write(ctx context.Context, fn func(*WriteTx) error) error {
	if db.committer != nil {
		return db.committer.Write(ctx, fn)
	}
	const attempts = 5
	var err error
	for attempt := range attempts {
		err = db.writeOnce(ctx, fn)
		if !isRetryable(err) || attempt == attempts-1 {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// writeOnce runs fn in its own transaction (PostgreSQL).
func (db *DB) writeOnce(ctx context.Context, fn func(*WriteTx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{reader: reader{q: sqlTx, dialect: db.dialect, inTransaction: true}}); err != nil {
		return mapErr(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// mapErr turns the drivers' error codes into gatehouse codes: a broken unique
// rule is ECONFLICT, a missing row ENOTFOUND. Error text is never matched.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "not found")
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "already exists", Field: pgErr.ConstraintName}
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "already exists"}
		}
	}
	if lostDatabase(err) {
		lostAt.Store(time.Now().UnixNano())
		return &gatehouse.Error{Code: gatehouse.EUNAVAILABLE, Message: "the database cannot be reached; try again in a moment"}
	}
	return err
}

// lostAt is when a query last found the database out of reach (Unix
// nanoseconds), in this process.
var lostAt atomic.Int64

// LostSince tells whether a query found the database out of reach at t or
// after: the OpenID endpoints, whose library answers every error it does
// not know with 500, answer 503 instead when the database was lost while
// they served the request.
func LostSince(t time.Time) bool { return lostAt.Load() >= t.UnixNano() }

// lostDatabase tells the errors of a database that cannot be reached (down,
// restarting, the network cut) from those of a request: they are answered
// 503 with a retry hint, and the pool reconnects by itself once the
// database is back.
func lostDatabase(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
		pgErr      *pgconn.PgError
		gateErr    *gatehouse.Error
	)
	switch {
	case errors.As(err, &gateErr):
		return false // decided already
	case errors.As(err, &connectErr):
		// No server of the URL could be connected to in connect_timeout, or
		// none takes writes (between a primary's end and its standby's
		// promotion), or the one that answered refused a session (too many
		// clients, starting up): the request is not at fault. A server that
		// refuses the node's role or database is a setting to put right,
		// logged as an internal error.
		return !errors.As(err, &pgErr) || !(strings.HasPrefix(pgErr.Code, "28") || pgErr.Code == "3D000" || pgErr.Code == "42501")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The request's own end (context errors also look like net.Error).
		return false
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: shut down, crash
		// shutdown, cannot connect now; 25006: a write on a server that
		// turned read-only (a switchover under way; dropReadOnly drops the
		// connection); 53300: too many clients, as every node reconnects
		// at once after a failover.
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "25006", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	case errors.As(err, &netErr), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader holds the reads, over a pool or a transaction.
type reader struct {
	q       queryer
	dialect Dialect
	// versions is the SQLite version book; nil on PostgreSQL, which reads
	// the column.
	versions *versionbook.Book
	// sharedVersions shares the version reads of concurrent checks on
	// PostgreSQL (see internal/store/versionbatch); nil in a transaction,
	// whose reads are its own.
	sharedVersions *versionbatch.Reads
	// inTransaction marks a transaction's reads, which the use cases of a
	// request never share (kernel.ShareReads).
	inTransaction bool
}

// OutsideTransaction tells whether r reads outside any transaction.
func (r reader) OutsideTransaction() bool { return !r.inTransaction }

// WriteTx is one write transaction: the reads and the writes. Each bounded
// context sees it through its own narrow Tx interface.
type WriteTx = tx

type tx struct {
	reader
	// bumped holds the accounts whose rules this transaction changed, with
	// the version written (PostgreSQL; SQLite publishes on commit).
	bumped map[string]int64
	// events numbers the feed's events (SQLite only; eventsequence.go).
	events *eventSequence
	// subscribed holds, for the accounts LockAccounts read, whether each
	// has a live webhook subscription, its own or its integrator's, until
	// the batch that follows uses it or a subscription changes (SQLite).
	subscribed map[string]bool
}

// micros encodes a time as Unix microseconds, the stored form of every time.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}
