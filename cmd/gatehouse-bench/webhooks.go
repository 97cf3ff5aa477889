package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/webhooks"
)

// benchWebhooks measures webhook deliveries to a local receiver: count
// events of subscribed accounts queued (as changes queue them, 1,000 to a
// transaction), then delivered by one outbox worker, signed, over HTTP,
// each subscription's in order.
func benchWebhooks(dbKind string, count, subscriptions int) error {
	ctx := context.Background()
	db, dataDir, cleanup, err := freshStore(ctx, dbKind)
	defer cleanup()
	if err != nil {
		return err
	}
	secretKey := make([]byte, 32)
	_, _ = rand.Read(secretKey)
	svc := service.New(db, service.Options{BootstrapToken: token, PublicURL: "http://bench.example", SecretKey: secretKey,
		WebhooksAllowLoopback: true})
	var received atomic.Int64
	done := make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if received.Add(1) == int64(count) {
			close(done)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	fmt.Printf("gatehouse-bench webhooks: %s, %d cores, GOMAXPROCS %d, %d events, %d subscriptions\n", dbKind, runtime.NumCPU(),
		runtime.GOMAXPROCS(0), count, subscriptions)

	operator := gatehouse.Caller{Principal: gatehouse.Principal{Operator: true}}
	integrator, err := svc.Accounts.CreateAccount(ctx, operator, accounts.NewAccount{Kind: gatehouse.KindIntegrator, Name: "Bench Integrator"})
	if err != nil {
		return err
	}
	var sites []string
	for i := range subscriptions {
		site, err := svc.Accounts.CreateAccount(ctx, operator, accounts.NewAccount{Kind: gatehouse.KindClient, Name: fmt.Sprintf("Site %d", i),
			IntegratorID: integrator.ID})
		if err != nil {
			return err
		}
		if _, _, err := svc.Webhooks.Create(ctx, operator, site.ID, webhooks.NewSubscription{URL: receiver.URL + "/hook",
			EventTypes: []string{"account.*"}}); err != nil {
			return err
		}
		sites = append(sites, site.ID)
	}
	began := time.Now()
	for written := 0; written < count; {
		n := min(1000, count-written)
		err := db.Write(ctx, func(tx *store.WriteTx) error {
			for i := range n {
				site := sites[(written+i)%len(sites)]
				e := gatehouse.AuditEvent{ID: kernel.NewID(), AccountID: site, At: time.Now(), ActorID: "operator", Action: "account.updated",
					TargetType: "account", TargetID: site}
				if err := tx.InsertAuditEvent(ctx, e.With("name", "a", fmt.Sprint(written+i))); err != nil {
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
	fmt.Printf("queued: %d deliveries in %v\n", count, time.Since(began).Round(time.Millisecond))

	mail := outbox.FileSender{Dir: dataDir}
	worker := outbox.NewWorker(db, outbox.Channels{Email: mail, SMS: mail, Webhook: svc.Webhooks}, "bench", slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	began = time.Now()
	go worker.Run(runCtx)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("only %d of %d delivered in 5 minutes", received.Load(), count)
	}
	elapsed := time.Since(began)
	fmt.Printf("delivered: %d webhooks in %v: %.0f/s\n", count, elapsed.Round(time.Millisecond), float64(count)/elapsed.Seconds())
	return nil
}
