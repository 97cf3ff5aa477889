package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/pkg/client"
)

func tokensCommand() adminGroup {
	return adminGroup{
		name: "tokens",
		summary: "Your personal API tokens for an account. Gatehouse makes them for a person signed in\n" +
			"alone: GATEHOUSE_TOKEN must be your session token (gh_ses_…), not an API token.",
		verbs: []adminVerb{
			{name: "list", required: []string{"account"}, summary: "list your live tokens for the account (never their secrets)",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					return func(ctx context.Context, r *adminRun) error {
						tokens, err := r.api.ListAPITokens(ctx, *account)
						if err != nil {
							return err
						}
						return r.show(client.Page[client.APIToken]{Items: tokens}, func(tw *tabwriter.Writer) { tokenTable(tw, tokens...) })
					}
				}},
			{name: "create", required: []string{"account", "name", "scope"},
				summary: "make a token limited to scopes; its secret is printed once",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					var in client.NewAPIToken
					var scopes stringList
					var expires string
					fs.StringVar(&in.Name, "name", "", "a `name` that says what the token is for, such as \"HR sync\"")
					fs.Var(&scopes, "scope", "a `scope` (repeat, or separate by commas): "+strings.Join(tokenScopes, ", "))
					fs.StringVar(&expires, "expires", "", "end the token after a `duration` (720h) or at a time (2026-12-31T18:00:00Z); default never")
					return func(ctx context.Context, r *adminRun) error {
						in.Scopes = scopes
						if expires != "" {
							at, err := parseEnd(expires)
							if err != nil {
								return err
							}
							in.ExpiresAt = &at
						}
						tok, err := r.api.CreateAPIToken(ctx, *account, in)
						if err != nil {
							return err
						}
						if err := r.show(tok, func(tw *tabwriter.Writer) { tokenTable(tw, tok) }); err != nil {
							return err
						}
						r.say("\nSecret (shown this once; Gatehouse keeps only its hash):\n%s", tok.Secret)
						return nil
					}
				}},
			{name: "revoke", required: []string{"account"}, args: []string{"TOKEN_ID"}, summary: "end one of your tokens at once",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					return func(ctx context.Context, r *adminRun) error {
						// Read first, to say which token went.
						tokens, err := r.api.ListAPITokens(ctx, *account)
						if err != nil {
							return err
						}
						if err := r.api.RevokeAPIToken(ctx, *account, r.args[0]); err != nil {
							return err
						}
						tok := client.APIToken{ID: r.args[0], AccountID: *account}
						if i := slices.IndexFunc(tokens, func(t client.APIToken) bool { return t.ID == r.args[0] }); i >= 0 {
							tok = tokens[i]
						}
						if r.json {
							return r.show(tok, nil)
						}
						r.say("Revoked the token %q (%s); it is refused from now on.", tok.Name, tok.ID)
						return nil
					}
				}},
		},
	}
}

// tokenScopes are the scopes a token may hold, for the help.
var tokenScopes = []string{client.ScopeAccountsRead, client.ScopeAccountsWrite, client.ScopeUsersRead, client.ScopeUsersWrite,
	client.ScopeAuditRead, client.ScopeCheck, client.ScopeNotificationsSend}

func tokenTable(tw *tabwriter.Writer, tokens ...client.APIToken) {
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), when(t.CreatedAt), whenPtr(t.ExpiresAt),
			whenPtr(t.LastUsedAt))
	}
}
