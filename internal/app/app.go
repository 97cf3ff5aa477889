package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/signin"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/web"
)

// NewLogger builds the process logger: JSON unless stderr is a terminal.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if stderrIsTerminal() {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Migrate opens the database and brings its schema up to date, then prints
// to out the identities that a change of username key rules made look
// alike, for someone to merge.
func Migrate(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("migrations applied", slog.Int("count", n), slog.String("database", string(db.Dialect())))
	collisions, err := db.UsernameKeyCollisions(ctx)
	if err != nil {
		return err
	}
	for _, c := range collisions {
		fmt.Fprintf(out, "usernames that now name one identity: %s (%s) and %s (%s) — merge them\n",
			c.OtherUsername, c.OtherUserID, c.Username, c.UserID)
	}
	return nil
}

// warnUsernameCollisions logs, at every start, the identities that a change
// of username key rules made look alike: the first of each pair signs in
// with either spelling, the second no longer can until they are merged.
func warnUsernameCollisions(ctx context.Context, db *store.DB, log *slog.Logger) error {
	collisions, err := db.UsernameKeyCollisions(ctx)
	if err != nil {
		return err
	}
	for _, c := range collisions {
		log.Warn("usernames that now name one identity: merge them",
			slog.String("user_id", c.OtherUserID), slog.String("username", c.OtherUsername),
			slog.String("other_user_id", c.UserID), slog.String("other_username", c.Username),
			slog.String("username_key", c.Key), slog.Time("found_at", c.FoundAt))
	}
	return nil
}

