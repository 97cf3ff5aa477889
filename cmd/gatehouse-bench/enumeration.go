package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"time"
)

// benchEnumeration compares how long a wrong sign-in takes for a username
// that exists and for one that does not (issue 9: the same "within
// noise"). The two kinds alternate, one request at a time; each known
// username is tried at most three times and each unknown one once, so
// neither meets the slow-down that starts at the fourth failure in a row.
func benchEnumeration(dbKind string, rounds int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{}
	_, body, _ := do(client, "POST", n.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench"}`)
	integratorID := between(body, `"id":"`, `"`)
	_, body, _ = do(client, "POST", n.url+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site"}`, integratorID))
	site := between(body, `"id":"`, `"`)
	if status, body, err := do(client, "PATCH", n.url+"/api/v1/accounts/"+site+"/settings", `{"max_client_users":1000}`); err != nil || status != 200 {
		return fmt.Errorf("settings: %d %s %v", status, body, err)
	}
	users := rounds/3 + 1
	for i := range users {
		payload := fmt.Sprintf(`{"username":"known%d@bench.example","first_name":"K","last_name":"N","level":"client_user"}`, i)
		if status, body, err := do(client, "POST", n.url+"/api/v1/accounts/"+site+"/users", payload); err != nil || status != 201 {
			return fmt.Errorf("add: %d %s %v", status, body, err)
		}
	}
	tokens, err := activationTokens(filepath.Join(n.dataDir, "mail"), users)
	if err != nil {
		return err
	}
	for _, tok := range tokens {
		if status, body, err := do(client, "POST", n.url+"/api/v1/activate", fmt.Sprintf(`{"token":%q,"password":"correct horse battery staple"}`, tok)); err != nil || status != 200 {
			return fmt.Errorf("activate: %d %s %v", status, body, err)
		}
	}
	var known, unknown []time.Duration
	var bodies = map[string]bool{}
	try := func(username string) (time.Duration, error) {
		start := time.Now()
		status, body, err := doAs(client, "", "POST", n.url+"/api/v1/sessions",
			fmt.Sprintf(`{"username":%q,"password":"not the password at all"}`, username))
		if err != nil || status != 401 {
			return 0, fmt.Errorf("sign-in of %s: %d %s %v", username, status, body, err)
		}
		bodies[body] = true
		return time.Since(start), nil
	}
	for i := range rounds {
		k, err := try(fmt.Sprintf("known%d@bench.example", i/3))
		if err != nil {
			return err
		}
		u, err := try(fmt.Sprintf("nobody%d@bench.example", i))
		if err != nil {
			return err
		}
		known, unknown = append(known, k), append(unknown, u)
	}
	slices.Sort(known)
	slices.Sort(unknown)
	fmt.Printf("%s: %d wrong sign-ins each, alternating; %d distinct answer bodies\n", dbKind, rounds, len(bodies))
	fmt.Printf("%-22s %9s %9s %9s\n", "username", "p10", "median", "p90")
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{{"exists", known}, {"does not exist", unknown}} {
		fmt.Printf("%-22s %9s %9s %9s\n", row.name, round(pct(row.d, 10)), round(pct(row.d, 50)), round(pct(row.d, 90)))
	}
	diff := pct(known, 50) - pct(unknown, 50)
	fmt.Printf("median difference: %s (%.1f%% of the median)\n", round(diff), 100*float64(diff)/float64(pct(known, 50)))
	return nil
}
