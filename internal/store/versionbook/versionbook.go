// Package versionbook keeps, in memory, the authz version of every account
// of a SQLite database this process has seen: SQLite is written by one
// process, so a check learns of a change to an account's rules without a
// query.
package versionbook

import (
	"sync"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Book holds the authz version of every SQLite account this process
// has seen, and the integrator of each. SQLite is written by this process
// alone (OpenSQLite locks the file) through one writer, so the version needs
// no column there: it lives here, starts at 0 when the process first sees the
// account, and rises by one for each committed write that changed the
// account's rules. A check learns of a change without a query. PostgreSQL,
// written by several nodes, keeps it in accounts.authz_version.
type Book struct {
	mu       sync.RWMutex
	versions map[string]int64
	// owners maps an account to its integrator ("" for an integrator); an
	// account never changes owner.
	owners map[string]string
}

// New returns an empty book.
func New() *Book {
	return &Book{versions: map[string]int64{}, owners: map[string]string{}}
}

// Get gives the account's version with its integrator's, once the
// account is known.
func (b *Book) Get(accountID string) (gatehouse.AuthzVersion, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	owner, known := b.owners[accountID]
	if !known {
		return gatehouse.AuthzVersion{}, false
	}
	return gatehouse.AuthzVersion{Own: b.versions[accountID], Integrator: b.versions[owner]}, true
}

// Learn records an account and its integrator, found in the database.
func (b *Book) Learn(accountID, integratorID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.owners[accountID] = integratorID
}

// Publish raises the version of each account a committed write changed.
func (b *Book) Publish(accountIDs map[string]int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id := range accountIDs {
		b.versions[id]++
	}
}
