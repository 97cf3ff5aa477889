package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/pkg/client"
)

func usersCommand() adminGroup {
	return adminGroup{
		name:    "users",
		summary: "The users of an account: the people who belong to it, and at which level.",
		verbs: []adminVerb{
			{name: "list", required: []string{"account"}, summary: "list the account's users, oldest first",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					var f client.UserFilter
					fs.StringVar(&f.Query, "search", "", "only users whose username or names hold this `text`")
					fs.StringVar(&f.Status, "status", "", "only active or activation_required users")
					fs.StringVar(&f.Level, "level", "", "only users of this `level`")
					p := definePaging(fs)
					return func(ctx context.Context, r *adminRun) error {
						page, err := listPages(p, func(pr client.PageRequest) (client.Page[client.Membership], error) {
							f.PageRequest = pr
							return r.api.ListUsers(ctx, *account, f)
						})
						if err != nil {
							return err
						}
						err = r.show(page, func(tw *tabwriter.Writer) { userTable(tw, page.Items...) })
						r.moreHint(page.NextCursor)
						return err
					}
				}},
			{name: "add", required: []string{"account", "username", "level"},
				summary: "add a person to the account; a new username is invited by e-mail",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					var in client.NewMember
					var roles stringList
					var expires string
					fs.StringVar(&in.Username, "username", "", "the person's login name, an e-mail `address`")
					fs.StringVar(&in.Level, "level", "", "the `level`: integrator_admin, integrator_user, client_admin or client_user")
					fs.StringVar(&in.FirstName, "first-name", "", "the first `name`, for a new username")
					fs.StringVar(&in.LastName, "last-name", "", "the last `name`, for a new username")
					fs.StringVar(&in.Email, "email", "", "the `address` of this account's notifications (default: the username)")
					fs.StringVar(&in.Language, "language", "", "en or fr, for the invitation and the pages (default en)")
					fs.Var(&roles, "role", "an account-wide `role` (repeat, or separate by commas; default viewer for client users)")
					fs.StringVar(&in.HomeFolderID, "home-folder", "", "the home folder's `ID`")
					fs.BoolVar(&in.MFARequired, "mfa-required", false, "require a second factor of the person")
					fs.StringVar(&expires, "expires", "", "end the access by itself after a `duration` (720h) or at a time (2026-12-31T18:00:00Z)")
					return func(ctx context.Context, r *adminRun) error {
						in.Roles = roles
						if expires != "" {
							at, err := parseEnd(expires)
							if err != nil {
								return err
							}
							in.ExpiresAt = &at
						}
						m, err := r.api.AddUser(ctx, *account, in)
						if err != nil {
							return err
						}
						err = r.show(m, func(tw *tabwriter.Writer) { userTable(tw, m) })
						if m.Status == client.MembershipActivationRequired {
							r.say("Invited %s: the e-mail's link activates the account.", m.Username)
						}
						return err
					}
				}},
			{name: "remove", required: []string{"account"}, args: []string{"MEMBERSHIP_ID|USERNAME"},
				summary: "remove a user from the account; their access ends at once",
				define: func(fs *flag.FlagSet) func(context.Context, *adminRun) error {
					account := fs.String("account", "", "the account's `ID`")
					return func(ctx context.Context, r *adminRun) error {
						m, err := findUser(ctx, r.api, *account, r.args[0])
						if err != nil {
							return err
						}
						if err := r.api.RemoveUser(ctx, *account, m.ID); err != nil {
							return err
						}
						if r.json {
							return r.show(m, nil)
						}
						r.say("Removed %s (%s) from the account.", m.Username, m.ID)
						return nil
					}
				}},
		},
	}
}

// findUser reads a membership of the account named by its id or by its
// username, as an administrator knows people.
func findUser(ctx context.Context, api *client.Client, accountID, idOrUsername string) (client.Membership, error) {
	if !strings.Contains(idOrUsername, "@") {
		return api.GetUser(ctx, accountID, idOrUsername)
	}
	for m, err := range client.All(func(cursor string) (client.Page[client.Membership], error) {
		return api.ListUsers(ctx, accountID, client.UserFilter{Query: idOrUsername, PageRequest: client.PageRequest{Limit: 500, Cursor: cursor}})
	}) {
		if err != nil {
			return client.Membership{}, err
		}
		if strings.EqualFold(m.Username, idOrUsername) {
			return m, nil
		}
	}
	return client.Membership{}, &codedError{code: exitNotFound, err: fmt.Errorf("%s is no user of the account", idOrUsername)}
}

// parseEnd reads when something ends: a duration from now, or a time.
func parseEnd(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d).UTC().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageErrorf("%q is neither a duration (720h) nor a time (2026-12-31T18:00:00Z)", s)
}

func userTable(tw *tabwriter.Writer, members ...client.Membership) {
	fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tLEVEL\tSTATUS\tROLES\tEXPIRES")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Username, strings.TrimSpace(m.FirstName+" "+m.LastName), m.Level, m.Status,
			orDash(strings.Join(m.Roles, ",")), whenPtr(m.ExpiresAt))
	}
}
