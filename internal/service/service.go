// Package service wires Gatehouse's bounded contexts into one application:
// the kernel they share, then accounts, access rules, sign-in and people,
// each with its own use cases. The HTTP API, the portal and the commands
// reach the use cases through Services.
package service

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/branding"
	"github.com/gatehouse/gatehouse/internal/events"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/oidcprovider"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/scim"
	"github.com/gatehouse/gatehouse/internal/signin"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/webhooks"
)

// Services are the contexts of one Gatehouse node.
type Services struct {
	*kernel.Kernel
	Accounts *accounts.Service
	Access   *access.Service
	SignIn   *signin.Service
	People   *people.Service
	// Events is the feed of changes for the platform's services.
	Events *events.Service
	// OIDC is Gatehouse as the platform's OpenID Provider.
	OIDC *oidcprovider.Service
	// Webhooks are the accounts' subscriptions to their events, and the
	// sender of their deliveries.
	Webhooks *webhooks.Service
	// SCIM is the accounts' directories provisioning their people and
	// groups.
	SCIM *scim.Service
	// Branding is the integrators' brands, and the platform's default.
	Branding *branding.Service
}

// Options configures the application. Zero values pick the production
// defaults.
type Options struct {
	Clock gatehouse.Clock
	NewID func() string
	// BootstrapToken, when set, is accepted as an operator API token.
	BootstrapToken string
	// InvitationTTL is how long an invitation link lives (default 7 days).
	InvitationTTL time.Duration
	// PublicURL is the base of every link in e-mails; never a request's Host.
	PublicURL string
	// MailQueued, if set, is called after a change queued e-mail, to wake
	// the delivery worker.
	MailQueued func()
	// PasswordParams are argon2id's costs (default password.DefaultParams);
	// tests lower them.
	PasswordParams password.Params
	// SecretKey seals the secrets that must be read again; 32 bytes.
	// Default: a random key, good for one process only.
	SecretKey []byte
	// PreviousSecretKey, while the server key is replaced, opens what the
	// key before it sealed (docs/operations.md, Rotate keys).
	PreviousSecretKey []byte
	// ModelCacheSize is how many accounts' access models are kept in
	// memory (default access.DefaultCapacity).
	ModelCacheSize int
	// BulkLease is how long a bulk job's lease lasts without renewal
	// (default 15 s).
	BulkLease time.Duration
	// BulkConfirmWait is how long a bulk confirm waits for its job at
	// most (see people.Options).
	BulkConfirmWait time.Duration
	// OIDCKeyRotation is how long an OpenID signing key signs before the
	// next replaces it (default 30 days).
	OIDCKeyRotation time.Duration
	// Sleep waits for d or until ctx ends (default: really); tests record
	// the slow-down of wrong passwords instead of waiting it out.
	Sleep func(ctx context.Context, d time.Duration)
	// Passkeys is the passkeys' relying party; without an id, the host of
	// PublicURL, with the AAGUIDs given here.
	Passkeys signin.PasskeyConfig
	// WebhooksAllowLoopback lets webhooks reach this machine, over http
	// too (tests, a receiver beside Gatehouse); off in production.
	WebhooksAllowLoopback bool
}

// The store's transaction offers every method each context's use cases ask
// of theirs: checked when the program is built.
var (
	_ accounts.AccountsTx       = (*store.WriteTx)(nil)
	_ accounts.ProviderAccessTx = (*store.WriteTx)(nil)
	_ people.EnrolmentTx        = (*store.WriteTx)(nil)
	_ people.MembersTx          = (*store.WriteTx)(nil)
	_ people.InvitationsTx      = (*store.WriteTx)(nil)
	_ people.BulkPreviewTx      = (*store.WriteTx)(nil)
	_ people.BulkJobTx          = (*store.WriteTx)(nil)
	_ people.ProfilesTx         = (*store.WriteTx)(nil)
	_ people.NoticesTx          = (*store.WriteTx)(nil)
	_ people.RemoteMonitoringTx = (*store.WriteTx)(nil)
	_ people.ExpiryTx           = (*store.WriteTx)(nil)
	_ signin.SessionsTx         = (*store.WriteTx)(nil)
	_ signin.FactorsTx          = (*store.WriteTx)(nil)
	_ signin.MySessionsTx       = (*store.WriteTx)(nil)
	_ signin.ProvidersTx        = (*store.WriteTx)(nil)
	_ signin.ResetsTx           = (*store.WriteTx)(nil)
	_ signin.ActivationsTx      = (*store.WriteTx)(nil)
	_ signin.PasskeysTx         = (*store.WriteTx)(nil)
	_ access.RolesTx            = (*store.WriteTx)(nil)
	_ access.FoldersTx          = (*store.WriteTx)(nil)
	_ access.GroupsTx           = (*store.WriteTx)(nil)
	_ access.ChecksTx           = (*store.WriteTx)(nil)
	_ oidcprovider.Tx           = (*store.WriteTx)(nil)
	_ webhooks.Tx               = (*store.WriteTx)(nil)
	_ scim.Tx                   = (*store.WriteTx)(nil)
	_ branding.Tx               = (*store.WriteTx)(nil)
)

