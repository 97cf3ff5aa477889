package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/pkg/client"
)

func accountsCommand() adminGroup {
	return adminGroup{
		name:    "accounts",
		summary: "The accounts the token may see: integrators and their clients.",
		verbs: []adminVerb{
			{name: "list", summary: "list accounts by name", define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
				var f client.AccountFilter
				fs.StringVar(&f.Kind, "kind", "", "only integrator or client accounts")
				fs.StringVar(&f.Status, "status", "", "only active, suspended or deleted accounts")
				fs.StringVar(&f.IntegratorID, "integrator", "", "only the clients of this integrator `ID`")
				fs.StringVar(&f.Query, "search", "", "only names holding this `text`, regardless of case")
				p := definePaging(fs)
				return func(ctx context.Context, r *adminRun) error {
					page, err := listPages(p, func(pr client.PageRequest) (client.Page[client.Account], error) {
						f.PageRequest = pr
						return r.api.ListAccounts(ctx, f)
					})
					if err != nil {
						return err
					}
					err = r.show(page, func(tw *tabwriter.Writer) { accountTable(tw, page.Items...) })
					r.moreHint(page.NextCursor)
					return err
				}
			}},
			{name: "get", args: []string{"ID"}, summary: "show one account", define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
				return func(ctx context.Context, r *adminRun) error {
					return showAccount(r)(r.api.GetAccount(ctx, r.args[0]))
				}
			}},
			{name: "create", required: []string{"name"}, summary: "make an integrator, or with --integrator a client of it",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					var in client.NewAccount
					fs.StringVar(&in.Name, "name", "", "the account's `name`")
					fs.StringVar(&in.IntegratorID, "integrator", "", "make a client of this integrator `ID`")
					fs.StringVar(&in.Kind, "kind", "", "integrator or client (default: client with --integrator, else integrator)")
					fs.StringVar(&in.Address, "address", "", "the postal `address`")
					return func(ctx context.Context, r *adminRun) error {
						if in.Kind == "" {
							in.Kind = client.KindIntegrator
							if in.IntegratorID != "" {
								in.Kind = client.KindClient
							}
						}
						return showAccount(r)(r.api.CreateAccount(ctx, in))
					}
				}},
			{name: "suspend", args: []string{"ID"}, summary: "stop the account's own members from acting in it",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					return func(ctx context.Context, r *adminRun) error {
						return showAccount(r)(r.api.SuspendAccount(ctx, r.args[0]))
					}
				}},
			{name: "restore", args: []string{"ID"}, summary: "make a suspended (or deleted) account active again",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					return func(ctx context.Context, r *adminRun) error {
						return showAccount(r)(r.api.RestoreAccount(ctx, r.args[0]))
					}
				}},
		},
	}
}

// showAccount prints the account an API call answered, or passes its
// error on.
func showAccount(r *adminRun) func(client.Account, error) error {
	return func(a client.Account, err error) error {
		if err != nil {
			return err
		}
		return r.show(a, func(tw *tabwriter.Writer) { accountTable(tw, a) })
	}
}

func accountTable(tw *tabwriter.Writer, accounts ...client.Account) {
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tSTATUS\tINTEGRATOR\tCREATED")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Kind, a.Status, orDash(a.IntegratorID), when(a.CreatedAt))
	}
}
