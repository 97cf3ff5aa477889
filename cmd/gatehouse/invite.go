package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/pkg/client"
)

// inviteUsage is the help of `gatehouse invite`.
const inviteUsage = `Usage: gatehouse invite --account ID --csv FILE [--yes] [--server URL]

Invites the people of a CSV file (header: email, and optionally first_name,
last_name, role and home_folder) to an account of a running Gatehouse:
prints the preview and its totals, asks before confirming (unless --yes),
then follows the invitations with a progress bar. The token is read from
GATEHOUSE_TOKEN (or --token).

`

// previewLinesShown bounds the lines to invite that the preview prints; every
// line with another outcome is printed.
const previewLinesShown = 20

type bulkPreviewAnswer struct {
	PreviewID string `json:"preview_id"`
	Rows      []struct {
		Line       int    `json:"line"`
		Email      string `json:"email"`
		Role       string `json:"role"`
		HomeFolder string `json:"home_folder"`
		Outcome    string `json:"outcome"`
		Message    string `json:"message"`
	} `json:"rows"`
	Totals map[string]int `json:"totals"`
}

type bulkProgress struct {
	Status    string `json:"status"`
	ToInvite  int    `json:"to_invite"`
	Processed int    `json:"processed"`
	Invited   int    `json:"invited"`
	Failed    int    `json:"failed"`
}

// invite runs `gatehouse invite`.
func invite(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse invite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, inviteUsage); fs.PrintDefaults() }
	account := fs.String("account", "", "id of the account to invite to")
	file := fs.String("csv", "", "the CSV file")
	yes := fs.Bool("yes", false, "confirm without asking")
	var conn connection
	conn.define(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if *account == "" || *file == "" {
		fs.Usage()
		return usageErrorf("--account and --csv are required")
	}
	if err := conn.check("an API or session token of someone who may add users to the account"); err != nil {
		return err
	}
	api := bulkClient{base: strings.TrimRight(conn.server, "/") + "/api/v1/accounts/" + url.PathEscape(*account) + "/invitations/bulk", token: conn.token}

	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	var preview bulkPreviewAnswer
	if err := api.call(ctx, "POST", "", f, "text/csv", &preview); err != nil {
		return err
	}
	printPreview(stdout, preview)
	toInvite := preview.Totals["invite"]
	if toInvite == 0 {
		fmt.Fprintln(stdout, "Nothing to invite.")
		return nil
	}
	if !*yes {
		fmt.Fprintf(stdout, "Invite %d %s? [y/N] ", toInvite, plural(toInvite, "person", "people"))
		answer, _ := bufio.NewReader(stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(stdout, "Not confirmed; nobody was invited.")
			return nil
		}
	}
	var progress bulkProgress
	if err := api.call(ctx, "POST", "/"+preview.PreviewID+"/confirm?wait=false", nil, "", &progress); err != nil {
		return err
	}
	bar := progressBar{out: stdout, width: 30}
	for progress.Status != "done" {
		bar.show(progress.Processed, progress.ToInvite)
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout)
			return fmt.Errorf("stopped following; the invitations go on on the server (GET %s/%s)", api.base, preview.PreviewID)
		case <-time.After(300 * time.Millisecond):
		}
		if err := api.call(ctx, "GET", "/"+preview.PreviewID, nil, "", &progress); err != nil {
			return err
		}
	}
	bar.show(progress.Processed, progress.ToInvite)
	bar.end()
	fmt.Fprintf(stdout, "Invited %d; skipped %d (the account changed after the preview).\n", progress.Invited, progress.Failed)
	return nil
}

func printPreview(out io.Writer, p bulkPreviewAnswer) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tEMAIL\tROLE\tHOME FOLDER\tOUTCOME\tMESSAGE")
	shown, hidden := 0, 0
	for _, r := range p.Rows {
		if r.Outcome == "invite" {
			if shown == previewLinesShown {
				hidden++
				continue
			}
			shown++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Line, r.Email, r.Role, r.HomeFolder, r.Outcome, r.Message)
	}
	tw.Flush()
	if hidden > 0 {
		fmt.Fprintf(out, "… and %d more to invite.\n", hidden)
	}
	var counts []string
	for _, o := range []string{"invite", "already_member", "invalid_email", "invalid_name", "unknown_role", "unknown_folder", "duplicate", "over_limit"} {
		if p.Totals[o] > 0 {
			counts = append(counts, fmt.Sprintf("%s %d", o, p.Totals[o]))
		}
	}
	fmt.Fprintf(out, "\n%d %s: %s\n", p.Totals["rows"], plural(p.Totals["rows"], "line", "lines"), strings.Join(counts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progressBar redraws one line: [#####.....]  45%  4500/10000.
type progressBar struct {
	out   io.Writer
	width int
	drawn bool
}

func (b *progressBar) show(done, total int) {
	if total <= 0 {
		return
	}
	filled := b.width * done / total
	fmt.Fprintf(b.out, "\r[%s%s] %3d%%  %d/%d", strings.Repeat("#", filled), strings.Repeat(".", b.width-filled), 100*done/total, done, total)
	b.drawn = true
}

func (b *progressBar) end() {
	if b.drawn {
		fmt.Fprintln(b.out)
	}
}

// bulkClient speaks to the bulk invitation endpoints of one account.
type bulkClient struct {
	base, token string
}

func (c bulkClient) call(ctx context.Context, method, path string, body io.Reader, contentType string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if f, ok := body.(*os.File); ok {
		if info, err := f.Stat(); err == nil {
			req.ContentLength = info.Size()
		}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Error.Message == "" {
			e.Error.Message = http.StatusText(resp.StatusCode)
		}
		// A client.Error, so that the exit code tells the refusal's class.
		return apiFailure{&client.Error{StatusCode: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field,
			RequestID: resp.Header.Get("X-Request-Id"), Method: method, Path: path}}
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
