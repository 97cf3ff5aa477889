package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/gatehouse/gatehouse/internal/app"
)

// keysCommand is `gatehouse keys rotate [flags]`: a new OpenID signing key
// at once, with the database flags of `serve`.
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "keys rotate"
	if len(args) == 0 || args[0] != "rotate" {
		if _, _, err := app.ParseCommandConfig(usage, []string{"-h"}, getenv, stderr, nil); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageErrorf(`keys: "rotate" is the one subcommand`)
	}
	cfg, rest, err := app.ParseCommandConfig(usage, args[1:], getenv, stderr, nil)
	if err != nil {
		return flagError(err)
	}
	if len(rest) > 0 {
		return usageErrorf("keys rotate: unexpected argument %q", rest[0])
	}
	return app.RotateKeys(ctx, cfg, app.NewLogger(cfg, stderr), stdout)
}