// Serve runs one Gatehouse node until ctx ends, then shuts down cleanly:
// it stops accepting, lets in-flight requests finish (up to a limit), and
// closes the database. ready, if not nil, receives the listening address once
// requests are served.
func Serve(ctx context.Context, cfg Config, log *slog.Logger, ready func(addr string)) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := warnUsernameCollisions(ctx, db, log); err != nil {
		return err
	}

	sender, err := senders(cfg)
	if err != nil {
		return err
	}
	secretKey, previousKey, err := serverKeys(cfg)
	if err != nil {
		return err
	}
	if cfg.SecretKey == "" && db.Dialect() == store.Postgres {
		log.Warn("GATEHOUSE_SECRET_KEY is not set: this node seals secrets with the key in its data dir; " +
			"every node sharing this database needs the same key (see docs/operations.md)")
	}
	if previousKey != nil {
		log.Info("GATEHOUSE_SECRET_KEY_PREVIOUS is set: secrets sealed with it still open; unset it once `gatehouse keys reseal` has run",
			"previous_key", secretbox.Fingerprint(previousKey), "key", secretbox.Fingerprint(secretKey))
	}
	outboxWorkers := newWorkers(db, sender, cfg, log)
	svc := service.New(db, service.Options{BootstrapToken: cfg.BootstrapToken, InvitationTTL: cfg.InvitationTTL,
		PublicURL: cfg.PublicURL, MailQueued: outboxWorkers[0].Wake, SecretKey: secretKey, PreviousSecretKey: previousKey,
		BulkLease:       cfg.BulkLease,
		OIDCKeyRotation: cfg.OIDCKeyRotation, WebhooksAllowLoopback: cfg.WebhooksAllowLoopback,
		Passkeys: signin.PasskeyConfig{AdminAAGUIDs: cfg.PasskeyAdminAAGUIDs}})
	// Back-channel logouts carry a logout token the OpenID Provider signs
	// when it sends them.
	sender.BackchannelLogout = outbox.NewBackchannelLogoutSender(svc.OIDC)
	// Webhooks are signed with their subscription's secrets, which the
	// webhooks context opens when it sends.
	sender.Webhook = svc.Webhooks
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var workers sync.WaitGroup
	for _, worker := range outboxWorkers {
		worker.Sender, worker.Rest = sender, svc.People.WritingBulk
		workers.Go(func() { worker.Run(workerCtx) })
	}
	// Bulk invitation jobs confirmed without waiting, and those a stopped
	// node left behind.
	workers.Go(func() { svc.People.RunBulkJobs(workerCtx, bulkPoll(cfg.BulkLease)) })
	// Deleted accounts whose 30 days are over go for good, hourly, as do
	// the OpenID Provider's requests, device codes and tokens that are over.
	workers.Go(func() {
		svc.RunPurges(workerCtx, time.Hour, func(res service.PurgeResult, err error) {
			if err != nil {
				log.Warn("purging", slog.String("error", err.Error()))
				return
			}
			log.Info("purged", slog.Int("accounts", res.Accounts), slog.Int("oidc_auth_requests", res.OIDC.AuthRequests),
				slog.Int("oidc_device_codes", res.OIDC.DeviceCodes), slog.Int("oidc_tokens", res.OIDC.Tokens),
				slog.Int("webhook_messages", res.Webhooks), slog.Int("scim_calls", res.SCIMCalls))
		})
	})
	// Memberships and grants that ended by themselves give nothing from
	// their end on; every node also removes them for good, and the guarded
	// deletes let several do it at once.
	workers.Go(func() {
		svc.People.RunExpirySweeper(workerCtx, expirySweep(cfg.ExpirySweep), func(res people.ExpiryResult, err error) {
			if err != nil {
				log.Warn("removing access that ended", slog.String("error", err.Error()))
				return
			}
			log.Info("removed access that ended", slog.Int("memberships", res.Memberships), slog.Int("grants", res.Grants))
		})
	})
	// Stopped after the HTTP server, so mail queued by the last requests is
	// still attempted; whatever is left waits in the database, and a bulk
	// job is taken over by the next node to look once its lease ends.
	defer func() {
		stopWorker()
		workers.Wait()
		if closer, ok := sender.Email.(io.Closer); ok {
			closer.Close() // says goodbye on the SMTP connections kept open
		}
	}()
	api := httpapi.New(svc, log, httpapi.NewMetrics(db.Pools()))
	pages := web.New(svc, log, cfg.PublicURL)
	pages.Register(api.HandlePage)
	if err := svc.OIDC.Mount(api.HandlePage, pages.SignedIn); err != nil {
		return fmt.Errorf("openid provider: %w", err)
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("gatehouse serving", slog.String("addr", ln.Addr().String()),
		slog.String("database", string(db.Dialect())), slog.String("public_url", cfg.PublicURL), slog.String("version", Version()))
	if ready != nil {
		ready(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// senders are the ways out of the outbox: SMTP and an SMS gateway when
// configured, else files in the data dir (Serve adds back-channel logouts,
// which need the OpenID Provider).
func senders(cfg Config) (outbox.Channels, error) {
	sender := outbox.Channels{Email: outbox.FileSender{Dir: filepath.Join(cfg.DataDir, "mail"), From: cfg.MailFrom},
		SMS: outbox.SMSFileSender{Dir: filepath.Join(cfg.DataDir, "sms")}}
	var err error
	if cfg.SMTPURL != "" {
		if sender.Email, err = outbox.NewSMTPSender(cfg.SMTPURL, cfg.MailFrom); err != nil {
			return sender, err
		}
	}
	if cfg.SMSURL != "" {
		if sender.SMS, err = outbox.NewSMSHTTPSender(cfg.SMSURL, cfg.SMSToken); err != nil {
			return sender, err
		}
	}
	return sender, nil
}

// newWorker is the outbox worker of this process, with the configured
// lease (a Config not made by ParseConfig keeps the production one).
func newWorker(db *store.DB, sender outbox.Sender, cfg Config, log *slog.Logger) *outbox.Worker {
	return newWorkers(db, sender, Config{OutboxLease: cfg.OutboxLease, OutboxSenders: 1}, log)[0]
}

// newWorkers are the node's outbox workers, as many as it has senders
// (one for a Config not made by ParseConfig), with the configured lease.
func newWorkers(db *store.DB, sender outbox.Sender, cfg Config, log *slog.Logger) []*outbox.Worker {
	workers := outbox.NewWorkers(max(cfg.OutboxSenders, 1), db, sender, workerName(), log)
	for _, worker := range workers {
		if cfg.OutboxLease > 0 {
			worker.Lease = cfg.OutboxLease
		}
	}
	return workers
}

// bulkPoll is how often a node looks for bulk jobs a stopped node left
// behind: a third of the lease, so one is taken over soon after its lease
// ends, and at most every 5 s.
func bulkPoll(lease time.Duration) time.Duration {
	if lease <= 0 {
		return 5 * time.Second // the service's default lease of 15 s
	}
	return min(lease/3, 5*time.Second)
}

// expirySweep is how often a node removes access that ended (a Config not
// made by ParseConfig keeps the production 30 s).
func expirySweep(every time.Duration) time.Duration {
	if every <= 0 {
		return 30 * time.Second
	}
	return every
}

// workerName names this process in outbox leases.
func workerName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), kernel.NewID()[24:])
}
