package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/service"
)

// operatorCommand is `gatehouse operator add USERNAME [flags]`: the way to
// a first operator who can use the portal, on a server that has none.
func operatorCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "operator add USERNAME"
	if len(args) == 0 || args[0] != "add" {
		if _, _, err := app.ParseCommandConfig(usage, []string{"-h"}, getenv, stderr, operatorFlags(&service.FirstOperator{})); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageErrorf(`operator: "add" is the one subcommand`)
	}
	args = args[1:]
	var username string
	// The username may come before the flags, where the flag package would
	// stop reading them.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		username, args = args[0], args[1:]
	}
	var in service.FirstOperator
	cfg, rest, err := app.ParseCommandConfig(usage, args, getenv, stderr, operatorFlags(&in))
	if err != nil {
		return flagError(err)
	}
	if username == "" && len(rest) > 0 {
		username, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return usageErrorf("operator add: unexpected argument %q", rest[0])
	}
	if username == "" {
		return usageErrorf("operator add: the USERNAME (an e-mail address) is required")
	}
	in.Username = username
	return app.AddOperator(ctx, cfg, app.NewLogger(cfg, stderr), in, stdout)
}

func operatorFlags(in *service.FirstOperator) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(&in.AccountName, "account", "Platform operators", "the operating company's integrator account (made if no integrator has this name)")
		fs.StringVar(&in.FirstName, "first-name", "Platform", "the operator's first name, for a new identity")
		fs.StringVar(&in.LastName, "last-name", "Operator", "the operator's last name, for a new identity")
		fs.StringVar(&in.Language, "language", "en", "the language of the operator's e-mail and pages (en or fr)")
	}
}
