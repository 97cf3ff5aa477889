package accounts

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// CreateCheckToken makes a token for one of the platform's services: it may
// ask checks about any account, and nothing else. The secret is returned
// now and never again. Operators only.
func (s *Service) CreateCheckToken(ctx context.Context, c gatehouse.Caller, name string) (gatehouse.CheckToken, string, error) {
	if err := kernel.Decide(c, policy.ManageCheckTokens, policy.Target{}); err != nil {
		return gatehouse.CheckToken{}, "", err
	}
	name, err := gatehouse.ValidateLabel("name", name)
	if err != nil {
		return gatehouse.CheckToken{}, "", err
	}
	now := s.Now()
	token := gatehouse.CheckToken{ID: s.NewID(), Name: name, CreatedBy: c.Principal.ActorID(), CreatedAt: now}
	secret, hash := gatehouse.NewToken(gatehouse.TokenCheck)
	err = s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		if err := tx.InsertCheckToken(ctx, token, hash); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "check_token.created", "check_token", token.ID))
	})
	return token, secret, err
}

// CheckTokens lists the live check tokens, newest first. Operators only.
func (s *Service) CheckTokens(ctx context.Context, c gatehouse.Caller) ([]gatehouse.CheckToken, error) {
	if err := kernel.Decide(c, policy.ManageCheckTokens, policy.Target{}); err != nil {
		return nil, err
	}
	return s.accountsStore.ListCheckTokens(ctx)
}

// RevokeCheckToken ends a check token at once. Operators only.
func (s *Service) RevokeCheckToken(ctx context.Context, c gatehouse.Caller, id string) error {
	if err := kernel.Decide(c, policy.ManageCheckTokens, policy.Target{}); err != nil {
		return err
	}
	return s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		if err := tx.RevokeCheckToken(ctx, id, s.Now()); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), "", "check_token.revoked", "check_token", id))
	})
}
