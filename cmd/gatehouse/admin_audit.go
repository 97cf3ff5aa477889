package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/pkg/client"
)

// feedPage is the most events one read of the feed asks for, its maximum.
const feedPage = 1000

// followWait is how long a follower's read of the feed waits for an event:
// under the server's 60 s, and long enough that an idle follower costs one
// request every half minute.
const followWait = 30 * time.Second

// followRetry is the pause before a follower asks again after the server
// could not answer.
const followRetry = 2 * time.Second

func auditCommand() adminGroup {
	return adminGroup{
		name: "audit",
		summary: "What happened in an account. \"list\" reads its audit log, every action (sign-ins and\n" +
			"tokens too), newest first; \"tail\" reads the feed of changes other services act on, in\n" +
			"the order they committed, and with --follow waits for the next ones.",
		verbs: []adminVerb{
			{name: "list", required: []string{"account"}, summary: "list the account's audit log, newest first",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					var f client.AuditFilter
					var since, until string
					fs.StringVar(&f.Action, "action", "", "only actions starting with this `prefix`, such as user. or account.suspended")
					fs.StringVar(&f.ActorID, "actor", "", "only the actions of this user `ID`, or operator")
					fs.StringVar(&since, "since", "", "only events at or after this `time` (2026-12-01T00:00:00Z) or this long ago (24h)")
					fs.StringVar(&until, "until", "", "only events before this `time`, or this long ago")
					p := definePaging(fs)
					return func(ctx context.Context, r *adminRun) error {
						var err error
						if f.Since, err = parseSince(since); err != nil {
							return err
						}
						if f.Until, err = parseSince(until); err != nil {
							return err
						}
						page, err := listPages(p, func(pr client.PageRequest) (client.Page[client.AuditEvent], error) {
							f.PageRequest = pr
							return r.api.ListAuditEvents(ctx, *account, f)
						})
						if err != nil {
							return err
						}
						err = r.show(page, func(tw *tabwriter.Writer) { auditTable(tw, page.Items) })
						r.moreHint(page.NextCursor)
						return err
					}
				}},
			{name: "tail", summary: "print the latest changes; with --follow, every change after them as it commits",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID` (with its clients for an integrator); default every account for an operator, the token's own for an API token")
					last := fs.Int("n", 10, "print the last `N` changes first (with --after, default every change after it)")
					after := fs.String("after", "", "start after this `cursor`, which an earlier tail printed")
					follow := fs.Bool("follow", false, "keep waiting for changes and print each as it commits, until interrupted (with --json, one JSON object a line)")
					return func(ctx context.Context, r *adminRun) error {
						lastSet := false
						fs.Visit(func(f *flag.Flag) { lastSet = lastSet || f.Name == "n" })
						if *after != "" && !lastSet {
							*last = -1
						}
						if *last < -1 {
							return usageErrorf("-n must be 0 or more")
						}
						t := tailer{api: r.api, out: r.stdout, errOut: r.stderr, json: r.json, follow: *follow}
						return t.run(ctx, client.EventQuery{AccountID: *account, After: *after, Limit: feedPage}, *last)
					}
				}},
		},
	}
}

// parseSince reads a bound of the audit log: a time, or how long ago.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageErrorf("%q is neither a time (2026-12-01T00:00:00Z) nor a duration (24h)", s)
}

func auditTable(tw *tabwriter.Writer, events []client.AuditEvent) {
	fmt.Fprintln(tw, "AT\tACTION\tACTOR\tTARGET\tIP\tCHANGES")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\n", when(e.At), e.Action, e.ActorID, e.TargetType, e.TargetID, orDash(e.IP),
			orDash(changesText(e.Changes)))
	}
}

func changesText(changes []client.Change) string {
	var parts []string
	for _, c := range changes {
		parts = append(parts, fmt.Sprintf("%s: %q → %q", c.Field, c.Before, c.After))
	}
	return strings.Join(parts, "; ")
}

// tailer prints the end of the feed and, following, what comes after it.
type tailer struct {
	api         *client.Client
	out, errOut io.Writer
	json        bool
	follow      bool
	headerShown bool
}

// run reads the feed from q.After to its end, prints the last n events
// read (every one for n -1), then follows. The feed has no way to start at
// its end: reading to it, a thousand events a request, is how tail finds
// it; --after skips what an earlier tail printed.
func (t *tailer) run(ctx context.Context, q client.EventQuery, n int) error {
	var kept []client.Event
	for {
		page, err := t.api.Events(ctx, q)
		if err != nil {
			return err
		}
		kept = append(kept, page.Items...)
		if n >= 0 && len(kept) > n {
			kept = kept[len(kept)-n:]
		}
		q.After = page.NextCursor
		if len(page.Items) < q.Limit {
			break
		}
	}
	if !t.follow {
		if t.json {
			enc := json.NewEncoder(t.out)
			enc.SetIndent("", "  ")
			return enc.Encode(client.EventPage{Items: append([]client.Event{}, kept...), NextCursor: q.After})
		}
		t.print(kept)
		return nil
	}
	t.print(kept)
	q.Wait = followWait
	for {
		page, err := t.api.Events(ctx, q)
		switch {
		case ctx.Err() != nil:
			// Interrupted: following ends here, as it should.
			return nil
		case err != nil && exitCode(err) == exitUnavailable:
			fmt.Fprintf(t.errOut, "gatehouse: %v; asking again in %s\n", describe(err), followRetry)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(followRetry):
			}
			continue
		case err != nil:
			return err
		}
		t.print(page.Items)
		q.After = page.NextCursor
	}
}

// print writes events as they come: a JSON object a line, or lines of
// fixed columns (a table's columns could not be measured before the
// events to come).
func (t *tailer) print(events []client.Event) {
	if !t.json && !t.headerShown {
		fmt.Fprintf(t.out, "%-20s  %-26s  %-36s  %-36s  %-50s  %s\n", "OCCURRED", "TYPE", "ACCOUNT", "ACTOR", "SUBJECT", "CURSOR")
		t.headerShown = true
	}
	for _, e := range events {
		if t.json {
			line, _ := json.Marshal(e)
			fmt.Fprintf(t.out, "%s\n", line)
			continue
		}
		fmt.Fprintf(t.out, "%-20s  %-26s  %-36s  %-36s  %-50s  %s\n", when(e.OccurredAt), e.Type, e.AccountID, e.ActorID,
			e.Subject.Type+" "+e.Subject.ID, e.Cursor)
	}
}

// describe words an error for a person: a refusal of the server as
// apiFailure does.
func describe(err error) string {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		return apiFailure{apiErr}.Error()
	}
	return err.Error()
}
