package main

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func writeCSV(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// `gatehouse invite` prints the preview and its totals, asks, and invites
// only when told yes (CLI).
func TestInviteCommand(t *testing.T) {
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Store 12", in)
	file := writeCSV(t, "email,role", "ann@example.com,viewer", "bob@example.com,pilot", "cid@example.com,")
	env := func(k string) string {
		return map[string]string{"GATEHOUSE_TOKEN": apitest.OperatorToken, "GATEHOUSE_URL": e.URL}[k]
	}
	users := func() int {
		return len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", apitest.OperatorToken, nil).Items())
	}

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"invite", "--account", site, "--csv", file}, env, strings.NewReader("n\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"LINE", "bob@example.com", "unknown_role", "3 lines: invite 2, unknown_role 1\n", "Invite 2 people? [y/N]", "Not confirmed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n := users(); n != 0 {
		t.Errorf("%d users after answering no", n)
	}

	out.Reset()
	if err := run(context.Background(), []string{"invite", "--account", site, "--csv", file}, env, strings.NewReader("y\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Invited 2; skipped 0") || !strings.Contains(out.String(), "100%  2/2") {
		t.Errorf("output:\n%s", out.String())
	}
	if n := users(); n != 2 {
		t.Errorf("%d users after answering yes, want 2", n)
	}
	if err := run(context.Background(), []string{"invite", "--account", site}, env, nil, &out, &errOut); err == nil {
		t.Errorf("no --csv accepted")
	}
	if err := run(context.Background(), []string{"invite", "--account", site, "--csv", file, "--yes"}, func(string) string { return "" }, nil, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "GATEHOUSE_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	// The server's refusals end with their class's exit code.
	err := run(context.Background(), []string{"invite", "--account", "0193a5c4-0000-7000-8000-000000000000", "--csv", file, "--yes"}, env, nil, &out, &errOut)
	if exitCode(err) != exitNotFound || !strings.Contains(fmt.Sprint(err), "(404 not_found)") {
		t.Errorf("an unknown account: exit %d, %v", exitCode(err), err)
	}
	err = run(context.Background(), []string{"invite", "--account", site, "--csv", file, "--yes", "--token", "gh_api_unknown"}, env, nil, &out, &errOut)
	if exitCode(err) != exitDenied {
		t.Errorf("a --token that is no token: exit %d, %v", exitCode(err), err)
	}
}

// A node killed (SIGKILL) in the middle of a large confirm loses nothing:
// after a restart the job resumes where it stopped, every line is invited
// exactly once, and every person gets exactly one e-mail (R-B4, R-N1).
func TestBulkConfirmResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node for about half a minute")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel() // each backend's node waits out leases: the two wait together
			bulkConfirmResumesAfterKill(t, backend)
		})
	}
}

func bulkConfirmResumesAfterKill(t *testing.T, backend string) {
	env, dataDir, ok := nodeEnv(t, backend)
	if !ok {
		return
	}
	bin := buildBinary(t)
	first := startNode(t, bin, env)
	api := &apitest.Env{URL: first.url}
	const people = 10000
	site := clientSite(t, api, "Store", people)
	var csv strings.Builder
	csv.WriteString("email,role\n")
	for i := range people {
		fmt.Fprintf(&csv, "person%05d@example.com,viewer\n", i)
	}
	bulk := "/api/v1/accounts/" + site + "/invitations/bulk"
	id := api.Must(t, 200, "POST", bulk, "op-secret", csv.String()).String("preview_id")
	api.Must(t, 202, "POST", bulk+"/"+id+"/confirm?wait=false", "op-secret", nil)

	// Kill the node once the job is under way.
	var processed float64
	for deadline := time.Now().Add(30 * time.Second); processed == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the job did not start")
		}
		processed = api.Must(t, 200, "GET", bulk+"/"+id, "op-secret", nil).Body["processed"].(float64)
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	if processed >= people {
		t.Fatalf("the job finished before the kill (%v lines); nothing was tested", processed)
	}
	t.Logf("killed with %v of %d lines processed", processed, people)

	second := startNode(t, bin, env)
	restarted := time.Now()
	api = &apitest.Env{URL: second.url}
	var status apitest.Response
	// The job resumes once the killed node's lease on it ends.
	for deadline := time.Now().Add(testBulkLease + 90*time.Second); ; time.Sleep(200 * time.Millisecond) {
		status = api.Must(t, 200, "GET", bulk+"/"+id, "op-secret", nil)
		if status.String("status") == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after the restart: %s", status.Raw)
		}
	}
	if status.Body["invited"] != float64(people) || status.Body["failed"] != 0.0 {
		t.Fatalf("after the restart: %s", status.Raw)
	}
	t.Logf("the job done %v after the restart", time.Since(restarted).Round(time.Millisecond))

	// Every person once in the account, and one e-mail each, once the
	// outbox has delivered them.
	var count int
	for cursor := ""; ; {
		page := api.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users?limit=500&cursor="+cursor, "op-secret", nil)
		count += len(page.Items())
		next, _ := page.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if count != people {
		t.Errorf("%d users in the account, want %d", count, people)
	}
	recipients := map[string]int{}
	// Messages the killed node had claimed wait out its lease.
	for deadline := time.Now().Add(testOutboxLease + 2*time.Minute); ; time.Sleep(500 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*.eml"))
		if len(files) >= people || time.Now().After(deadline) {
			t.Logf("%d e-mails delivered %v after the restart", len(files), time.Since(restarted).Round(time.Millisecond))
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				msg, err := mail.ReadMessage(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				recipients[msg.Header.Get("To")]++
			}
			break
		}
	}
	if len(recipients) != people {
		t.Errorf("%d people got mail, want %d", len(recipients), people)
	}
	for to, n := range recipients {
		if n != 1 {
			t.Errorf("%s got %d e-mails", to, n)
		}
	}
	second.stop(t)
}
