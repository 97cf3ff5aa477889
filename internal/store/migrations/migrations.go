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
