package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// Webhooks through crashes: a client's events are subscribed to a receiver
// here, and the node is killed (SIGKILL) at random moments while people are
// added and their events delivered. After the last restart every event of
// the feed reaches the receiver, each signed, each webhook-id at most twice
// (a node killed between sending and recording sends again, with the same
// id: the receiver keeps the first and drops the repeat), in the order of
// the feed.
func TestWebhooksSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a node several times")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel() // each backend's nodes wait out leases: the two wait together
			env, _, ok := nodeEnv(t, backend)
			if !ok {
				return
			}
			env = append(env, "GATEHOUSE_WEBHOOKS_ALLOW_LOOPBACK=true")
			var (
				mu       sync.Mutex
				received = map[string]int{} // webhook-id → deliveries
				// life counts the nodes started; byLife holds, for each
				// webhook-id, the deliveries of each node's life.
				life    int
				byLife  = map[string]map[int]int{}
				order   []string // first deliveries, in the order received
				secret  []byte
				badSigs int
			)
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				id, stamp := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
				mac := hmac.New(sha256.New, secret)
				fmt.Fprintf(mac, "%s.%s.%s", id, stamp, body)
				want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
				mu.Lock()
				defer mu.Unlock()
				if !strings.Contains(" "+r.Header.Get("webhook-signature")+" ", " "+want+" ") {
					badSigs++
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if received[id] == 0 {
					order = append(order, id)
				}
				received[id]++
				if byLife[id] == nil {
					byLife[id] = map[int]int{}
				}
				byLife[id][life]++
				w.WriteHeader(http.StatusNoContent)
			}))
			defer receiver.Close()

			bin := buildBinary(t)
			n := startNode(t, bin, env)
			api := &apitest.Env{URL: n.url}
			site := clientSite(t, api, "Site", 500)
			created := api.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/webhooks", "op-secret",
				map[string]any{"url": receiver.URL + "/hook", "event_types": []string{"member.*", "invitation.*"}})
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(created.String("secret"), "whsec_"))
			if err != nil {
				t.Fatalf("the secret %q: %v", created.String("secret"), err)
			}
			mu.Lock()
			secret = raw
			mu.Unlock()

			next := 0
			rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
			for round := range 3 {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for range 4 {
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
							body := fmt.Sprintf(`{"username":"w%03d@example.com","first_name":"W","last_name":"K","level":"client_user"}`, next)
							mu.Unlock()
							req, _ := http.NewRequest("POST", api.URL+"/api/v1/accounts/"+site+"/users", strings.NewReader(body))
							req.Header.Set("Authorization", "Bearer op-secret")
							resp, err := client.Do(req)
							if err != nil {
								return // the node died
							}
							resp.Body.Close()
						}
					})
				}
				time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
				if err := n.cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				<-n.done
				close(stop)
				wg.Wait()
				mu.Lock()
				t.Logf("round %d: killed with %d events received", round, len(received))
				life++ // the killed node's deliveries are over: it is dead
				mu.Unlock()
				n = startNode(t, bin, env)
				api = &apitest.Env{URL: n.url}
			}

			// The feed is what committed: every event of it arrives, once
			// kept, in its order. On PostgreSQL the feed holds back what a
			// transaction still running may precede (a killed node's session
			// ends a moment after it), so it is read again until it and the
			// deliveries agree. Deliveries claimed by a killed node wait out
			// its lease.
			readFeed := func() []string {
				var feed []string
				for cursor := ""; ; {
					page := api.Must(t, 200, "GET", "/api/v1/events?limit=1000&account_id="+site+"&after="+cursor, "op-secret", nil)
					for _, item := range page.Items() {
						if typ := item["type"].(string); strings.HasPrefix(typ, "member.") || strings.HasPrefix(typ, "invitation.") {
							feed = append(feed, item["id"].(string))
						}
					}
					if len(page.Items()) == 0 {
						return feed
					}
					cursor = page.String("next_cursor")
				}
			}
			var feed []string
			deadline := time.Now().Add(testOutboxLease + 2*time.Minute)
			for {
				feed = readFeed()
				mu.Lock()
				missing := 0
				for _, id := range feed {
					if received[id] == 0 {
						missing++
					}
				}
				distinct := len(order)
				mu.Unlock()
				if (missing == 0 && distinct == len(feed)) || time.Now().After(deadline) {
					if missing > 0 {
						t.Errorf("%d of %d events never delivered", missing, len(feed))
					}
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			// A node sends a message again only if it was killed between
			// sending it and marking it sent: no node sends one twice, and
			// a message is repeated at most once for each kill (a message
			// claimed before one kill and claimed again, once its lease
			// ran out, before the next is repeated twice).
			for id, lives := range byLife {
				for l, n := range lives {
					if n > 1 {
						t.Errorf("webhook-id %s delivered %d times by node %d", id, n, l)
					}
				}
				if n := received[id]; n > 1+life {
					t.Errorf("webhook-id %s delivered %d times over %d kills", id, n, life)
				}
			}
			if badSigs > 0 {
				t.Errorf("%d deliveries badly signed", badSigs)
			}
			if len(order) != len(feed) {
				t.Errorf("%d distinct deliveries for %d events", len(order), len(feed))
			}
			outOfOrder := 0
			position := map[string]int{}
			for i, id := range feed {
				position[id] = i
			}
			for i := 1; i < len(order); i++ {
				if position[order[i]] < position[order[i-1]] {
					outOfOrder++
				}
			}
			repeats := 0
			for _, n := range received {
				repeats += n - 1
			}
			t.Logf("%d events, all delivered; %d repeated after a kill; %d received before an earlier one", len(feed), repeats, outOfOrder)
		})
	}
}
