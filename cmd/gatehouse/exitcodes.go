package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/pkg/client"
)

// The exit codes of gatehouse, by the class of what went wrong, so that a
// script tells a missing user from a refused token or a server that is
// down without reading the message. The usage text lists them.
const (
	exitOK          = 0
	exitFailed      = 1 // any other error
	exitUsage       = 2 // the command was called wrong
	exitNotFound    = 3 // 404, 410
	exitDenied      = 4 // 401, 403
	exitConflict    = 5 // 409: a uniqueness rule, a limit, a state that forbids it
	exitInvalid     = 6 // 400, 413: the input
	exitUnavailable = 7 // 5xx, 429, no connection: worth trying again
)

// codedError is an error that decides its exit code itself.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// usageErrorf is a mistake in how the command was called (exit 2).
func usageErrorf(format string, args ...any) error {
	return &codedError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// flagError makes an error of parsing flags (or the settings they carry)
// a usage error; asking for help stays what it is.
func flagError(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &codedError{code: exitUsage, err: err}
}

// exitCode is the code the process ends with after err.
func exitCode(err error) int {
	var (
		coded  *codedError
		apiErr *client.Error
		netErr net.Error
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &coded):
		return coded.code
	case errors.As(err, &apiErr):
		return statusExitCode(apiErr.StatusCode)
	case errors.Is(err, context.Canceled):
		return exitFailed
	case errors.As(err, &netErr):
		// Refused, reset, timed out, or a name that does not resolve.
		return exitUnavailable
	}
	return exitFailed
}

func statusExitCode(status int) int {
	switch {
	case status == http.StatusNotFound, status == http.StatusGone:
		return exitNotFound
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return exitDenied
	case status == http.StatusConflict:
		return exitConflict
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity, status == http.StatusRequestEntityTooLarge:
		return exitInvalid
	case status == http.StatusTooManyRequests, status >= 500:
		return exitUnavailable
	}
	return exitFailed
}

// apiFailure words a refusal of the server for a person at a terminal: the
// server's message, then its status and code, and the request id of a
// server error, which the server's log files it under.
type apiFailure struct{ err *client.Error }

func (f apiFailure) Unwrap() error { return f.err }

func (f apiFailure) Error() string {
	e := f.err
	var b strings.Builder
	b.WriteString(e.Message)
	if len(e.Fields) > 1 {
		for _, other := range e.Fields[1:] {
			fmt.Fprintf(&b, "; %s", other.Message)
		}
	}
	fmt.Fprintf(&b, " (%d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Field != "" {
		b.WriteString(", field " + e.Field)
	}
	if e.StatusCode >= 500 && e.RequestID != "" {
		b.WriteString(", request id " + e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}
