//go:build !unix

package filelock

import "os"

// Exclusive opens the lock file; off Unix it takes no lock, and running
// two nodes on one SQLite file is only documented as unsupported.
func Exclusive(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
