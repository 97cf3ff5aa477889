package policy

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Column is one kind of actor in one relation to the account a route names:
// the columns of the table that says who may do what.
type Column struct {
	// Name is the column's heading; About says it in words.
	Name, About string
	Actor       Actor
	// Account is the kind of the account the route names.
	Account gatehouse.AccountKind
}

// Columns are every kind of actor (operator, each member level, a personal
// API token with a narrow scope, a check token) in each relation to the
// account acted on (its own, a client of its integrator, another
// integrator's).
var Columns = []Column{
	{"OP", "an operator (platform support)", Actor{Access: gatehouse.Access{Operator: true}, Person: true, Session: true}, gatehouse.KindClient},
	{"IA", "an integrator administrator, in their integrator account", member(gatehouse.Access{Level: gatehouse.LevelIntegratorAdmin}), gatehouse.KindIntegrator},
	{"IA→C", "an integrator administrator, in a client of their integrator", member(gatehouse.Access{IntegratorLevel: gatehouse.LevelIntegratorAdmin}), gatehouse.KindClient},
	{"IU", "an integrator user, in their integrator account", member(gatehouse.Access{Level: gatehouse.LevelIntegratorUser}), gatehouse.KindIntegrator},
	{"IU→C", "an integrator user, in a client of their integrator", member(gatehouse.Access{IntegratorLevel: gatehouse.LevelIntegratorUser}), gatehouse.KindClient},
	{"CA", "a client administrator, in their client account", member(gatehouse.Access{Level: gatehouse.LevelClientAdmin}), gatehouse.KindClient},
	{"CU", "a client user, in their client account", member(gatehouse.Access{Level: gatehouse.LevelClientUser}), gatehouse.KindClient},
	{"RM", "the remote monitoring user, in its client account", member(gatehouse.Access{Level: gatehouse.LevelRemoteMonitoring}), gatehouse.KindClient},
	{"X", "anyone signed in, in another integrator's account (or a client of it)", member(gatehouse.Access{}), gatehouse.KindClient},
	{"TOK", "a client administrator's personal API token with the users:read scope alone, in their client account",
		Actor{Access: gatehouse.Access{Level: gatehouse.LevelClientAdmin}, Person: true, Token: true, Scopes: []string{gatehouse.ScopeUsersRead}}, gatehouse.KindClient},
	{"CHK", "a platform service's check token", Actor{Checker: true}, gatehouse.KindClient},
}

func member(a gatehouse.Access) Actor { return Actor{Access: a, Person: true, Session: true} }

// Variants says what each route variant of the table means.
var Variants = map[string]string{
	"":                      "",
	"self":                  "the person acted on is the actor",
	"here":                  "a person who belongs to this account alone (a user of it)",
	"shared":                "a person who is a user of this account and also of another integrator's client",
	"service":               "the remote monitoring user's identity",
	"provider":              "a person who signs in through an identity provider",
	"admin":                 "an administrator of the account (integrator or client administrator)",
	"user":                  "a user of the account (integrator or client user)",
	"remote_monitoring":     "the account's remote monitoring user",
	"own-notifications":     "the actor's own membership, notification choices alone",
	"to-admin":              "a user made an administrator, or an administrator made a user",
	"gives-admin":           "a directory group mapped to the account's administrator level",
	"own-level":             "the actor's own level",
	"suspended":             "the account is suspended",
	"integrator-suspended":  "the account's integrator is suspended",
	"deleted":               "the account is deleted (restorable for 30 days)",
	"builtin":               "a built-in role (viewer, editor, manager)",
	"folder-manager":        "where the actor holds folders.manage through a grant",
	"folder-hidden":         "a folder out of the actor's sight",
	"client-admins-allowed": "where support lets client administrators manage it",
	"revoke-self":           "the operator's own power",
	"integrator":            "of an integrator account",
	"platform":              "platform-wide (a provider: named by its id on delete)",
	"client":                "a client, under the integrator named",
	"account":               "one account named by account_id (or the API token's), with its clients for an integrator",
	"all-accounts":          "every account at once (no account named)",
}

