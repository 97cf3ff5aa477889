package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// benchBulk measures bulk invitations through HTTP on a running node (with
// its outbox worker delivering the mail meanwhile):
//
//   - per row against single adds: 1,000 people added one request each by
//     16 concurrent clients, then 1,000 others invited by one preview and one
//     confirm, each in its own client account;
//   - a large file: rows lines previewed and confirmed into an integrator
//     account (no user limit there), with the process's peak memory.
func benchBulk(dbKind string, rows, workers int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	fmt.Printf("gatehouse-bench bulk: %s, %d cores, GOMAXPROCS %d\n", dbKind, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	account := func(kind, body string) (string, error) {
		status, answer, err := do(client, "POST", n.url+"/api/v1/accounts", body)
		if err != nil || status != 201 {
			return "", fmt.Errorf("create %s: %d %s %v", kind, status, answer, err)
		}
		return between(answer, `"id":"`, `"`), nil
	}
	integratorID, err := account("integrator", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil {
		return err
	}
	sites := make([]string, 2)
	for i := range sites {
		if sites[i], err = account("client", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site %d"}`, integratorID, i)); err != nil {
			return err
		}
		if status, body, err := do(client, "PATCH", n.url+"/api/v1/accounts/"+sites[i]+"/settings", `{"max_client_users":10000}`); err != nil || status != 200 {
			return fmt.Errorf("settings: %d %s %v", status, body, err)
		}
	}

	const compared = 1000
	start := time.Now()
	err = postConcurrently(client, n.url, fmt.Sprintf("single adds via HTTP, %d clients", workers), compared, workers, func(i int64) (string, string) {
		return "/api/v1/accounts/" + sites[0] + "/users",
			fmt.Sprintf(`{"username":"single%d@bench.example","first_name":"User","last_name":"%d","level":"client_user"}`, i, i)
	})
	if err != nil {
		return err
	}
	single := time.Since(start)
	// Let the node's mail worker deliver the single adds' mail first, so
	// that its work is not counted against bulk (bulk's own mail is).
	if err := waitForMail(n, compared); err != nil {
		return err
	}
	preview, confirm, err := bulkInvite(client, n.url, sites[1], "small", compared)
	if err != nil {
		return err
	}
	fmt.Printf("bulk of %d: preview %.3fs + confirm %.3fs = %.0f rows/s; single adds %.3fs = %.0f/s; bulk is %.1f times faster per row\n",
		compared, preview.Seconds(), confirm.Seconds(), compared/(preview+confirm).Seconds(), single.Seconds(),
		compared/single.Seconds(), single.Seconds()/(preview+confirm).Seconds())

	// Someone added on their own while the large bulk is written: how long
	// their e-mail takes (with an SMTP sink, which notes arrivals).
	probes := startProbes(client, n, sites[0])
	preview, confirm, err = bulkInvite(client, n.url, integratorID, "large", rows)
	sentProbes := probes.stop()
	if err != nil {
		return err
	}
	fmt.Printf("bulk of %d into an integrator account: preview %.1fs, confirm %.1fs, total %.1fs (%.0f rows/s); peak resident memory %s\n",
		rows, preview.Seconds(), confirm.Seconds(), (preview + confirm).Seconds(), float64(rows)/(preview+confirm).Seconds(), peakRSS())
	// Everyone invited gets an e-mail: the worker has been delivering them
	// since the first chunk committed.
	confirmed := time.Now()
	probesArrived := 0
	if n.smtp != nil {
		probesArrived = int(n.smtp.probes.Load())
	}
	fmt.Printf("e-mails of the bulk delivered when the confirm answered: %d\n", n.delivered()-2*compared-probesArrived)
	if err := waitForMail(n, 2*compared+rows+len(sentProbes)); err != nil {
		return err
	}
	fmt.Printf("all %d e-mails of the bulk delivered %.1fs after the confirm answered\n", rows, time.Since(confirmed).Seconds())
	probes.report(sentProbes)
	return nil
}

// probes add a person every half second to a client account, each with
// an address the SMTP sink notes the arrival of.
type probes struct {
	done chan struct{}
	sent chan map[string]time.Time // address → when the add was asked
	sink *smtpSink
}

func startProbes(client *http.Client, n *node, accountID string) *probes {
	p := &probes{done: make(chan struct{}), sent: make(chan map[string]time.Time, 1), sink: n.smtp}
	go func() {
		sent := map[string]time.Time{}
		defer func() { p.sent <- sent }()
		if n.smtp == nil {
			return
		}
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
			address := fmt.Sprintf("%s%d@bench.example", probePrefix, i)
			at := time.Now()
			status, _, err := do(client, "POST", n.url+"/api/v1/accounts/"+accountID+"/users",
				fmt.Sprintf(`{"username":%q,"first_name":"Probe","last_name":"%d","level":"client_user"}`, address, i))
			if err == nil && status == 201 {
				sent[address] = at
			}
		}
	}()
	return p
}

// stop ends the adds and returns when each was asked, by address.
func (p *probes) stop() map[string]time.Time {
	close(p.done)
	return <-p.sent
}

// report prints how long the probes' e-mails took, from the add asked to
// the e-mail received.
func (p *probes) report(sent map[string]time.Time) {
	if p.sink == nil {
		return
	}
	var waits []time.Duration
	for address, at := range sent {
		if arrived, ok := p.sink.arrived.Load(address); ok {
			waits = append(waits, arrived.(time.Time).Sub(at))
		}
	}
	if len(waits) == 0 {
		return
	}
	slices.Sort(waits)
	fmt.Printf("e-mails of %d single adds made during the bulk: received %.2fs after the add (median), %.2fs (slowest)\n",
		len(waits), waits[len(waits)/2].Seconds(), waits[len(waits)-1].Seconds())
}

// waitForMail waits until the node's outbox has sent count e-mails,
// counting them every 20 ms (every second past 10,000: listing a directory
// of 100,000 files costs about 45 ms of CPU, which every 250 ms took a
// seventh of the run from the node it measures).
func waitForMail(n *node, count int) error {
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
		delivered := n.delivered()
		if delivered >= count {
			return nil
		}
		if delivered > 10_000 {
			time.Sleep(time.Second)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return fmt.Errorf("the outbox did not deliver %d messages in three minutes", count)
}

// countMail counts the .eml files in dir: a listing of names, without the
// sorting and pattern matching of a glob, which took a tenth of the CPU of a
// run delivering a hundred thousand e-mails.
func countMail(dir string) int {
	d, err := os.Open(dir)
	if err != nil {
		return 0
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	n := 0
	for _, name := range names {
		if strings.HasSuffix(name, ".eml") {
			n++
		}
	}
	return n
}

// bulkInvite previews and confirms a file of count new addresses into the
// account, reading the preview's answer as a stream, and returns the time of
// each step.
func bulkInvite(client *http.Client, base, accountID, label string, count int) (preview, confirm time.Duration, err error) {
	var file strings.Builder
	file.WriteString("email,role\r\n")
	for i := range count {
		fmt.Fprintf(&file, "%s%06d@bench.example,viewer\r\n", label, i)
	}
	url := base + "/api/v1/accounts/" + accountID + "/invitations/bulk"
	start := time.Now()
	req, err := http.NewRequest("POST", url, strings.NewReader(file.String()))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	// Read the answer as it streams; keep its head, for the id.
	head := make([]byte, 200)
	got, _ := io.ReadFull(resp.Body, head)
	rest, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		return 0, 0, fmt.Errorf("preview: %d %s %v", resp.StatusCode, head[:got], err)
	}
	preview = time.Since(start)
	id := between(string(head[:got]), `"preview_id":"`, `"`)
	fmt.Printf("preview of %d lines: %.0f kB of answer\n", count, float64(int64(got)+rest)/1000)

	start = time.Now()
	status, body, err := do(client, "POST", url+"/"+id+"/confirm", "")
	// A job longer than the confirm's wait answers 202 with its progress:
	// then the end is when its status says done.
	for err == nil && status == 202 || status == 200 && strings.Contains(body, `"status":"confirming"`) {
		time.Sleep(100 * time.Millisecond)
		status, body, err = do(client, "GET", url+"/"+id, "")
	}
	if err != nil || status != 200 || !strings.Contains(body, fmt.Sprintf(`"invited":%d`, count)) {
		return 0, 0, fmt.Errorf("confirm: %d %s %v", status, body, err)
	}
	return preview, time.Since(start), nil
}
