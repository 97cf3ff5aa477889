// Package ops moves whole Gatehouse installations, for operators: a
// consistent backup of a SQLite data dir taken while its node serves, the
// restore of one into a data dir, and the copy of a SQLite installation into
// an empty PostgreSQL database when it outgrows one node. Each step checks
// what it wrote (checksums, row counts, SQLite's own check) before it says
// it is done, and refuses rather than overwrite what an operator may still
// need.
package ops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/gatehouse/gatehouse/internal/store/filelock"
)

// The files of a data dir that make an installation. The mail and SMS
// sinks beside them are what was delivered, not state.
const (
	databaseFile = "gatehouse.db"
	lockFile     = databaseFile + ".lock" // internal/store holds it while a node runs
)

// openReadOnly opens a SQLite database file for reading only, without the
// data dir's lock: SQLite lets a reader in another process beside the
// writer of a WAL database, each transaction reading one committed state,
// and mode=ro can neither write the file nor checkpoint its WAL when it
// closes. busy_timeout covers the moments the writer's checkpoint briefly
// holds the WAL.
func openReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no SQLite database at %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// quickCheck runs SQLite's check of a database file's structure.
func quickCheck(ctx context.Context, db *sql.DB, path string) error {
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&result); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if result != "ok" {
		return refuse(ErrCorrupted, "SQLite's check of %s says %q", path, result)
	}
	return nil
}

// lockDataDir takes the lock a node holds on its data dir, so that no node
// starts on it while an operation changes or reads its last state; it
// refuses when a node (or another operation) holds it.
func lockDataDir(dataDir string) (*os.File, error) {
	lock, err := filelock.Exclusive(filepath.Join(dataDir, lockFile))
	if err != nil {
		return nil, refuse(ErrInUse, "data dir %s: %v; stop the node that serves it first", dataDir, err)
	}
	return lock, nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
