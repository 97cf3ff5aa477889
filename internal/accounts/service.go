// Package accounts is the accounts context: integrator and client accounts,
// their settings and audit log, operators, personal API tokens and the
// platform's check tokens.
package accounts

import "github.com/gatehouse/gatehouse/internal/kernel"

// Service holds the accounts use cases.
type Service struct {
	*kernel.Kernel
}

// New returns the accounts use cases.
func New(k *kernel.Kernel) *Service { return &Service{Kernel: k} }
