package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse/internal/app"
)

const keysUsage = `Usage:
  gatehouse keys rotate [flags]
      a new OpenID signing key at once (after a leak); prints its key id
  gatehouse keys reseal [--new-key-file FILE] [flags]
      seal every secret of the database again with a new server key: the new
      key in GATEHOUSE_SECRET_KEY and the old one in
      GATEHOUSE_SECRET_KEY_PREVIOUS; or, with the key in the data dir's key
      file, the new key in FILE (which then replaces the data dir's)

Both take the database flags of serve. See docs/operations.md, Rotate keys.
`

// keysCommand is `gatehouse keys rotate|reseal [flags]`, with the database
// flags of `serve`.
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "reseal") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stderr, keysUsage)
			return flag.ErrHelp
		}
		fmt.Fprint(stderr, keysUsage)
		return usageErrorf(`keys: "rotate" or "reseal"`)
	}
	verb := args[0]
	var newKeyFile string
	var extra func(*flag.FlagSet)
	if verb == "reseal" {
		extra = func(fs *flag.FlagSet) {
			fs.StringVar(&newKeyFile, "new-key-file", "", "file holding the new key (64 hex digits), for a server key kept in the data dir")
		}
	}
	cfg, rest, err := app.ParseCommandConfig("keys "+verb, args[1:], getenv, stderr, extra)
	if err != nil {
		return flagError(err)
	}
	if len(rest) > 0 {
		return usageErrorf("keys %s: unexpected argument %q", verb, rest[0])
	}
	log := app.NewLogger(cfg, stderr)
	if verb == "rotate" {
		return app.RotateKeys(ctx, cfg, log, stdout)
	}
	switch {
	case newKeyFile != "" && (cfg.SecretKey != "" || cfg.SecretKeyPrevious != ""):
		return usageErrorf("keys reseal: --new-key-file replaces the data dir's key file; with GATEHOUSE_SECRET_KEY, " +
			"give the new key there and the old one in GATEHOUSE_SECRET_KEY_PREVIOUS instead")
	case newKeyFile == "" && (cfg.SecretKey == "" || cfg.SecretKeyPrevious == ""):
		return usageErrorf("keys reseal: set GATEHOUSE_SECRET_KEY to the new key and GATEHOUSE_SECRET_KEY_PREVIOUS to the old one " +
			"(or, for the key in the data dir, give --new-key-file with the new key)")
	}
	if err := app.ResealSecrets(ctx, cfg, newKeyFile, log, stdout); err != nil {
		return opsError("keys reseal", err)
	}
	return nil
}
