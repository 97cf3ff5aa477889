package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// A backup taken by `gatehouse backup` while six clients add people
// through the API, restored by `gatehouse restore` into a new data dir,
// holds every add answered 201 before the backup began, and one committed
// state: the site's guarded count of client users is the number of its
// client users. The server key comes with it: the remote monitoring
// password, sealed, opens on the restored node.
func TestBackupDuringWritesRestoresEveryAnsweredWrite(t *testing.T) {
	bin := buildBinary(t)
	env, dataDir, _ := nodeEnv(t, "sqlite")
	env = append(env, "GATEHOUSE_PUBLIC_URL="+publicURL)
	node := startNode(t, bin, env)
	api := &apitest.Env{URL: node.url}
	site := clientSite(t, api, "Site", 10000)
	sitePath := "/api/v1/accounts/" + site
	api.Must(t, 201, "POST", sitePath+"/remote-monitoring-user", op, map[string]any{"description": "NVR"})
	details := string(api.Must(t, 200, "GET", sitePath+"/remote-monitoring-user/connection-details", op, nil).Raw)

	var (
		mu       sync.Mutex
		answered = map[string]time.Time{} // username: when its 201 arrived
		stop     = make(chan struct{})
		writers  sync.WaitGroup
	)
	for w := range 6 {
		writers.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				username := fmt.Sprintf("w%d-%05d@example.com", w, i)
				body := fmt.Sprintf(`{"username":%q,"first_name":"P","last_name":"Q","level":"client_user"}`, username)
				req, _ := http.NewRequest("POST", node.url+sitePath+"/users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+op)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("add %s: %v", username, err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 201 {
					t.Errorf("add %s: %d", username, resp.StatusCode)
					return
				}
				mu.Lock()
				answered[username] = time.Now()
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	backups := t.TempDir()
	began := time.Now()
	out, err := exec.Command(bin, "backup", "--data-dir", dataDir, "--to", backups).CombinedOutput()
	ended := time.Now()
	if err != nil {
		t.Fatalf("gatehouse backup: %v\n%s", err, out)
	}
	t.Logf("gatehouse backup: %s", out)
	time.Sleep(200 * time.Millisecond) // writes go on after it too
	close(stop)
	writers.Wait()
	node.stop(t)

	archives, _ := filepath.Glob(filepath.Join(backups, "gatehouse-*.tar"))
	if len(archives) != 1 {
		t.Fatalf("backups written: %v", archives)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := exec.Command(bin, "restore", "--from", archives[0], "--data-dir", restored).CombinedOutput(); err != nil {
		t.Fatalf("gatehouse restore: %v\n%s", err, out)
	}
	node = startNode(t, bin, []string{"GATEHOUSE_DATA_DIR=" + restored, "GATEHOUSE_BOOTSTRAP_TOKEN=" + op,
		"GATEHOUSE_ADDR=" + freeAddr(t), "GATEHOUSE_PUBLIC_URL=" + publicURL})
	api = &apitest.Env{URL: node.url}

	members := map[string]bool{}
	clientUsers := 0
	for cursor := ""; ; {
		page := api.Must(t, 200, "GET", sitePath+"/users?limit=500&cursor="+url.QueryEscape(cursor), op, nil)
		for _, m := range page.Items() {
			members[m["username"].(string)] = true
			if m["level"] == "client_user" {
				clientUsers++
			}
		}
		if cursor = page.String("next_cursor"); cursor == "" {
			break
		}
	}
	before, during, missing := 0, 0, 0
	for username, at := range answered {
		switch {
		case at.Before(began):
			before++
			if !members[username] {
				missing++
				t.Errorf("%s was answered 201 before the backup began, and is not in it", username)
			}
		case at.Before(ended) && members[username]:
			during++
		}
	}
	t.Logf("%d adds answered before the backup began, %d during it (of which %d are in it), %d after; the backup holds %d client users; %d missing",
		before, countBetween(answered, began, ended), during, countBetween(answered, ended, time.Now()), clientUsers, missing)
	if before == 0 {
		t.Fatal("no add was answered before the backup: the test tests nothing")
	}

	// The guarded count is the members': the site takes exactly one more
	// than it holds once its limit is set to that.
	api.Must(t, 200, "PATCH", sitePath+"/settings", op, fmt.Sprintf(`{"max_client_users":%d}`, clientUsers+1))
	api.Must(t, 201, "POST", sitePath+"/users", op, `{"username":"last@example.com","first_name":"L","last_name":"Q","level":"client_user"}`)
	if r := api.Do(t, "POST", sitePath+"/users", op, `{"username":"over@example.com","first_name":"O","last_name":"Q","level":"client_user"}`); r.Status != 409 {
		t.Errorf("an add over the limit on the restored node: %d %s", r.Status, r.Raw)
	}
	if got := string(api.Must(t, 200, "GET", sitePath+"/remote-monitoring-user/connection-details", op, nil).Raw); got != details {
		t.Errorf("the remote monitoring details after the restore:\n%s\nbefore:\n%s", got, details)
	}
	node.stop(t)
}

func countBetween(times map[string]time.Time, from, to time.Time) int {
	n := 0
	for _, at := range times {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// A script tells the refusals of backup, restore and copy apart by their
// exit code: a mistake in the command line is 2, an installation in the
// way 5, a damaged backup 6.
func TestBackupRestoreCopyExitCodes(t *testing.T) {
	dataDir := t.TempDir()
	env := func(k string) string {
		if k == "GATEHOUSE_DATA_DIR" {
			return dataDir
		}
		return ""
	}
	gatehouse := func(args ...string) int {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, env, nil, &out, &errOut)
		t.Logf("gatehouse %s: %v", strings.Join(args, " "), err)
		return exitCode(err)
	}
	if code := gatehouse("migrate", "--log-format", "text"); code != exitOK {
		t.Fatalf("migrate: exit %d", code)
	}
	archive := filepath.Join(t.TempDir(), "backup.tar")
	if code := gatehouse("backup", "--to", archive); code != exitOK {
		t.Fatalf("backup: exit %d", code)
	}
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.tar")
	if err := os.WriteFile(cut, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"backup"}, exitUsage},
		{[]string{"backup", "--to", archive}, exitConflict}, // never written over
		{[]string{"restore", "--to", archive}, exitUsage},
		{[]string{"restore", "--from", archive}, exitConflict}, // the data dir holds an installation
		{[]string{"restore", "--from", cut, "--data-dir", filepath.Join(t.TempDir(), "new")}, exitInvalid},
		{[]string{"restore", "--from", archive, "--data-dir", filepath.Join(t.TempDir(), "new")}, exitOK},
		{[]string{"copy", "--from", dataDir, "--to", "postgres://nowhere"}, exitUsage},
		{[]string{"copy", "--from", "sqlite:" + dataDir, "--to", "mysql://nowhere"}, exitUsage},
	} {
		if got := gatehouse(c.args...); got != c.want {
			t.Errorf("gatehouse %s: exit %d, want %d", strings.Join(c.args, " "), got, c.want)
		}
	}
}
