package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/ops"
)

const backupUsage = `Usage: gatehouse backup --to PATH [--data-dir DIR]

Writes a consistent backup of a SQLite installation, while its node serves
or not: the database, the server key file and a manifest (versions, time,
SHA-256 of each file) in one tar archive, readable by its owner only. PATH
is the archive to write, or an existing directory to write it into as
gatehouse-<UTC time>.tar. On PostgreSQL, back up with pg_dump instead
(docs/operations.md).

Flags:
`

const restoreUsage = `Usage: gatehouse restore --from ARCHIVE [--data-dir DIR] [--force]

Restores a backup into a data dir, with no node running on it. It checks
the backup first (schema version, checksums, SQLite's own check) and
refuses a data dir that holds an installation unless --force is given; the
installation is then moved aside into DIR/replaced-<time>, not deleted.

Flags:
`

// opsError names the command in an error of internal/ops, with the exit
// code of its class: a data dir or database whose state forbids the step
// (in use, not empty, of another schema) is a conflict; a backup that is
// not what its manifest says, or a key that is not the backup's, is
// invalid input.
func opsError(command string, err error) error {
	err = fmt.Errorf("%s: %w", command, err)
	switch {
	case errors.Is(err, ops.ErrInUse), errors.Is(err, ops.ErrNotEmpty), errors.Is(err, ops.ErrNewerSchema), errors.Is(err, ops.ErrOlderSchema):
		return &codedError{code: exitConflict, err: err}
	case errors.Is(err, ops.ErrCorrupted), errors.Is(err, ops.ErrWrongKey):
		return &codedError{code: exitInvalid, err: err}
	}
	return err
}

// dataDirFlag is the --data-dir flag, defaulting as serve's does.
func dataDirFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := getenv("GATEHOUSE_DATA_DIR")
	if def == "" {
		def = "./gatehouse-data"
	}
	return fs.String("data-dir", def, "the installation's data dir (env GATEHOUSE_DATA_DIR)")
}

func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs, getenv)
	to := fs.String("to", "", "the archive to write, or a directory to write it into")
	fs.Usage = func() {
		fmt.Fprint(stderr, backupUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("backup: unexpected argument %q", fs.Arg(0))
	}
	if *to == "" {
		fs.Usage()
		return usageErrorf("backup: --to PATH is required")
	}
	if url := getenv("GATEHOUSE_DATABASE_URL"); strings.HasPrefix(url, "postgres") {
		return usageErrorf("backup: GATEHOUSE_DATABASE_URL names PostgreSQL; back it up with pg_dump (docs/operations.md)")
	}
	started := time.Now()
	path, m, err := ops.Backup(ctx, ops.BackupOptions{DataDir: *dataDir, To: *to, SecretKey: getenv("GATEHOUSE_SECRET_KEY"), Version: app.Version()})
	if err != nil {
		return opsError("backup", err)
	}
	var size int64
	if info, err := os.Stat(path); err == nil {
		size = info.Size()
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%.1f MB, schema version %d) in %.1fs\n",
		*dataDir, path, float64(size)/1e6, m.SchemaVersion, time.Since(started).Seconds())
	if m.SecretKey == ops.KeyInEnvironment {
		fmt.Fprintf(stdout, "The server key is GATEHOUSE_SECRET_KEY (fingerprint %s), which the backup does not hold: keep it with the backup.\n",
			m.SecretKeyFingerprint)
	}
	return nil
}

func restoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs, getenv)
	from := fs.String("from", "", "the backup archive")
	force := fs.Bool("force", false, "restore over the installation in the data dir, moving it aside into DIR/replaced-<time>")
	fs.Usage = func() {
		fmt.Fprint(stderr, restoreUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("restore: unexpected argument %q", fs.Arg(0))
	}
	if *from == "" {
		fs.Usage()
		return usageErrorf("restore: --from ARCHIVE is required")
	}
	done, err := ops.Restore(ctx, ops.RestoreOptions{From: *from, DataDir: *dataDir, Force: *force, SecretKey: getenv("GATEHOUSE_SECRET_KEY")})
	if err != nil {
		return opsError("restore", err)
	}
	m := done.Manifest
	fmt.Fprintf(stdout, "Restored the backup %s into %s.\n", m.CreatedAt.Format(time.RFC3339), *dataDir)
	fmt.Fprintf(stdout, "It was taken by gatehouse %s at schema version %d; a node started on it migrates it to this binary's schema.\n",
		m.GatehouseVersion, m.SchemaVersion)
	if done.PutAside != "" {
		fmt.Fprintf(stdout, "The installation that was there is in %s: delete it once the restored one serves as it should.\n", done.PutAside)
	}
	if m.SecretKey == ops.KeyInEnvironment && getenv("GATEHOUSE_SECRET_KEY") == "" {
		fmt.Fprintf(stdout, "Its secrets are sealed with a GATEHOUSE_SECRET_KEY (fingerprint %s) the backup does not hold: start the node with it.\n",
			m.SecretKeyFingerprint)
	}
	return nil
}
