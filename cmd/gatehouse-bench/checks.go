package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/dataset"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/service"
)

// benchChecks builds the large benchmark account (10,000 folders 8 deep, 1,000
// members, 100 groups, 20,000 grants) straight through the store, then
// measures checks three ways: in process through the service, one per HTTP
// request with a check token, and in batches of 1,000 through HTTP.
func benchChecks(dbKind string, workers int, d time.Duration) error {
	ctx := context.Background()
	db, _, cleanup, err := freshStore(ctx, dbKind)
	defer cleanup()
	if err != nil {
		return err
	}
	svc := service.New(db, service.Options{BootstrapToken: token})

	start := time.Now()
	acct, err := dataset.Build(ctx, db, dataset.LargeAccount)
	if err != nil {
		return err
	}
	fmt.Printf("data set: %d folders (depth %d), %d members, %d groups, %d grants, built in %.1fs\n",
		len(acct.FolderIDs), acct.MaxDepth, len(acct.UserIDs), len(acct.GroupIDs), dataset.LargeAccount.Grants, time.Since(start).Seconds())
	if dbKind == "postgres" {
		if _, err := db.Pools()["main"].ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return err
		}
	}

	questions := checkQuestions(acct, 100000)
	start = time.Now()
	allowed := 0
	for _, q := range questions {
		ok, err := svc.Access.CheckInProcess(ctx, q)
		if err != nil {
			return err
		}
		if ok {
			allowed++
		}
	}
	fmt.Printf("first pass over %d questions (the model built once, %.0f%% allowed) in %.2fs\n",
		len(questions), 100*float64(allowed)/float64(len(questions)), time.Since(start).Seconds())

	// One goroutine per core, then many, as a node answering many requests
	// at once would ask: on PostgreSQL concurrent checks share their
	// version reads (internal/store/versionbatch).
	for _, goroutines := range []int{runtime.GOMAXPROCS(0), 256 * runtime.GOMAXPROCS(0)} {
		rate, err := forDuration(goroutines, d, func(worker int, i int64) error {
			_, err := svc.Access.CheckInProcess(ctx, questions[(int64(worker)*7919+i)%int64(len(questions))])
			return err
		})
		if err != nil {
			return err
		}
		fmt.Printf("in process, %d goroutines: %.0f checks/s\n", goroutines, rate)
	}

	// The API as a node serves it: access log formatted and thrown away,
	// metrics kept.
	api := httpapi.New(svc, slog.New(slog.NewJSONHandler(io.Discard, nil)), httpapi.NewMetrics(db.Pools()))
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: api}
	go server.Serve(listener)
	defer server.Close()
	base := "http://" + listener.Addr().String()
	_, secret, err := svc.Accounts.CreateCheckToken(ctx, gatehouse.Caller{Principal: gatehouse.Principal{Operator: true}}, "bench")
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}

	bodies := make([]string, len(questions))
	for i, q := range questions {
		raw, _ := json.Marshal(map[string]string{"user_id": q.UserID, "account_id": q.AccountID, "permission": q.Permission, "folder_id": q.FolderID})
		bodies[i] = string(raw)
	}
	latencies := make([][]time.Duration, workers)
	rate, err := forDuration(workers, d, func(worker int, i int64) error {
		began := time.Now()
		status, body, err := doAs(client, secret, "POST", base+"/api/v1/check", bodies[(int64(worker)*7919+i)%int64(len(bodies))])
		if err != nil || status != 200 {
			return fmt.Errorf("check: %d %v %s", status, err, body)
		}
		latencies[worker] = append(latencies[worker], time.Since(began))
		return nil
	})
	if err != nil {
		return err
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	fmt.Printf("single checks through HTTP, %d clients: %.0f checks/s, p50 %v, p99 %v, max %v\n",
		workers, rate, pct(all, 50), pct(all, 99), all[len(all)-1].Round(time.Microsecond))
	// The same from wrk, a load generator outside this process.
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Println("wrk is not installed (apt-get install -y wrk): the line measured from it is left out")
	} else if err := wrkChecks(base, secret, bodies[:min(len(bodies), 2000)], workers, d); err != nil {
		return err
	}

	const batchSize = access.MaxBatchChecks
	batches := make([]string, 20)
	for b := range batches {
		checks := make([]map[string]string, batchSize)
		for i := range checks {
			q := questions[(b*batchSize+i)%len(questions)]
			checks[i] = map[string]string{"user_id": q.UserID, "account_id": q.AccountID, "permission": q.Permission, "folder_id": q.FolderID}
		}
		raw, _ := json.Marshal(map[string]any{"checks": checks})
		batches[b] = string(raw)
	}
	batchWorkers := max(2, workers/4)
	rate, err = forDuration(batchWorkers, d, func(worker int, i int64) error {
		status, body, err := doAs(client, secret, "POST", base+"/api/v1/check/batch", batches[(int64(worker)+i)%int64(len(batches))])
		if err != nil || status != 200 || strings.Count(body, "allowed") != batchSize {
			return fmt.Errorf("batch: %d %v", status, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("batched checks through HTTP, %d clients, %d a batch: %.0f questions/s\n", batchWorkers, batchSize, rate*batchSize)
	fmt.Printf("peak resident memory: %s\n", peakRSS())
	return nil
}

// checkQuestions draws questions over the account: a random member, a
// random permission, and a random folder four times in five (else the
// account as a whole).
func checkQuestions(acct dataset.Account, n int) []access.CheckQuestion {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]access.CheckQuestion, n)
	for i := range out {
		q := access.CheckQuestion{UserID: acct.UserIDs[rng.IntN(len(acct.UserIDs))], AccountID: acct.ID,
			Permission: gatehouse.Permissions[rng.IntN(len(gatehouse.Permissions))]}
		if rng.IntN(5) > 0 {
			q.FolderID = acct.FolderIDs[rng.IntN(len(acct.FolderIDs))]
		}
		out[i] = q
	}
	return out
}

// forDuration runs op in workers goroutines for d and returns the rate of
// calls per second; the first error stops the run.
func forDuration(workers int, d time.Duration, op func(worker int, i int64) error) (float64, error) {
	var (
		count    atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	began := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := int64(0); time.Now().Before(deadline); i++ {
				if err := op(w, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(began).Seconds(), firstErr
}
