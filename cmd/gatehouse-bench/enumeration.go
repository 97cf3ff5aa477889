package main

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// benchEnumeration compares how long a wrong sign-in takes for a username
// that exists and for one that does not (the same "within
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
	if err := siteWithActiveUsers(client, n, "known", rounds/3+1); err != nil {
		return err
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
