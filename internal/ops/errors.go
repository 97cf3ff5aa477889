package ops

import (
	"errors"
	"fmt"
)

// The reasons an operation refuses to go on; errors.Is tells them apart.
// The error's own text says what to do about it.
var (
	// ErrNewerSchema: the data comes from a Gatehouse newer than this
	// binary, which could not serve it.
	ErrNewerSchema = errors.New("newer schema")
	// ErrOlderSchema: the data must first be migrated by this binary.
	ErrOlderSchema = errors.New("older schema")
	// ErrCorrupted: a file does not hold what its backup recorded.
	ErrCorrupted = errors.New("corrupted")
	// ErrInUse: a Gatehouse process holds the data dir.
	ErrInUse = errors.New("in use")
	// ErrNotEmpty: the target already holds data, which the operation
	// would mix with or overwrite.
	ErrNotEmpty = errors.New("not empty")
	// ErrWrongKey: the server key given is not the one the data's secrets
	// are sealed with.
	ErrWrongKey = errors.New("wrong key")
)

// refusal is an operation declined for a reason the operator can act on.
type refusal struct {
	reason error
	text   string
}

func (r *refusal) Error() string { return r.text }
func (r *refusal) Unwrap() error { return r.reason }

func refuse(reason error, format string, args ...any) error {
	return &refusal{reason: reason, text: fmt.Sprintf(format, args...)}
}
