// Package migrations holds Gatehouse's schema, as goose migrations in SQL, one
// folder per database, embedded in the binary; and the steps that SQL cannot
// take (re-keying usernames when their key rules change).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// FS is the migrations of one database.
func FS(postgres bool) fs.FS {
	name := "sqlite"
	if postgres {
		name = "postgres"
	}
	dir, err := fs.Sub(files, name)
	if err != nil {
		panic(err) // the folder names are constants of this package
	}
	return dir
}

// Latest is the newest schema version among one database's migrations:
// the version this binary brings a database to, and the newest it can
// serve.
func Latest(postgres bool) int64 {
	var latest int64
	dir := FS(postgres)
	names, err := fs.Glob(dir, "*.sql")
	if err != nil {
		panic(err) // the pattern is a constant
	}
	for _, name := range names {
		if v, err := goose.NumericComponent(name); err == nil {
			latest = max(latest, v)
		}
	}
	return latest
}

// VersionTable is where goose records the migrations applied to a
// database, on both databases.
const VersionTable = "goose_db_version"

// Version is the schema version of an open database: the newest migration
// applied to it, 0 for a database never migrated.
func Version(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int64, error) {
	var version int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+VersionTable).Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	return version, nil
}

// Up applies the goose migrations in dir. Each runs in its own
// transaction, so one that fails leaves the database as it was before it.
// On PostgreSQL an advisory lock keeps two nodes starting together from
// migrating at once.
func Up(ctx context.Context, db *sql.DB, postgres bool, dir fs.FS) (applied int, err error) {
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return 0, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, db, dir, opts...)
	if err != nil {
		return 0, fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}
