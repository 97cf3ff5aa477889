package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

var activationInMail = regexp.MustCompile(`token=3D(gh_inv_[A-Za-z0-9_-]+)|token=(gh_inv_[A-Za-z0-9_-]+)`)

// mailbox reads the .eml files of a data dir: for each recipient, the
// Message-IDs of the messages it got, and the activation links in them.
func mailbox(t *testing.T, dataDir string) (ids map[string][]string, links map[string][]string) {
	ids, links = map[string][]string{}, map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*.eml"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // being renamed into place
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("%s is not a whole message: %v", f, err)
			continue
		}
		to := msg.Header.Get("To")
		ids[to] = append(ids[to], msg.Header.Get("Message-Id"))
		text := strings.ReplaceAll(string(raw), "=\r\n", "")
		if m := activationInMail.FindStringSubmatch(text); m != nil {
			links[to] = append(links[to], m[1]+m[2])
		}
	}
	return ids, links
}

// Fault injection: the node is killed (SIGKILL) at random moments
// while people are added and activate, and mail is delivered; after each
// restart the invariants hold: every add answered 201 is there, exactly
// once; the limit holds; every activation answered 200 is active; every
// added person got exactly one invitation e-mail (a repeat after a crash
// would carry the same Message-ID and replace its file).
func TestKillAtRandomMomentsLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a node several times")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel() // each backend's nodes wait out leases: the two wait together
			env, dataDir, ok := nodeEnv(t, backend)
			if !ok {
				return
			}
			bin := buildBinary(t)
			n := startNode(t, bin, env)
			api := &apitest.Env{URL: n.url}
			const limit = 60
			site := clientSite(t, api, "Site", limit)

			var (
				mu        sync.Mutex
				added     = map[string]bool{} // answered 201
				activated = map[string]bool{} // answered 200
				next      int
			)
			rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
			for round := range 4 {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for range 6 {
					wg.Go(func() {
						client := &http.Client{Timeout: 5 * time.Second}
						for {
							select {
							case <-stop:
								return
							default:
							}
							mu.Lock()
							next++
							username := fmt.Sprintf("p%03d@example.com", next)
							mu.Unlock()
							body := fmt.Sprintf(`{"username":%q,"first_name":"P","last_name":"Q","level":"client_user"}`, username)
							req, _ := http.NewRequest("POST", api.URL+"/api/v1/accounts/"+site+"/users", strings.NewReader(body))
							req.Header.Set("Authorization", "Bearer op-secret")
							resp, err := client.Do(req)
							if err != nil {
								return // the node died
							}
							resp.Body.Close()
							if resp.StatusCode == 201 {
								mu.Lock()
								added[username] = true
								mu.Unlock()
							}
							// Activate someone whose link has arrived.
							_, links := mailbox(t, dataDir)
							for to, l := range links {
								user := strings.Trim(to, "<>")
								mu.Lock()
								done := activated[user]
								mu.Unlock()
								if done || rand.IntN(3) != 0 { // the global source: safe across goroutines
									continue
								}
								body := fmt.Sprintf(`{"token":%q,"password":"kill test passphrase"}`, l[len(l)-1])
								req, _ := http.NewRequest("POST", api.URL+"/api/v1/activate", strings.NewReader(body))
								if resp, err := client.Do(req); err == nil {
									resp.Body.Close()
									if resp.StatusCode == 200 {
										mu.Lock()
										activated[user] = true
										mu.Unlock()
									}
								}
								break
							}
						}
					})
				}
				time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
				if err := n.cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				<-n.done
				close(stop)
				wg.Wait()
				mu.Lock()
				t.Logf("round %d: killed with %d added, %d activated so far", round, len(added), len(activated))
				mu.Unlock()
				n = startNode(t, bin, env)
				api = &apitest.Env{URL: n.url}
			}

			// Every accepted add is there, once; the limit holds.
			page := api.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users?limit=500", "op-secret", nil)
			members := map[string]string{}
			for _, m := range page.Items() {
				username := m["username"].(string)
				if _, twice := members[username]; twice {
					t.Errorf("%s is a member twice", username)
				}
				members[username] = m["status"].(string)
			}
			if len(members) > limit {
				t.Errorf("%d members over a limit of %d", len(members), limit)
			}
			for username := range added {
				if _, ok := members[username]; !ok {
					t.Errorf("%s was answered 201 but is not a member", username)
				}
			}
			for username := range activated {
				if members[username] != "active" {
					t.Errorf("%s was answered 200 on activation but is %q", username, members[username])
				}
			}
			// Every member got exactly one invitation, once delivered.
			var ids map[string][]string
			// Messages claimed by a killed node wait out its lease.
			waited := time.Now()
			for deadline := time.Now().Add(testOutboxLease + time.Minute); ; time.Sleep(200 * time.Millisecond) {
				ids, _ = mailbox(t, dataDir)
				missing := 0
				for username := range members {
					if len(ids["<"+username+">"]) == 0 {
						missing++
					}
				}
				if missing == 0 || time.Now().After(deadline) {
					if missing > 0 {
						t.Errorf("%d members never got their invitation", missing)
					}
					t.Logf("every invitation delivered %v after the last restart", time.Since(waited).Round(time.Millisecond))
					break
				}
			}
			for username := range members {
				if got := ids["<"+username+">"]; len(got) > 1 {
					t.Errorf("%s got %d e-mails: %v", username, len(got), got)
				}
			}
			t.Logf("%d members (%d answered 201), %d activated, after 4 kills", len(members), len(added), len(activated))
			n.stop(t)
		})
	}
}
