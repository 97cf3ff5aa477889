package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/ops"
)

const copyUsage = `Usage: gatehouse copy --from sqlite:PATH --to postgres://…

Copies a whole SQLite installation (PATH: its data dir or its gatehouse.db)
into an empty PostgreSQL database, which it migrates first, then checks the
row count and a checksum of every table on both sides before committing.
Stop the node first: the copy holds the data dir's lock. The PostgreSQL
nodes need the installation's server key as GATEHOUSE_SECRET_KEY.

Flags:
`

func copyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "sqlite:PATH, the data dir (or gatehouse.db) to copy")
	to := fs.String("to", "", "postgres://… URL of the empty database to copy into")
	fs.Usage = func() {
		fmt.Fprint(stderr, copyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("copy: unexpected argument %q", fs.Arg(0))
	}
	path, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || path == "" {
		fs.Usage()
		return usageErrorf("copy: --from must be sqlite:PATH, PATH the data dir or its gatehouse.db")
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		fs.Usage()
		return usageErrorf("copy: --to must be a postgres:// URL")
	}
	started := time.Now()
	fmt.Fprintf(stdout, "Copying %s into PostgreSQL\n", path)
	done, err := ops.Copy(ctx, ops.CopyOptions{From: path, To: *to, Progress: func(t ops.TableCopied) {
		fmt.Fprintf(stdout, "  %-28s %9d rows  checksum %s  %6.2fs\n", t.Table, t.Rows, t.Checksum[:16], t.Took.Seconds())
	}})
	if err != nil {
		return opsError("copy", err)
	}
	fmt.Fprintln(stdout, "Verified: every table read back from PostgreSQL has the same row count and checksum as on SQLite.")
	fmt.Fprintf(stdout, "Copied %d rows of %d tables at schema version %d in %.1fs (migrate %.1fs, copy %.1fs, verify %.1fs, analyze %.1fs).\n",
		done.Rows(), len(done.Tables), done.SchemaVersion, time.Since(started).Seconds(),
		done.Migrate.Seconds(), done.CopyRows.Seconds(), done.Verify.Seconds(), done.Analyze.Seconds())
	if done.KeyFile != "" {
		fmt.Fprintf(stdout, "Start every node with --database-url and GATEHOUSE_SECRET_KEY set to the key in %s.\n", done.KeyFile)
	} else {
		fmt.Fprintln(stdout, "Start every node with --database-url and the GATEHOUSE_SECRET_KEY the SQLite node had.")
	}
	return nil
}
