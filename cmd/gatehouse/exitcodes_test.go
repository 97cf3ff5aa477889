package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/client"
)

// A script tells what went wrong by the exit code alone: a mistake in the
// command line is 2 whatever the command, help is 0, and each class of
// refusal from the server has its own code, however deep it is wrapped.
func TestExitCodes(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve", "--no-such-flag"}, {"serve", "--invitation-ttl", "soon"},
		{"mail", "list"}, {"mail", "last"}, {"keys", "turn"}, {"operator", "add"}, {"soak", "--duration", "3s"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, noEnv, nil, &out, &errOut)
		if code := exitCode(err); code != exitUsage {
			t.Errorf("gatehouse %s: exit %d (%v), want %d", strings.Join(args, " "), code, err, exitUsage)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"mail", "--help"}, noEnv, nil, &out, &out); exitCode(err) != exitOK {
		t.Errorf("mail --help: exit %d", exitCode(err))
	}
	if err := run(context.Background(), []string{"help"}, noEnv, nil, &out, &out); exitCode(err) != exitOK || !strings.Contains(out.String(), "Exit codes:") {
		t.Errorf("help: exit %d, and the codes listed: %v", exitCode(err), strings.Contains(out.String(), "Exit codes:"))
	}

	for status, want := range map[int]int{
		http.StatusBadRequest: exitInvalid, http.StatusRequestEntityTooLarge: exitInvalid,
		http.StatusUnauthorized: exitDenied, http.StatusForbidden: exitDenied,
		http.StatusNotFound: exitNotFound, http.StatusGone: exitNotFound,
		http.StatusConflict: exitConflict, http.StatusMethodNotAllowed: exitFailed,
		http.StatusTooManyRequests: exitUnavailable, http.StatusInternalServerError: exitUnavailable, http.StatusServiceUnavailable: exitUnavailable,
	} {
		err := fmt.Errorf("syncing: %w", &client.Error{StatusCode: status})
		if got := exitCode(err); got != want {
			t.Errorf("a %d answer: exit %d, want %d", status, got, want)
		}
	}
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: fmt.Errorf("connect: connection refused")}
	if got := exitCode(refused); got != exitUnavailable {
		t.Errorf("no connection: exit %d", got)
	}
	if got := exitCode(&url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}); got != exitFailed {
		t.Errorf("interrupted: exit %d", got)
	}
}