// New wires the contexts over db: each sees it through its own narrow
// interfaces, one per group of use cases.
func New(db *store.DB, opts Options) *Services {
	k := kernel.New(kernel.Options{Clock: opts.Clock, NewID: opts.NewID, PublicURL: opts.PublicURL,
		MailQueued: opts.MailQueued, PasswordParams: opts.PasswordParams, SecretKey: opts.SecretKey,
		PreviousSecretKey: opts.PreviousSecretKey, Sleep: opts.Sleep})
	rules := access.New(k, access.Stores{Roles: store.Over[access.RolesTx]{DB: db}, Folders: store.Over[access.FoldersTx]{DB: db}, Groups: store.Over[access.GroupsTx]{DB: db}, Checks: store.Over[access.ChecksTx]{DB: db}}, db, opts.ModelCacheSize)
	provider := oidcprovider.New(k, store.Over[oidcprovider.Tx]{DB: db}, oidcprovider.Options{KeyRotation: opts.OIDCKeyRotation,
		LostDatabaseSince: store.LostSince})
	rules.TokenSubjects = provider
	members := people.New(k, people.Stores{Enrolment: store.Over[people.EnrolmentTx]{DB: db}, Members: store.Over[people.MembersTx]{DB: db}, Invitations: store.Over[people.InvitationsTx]{DB: db}, BulkPreview: store.Over[people.BulkPreviewTx]{DB: db}, BulkJob: store.Over[people.BulkJobTx]{DB: db}, Profiles: store.Over[people.ProfilesTx]{DB: db}, Notices: store.Over[people.NoticesTx]{DB: db}, RemoteMonitoring: store.Over[people.RemoteMonitoringTx]{DB: db}, Expiry: store.Over[people.ExpiryTx]{DB: db}}, rules,
		people.Options{InvitationTTL: opts.InvitationTTL, BulkLease: opts.BulkLease, BulkConfirmWait: opts.BulkConfirmWait,
			BulkChunk: bulkChunkFor(db.Dialect()), AddWriters: addWritersFor(db.Dialect())})
	signIn := signin.New(k, signin.Stores{Sessions: store.Over[signin.SessionsTx]{DB: db}, Factors: store.Over[signin.FactorsTx]{DB: db}, MySessions: store.Over[signin.MySessionsTx]{DB: db}, Providers: store.Over[signin.ProvidersTx]{DB: db}, Resets: store.Over[signin.ResetsTx]{DB: db}, Activations: store.Over[signin.ActivationsTx]{DB: db}, Passkeys: store.Over[signin.PasskeysTx]{DB: db}}, opts.BootstrapToken)
	passkeys := opts.Passkeys
	if passkeys.RPID == "" {
		if cfg, err := signin.PasskeyConfigFor(opts.PublicURL); err == nil {
			passkeys.RPID, passkeys.Origins = cfg.RPID, cfg.Origins
		}
	}
	if passkeys.RPID != "" {
		// An invalid relying party leaves passkeys off: every ceremony
		// answers that they are not available (the configuration is
		// checked when the server starts).
		_ = signIn.ConfigurePasskeys(passkeys)
	}
	return &Services{
		Kernel:   k,
		Accounts: accounts.New(k, accounts.Stores{Accounts: store.Over[accounts.AccountsTx]{DB: db}, ProviderAccess: store.Over[accounts.ProviderAccessTx]{DB: db}}),
		Access:   rules,
		SignIn:   signIn,
		People:   members,
		OIDC:     provider,
		Events:   events.New(k, db),
		Webhooks: webhooks.New(k, store.Over[webhooks.Tx]{DB: db}, webhooks.Options{AllowLoopback: opts.WebhooksAllowLoopback}),
		SCIM:     scim.New(k, store.Over[scim.Tx]{DB: db}, members, rules),
		Branding: branding.New(k, store.Over[branding.Tx]{DB: db}),
	}
}

// bulkChunkFor is how many people one transaction of a bulk job invites on
// a database. On PostgreSQL a chunk holds only its account's lock, and a
// thousand a transaction wrote a large file faster than five hundred; on
// SQLite it holds the one writer of the whole node, and a thousand were no
// faster while every other write waited twice as long (docs/benchmarks.md).
func bulkChunkFor(d store.Dialect) int {
	if d == store.Postgres {
		return 1000
	}
	return 0 // the default, 500
}

// addWritersFor is how many groups of adds are written at once on a
// database. On PostgreSQL two groups of different accounts run side by
// side, each holding only its accounts' locks. SQLite has one writer: a
// second group waited for the first anyway, and the adds that arrived
// meanwhile, split between two groups, paid two commits where one served
// them all (docs/benchmarks.md).
func addWritersFor(d store.Dialect) int {
	if d == store.Postgres {
		return 0 // the default, 2
	}
	return 1
}
