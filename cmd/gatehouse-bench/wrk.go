package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The load generators of the other lines are Go HTTP clients in the
// server's own process: on two cores they take about as much CPU as the
// server. wrk (Debian's package) is a load generator in C in a process of
// its own, far cheaper per request, so a line measured with it tells what
// the server alone answers, as it would to resource servers on other
// machines. It still runs on the same cores.

// wrkIntrospection posts introspection requests for tokens in turn with
// HTTP basic authentication, from connections concurrent connections on two
// threads for d, and reports the rate and latencies wrk measured. A request
// answered anything but 200 with "active":true counts as an error.
func wrkIntrospection(serverURL, clientID, secret string, tokens []string, connections int, d time.Duration) error {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret)))
	bodies := make([]string, len(tokens))
	for i, t := range tokens {
		bodies[i] = "token=" + url.QueryEscape(t)
	}
	return wrkPosts("introspections (half service, half person tokens)", serverURL, "/oauth2/introspect",
		"application/x-www-form-urlencoded", auth, bodies, `"active":true`, connections, d)
}

// wrkChecks posts single checks with the check token, the questions'
// bodies in turn, the same way. A request answered anything but 200 with an
// "allowed" field counts as an error.
func wrkChecks(serverURL, token string, bodies []string, connections int, d time.Duration) error {
	return wrkPosts("single checks", serverURL, "/api/v1/check", "application/json", "Bearer "+token, bodies, `"allowed"`,
		connections, d)
}

// wrkPosts posts bodies in turn to path with the Authorization header auth;
// an answer other than 200 with expected in its body counts as an error.
func wrkPosts(label, serverURL, path, contentType, auth string, bodies []string, expected string, connections int, d time.Duration) error {
	var list strings.Builder
	for _, b := range bodies {
		fmt.Fprintf(&list, "%q,", b)
	}
	script := `
local bodies = {` + list.String() + `}
local n = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function request()
  n = n + 1
  return wrk.format("POST", ` + fmt.Sprintf("%q", path) + `, {["Content-Type"] = ` + fmt.Sprintf("%q", contentType) + `,
    ["Authorization"] = ` + fmt.Sprintf("%q", auth) + `}, bodies[(n % #bodies) + 1])
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, ` + fmt.Sprintf("%q", expected) + `, 1, true) then bad = bad + 1 end
end
` + wrkReport
	return runWrk(label, serverURL+path, script, connections, d)
}

// wrkAdds posts adds of new users into the sites in turn, each connection
// its own usernames, the way benchUsers' clients do. An answer other than
// 201 counts as an error.
func wrkAdds(serverURL, bearer string, siteIDs []string, connections int, d time.Duration) error {
	var paths strings.Builder
	for _, id := range siteIDs {
		fmt.Fprintf(&paths, "%q,", "/api/v1/accounts/"+id+"/users")
	}
	script := `
local paths = {` + paths.String() + `}
local threads = {}
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter); table.insert(threads, thread) end
function init(args) bad = 0; n = 0 end
function request()
  n = n + 1
  local body = string.format('{"username":"wrk%d-%d@bench.example","first_name":"User","last_name":"%d","level":"client_user"}', tid, n, n)
  return wrk.format("POST", paths[(n % #paths) + 1], {["Content-Type"] = "application/json",
    ["Authorization"] = ` + fmt.Sprintf("%q", "Bearer "+bearer) + `}, body)
end
function response(status, headers, body) if status ~= 201 then bad = bad + 1 end end
` + wrkReport
	return runWrk("add user (membership, invitation, outbox row)", serverURL+"/api/v1/accounts", script, connections, d)
}

// wrkFloor measures GET /healthz the same way: the floor under the lines
// above.
func wrkFloor(serverURL string, connections int, d time.Duration) error {
	script := `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
` + wrkReport
	return runWrk("GET /healthz (the HTTP floor: no work at all)", serverURL+"/healthz", script, connections, d)
}

// wrkReport ends every script: it sums the threads' bad answers (each
// script's response function counts them in bad) and prints the line
// wrkSummary reads.
const wrkReport = `function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("WRK %d %d %d %d %d\n", summary.requests, total, latency:percentile(50), latency:percentile(99), latency.max))
end
`

var wrkSummary = regexp.MustCompile(`WRK (\d+) (\d+) (\d+) (\d+) (\d+)`)

func runWrk(label, target, script string, connections int, d time.Duration) error {
	dir, err := os.MkdirTemp("", "gatehouse-wrk")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "load.lua")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return err
	}
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", connections), fmt.Sprintf("-d%ds", int(d.Seconds())),
		"-s", path, target).CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk: %v\n%s", err, out)
	}
	m := wrkSummary.FindStringSubmatch(string(out))
	if m == nil {
		return fmt.Errorf("wrk said:\n%s", out)
	}
	var requests, bad, p50, p99, max int64
	fmt.Sscan(m[1]+" "+m[2]+" "+m[3]+" "+m[4]+" "+m[5], &requests, &bad, &p50, &p99, &max)
	if bad > 0 {
		return fmt.Errorf("%s: %d of %d requests were not answered as expected", label, bad, requests)
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	fmt.Printf("%s through HTTP from wrk, %d connections: %.0f/s, p50 %v, p99 %v, max %v\n",
		label, connections, float64(requests)/d.Seconds(), us(p50), us(p99), us(max))
	return nil
}
