//go:build !unix

package store

import "os"

// lockExclusive opens the lock file; off Unix it takes no lock, and running
// two nodes on one SQLite file is only documented as unsupported.
func lockExclusive(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
