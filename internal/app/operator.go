package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// AddOperator is `gatehouse operator add`: it brings the database up to
// date, invites in.Username as an operator (service.AddFirstOperator), and
// delivers the invitation at once as a node would, so that the activation
// link is there to follow even before any node runs (a SQLite database
// serves one process: on SQLite this runs before `serve`). It tells out what
// was done and what to do next.
func AddOperator(ctx context.Context, cfg Config, log *slog.Logger, in service.FirstOperator, out io.Writer) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	sender, err := senders(cfg)
	if err != nil {
		return err
	}
	if closer, ok := sender.Email.(io.Closer); ok {
		defer closer.Close()
	}
	secretKey, previousKey, err := serverKeys(cfg)
	if err != nil {
		return err
	}
	svc := service.New(db, service.Options{BootstrapToken: cfg.BootstrapToken, InvitationTTL: cfg.InvitationTTL,
		PublicURL: cfg.PublicURL, SecretKey: secretKey, PreviousSecretKey: previousKey})
	result, err := svc.AddFirstOperator(ctx, service.FirstOperatorStoreOf(db), in)
	if err != nil {
		return err
	}

	username := result.User.Username
	if result.AlreadyOperator {
		if result.Pending {
			fmt.Fprintf(out, "%s is an operator already, and has not activated yet.\n", username)
			fmt.Fprint(out, nextSteps(cfg, username, true))
			return nil
		}
		fmt.Fprintf(out, "%s is an operator already; they sign in at %s/login.\n", username, cfg.PublicURL)
		return nil
	}
	if result.AccountCreated {
		fmt.Fprintf(out, "Created the integrator account %q (%s).\n", result.Account.Name, result.Account.ID)
	} else {
		fmt.Fprintf(out, "Using the integrator account %q (%s).\n", result.Account.Name, result.Account.ID)
	}
	switch {
	case result.Added && result.Pending:
		fmt.Fprintf(out, "Invited %s as its administrator; an activation e-mail is on its way.\n", username)
	case result.Added:
		fmt.Fprintf(out, "Added %s, who has activated already, as its administrator.\n", username)
	default:
		fmt.Fprintf(out, "%s is a user of it already.\n", username)
	}
	fmt.Fprintf(out, "Made %s an operator.\n", username)

	// Deliver now what is due (the invitation among it), as a node's
	// worker would: leases keep a running node from sending it twice.
	worker := newWorker(db, sender, cfg, log)
	deliverCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		n, err := worker.DeliverDue(deliverCtx)
		if err != nil {
			return fmt.Errorf("the invitation is queued, but delivering it failed (a node will retry): %w", err)
		}
		if n < worker.Batch {
			break
		}
	}
	fmt.Fprint(out, nextSteps(cfg, username, result.Pending))
	return nil
}

// nextSteps tells how the person gets from the invitation to the portal.
func nextSteps(cfg Config, username string, pending bool) string {
	if !pending {
		return fmt.Sprintf("Next: they sign in at %s/login as an operator, with their second factor.\n", cfg.PublicURL)
	}
	if cfg.SMTPURL != "" {
		return fmt.Sprintf("Next: they open the activation link mailed to them, choose a password,\n"+
			"then sign in at %s/login and enrol an authenticator app.\n", cfg.PublicURL)
	}
	read := "gatehouse mail last --to " + username + " --link"
	if filepath.Clean(cfg.DataDir) != "gatehouse-data" {
		read += " --data-dir " + cfg.DataDir
	}
	return fmt.Sprintf("The activation e-mail is in %s. Next: print its link with\n"+
		"  %s\n"+
		"open it, choose a password, then sign in at %s/login and enrol an authenticator app.\n",
		filepath.Join(cfg.DataDir, "mail"), read, cfg.PublicURL)
}
