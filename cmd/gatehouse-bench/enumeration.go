package main

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"
)

// benchEnumeration compares how long a wrong sign-in takes for a username
// that exists and for one that does not (the same "within
// noise"). The two kinds alternate, one request at a time; each known
// username is tried at most three times and each unknown one once, so
// neither meets the slow-down that starts at the fourth failure in a row.
// Every roundsPerSource rounds the requests come from another loopback
// address, so that no source fails often enough for its own slow-down
// (past 100 failures a minute) or lock (past 300): each answer costs what
// one wrong password costs.
func benchEnumeration(dbKind string, rounds int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	if err := siteWithActiveUsers(&http.Client{}, n, "known", rounds/3+1); err != nil {
		return err
	}
	var client *http.Client
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
		if i%roundsPerSource == 0 {
			source := &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/roundsPerSource/250), byte(2+i/roundsPerSource%250))}
			client = &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: source}).DialContext}}
		}
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

// roundsPerSource is how many rounds (two wrong sign-ins each) come from
// one source address: fewer than the failures a minute past which a source
// is slowed down.
const roundsPerSource = 40
