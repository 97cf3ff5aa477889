package main

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchSCIM provisions people into one client account through its SCIM
// base, as a directory's first synchronisation does: each create is an
// add-user (identity, membership, roles, the client-user counter, an
// invitation, its e-mail in the outbox, audit events) and a line of the
// account's call log. Support raises the account's limit first, as it
// would for a site that large.
func benchSCIM(dbKind string, creates, workers int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	fmt.Printf("gatehouse-bench scim: %s, %d cores, GOMAXPROCS %d, %d clients\n", dbKind, runtime.NumCPU(), runtime.GOMAXPROCS(0), workers)
	_, body, err := do(client, "POST", n.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil {
		return err
	}
	integratorID := between(body, `"id":"`, `"`)
	_, body, err = do(client, "POST", n.url+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Head Office"}`, integratorID))
	if err != nil {
		return err
	}
	siteID := between(body, `"id":"`, `"`)
	if status, body, err := do(client, "PATCH", n.url+"/api/v1/accounts/"+siteID+"/settings", fmt.Sprintf(`{"max_client_users":%d}`, creates)); err != nil || status != 200 {
		return fmt.Errorf("settings: %d %s %v", status, body, err)
	}
	status, body, err := do(client, "POST", n.url+"/api/v1/accounts/"+siteID+"/scim-tokens", `{"name":"Bench directory"}`)
	if err != nil || status != 201 {
		return fmt.Errorf("scim token: %d %s %v", status, body, err)
	}
	scimToken := between(body, `"token":"`, `"`)
	base := n.url + "/scim/v2/accounts/" + siteID

	var next, failed atomic.Int64
	latencies := make([][]time.Duration, workers)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(creates); i = next.Add(1) {
				user := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"person%d@bench.example",`+
					`"externalId":"dir-%d","name":{"givenName":"Person","familyName":"%d"},"emails":[{"primary":true,"type":"work",`+
					`"value":"person%d@bench.example"}],"active":true}`, i, i, i, i)
				began := time.Now()
				status, _, err := doSCIM(client, scimToken, "POST", base+"/Users", user)
				latencies[w] = append(latencies[w], time.Since(began))
				if err != nil || status != 201 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(latencies...)
	slices.Sort(all)
	fmt.Printf("SCIM create (add user, invitation, outbox row, call log): %d in %.2fs = %.0f/s, p50 %s p99 %s (%d failed)\n",
		creates, elapsed.Seconds(), float64(creates)/elapsed.Seconds(), pct(all, 50), pct(all, 99), failed.Load())
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d creates failed", failed.Load(), creates)
	}
	// A directory's lookup before each change: one person by userName
	// among all those provisioned.
	lookups := make([]time.Duration, 0, 1000)
	for i := range 1000 {
		filter := strings.ReplaceAll(fmt.Sprintf(`userName eq "person%d@bench.example"`, 1+i*creates/1000), " ", "%20")
		began := time.Now()
		status, body, err := doSCIM(client, scimToken, "GET", base+"/Users?filter="+strings.ReplaceAll(filter, `"`, "%22"), "")
		lookups = append(lookups, time.Since(began))
		if err != nil || status != 200 || !strings.Contains(body, `"totalResults":1`) {
			return fmt.Errorf("lookup %d: %d %s %v", i, status, body, err)
		}
	}
	slices.Sort(lookups)
	fmt.Printf("SCIM lookup by userName among %d: p50 %s p99 %s\n", creates, pct(lookups, 50), pct(lookups, 99))
	return nil
}

func doSCIM(client *http.Client, bearer, method, u, body string) (int, string, error) {
	return doTyped(client, bearer, "application/scim+json", method, u, body)
}
