package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

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
