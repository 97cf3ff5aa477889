package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// benchEvents measures reading the event feed through HTTP: count events
// of one client (written as changes write them, in transactions of 1,000)
// read by an integrator-wide reader in pages of 1,000, from the first to the
// last, then by the operator's all-accounts feed.
func benchEvents(dbKind string, count int) error {
	ctx := context.Background()
	db, _, cleanup, err := freshStore(ctx, dbKind)
	defer cleanup()
	if err != nil {
		return err
	}
	secretKey := make([]byte, 32)
	_, _ = rand.Read(secretKey)
	svc := service.New(db, service.Options{BootstrapToken: token, PublicURL: "http://bench.example", SecretKey: secretKey})
	api := httpapi.New(svc, slog.New(slog.NewJSONHandler(io.Discard, nil)), httpapi.NewMetrics(db.Pools()))
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: api}
	go server.Serve(listener)
	defer server.Close()
	base := "http://" + listener.Addr().String()
	client := &http.Client{}
	fmt.Printf("gatehouse-bench events: %s, %d cores, GOMAXPROCS %d, %d events\n", dbKind, runtime.NumCPU(), runtime.GOMAXPROCS(0), count)

	_, body, err := do(client, "POST", base+"/api/v1/accounts", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil {
		return err
	}
	integratorID := between(body, `"id":"`, `"`)
	_, body, err = do(client, "POST", base+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site"}`, integratorID))
	if err != nil {
		return err
	}
	site := between(body, `"id":"`, `"`)
	began := time.Now()
	for written := 0; written < count; {
		n := min(1000, count-written)
		err := db.Write(ctx, func(tx *store.WriteTx) error {
			for i := range n {
				e := gatehouse.AuditEvent{ID: kernel.NewID(), AccountID: site, At: time.Now(), ActorID: "operator", Action: "account.updated",
					TargetType: "account", TargetID: site}
				e = e.With("name", fmt.Sprint("Site ", written+i), fmt.Sprint("Site ", written+i+1))
				if err := tx.InsertAuditEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		written += n
	}
	fmt.Printf("written: %d events in %v\n", count, time.Since(began).Round(time.Millisecond))

	read := func(label, query string) error {
		cursor, got := "", 0
		began := time.Now()
		for got < count {
			req, _ := http.NewRequest("GET", base+"/api/v1/events?limit=1000&"+query+"&after="+cursor, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			var page struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if len(page.Items) == 0 {
				break
			}
			got, cursor = got+len(page.Items), page.NextCursor
		}
		elapsed := time.Since(began)
		fmt.Printf("%s: %d events in %v: %.0f events/s\n", label, got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds())
		return nil
	}
	if err := read("feed of the integrator (its client's events), pages of 1,000", "account_id="+integratorID); err != nil {
		return err
	}
	return read("feed of every account (operator), pages of 1,000", "")
}
