//go:build unix

// Package filelock holds a file open with an exclusive advisory lock, so
// that one process alone uses what the file guards.
package filelock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Exclusive takes an exclusive advisory lock on the file at path (made if
// missing) and returns it open: the lock lasts until the file is closed or
// the process ends, however it ends.
func Exclusive(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the database is in use by another gatehouse process (a SQLite database serves one node; use PostgreSQL for several)")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
