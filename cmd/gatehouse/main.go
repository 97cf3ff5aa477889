// Command gatehouse runs the Gatehouse identity service.
//
//	gatehouse serve     run a node (migrations run by themselves)
//	gatehouse migrate   bring the database schema up to date and exit
//	gatehouse invite    invite the people of a CSV file to an account (bulk)
//	gatehouse operator  make a person an operator on a fresh server
//	gatehouse keys      rotate the OpenID signing key at once
//	gatehouse mail      read the e-mail a server wrote to its data dir
//	gatehouse soak      run mixed traffic against a server and report on it
//	gatehouse backup    back up a SQLite installation, while it serves
//	gatehouse restore   restore a backup into a data dir
//	gatehouse copy      copy a SQLite installation into PostgreSQL
//	gatehouse version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/gatehouse/gatehouse/internal/app"
)

const usage = `Gatehouse: users, accounts and access for a video-surveillance and signage platform.

Usage:
  gatehouse serve [flags]     run a node; migrations run by themselves
  gatehouse migrate [flags]   bring the database schema up to date, then exit
  gatehouse invite --account ID --csv FILE [--yes]
                              invite the people of a CSV file through a running server
  gatehouse operator add USERNAME [flags]
                              invite USERNAME as an operator (the first one of a
                              fresh server, without the API)
  gatehouse keys rotate [flags]
                              make a new OpenID signing key at once (after a leak);
                              prints its key id
  gatehouse mail last --to ADDRESS [--link]
                              print the newest e-mail a server without SMTP wrote
                              to ADDRESS (or only its first link)
  gatehouse soak [--server URL] [--duration 10m] [--workers 8]
                              run mixed traffic against a running server; report
                              throughput, errors, latencies, goroutines and memory
  gatehouse backup --to PATH [--data-dir DIR]
                              back up a SQLite installation (database, key file,
                              manifest) into one archive, while its node serves
  gatehouse restore --from ARCHIVE [--data-dir DIR] [--force]
                              restore a backup into a data dir no node serves
  gatehouse copy --from sqlite:PATH --to postgres://…
                              copy a stopped SQLite installation into an empty
                              PostgreSQL database, verified table by table
  gatehouse version           print the version
  gatehouse help [command]    show help

Run "gatehouse help serve" for the flags and their environment variables.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "migrate":
		cfg, err := app.ParseConfig(cmd, rest, getenv, stderr)
		if err != nil {
			return err
		}
		log := app.NewLogger(cfg, stderr)
		if cmd == "migrate" {
			return app.Migrate(ctx, cfg, log, stdout)
		}
		return app.Serve(ctx, cfg, log, nil)
	case "invite":
		return invite(ctx, rest, getenv, stdin, stdout, stderr)
	case "soak":
		return soak(ctx, rest, getenv, stdout, stderr)
	case "mail":
		return mailCommand(rest, getenv, stdout, stderr)
	case "keys":
		return keysCommand(ctx, rest, getenv, stdout, stderr)
	case "operator":
		return operatorCommand(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return restoreCommand(ctx, rest, getenv, stdout, stderr)
	case "copy":
		return copyCommand(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "gatehouse", app.Version())
		return nil
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] == "invite" {
			return invite(ctx, []string{"-h"}, getenv, nil, stdout, stdout)
		}
		if len(rest) > 0 && slices.Contains([]string{"mail", "operator", "keys", "backup", "restore", "copy"}, rest[0]) {
			if err := run(ctx, []string{rest[0], "--help"}, getenv, nil, stdout, stdout); !errors.Is(err, flag.ErrHelp) {
				return err
			}
			return nil
		}
		if len(rest) > 0 && (rest[0] == "serve" || rest[0] == "migrate") {
			if _, err := app.ParseConfig(rest[0], []string{"-h"}, getenv, stdout); !errors.Is(err, flag.ErrHelp) {
				return err
			}
			return nil
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
