package service

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// PurgeResult counts what one pass of the purge removed.
type PurgeResult struct {
	// Accounts are the deleted accounts whose 30 days were over.
	Accounts int
	// OIDC are the OpenID Provider's authorization requests, device codes
	// and tokens that were over.
	OIDC gatehouse.OIDCPurged
	// Webhooks are the webhook messages delivered or given up longer ago
	// than gatehouse.WebhookHistoryKept (their attempts go with them).
	Webhooks int
	// SCIMCalls are the provisioning calls older than
	// gatehouse.SCIMCallsKept.
	SCIMCalls int
}

// Purge removes, once, what is kept no longer: the deleted accounts whose
// 30 days are over, the OpenID Provider's authorization requests, device
// codes and tokens expired for over a day (revoked tokens as soon as they
// expired), the webhook history older than gatehouse.WebhookHistoryKept,
// and the provisioning calls of the SCIM log older than 30 days. Several
// nodes may run it at once.
func (s *Services) Purge(ctx context.Context) (PurgeResult, error) {
	var res PurgeResult
	var errAccounts, errOIDC, errWebhooks, errSCIM error
	res.Accounts, errAccounts = s.Accounts.PurgeDeletedAccounts(ctx)
	res.OIDC, errOIDC = s.OIDC.PurgeExpired(ctx)
	res.Webhooks, errWebhooks = s.Webhooks.PurgeHistory(ctx)
	res.SCIMCalls, errSCIM = s.SCIM.PurgeCalls(ctx)
	return res, errors.Join(errAccounts, errOIDC, errWebhooks, errSCIM)
}

// RunPurges purges now and then every interval, until ctx ends; report,
// if not nil, hears of every pass that removed something or failed.
func (s *Services) RunPurges(ctx context.Context, every time.Duration, report func(PurgeResult, error)) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		res, err := s.Purge(ctx)
		if report != nil && (err != nil || res != (PurgeResult{})) && ctx.Err() == nil {
			report(res, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
