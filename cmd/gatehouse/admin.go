package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/pkg/client"
)

// The administrator's commands (accounts, users, invitations, tokens,
// audit) are nouns with verbs, each verb one or two calls of pkg/client
// against a running server. One table describes them, so that their
// parsing, help and shell completion cannot drift apart.

// adminGroup is a noun of the administrator's CLI with its verbs.
type adminGroup struct {
	name    string
	summary string
	verbs   []adminVerb
}

// adminVerb is one thing to do to the noun.
type adminVerb struct {
	name    string
	args    []string // the positional arguments' names, for the usage line
	summary string
	// required are flags the verb cannot do without.
	required []string
	// define declares the verb's own flags and returns what runs it once
	// they are parsed.
	define func(fs *flag.FlagSet) func(ctx context.Context, r *adminRun) error
}

// adminRun is what a verb runs with.
type adminRun struct {
	api    *client.Client
	args   []string
	stdout io.Writer
	stderr io.Writer
	json   bool
}

// adminGroups are the administrator's commands, in the order help lists
// them.
func adminGroups() []adminGroup {
	return []adminGroup{accountsCommand(), usersCommand(), invitationsCommand(), tokensCommand(), auditCommand()}
}

func findAdminGroup(name string) (adminGroup, bool) {
	for _, g := range adminGroups() {
		if g.name == name {
			return g, true
		}
	}
	return adminGroup{}, false
}

// runAdmin runs `gatehouse GROUP VERB [flags] [args]`.
func runAdmin(ctx context.Context, g adminGroup, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, g.usage())
		return usageErrorf("%s: a verb is required (%s)", g.name, strings.Join(g.verbNames(), ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, g.usage())
		return flag.ErrHelp
	}
	i := slices.IndexFunc(g.verbs, func(v adminVerb) bool { return v.name == args[0] })
	if i < 0 {
		fmt.Fprint(stderr, g.usage())
		return usageErrorf("%s: unknown verb %q", g.name, args[0])
	}
	verb := g.verbs[i]
	fs := flag.NewFlagSet("gatehouse "+g.name+" "+verb.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connection
	conn.define(fs, getenv)
	asJSON := fs.Bool("json", false, "print one JSON document (the API's field names) instead of a table")
	action := verb.define(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gatehouse %s %s\n\n%s.\n\nFlags:\n", g.name, verb.synopsis(fs), verb.summary)
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args[1:])
	switch {
	case err != nil:
		return flagError(err)
	case len(positional) != len(verb.args):
		fs.Usage()
		if len(verb.args) == 0 {
			return usageErrorf("%s %s: unexpected argument %q", g.name, verb.name, positional[0])
		}
		return usageErrorf("%s %s takes %s", g.name, verb.name, strings.Join(verb.args, " "))
	}
	for _, name := range verb.required {
		if f := fs.Lookup(name); f.Value.String() == "" {
			fs.Usage()
			return usageErrorf("%s %s: --%s is required", g.name, verb.name, name)
		}
	}
	if err := conn.check("the token of someone who may do this"); err != nil {
		return err
	}
	err = action(ctx, &adminRun{api: conn.client(), args: positional, stdout: stdout, stderr: stderr, json: *asJSON})
	return conn.explain(err)
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments, which the flag package alone stops reading at the
// first argument; it returns the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			// After "--" every word is an argument.
			return append(positional, rest...), nil
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}

func (g adminGroup) verbNames() []string {
	var names []string
	for _, v := range g.verbs {
		names = append(names, v.name)
	}
	return names
}

// synopsis is the verb's usage line: its required flags and arguments.
func (v adminVerb) synopsis(fs *flag.FlagSet) string {
	parts := []string{v.name}
	for _, name := range v.required {
		placeholder, _ := flag.UnquoteUsage(fs.Lookup(name))
		parts = append(parts, "--"+name+" "+strings.ToUpper(placeholder))
	}
	parts = append(parts, v.args...)
	return strings.Join(parts, " ") + " [flags]"
}

func (g adminGroup) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: gatehouse %s VERB [flags]\n\n%s\n\n", g.name, g.summary)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, v := range g.verbs {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		v.define(fs)
		fmt.Fprintf(tw, "  %s\t%s\n", v.synopsis(fs), v.summary)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nEvery verb also takes --server URL (env GATEHOUSE_URL, default %s),\n"+
		"--token SECRET (env GATEHOUSE_TOKEN) and --json (one JSON document instead of\n"+
		"a table). \"gatehouse %s VERB -h\" lists a verb's flags; \"gatehouse help\"\n"+
		"lists the exit codes.\n", defaultServer, g.name)
	return b.String()
}

// show prints v as one JSON document with --json, else as the table that
// table writes.
func (r *adminRun) show(v any, table func(tw *tabwriter.Writer)) error {
	if r.json {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// say prints a sentence for people; --json prints only the document.
func (r *adminRun) say(format string, args ...any) {
	if !r.json {
		fmt.Fprintf(r.stdout, format+"\n", args...)
	}
}

// paging is the flags of a list: one page, or every page.
type paging struct {
	limit  int
	cursor string
	all    bool
}

func definePaging(fs *flag.FlagSet) *paging {
	p := &paging{}
	fs.IntVar(&p.limit, "limit", 0, "at most this many per page (the server's default is 50, its most 500)")
	fs.StringVar(&p.cursor, "cursor", "", "the page after this cursor, which the previous page printed")
	fs.BoolVar(&p.all, "all", false, "every page, one after the other")
	return p
}

// listPages returns the page asked for, or with --all every item in one
// page.
func listPages[T any](p *paging, fetch func(client.PageRequest) (client.Page[T], error)) (client.Page[T], error) {
	if !p.all {
		return fetch(client.PageRequest{Limit: p.limit, Cursor: p.cursor})
	}
	all := client.Page[T]{Items: []T{}}
	for item, err := range client.All(func(cursor string) (client.Page[T], error) {
		if cursor == "" {
			cursor = p.cursor
		}
		return fetch(client.PageRequest{Limit: p.limit, Cursor: cursor})
	}) {
		if err != nil {
			return all, err
		}
		all.Items = append(all.Items, item)
	}
	return all, nil
}

// moreHint tells a person at a table how to see the next page; scripts
// read next_cursor from --json.
func (r *adminRun) moreHint(next string) {
	if next != "" && !r.json {
		fmt.Fprintf(r.stderr, "More: add --cursor %s (or --all for every page).\n", next)
	}
}

// stringList is a flag that may be given several times, each time one
// value or several separated by commas.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// when formats a time for a table: to the second, in UTC.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