// Explain decides one cell of the table: route r for the actor of column c.
func Explain(r Route, c Column) error {
	actor, target := c.Actor, variantTarget(r, c)
	if r.Variant == "self" || r.Variant == "own-notifications" {
		target.Self = true
	}
	return Decide(actor, r.Action, target)
}

// variantTarget builds the target a route variant describes, in the account
// of column c.
func variantTarget(r Route, c Column) Target {
	t := Target{Account: c.Account}
	userLevel, adminLevel := gatehouse.LevelClientUser, gatehouse.LevelClientAdmin
	if c.Account == gatehouse.KindIntegrator {
		userLevel, adminLevel = gatehouse.LevelIntegratorUser, gatehouse.LevelIntegratorAdmin
	}
	here := Membership{Account: c.Account, Level: userLevel, Actor: c.Actor.Access}
	switch r.Variant {
	case "self":
		t.Memberships = []Membership{{Account: c.Account, Level: c.Actor.Level, Actor: c.Actor.Access}}
	case "here":
		t.Memberships = []Membership{here}
	case "shared":
		t.Memberships = []Membership{here, {Account: gatehouse.KindClient, Level: gatehouse.LevelClientUser}}
	case "service":
		t.Self, t.ServiceIdentity = r.Action != EditIdentity, true
		t.Memberships = []Membership{{Account: gatehouse.KindClient, Level: gatehouse.LevelRemoteMonitoring, Actor: c.Actor.Access}}
	case "provider":
		t.Self, t.ProviderIdentity = true, true
	case "admin", "to-admin", "gives-admin":
		t.Level = adminLevel
	case "suspended":
		t.Suspended = true
	case "integrator-suspended":
		t.IntegratorSuspended = true
	case "deleted":
		t.Deleted = true
	case "own-level":
		t.Self, t.Level = true, c.Actor.Level
		if t.Level == "" {
			t.Level = adminLevel
		}
	case "user":
		t.Level = userLevel
	case "remote_monitoring":
		t.Level = gatehouse.LevelRemoteMonitoring
	case "builtin":
		t.BuiltinRole = true
	case "folder-manager":
		t.FolderManager = true
	case "folder-hidden":
		t.FolderHidden = true
	case "client-admins-allowed":
		t.ClientAdminsManageRemoteMonitoring = true
	case "revoke-self":
		t.Self, t.RevokeOperator = true, true
	case "platform":
		t.Existing = r.Method == "DELETE"
	case "client":
		t.Account = c.Account // the integrator named; a client named is refused
	}
	if r.Action == ChangeOwnPassword || r.Action == ChangeOwnSecondFactor || r.Action == ManageOwnSessions {
		t.Self = true
	}
	if r.Path == "/api/v1/operators/{user_id}" && r.Method == "DELETE" {
		t.RevokeOperator = true
	}
	return t
}

// Letter is a cell of the table: A allowed, F forbidden (403), N not found
// (404: the actor learns nothing of the target), S shared identity (403),
// P account suspended (403).
func Letter(err error) string {
	switch gatehouse.ErrorCode(err) {
	case "":
		return "A"
	case gatehouse.ENOTFOUND:
		return "N"
	case gatehouse.ESHAREDIDENTITY:
		return "S"
	case gatehouse.EACCOUNTSUSPENDED:
		return "P"
	case gatehouse.EFORBIDDEN:
		return "F"
	}
	return "?"
}

// Markdown renders the whole table, for docs/authorization.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Route | Case |")
	for _, c := range Columns {
		fmt.Fprintf(&b, " %s |", c.Name)
	}
	b.WriteString("\n|---|---|")
	for range Columns {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	symbols := map[string]string{"A": "✓", "F": "✗", "N": "404", "S": "shared", "P": "suspended"}
	for _, r := range Routes {
		fmt.Fprintf(&b, "| `%s %s` | %s |", r.Method, r.Path, Variants[r.Variant])
		for _, c := range Columns {
			fmt.Fprintf(&b, " %s |", symbols[Letter(Explain(r, c))])
		}
		b.WriteString("\n")
	}
	b.WriteString("\nColumns:\n\n")
	for _, c := range Columns {
		fmt.Fprintf(&b, "- **%s**: %s.\n", c.Name, c.About)
	}
	return b.String()
}
