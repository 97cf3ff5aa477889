package ops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/oidcprovider"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/signin"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/webhooks"
)

// sealContexts are the contexts each kind of secret is sealed under, from
// the id its row names (store.SealedValue.Owner): a secret is sealed again
// under the context it was sealed under, or no node could open it.
var sealContexts = map[store.SealedKind]func(owner string) string{
	store.SealedTOTP:                  signin.TOTPContext,
	store.SealedChallengeTOTP:         signin.TOTPContext,
	store.SealedRemoteMonitoring:      people.RemoteMonitoringContext,
	store.SealedProviderSecret:        signin.ProviderSecretContext,
	store.SealedLoginVerifier:         signin.LoginVerifierContext,
	store.SealedLoginNonce:            signin.LoginNonceContext,
	store.SealedWebhookSecret:         webhooks.SealContext,
	store.SealedWebhookPreviousSecret: webhooks.SealContext,
	store.SealedSigningKey:            oidcprovider.SigningKeyContext,
	store.SealedSigningKeyRSA:         oidcprovider.RSASigningKeyContext,
}

// resealBatch is how many secrets one transaction seals again: small
// enough that a row a node wants waits for it no longer than a moment.
const resealBatch = 500

// ResealOptions are the keys a reseal moves the sealed secrets between.
type ResealOptions struct {
	// Key is the new server key, which seals every secret afterwards.
	Key []byte
	// Previous is the key the secrets were sealed with until now.
	Previous []byte
	// Now tells which short-lived secrets (a sign-in challenge, a trip to
	// an identity provider) can still be used; default time.Now.
	Now func() time.Time
}

// Resealed counts one kind of sealed secret after a reseal.
type Resealed struct {
	Kind store.SealedKind
	// Resealed were sealed with the previous key, and now with the new one.
	Resealed int
	// Already were sealed with the new key before: by an earlier reseal,
	// or by a node that already had the new key.
	Already int
}

// Reseal seals every secret of the database with opts.Key, in three
// passes. The first opens every secret, with the new key or the previous
// one, and refuses (ErrWrongKey) before anything is written if any opens
// with neither. The second seals those the previous key sealed again, a
// batch per transaction; each write is guarded by the value it replaces,
// so a secret a node changed meanwhile (sealed with the new key: nodes
// have it) is left as the node wrote it. The third opens every secret with
// the new key alone.
//
// It is safe while nodes serve, provided every node already opens with
// both keys and seals with the new one; a node that still seals with the
// previous key is found by the third pass.
func Reseal(ctx context.Context, db *store.DB, opts ResealOptions) ([]Resealed, error) {
	next, err := secretbox.New(opts.Key)
	if err != nil {
		return nil, err
	}
	previous, err := secretbox.New(opts.Previous)
	if err != nil {
		return nil, fmt.Errorf("the previous key: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}

	var unopened []string
	for _, kind := range store.SealedKinds() {
		n := 0
		err := eachSealed(ctx, db, kind, opts.Now, func(batch []store.SealedValue) error {
			for _, v := range batch {
				if opensWith(next, v) || opensWith(previous, v) {
					continue
				}
				n++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n > 0 {
			unopened = append(unopened, fmt.Sprintf("%d %s", n, kind))
		}
	}
	if len(unopened) > 0 {
		return nil, refuse(ErrWrongKey, "sealed secrets open with neither the new key (%s) nor the previous one (%s): %s; "+
			"the previous key is not the one they were sealed with. Nothing was changed",
			secretbox.Fingerprint(opts.Key), secretbox.Fingerprint(opts.Previous), strings.Join(unopened, ", "))
	}

	counts := make([]Resealed, 0, len(store.SealedKinds()))
	for _, kind := range store.SealedKinds() {
		sealContext := sealContexts[kind]
		resealed := 0
		err := eachSealed(ctx, db, kind, opts.Now, func(batch []store.SealedValue) error {
			type change struct {
				value    store.SealedValue
				resealed string
			}
			var changes []change
			for _, v := range batch {
				if opensWith(next, v) {
					continue
				}
				plain, err := previous.Open(v.Sealed, sealContext(v.Owner))
				if err != nil {
					// Changed since the first pass, by a node: the third
					// pass tells whether the new key opens it.
					continue
				}
				changes = append(changes, change{v, next.Seal(plain, sealContext(v.Owner))})
			}
			if len(changes) == 0 {
				return nil
			}
			var written int
			err := db.Write(ctx, func(tx *store.WriteTx) error {
				written = 0
				for _, c := range changes {
					ok, err := tx.ResealValue(ctx, c.value, c.resealed)
					if err != nil {
						return err
					}
					if ok {
						written++
					}
				}
				return nil
			})
			resealed += written
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reseal %s: %w", kind, err)
		}
		counts = append(counts, Resealed{Kind: kind, Resealed: resealed})
	}

	var stale []string
	for i, kind := range store.SealedKinds() {
		total, notNew := 0, 0
		err := eachSealed(ctx, db, kind, opts.Now, func(batch []store.SealedValue) error {
			for _, v := range batch {
				total++
				if !opensWith(next, v) {
					notNew++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if notNew > 0 {
			stale = append(stale, fmt.Sprintf("%d %s", notNew, kind))
		}
		counts[i].Already = max(total-counts[i].Resealed, 0)
	}
	if len(stale) > 0 {
		return counts, fmt.Errorf("after resealing, sealed secrets do not open with the new key (%s): %s; "+
			"a node still seals with another key: give every node GATEHOUSE_SECRET_KEY=<the new key>, then reseal again",
			secretbox.Fingerprint(opts.Key), strings.Join(stale, ", "))
	}
	return counts, nil
}

func opensWith(box *secretbox.Box, v store.SealedValue) bool {
	_, err := box.Open(v.Sealed, sealContexts[v.Kind](v.Owner))
	return err == nil
}

// eachSealed hands fn the secrets of kind a batch at a time.
func eachSealed(ctx context.Context, db *store.DB, kind store.SealedKind, now func() time.Time, fn func([]store.SealedValue) error) error {
	if sealContexts[kind] == nil {
		return fmt.Errorf("no seal context for the secrets of kind %s", kind)
	}
	after := ""
	for {
		batch, err := db.SealedValues(ctx, kind, after, resealBatch, now())
		if err != nil {
			return fmt.Errorf("read %s: %w", kind, err)
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch); err != nil {
			return err
		}
		if len(batch) < resealBatch {
			return nil
		}
		after = batch[len(batch)-1].RowID
	}
}
