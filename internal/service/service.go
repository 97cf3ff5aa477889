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
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// Services are the contexts of one Gatehouse node.
type Services struct {
	*kernel.Kernel
	Accounts *accounts.Service
	Access   *access.Service
	SignIn   *signin.Service
	People   *people.Service
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
	// ModelCacheSize is how many accounts' access models are kept in
	// memory (default access.DefaultCapacity).
	ModelCacheSize int
	// BulkLease is how long a bulk job's lease lasts without renewal
	// (default 15 s).
	BulkLease time.Duration
	// Sleep waits for d or until ctx ends (default: really); tests record
	// the slow-down of wrong passwords instead of waiting it out.
	Sleep func(ctx context.Context, d time.Duration)
}

// New wires the contexts over store.
func New(store gatehouse.Store, opts Options) *Services {
	k := kernel.New(store, kernel.Options{Clock: opts.Clock, NewID: opts.NewID, PublicURL: opts.PublicURL,
		MailQueued: opts.MailQueued, PasswordParams: opts.PasswordParams, SecretKey: opts.SecretKey, Sleep: opts.Sleep})
	rules := access.New(k, opts.ModelCacheSize)
	return &Services{
		Kernel:   k,
		Accounts: accounts.New(k),
		Access:   rules,
		SignIn:   signin.New(k, opts.BootstrapToken),
		People:   people.New(k, rules, people.Options{InvitationTTL: opts.InvitationTTL, BulkLease: opts.BulkLease}),
	}
}
