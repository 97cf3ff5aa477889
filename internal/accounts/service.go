// Package accounts is the accounts context: integrator and client accounts,
// their settings and audit log, operators, personal API tokens and the
// platform's check tokens.
package accounts

import "github.com/gatehouse/gatehouse/internal/kernel"

// Service holds the accounts use cases.
type Service struct {
	*kernel.Kernel
	accountsStore       AccountsStore
	providerAccessStore ProviderAccessStore
}

// New returns the accounts use cases.
func New(k *kernel.Kernel, stores Stores) *Service {
	return &Service{Kernel: k, accountsStore: stores.Accounts, providerAccessStore: stores.ProviderAccess}
}

// Stores are the faces of the store this context's use cases see, one per
// group of use cases (see store.go).
type Stores struct {
	Accounts       AccountsStore
	ProviderAccess ProviderAccessStore
}
