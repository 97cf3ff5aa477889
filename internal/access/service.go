// Package access is the access-rules context: roles, the folder tree,
// groups, grants, and the checks the platform's services ask ("may this user
// do that, here?"), answered from an in-memory model of each account's rules
// (Model, Cache).
package access

import "github.com/gatehouse/gatehouse/internal/kernel"

// Service holds the access-rules use cases.
type Service struct {
	*kernel.Kernel
	// Models caches each account's rules for checks, folder lists, home
	// folders and effective permissions.
	Models *Cache
}

// New returns the access-rules use cases; cacheSize is how many accounts'
// models are kept in memory (0: DefaultCapacity).
func New(k *kernel.Kernel, cacheSize int) *Service {
	return &Service{Kernel: k, Models: NewCache(k.Store, cacheSize)}
}
