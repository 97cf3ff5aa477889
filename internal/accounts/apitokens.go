package accounts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Personal API tokens (R-S4): made by a person signed in with a
// session, for one account they are an active member of, limited to the
// scopes they choose on top of what they may do there. The secret is shown
// once; only its hash is kept. Removing the membership ends the token's use
// at once (R-M7), as it ends the person's.

// NewAPIToken is the input of CreateAPIToken.
type NewAPIToken struct {
	Name      string
	Scopes    []string
	ExpiresAt time.Time // zero: never
}

// CreateAPIToken makes a personal token of the caller for the account and
// returns it with its secret, which exists only in this answer.
func (s *Service) CreateAPIToken(ctx context.Context, c gatehouse.Caller, accountID string, in NewAPIToken) (gatehouse.APIToken, string, error) {
	name, err := gatehouse.ValidateLabel("name", in.Name)
	if err != nil {
		return gatehouse.APIToken{}, "", err
	}
	if len(in.Scopes) == 0 {
		return gatehouse.APIToken{}, "", gatehouse.Invalid("scopes", "scopes must name at least one of %s", strings.Join(gatehouse.TokenScopes, ", "))
	}
	var scopes []string
	for _, sc := range in.Scopes {
		if !slices.Contains(gatehouse.TokenScopes, sc) {
			return gatehouse.APIToken{}, "", gatehouse.Invalid("scopes", "unknown scope %q; the scopes are %s", sc, strings.Join(gatehouse.TokenScopes, ", "))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	now := s.Now()
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now) {
		return gatehouse.APIToken{}, "", gatehouse.Invalid("expires_at", "expires_at must be in the future")
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenAPI)
	tok := gatehouse.APIToken{ID: s.NewID(), UserID: c.Principal.UserID, AccountID: accountID, Name: name, Hash: hash,
		Scopes: scopes, CreatedAt: now, ExpiresAt: in.ExpiresAt.UTC().Truncate(time.Microsecond)}
	err = s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		// A token acts through its owner's own membership of the account
		// (an integrator's token reaches the integrator's clients too), and
		// dies with it: the store binds it to that membership.
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.CreateAPIToken); err != nil {
			return err
		}
		if err := tx.InsertAPIToken(ctx, tok); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, accountID, "api_token.created", "api_token", tok.ID))
	})
	if err != nil {
		return gatehouse.APIToken{}, "", err
	}
	return tok, secret, nil
}

// APITokens lists the caller's live tokens for the account.
func (s *Service) APITokens(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.APIToken, error) {
	if _, err := s.Authorize(ctx, s.accountsStore, c, accountID, policy.ManageOwnAPITokens); err != nil {
		return nil, err
	}
	if c.Principal.UserID == "" {
		return nil, nil
	}
	return s.accountsStore.APITokensOf(ctx, c.Principal.UserID, accountID, s.Now())
}

// RevokeAPIToken ends one of the caller's tokens for the account at once.
func (s *Service) RevokeAPIToken(ctx context.Context, c gatehouse.Caller, accountID, tokenID string) error {
	return s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageOwnAPITokens); err != nil {
			return err
		}
		if err := tx.RevokeAPIToken(ctx, c.Principal.UserID, accountID, tokenID, s.Now()); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "api_token.revoked", "api_token", tokenID))
	})
}
