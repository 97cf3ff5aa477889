// Command gatehouse runs the Gatehouse identity service, and administers a
// running one through its API.
//
//	gatehouse serve        run a node (migrations run by themselves)
//	gatehouse migrate      bring the database schema up to date and exit
//	gatehouse accounts     list, show, create, suspend and restore accounts
//	gatehouse users        list, add and remove the users of an account
//	gatehouse invitations  list, resend and cancel an account's invitations
//	gatehouse tokens       list, create and revoke your personal API tokens
//	gatehouse audit        read an account's audit log; tail (and follow) its changes
//	gatehouse invite       invite the people of a CSV file to an account (bulk)
//	gatehouse operator     make a person an operator on a fresh server
//	gatehouse keys         rotate the OpenID signing key; reseal secrets with a new server key
//	gatehouse mail         read the e-mail a server wrote to its data dir
//	gatehouse soak         run mixed traffic against a server and report on it
//	gatehouse backup       back up a SQLite installation, while it serves
//	gatehouse restore      restore a backup into a data dir
//	gatehouse copy         copy a SQLite installation into PostgreSQL
//	gatehouse completion   print a bash or zsh completion script
//	gatehouse version      print the version
//
// The commands that speak to a running server (accounts, users,
// invitations, tokens, audit, invite, soak) read its URL from GATEHOUSE_URL
// and the token to act with from GATEHOUSE_TOKEN. Every command ends with
// an exit code that tells the class of error: see usage.
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

Administering a running server (GATEHOUSE_URL, GATEHOUSE_TOKEN; --json for scripts):
  gatehouse accounts list|get|create|suspend|restore
                              the accounts the token may see
  gatehouse users list|add|remove --account ID
                              the users of an account
  gatehouse invitations list --account ID | resend ID | cancel ID
                              an account's invitations
  gatehouse tokens list|create|revoke --account ID
                              your personal API tokens (with your session token)
  gatehouse audit list --account ID | tail [--account ID] [--follow]
                              an account's audit log; the feed of its changes
  gatehouse invite --account ID --csv FILE [--yes]
                              invite the people of a CSV file

Other commands:
  gatehouse operator add USERNAME [flags]
                              invite USERNAME as an operator (the first one of a
                              fresh server, without the API)
  gatehouse keys rotate [flags]
                              make a new OpenID signing key at once (after a leak);
                              prints its key id
  gatehouse keys reseal [--new-key-file FILE] [flags]
                              seal every secret again with a new server key
                              (GATEHOUSE_SECRET_KEY, the old one in
                              GATEHOUSE_SECRET_KEY_PREVIOUS)
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
  gatehouse completion bash|zsh
                              print a shell completion script
  gatehouse version           print the version
  gatehouse help [command]    show help

Exit codes:
  0  done
  1  any other error
  2  usage: an unknown command or verb, a missing or bad flag or argument, no token
  3  not found: no such account, user, invitation or token, or one the token
     may not see (404, 410)
  4  refused: the token is missing, unknown, expired or revoked (401), or may not
     do this (403)
  5  conflict or limit: a name taken, a user already there, the account's user
     limit reached, an invitation no longer pending (409); a data dir or database
     that is in use, not empty, or of another schema (backup, restore, copy)
  6  invalid input: the server names the field at fault (400, 413); a backup that
     is not what its manifest says, or a server key that is not its own
  7  the server cannot answer now: down, unreachable, or too busy (5xx, 429, no
     connection); trying again may work

Run "gatehouse help serve" for the flags and their environment variables, and
"gatehouse help COMMAND" for any other command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	code := exitCode(err)
	if code != exitOK {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageErrorf("a command is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "migrate":
		cfg, err := app.ParseConfig(cmd, rest, getenv, stderr)
		if err != nil {
			return flagError(err)
		}
		log := app.NewLogger(cfg, stderr)
		if cmd == "migrate" {
			return app.Migrate(ctx, cfg, log, stdout)
		}
		app.PaceCollector(getenv, os.ReadFile)
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
	case "completion":
		return completionCommand(rest, stdout, stderr)
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
		if len(rest) > 0 {
			if g, ok := findAdminGroup(rest[0]); ok {
				fmt.Fprint(stdout, g.usage())
				return nil
			}
			if rest[0] == "completion" {
				fmt.Fprint(stdout, completionUsage)
				return nil
			}
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	if g, ok := findAdminGroup(cmd); ok {
		return runAdmin(ctx, g, rest, getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return usageErrorf("unknown command %q", cmd)
}
