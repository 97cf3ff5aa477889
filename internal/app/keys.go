package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/internal/ops"
	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// RotateKeys is `gatehouse keys rotate`: a new OpenID signing key at once,
// for an emergency. Every node signs with it from its next token on; the
// key it replaces stays published until the tokens it signed have expired.
func RotateKeys(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	secretKey, previousKey, err := serverKeys(cfg)
	if err != nil {
		return err
	}
	svc := service.New(db, service.Options{PublicURL: cfg.PublicURL, SecretKey: secretKey, PreviousSecretKey: previousKey,
		OIDCKeyRotation: cfg.OIDCKeyRotation})
	id, err := svc.OIDC.RotateKeys(ctx)
	if err != nil {
		return err
	}
	log.Info("rotated the OpenID signing key", "kid", id)
	fmt.Fprintf(out, "New signing key: %s\n", id)
	return nil
}

// serverKeys returns the server key (GATEHOUSE_SECRET_KEY, else the data
// dir's key file) and, while it is being replaced, the key before it
// (GATEHOUSE_SECRET_KEY_PREVIOUS; nil when unset).
func serverKeys(cfg Config) (key, previous []byte, err error) {
	if key, err = secretbox.LoadKey(cfg.SecretKey, cfg.DataDir); err != nil {
		return nil, nil, err
	}
	if cfg.SecretKeyPrevious != "" {
		if previous, err = secretbox.ParseKey(cfg.SecretKeyPrevious); err != nil {
			return nil, nil, errors.New("GATEHOUSE_SECRET_KEY_PREVIOUS must be 64 hexadecimal digits (32 bytes)")
		}
	}
	return key, previous, nil
}

// ResealSecrets is `gatehouse keys reseal`: every secret sealed with the
// server key is sealed again with a new one (ops.Reseal). The new key is
// GATEHOUSE_SECRET_KEY and the old one GATEHOUSE_SECRET_KEY_PREVIOUS; or,
// when newKeyFile is given, the new key is in that file and the old one in
// the data dir's key file, which then takes the new key.
func ResealSecrets(ctx context.Context, cfg Config, newKeyFile string, log *slog.Logger, out io.Writer) error {
	var key, previous []byte
	if newKeyFile != "" {
		text, err := os.ReadFile(newKeyFile)
		if err != nil {
			return err
		}
		if key, err = secretbox.ParseKey(string(text)); err != nil {
			return fmt.Errorf("%s does not hold a key: %w", newKeyFile, err)
		}
		// The old key must be there: LoadKey would make one up.
		keyFile := filepath.Join(cfg.DataDir, secretbox.KeyFile)
		if _, err := os.Stat(keyFile); err != nil {
			return fmt.Errorf("the data dir has no key file to replace: %w", err)
		}
		if previous, err = secretbox.LoadKey("", cfg.DataDir); err != nil {
			return err
		}
	} else {
		var err error
		if key, previous, err = serverKeys(cfg); err != nil {
			return err
		}
	}

	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	counts, err := ops.Reseal(ctx, db, ops.ResealOptions{Key: key, Previous: previous})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Sealed secrets moved from the key %s to the key %s:\n", secretbox.Fingerprint(previous), secretbox.Fingerprint(key))
	resealed := 0
	for _, c := range counts {
		fmt.Fprintf(out, "  %-24s %6d resealed, %6d already with the new key\n", c.Kind, c.Resealed, c.Already)
		resealed += c.Resealed
	}
	fmt.Fprintln(out, "Every sealed secret opens with the new key.")
	log.Info("resealed the secrets with a new server key", "key", secretbox.Fingerprint(key),
		"previous_key", secretbox.Fingerprint(previous), "resealed", resealed)

	if newKeyFile == "" {
		fmt.Fprintln(out, "Next: unset GATEHOUSE_SECRET_KEY_PREVIOUS on every node and restart them one at a time.")
		return nil
	}
	if bytes.Equal(key, previous) {
		fmt.Fprintln(out, "The data dir's key file already holds the new key.")
		return nil
	}
	keptAs, err := secretbox.ReplaceKeyFile(cfg.DataDir, key)
	if err != nil {
		return fmt.Errorf("every secret is sealed with the new key, but the key file was not replaced (run the command again): %w", err)
	}
	fmt.Fprintf(out, "The data dir's key file now holds the new key. The old key is kept in %s: the backups made before need it,\n", keptAs)
	fmt.Fprintf(out, "so move it beside them; then delete %s.\n", newKeyFile)
	return nil
}
