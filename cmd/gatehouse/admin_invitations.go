package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/pkg/client"
)

func invitationsCommand() adminGroup {
	return adminGroup{
		name:    "invitations",
		summary: "The e-mails that ask people new to Gatehouse to activate their access.",
		verbs: []adminVerb{
			{name: "list", required: []string{"account"}, summary: "list the account's invitations, newest first",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					var f client.InvitationFilter
					fs.StringVar(&f.Status, "status", "", "only pending, accepted, expired or cancelled invitations")
					fs.StringVar(&f.Query, "search", "", "only addresses holding this `text`")
					p := definePaging(fs)
					return func(ctx context.Context, r *adminRun) error {
						page, err := listPages(p, func(pr client.PageRequest) (client.Page[client.Invitation], error) {
							f.PageRequest = pr
							return r.api.ListInvitations(ctx, *account, f)
						})
						if err != nil {
							return err
						}
						err = r.show(page, func(tw *tabwriter.Writer) { invitationTable(tw, page.Items...) })
						r.moreHint(page.NextCursor)
						return err
					}
				}},
			{name: "resend", args: []string{"ID"}, summary: "send a pending or expired invitation again, with a new link",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					return func(ctx context.Context, r *adminRun) error {
						return showInvitation(r)(r.api.ResendInvitation(ctx, r.args[0]))
					}
				}},
			{name: "cancel", args: []string{"ID"}, summary: "kill an invitation's link and remove the user waiting for it",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					return func(ctx context.Context, r *adminRun) error {
						return showInvitation(r)(r.api.CancelInvitation(ctx, r.args[0]))
					}
				}},
		},
	}
}

func showInvitation(r *adminRun) func(client.Invitation, error) error {
	return func(inv client.Invitation, err error) error {
		if err != nil {
			return err
		}
		return r.show(inv, func(tw *tabwriter.Writer) { invitationTable(tw, inv) })
	}
}

func invitationTable(tw *tabwriter.Writer, invitations ...client.Invitation) {
	fmt.Fprintln(tw, "ID\tEMAIL\tSTATUS\tSENT\tEXPIRES\tINVITED BY")
	for _, inv := range invitations {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inv.ID, inv.Email, inv.Status, when(inv.SentAt), when(inv.ExpiresAt), inv.InvitedBy)
	}
}
