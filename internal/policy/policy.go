// Package policy decides who may do what in Gatehouse. It is the one place
// where a refusal (forbidden, not found, shared identity) is decided: every
// use case gathers the facts (what the actor holds over the account, which
// person or membership is acted on) and asks Decide. The package reads no
// store and knows no HTTP, so its whole table is tested as a matrix in
// memory, and docs/authorization.md is generated from it.
package policy

import (
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Action is one thing an actor may try. Every API route and portal page
// asks one of them (see Routes).
type Action string

// The actions, grouped by what they act on.
const (
	// Anyone, signed in or not: activation, sign-in, resets, confirmations.
	Public Action = "public"

	// Accounts.
	CreateIntegrator Action = "account.create_integrator"
	ListAccounts     Action = "account.list"
	ReadAccount      Action = "account.read"
	CreateClient     Action = "account.create_client"
	UpdateAccount    Action = "account.update"
	ChangeSettings   Action = "account.change_settings"
	// SuspendAccount and RestoreAccount move an account between active and
	// suspended (and an operator brings a deleted one back); DeleteAccount
	// deletes a client account.
	SuspendAccount Action = "account.suspend"
	RestoreAccount Action = "account.restore"
	DeleteAccount  Action = "account.delete"
	ReadAudit      Action = "audit.read"
	// ReadEvents reads the feed of one account's changes (and its
	// clients', for an integrator); ReadAllEvents every account's.
	ReadEvents    Action = "events.read"
	ReadAllEvents Action = "events.read_all"
	Notify        Action = "notifications.send"
	// ManageWebhooks subscribes an account's events to an endpoint, and
	// lists, rotates, pings, replays and removes its subscriptions.
	ManageWebhooks Action = "webhooks.manage"
	// ManageSCIM makes and revokes an account's SCIM tokens, reads the log
	// of its directory's calls and maps directory groups to roles and
	// levels (Target.Level names the level a mapping gives).
	ManageSCIM Action = "scim.manage"
	// ProvisionSCIM is a directory's call to the account's SCIM base with
	// one of its tokens; the people and groups it changes are then decided
	// as any caller's, for the level the token acts with.
	ProvisionSCIM Action = "scim.provision"

	// Members of one account. AddMember, ChangeMember and RemoveMember name
	// the member's level in Target.Level.
	ReadMembers  Action = "members.read"
	AddMember    Action = "member.add"
	ChangeMember Action = "member.change"
	// ChangeMemberLevel moves a member between the levels of their account
	// (user and administrator); Target.Level names each of the two levels
	// in turn, and Target.Self the actor's own membership.
	ChangeMemberLevel      Action = "member.change_level"
	RemoveMember           Action = "member.remove"
	ReadMemberPermissions  Action = "member.read_permissions"
	SetOwnNotifications    Action = "member.set_own_notifications"
	ManageRemoteMonitoring Action = "remote_monitoring.manage"

	// A person's identity, shared by every account they belong to.
	EditIdentity  Action = "identity.edit"
	ReadPhoto     Action = "identity.read_photo"
	UnlockSignIn  Action = "identity.unlock_sign_in"
	EndSessionsOf Action = "identity.end_sessions"
	// ResetSecondFactor clears a person's lost second factor, so that their
	// next sign-in sets up a new one.
	ResetSecondFactor Action = "identity.reset_second_factor"

	// What a signed-in person does for themself.
	ReadSelf              Action = "self.read"
	ManageOwnSessions     Action = "self.manage_sessions"
	ChangeOwnPassword     Action = "self.change_password"
	ChangeOwnSecondFactor Action = "self.change_second_factor"

	// Tokens and checks.
	CreateAPIToken     Action = "api_token.create"
	ManageOwnAPITokens Action = "api_token.manage_own"
	ManageCheckTokens  Action = "check_token.manage"
	AskChecks          Action = "check.ask"

	// Roles, groups, grants and folders of one account.
	ReadAccessRules   Action = "access.read"
	ManageAccessRules Action = "access.manage"
	ReadFolders       Action = "folders.read"
	ManageFolders     Action = "folders.manage"

	// The client's privacy (R-PV1…R-PV3): its service provider's access to its
	// cameras and media. ReadProviderAccess sees whether it is open and the
	// requests; GrantProviderAccess opens it until a time;
	// EndProviderAccess ends it now; AskProviderAccess is the integrator's
	// staff asking for it; DecideProviderAccess approves or refuses a
	// request.
	ReadProviderAccess   Action = "provider_access.read"
	GrantProviderAccess  Action = "provider_access.grant"
	EndProviderAccess    Action = "provider_access.end"
	AskProviderAccess    Action = "provider_access.ask"
	DecideProviderAccess Action = "provider_access.decide"

	// The platform.
	ManageOperators           Action = "operators.manage"
	ListIdentityProviders     Action = "identity_providers.list"
	ManagePlatformProviders   Action = "identity_providers.manage_platform"
	ManageIntegratorProviders Action = "identity_providers.manage"

	// Gatehouse as the platform's OpenID Provider. ManageOIDCClients
	// registers, lists and removes the applications that sign people in
	// through Gatehouse, and the service clients that get tokens for one
	// account with client credentials. SignInToAccount is a person signing in to an
	// application for one account (the account:{id} scope): its members and
	// the staff of its integrator, while it is in use.
	// ManageIntegratorApplications registers, lists and removes an
	// integrator's own applications (its administrators'); people consent
	// to them, and they sign people in to that integrator's accounts alone.
	ManageOIDCClients            Action = "oidc_clients.manage"
	ManageIntegratorApplications Action = "oidc_clients.manage_integrator"
	SignInToAccount              Action = "oidc.sign_in_to_account"

	// An integrator's brand: its administrators and operators read and
	// change it; the platform's default brand is the operators'.
	ReadBrand           Action = "brand.read"
	ManageBrand         Action = "brand.manage"
	ManagePlatformBrand Action = "brand.manage_platform"
)

// Actor is who acts, as far as the policy needs to know: how they
// authenticated and what they hold over the account acted on.
type Actor struct {
	// Access is what the actor holds over the account acted on: operator,
	// their level in it, their level in its integrator. Empty for an
	// action on no account.
	gatehouse.Access
	// Person is set when a person acts, through a session or a personal
	// API token; Session when through a session.
	Person, Session bool
	// Checker is a platform service with a check token.
	Checker bool
	// Token is set for a personal API token, with its Scopes (nil: the
	// tokens made before scopes, which act with all their owner's rights).
	Token  bool
	Scopes []string
	// Provisioner is an account's directory with a SCIM token: it holds
	// in Access what the token acts with, and provisions people and
	// groups alone.
	Provisioner bool
}

// Target is what is acted on, as far as the policy needs to know.
type Target struct {
	// Account is the kind of the account acted on, "" for none.
	Account gatehouse.AccountKind
	// ClientAdminsManageRemoteMonitoring is the account's support switch
	// that lets its client administrators manage its remote monitoring user.
	ClientAdminsManageRemoteMonitoring bool
	// Level is the level of the member acted on (member actions). Empty
	// before the member is read: then the actor must at least manage the
	// account's people, so that others learn nothing of its members.
	Level gatehouse.Level
	// Self is set when the person or membership acted on is the actor's own.
	Self bool
	// BuiltinRole is set when the role acted on is a built-in one.
	BuiltinRole bool
	// ServiceIdentity is set when the identity acted on is a remote
	// monitoring user: generated credentials, never chosen.
	ServiceIdentity bool
	// ProviderIdentity is set when the identity signs in through an
	// identity provider and has no password here.
	ProviderIdentity bool
	// FolderManager is set when the actor holds folders.manage at every
	// folder concerned; FolderHidden when one of them is out of their
	// sight.
	FolderManager, FolderHidden bool
	// Memberships are every membership of the person acted on, with what
	// the actor holds over each account (identity actions).
	Memberships []Membership
	// Existing is set when the actor names an existing thing by its id:
	// where they may not act on that kind of thing at all, it is not found
	// rather than forbidden, so that ids cannot be probed.
	Existing bool
	// Suspended is set when the account acted on is suspended, and
	// IntegratorSuspended when a client's integrator is; Deleted when the
	// account is deleted (only operators still see it, to restore it).
	Suspended, IntegratorSuspended, Deleted bool
	// RevokeOperator is set when the operator power is being taken away.
	RevokeOperator bool
	// Field names the identity field being changed, where a refusal is
	// shown.
	Field string
	// OtherIntegratorsApplication is set when a person signs in to the
	// account through an application another integrator registered.
	OtherIntegratorsApplication bool
}

// Membership is one account a person belongs to, seen by an actor.
type Membership struct {
	Account gatehouse.AccountKind
	Level   gatehouse.Level // the person's level there
	// Actor is what the actor holds over that account.
	Actor gatehouse.Access
}

func forbidden(format string, args ...any) error {
	return &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Message: fmt.Sprintf(format, args...)}
}

// Decide answers whether actor may do act on target: nil when allowed;
// otherwise a *gatehouse.Error with code not_found (the actor may not even
// know the target exists, and learns nothing more than of an unknown one),
// forbidden, or shared_identity.
func Decide(a Actor, act Action, t Target) error {
	if err := decide(a, act, t); err != nil {
		return err
	}
	if scope := ScopeOf(act); scope != "" && a.Token && a.Scopes != nil && !slices.Contains(a.Scopes, scope) {
		return forbidden("this token's scopes do not include %s", scope)
	}
	return nil
}

// ScopeOf is the personal API token scope an action needs, "" for none
// (actions tokens never reach, or that need no scope).
func ScopeOf(act Action) string {
	switch act {
	case ReadAccount, ListAccounts, ReadFolders, ListIdentityProviders, ReadProviderAccess, ReadBrand:
		return gatehouse.ScopeAccountsRead
	case UpdateAccount, CreateClient, ChangeSettings, ManageIntegratorProviders, ManagePlatformProviders, ManageIntegratorApplications,
		SuspendAccount, RestoreAccount, DeleteAccount, ManageWebhooks,
		GrantProviderAccess, EndProviderAccess, AskProviderAccess, DecideProviderAccess, ManageBrand:
		return gatehouse.ScopeAccountsWrite
	case ReadAudit, ReadEvents:
		return gatehouse.ScopeAuditRead
	case ReadMembers, ReadMemberPermissions, ReadAccessRules, ReadPhoto:
		return gatehouse.ScopeUsersRead
	case Notify:
		return gatehouse.ScopeNotify
	case AskChecks:
		return gatehouse.ScopeCheck
	case AddMember, ChangeMember, ChangeMemberLevel, RemoveMember, SetOwnNotifications, ManageRemoteMonitoring, EditIdentity,
		UnlockSignIn, EndSessionsOf, ResetSecondFactor, ManageAccessRules, ManageFolders, ManageSCIM:
		return gatehouse.ScopeUsersWrite
	}
	return ""
}

// sees tells whether the actor may know the account exists: operators see
// everything, members their account, integrator staff their clients.
func sees(a gatehouse.Access) bool {
	return a.Operator || a.Level != "" || a.IntegratorLevel.IsIntegratorStaff()
}

// staffOverClient: integrator staff act on every client of their integrator.
func staffOverClient(a gatehouse.Access, kind gatehouse.AccountKind) bool {
	return kind == gatehouse.KindClient && a.IntegratorLevel.IsIntegratorStaff()
}

// administers: the account's administrators (and operators) change the
// account, read its audit log and notify its members.
func administers(a gatehouse.Access, kind gatehouse.AccountKind) bool {
	if a.Operator {
		return true
	}
	if kind == gatehouse.KindIntegrator {
		return a.Level == gatehouse.LevelIntegratorAdmin
	}
	return staffOverClient(a, kind) || a.Level == gatehouse.LevelClientAdmin
}

// managesPeople: those who read and manage an account's people, roles,
// groups and grants. Integrator users are staff: they manage the
// integrator's clients and see their colleagues.
func managesPeople(a gatehouse.Access, kind gatehouse.AccountKind) bool {
	if a.Operator {
		return true
	}
	if kind == gatehouse.KindIntegrator {
		return a.Level.IsIntegratorStaff()
	}
	return staffOverClient(a, kind) || a.Level == gatehouse.LevelClientAdmin
}

// managesLevel decides who may add, change or remove a member of the given
// level: operators anyone; integrator administrators anyone in their
// integrator's accounts; integrator users client administrators and client
// users; client administrators client users of their own account; client
// users nobody.
func managesLevel(a gatehouse.Access, kind gatehouse.AccountKind, level gatehouse.Level) bool {
	if a.Operator {
		return true
	}
	if !managesPeople(a, kind) {
		return false
	}
	if kind == gatehouse.KindIntegrator {
		return a.Level == gatehouse.LevelIntegratorAdmin
	}
	switch {
	case a.IntegratorLevel == gatehouse.LevelIntegratorAdmin:
		return true
	case a.IntegratorLevel == gatehouse.LevelIntegratorUser:
		return level == gatehouse.LevelClientAdmin || level == gatehouse.LevelClientUser
	case a.Level == gatehouse.LevelClientAdmin:
		return level == gatehouse.LevelClientUser
	}
	return false
}

// managesRemoteMonitoring: operators and the integrator's staff; client
// administrators only where support switched it on.
func managesRemoteMonitoring(a gatehouse.Access, t Target) bool {
	return a.Operator || a.IntegratorLevel.IsIntegratorStaff() ||
		(a.Level == gatehouse.LevelClientAdmin && t.ClientAdminsManageRemoteMonitoring)
}

// provisions lists what a directory does with a SCIM token: read and
// change the account's people (their identity where nobody else shares
// it) and groups.
func provisions(act Action) bool {
	switch act {
	case ProvisionSCIM, ReadAccount, ReadMembers, AddMember, ChangeMember, ChangeMemberLevel, RemoveMember,
		ReadAccessRules, ManageAccessRules, EditIdentity:
		return true
	}
	return false
}

// administersSCIM: a SCIM token creates and removes an account's people at
// the levels its maker manages, so it is made by those who administer the
// account itself: its administrators, its integrator's administrators,
// operators. An integrator's users, who manage a client's people, do not
// hand that power to a directory.
func administersSCIM(a gatehouse.Access, kind gatehouse.AccountKind) bool {
	if a.Operator {
		return true
	}
	if kind == gatehouse.KindIntegrator {
		return a.Level == gatehouse.LevelIntegratorAdmin
	}
	return a.Level == gatehouse.LevelClientAdmin || a.IntegratorLevel == gatehouse.LevelIntegratorAdmin
}

func decide(a Actor, act Action, t Target) error {
	if a.Checker && act != AskChecks && act != Public {
		return forbidden("a check token may only ask checks")
	}
	if a.Provisioner && !provisions(act) {
		return forbidden("a SCIM token provisions its account's people and groups, and nothing else")
	}
	switch act {
	case Public:
		return nil
	case ReadAllEvents:
		if !a.Operator {
			return forbidden("name the account whose events to read (account_id): only operators read every account's")
		}
		return nil
	case CreateIntegrator, ManageCheckTokens, ManagePlatformProviders:
		if !a.Operator && t.Existing {
			return gatehouse.NotFound("identity provider")
		}
		if !a.Operator {
			return forbidden("only operators may do this")
		}
		return nil
	case ManagePlatformBrand:
		if !a.Operator {
			return forbidden("only operators change the platform's default brand")
		}
		return nil
	case ManageOIDCClients:
		if !a.Operator {
			return forbidden("only operators manage the applications that sign people in through Gatehouse")
		}
		return nil
	case SignInToAccount:
		if !a.Person || (a.Level == "" && !staffOverClient(a.Access, t.Account)) || a.Level == gatehouse.LevelRemoteMonitoring {
			return forbidden("only the account's members and its integrator's staff sign in to it")
		}
		if t.OtherIntegratorsApplication {
			return forbidden("this application belongs to another integrator: it signs people in to that integrator's accounts alone")
		}
		if t.Deleted || t.Suspended || t.IntegratorSuspended {
			return &gatehouse.Error{Code: gatehouse.EACCOUNTSUSPENDED, Message: "this account is not in use"}
		}
		return nil
	case ManageOperators:
		if !a.Operator {
			return forbidden("only operators manage operators")
		}
		if t.RevokeOperator && t.Self {
			return forbidden("ask another operator to take your operator role away")
		}
		return nil
	case ListAccounts, ListIdentityProviders, ReadSelf:
		if !a.Operator && !a.Person {
			return forbidden("only people and operators may do this")
		}
		return nil
	case AskChecks:
		switch {
		case a.Operator || a.Checker:
			return nil
		case a.Token && a.Scopes != nil && slices.Contains(a.Scopes, gatehouse.ScopeCheck) && a.Level != "":
			return nil
		}
		return forbidden("only operators, check tokens and API tokens with the check scope may ask checks")
	case ManageOwnSessions:
		if !a.Person || !a.Session {
			return forbidden("sign in with a session to see and end your sessions")
		}
		return nil
	case ChangeOwnPassword, ChangeOwnSecondFactor:
		if !a.Person || !a.Session {
			return forbidden("sign in with a session to change your password or second factor")
		}
		if t.ServiceIdentity {
			return forbidden("the remote monitoring user's credentials are generated, never chosen")
		}
		if act == ChangeOwnPassword && t.ProviderIdentity {
			return forbidden("you sign in through your identity provider: change your password there")
		}
		return nil
	case EditIdentity, ReadPhoto, UnlockSignIn, EndSessionsOf, ResetSecondFactor:
		return decideIdentity(a, act, t)
	}

	// Every other action is on one account, which the actor must see.
	if !sees(a.Access) || (t.Deleted && !a.Operator) {
		return gatehouse.NotFound("account")
	}
	if suspendedFor(a.Access, t) {
		return &gatehouse.Error{Code: gatehouse.EACCOUNTSUSPENDED, Message: "this account is suspended: ask its integrator to restore it"}
	}
	if a.Provisioner && (t.Suspended || t.IntegratorSuspended) {
		// Its directory provisions nobody until someone restores it.
		return &gatehouse.Error{Code: gatehouse.EACCOUNTSUSPENDED, Message: "this account is suspended: its directory provisions nobody until it is restored"}
	}
	switch act {
	case ReadAccount, ManageOwnAPITokens:
		return nil
	case ChangeSettings:
		if a.Operator {
			return nil
		}
		return forbidden("only operators change an account's settings")
	case SuspendAccount, RestoreAccount:
		switch {
		case a.Operator:
			return nil
		case t.Account == gatehouse.KindClient && a.IntegratorLevel.IsIntegratorStaff():
			return nil
		case t.Account == gatehouse.KindIntegrator:
			return forbidden("only operators suspend or restore an integrator")
		}
		return forbidden("only the integrator's staff suspend or restore its clients")
	case DeleteAccount:
		if a.Operator || (t.Account == gatehouse.KindClient && a.IntegratorLevel == gatehouse.LevelIntegratorAdmin) {
			return nil
		}
		return forbidden("only the integrator's administrators delete its clients")
	case CreateClient:
		if a.Operator || (t.Account == gatehouse.KindIntegrator && a.Level.IsIntegratorStaff()) {
			return nil
		}
		return forbidden("only the integrator's staff create its clients")
	case ReadBrand, ManageBrand:
		if a.Operator || (t.Account == gatehouse.KindIntegrator && a.Level == gatehouse.LevelIntegratorAdmin) {
			return nil
		}
		if t.Account == gatehouse.KindClient {
			return forbidden("a client wears its integrator's brand: the integrator's administrators set it")
		}
		return forbidden("only the integrator's administrators and operators read and change its brand")
	case UpdateAccount, ReadAudit, ReadEvents, Notify:
		if administers(a.Access, t.Account) {
			return nil
		}
		return forbidden("only the account's administrators may do this")
	case ProvisionSCIM:
		if a.Provisioner {
			return nil
		}
		return forbidden("only the account's SCIM tokens provision it through SCIM")
	case ManageSCIM:
		if !administersSCIM(a.Access, t.Account) {
			return forbidden("only the account's administrators and its integrator's administrators manage its SCIM provisioning")
		}
		if t.Level != "" && !managesLevel(a.Access, t.Account, t.Level) {
			return forbidden("you may not give the %s level: a directory group gives only what you may give yourself", t.Level)
		}
		return nil
	case ManageWebhooks:
		// The events of an account tell of its people: who administers
		// it decides where they go.
		if administers(a.Access, t.Account) {
			return nil
		}
		return forbidden("only the account's administrators manage its webhooks")
	case ReadMembers, ReadAccessRules:
		if managesPeople(a.Access, t.Account) {
			return nil
		}
		return forbidden("only the account's administrators see its people")
	case ManageAccessRules:
		if !managesPeople(a.Access, t.Account) {
			return forbidden("only the account's administrators change its roles, groups and grants")
		}
		if t.BuiltinRole {
			return forbidden("built-in roles cannot be changed or deleted")
		}
		return nil
	case ChangeMemberLevel:
		// One's own level is changed by another administrator: nobody locks
		// themself out of an account or raises themself.
		if t.Self && !a.Operator {
			return forbidden("ask another administrator to change your own level")
		}
		if t.Level == gatehouse.LevelRemoteMonitoring {
			return forbidden("the remote monitoring user's level is fixed")
		}
		return decideMember(a.Access, ChangeMember, t)
	case AddMember, ChangeMember, RemoveMember:
		if t.Level == "" {
			if managesPeople(a.Access, t.Account) || (act == RemoveMember && managesRemoteMonitoring(a.Access, t)) {
				return nil
			}
			return forbidden("only the account's administrators manage its people")
		}
		return decideMember(a.Access, act, t)
	case ReadMemberPermissions:
		if managesPeople(a.Access, t.Account) || t.Self {
			return nil
		}
		return forbidden("only administrators see other users' permissions")
	case SetOwnNotifications:
		// A person changes their own choices through their own membership
		// (operators reach every account): an integrator's staff do not
		// reach a client membership of theirs through the integrator.
		if t.Self && a.Person && (a.Level != "" || a.Operator) {
			return nil
		}
		return forbidden("members change only their own notification choices")
	case ManageRemoteMonitoring:
		if managesRemoteMonitoring(a.Access, t) {
			return nil
		}
		return forbidden("you may not manage this account's remote monitoring user")
	case CreateAPIToken:
		switch {
		case !a.Person || !a.Session:
			return forbidden("API tokens are made by a person signed in, not by a token")
		case a.Level == gatehouse.LevelRemoteMonitoring || t.ServiceIdentity:
			return forbidden("the remote monitoring user makes no API tokens")
		case a.Level == "":
			return forbidden("tokens are made for an account you are an active user of; for an integrator's clients, make one for the integrator")
		}
		return nil
	case ReadFolders:
		return nil
	case ManageFolders:
		if managesPeople(a.Access, t.Account) {
			return nil
		}
		if t.FolderHidden {
			return gatehouse.NotFound("folder") // unseen folders are unknown ones
		}
		if t.FolderManager {
			return nil
		}
		return forbidden("you need folders.manage here to change folders")
	case ManageIntegratorProviders:
		if a.Operator || a.Level == gatehouse.LevelIntegratorAdmin {
			return nil
		}
		return forbidden("only the integrator's administrators manage its identity providers")
	case ManageIntegratorApplications:
		if a.Operator || (t.Account == gatehouse.KindIntegrator && a.Level == gatehouse.LevelIntegratorAdmin) {
			return nil
		}
		return forbidden("only the integrator's administrators register its applications")
	case ReadProviderAccess, GrantProviderAccess, EndProviderAccess, AskProviderAccess, DecideProviderAccess:
		return decideProviderAccess(a, act, t)
	}
	return forbidden("unknown action %s", act)
}

// suspendedFor tells whether a suspension stops the actor in the account:
// its own members while it is suspended (the remote monitoring user aside:
// recording and monitoring go on), and an integrator's staff while their
// integrator is. Operators and a client's integrator staff go on, so that
// someone can restore it.
func suspendedFor(a gatehouse.Access, t Target) bool {
	if a.Operator || a.Level == gatehouse.LevelRemoteMonitoring {
		return false
	}
	staffMayAct := a.IntegratorLevel.IsIntegratorStaff() && !t.IntegratorSuspended
	if a.Level != "" && t.Suspended && !staffMayAct {
		return true
	}
	return a.Level == "" && a.IntegratorLevel.IsIntegratorStaff() && t.IntegratorSuspended
}

// decideProviderAccess decides the client's privacy (R-PV1…R-PV3). Opening its
// cameras and media to the service provider is the client's consent: its
// administrators give it, and nobody of the provider's side, platform
// support included, gives it in their stead. Operators see it and may end
// it (support closes it at once when a client asks by phone, or when an
// integrator is compromised); the integrator's staff see it and ask for
// it.
func decideProviderAccess(a Actor, act Action, t Target) error {
	clientAdmin := a.Level == gatehouse.LevelClientAdmin
	staff := staffOverClient(a.Access, t.Account)
	switch act {
	case ReadProviderAccess:
		if a.Operator || clientAdmin || staff {
			return nil
		}
		return forbidden("only the client's administrators, its integrator's staff and operators see its service provider's access")
	case GrantProviderAccess, DecideProviderAccess:
		if clientAdmin {
			return nil
		}
		return forbidden("only the client's administrators open its cameras and media to the service provider")
	case EndProviderAccess:
		if a.Operator || clientAdmin {
			return nil
		}
		return forbidden("only the client's administrators and operators end the service provider's access")
	}
	if staff && a.Person {
		return nil
	}
	return forbidden("only the staff of the client's integrator ask for access to its cameras and media")
}

// decideMember decides the changes of one member of a known level.
func decideMember(a gatehouse.Access, act Action, t Target) error {
	if t.Level == gatehouse.LevelRemoteMonitoring {
		switch {
		case act == ChangeMember:
			return forbidden("the remote monitoring user's access is fixed: cameras of its account")
		case act == RemoveMember && managesRemoteMonitoring(a, t):
			return nil
		}
		return forbidden("you may not manage this account's remote monitoring user")
	}
	if managesLevel(a, t.Account, t.Level) {
		return nil
	}
	switch act {
	case AddMember:
		return forbidden("you may not invite a %s to this account", t.Level)
	case ChangeMember:
		return forbidden("you may not change a %s of this account", t.Level)
	}
	return forbidden("you may not remove a %s from this account", t.Level)
}

// decideIdentity decides the actions on a person's identity, which every
// account they belong to shares. The person and operators may; anyone else
// must manage every membership the person has, or a client administrator
// of one site could take over a person who also works for another
// integrator (change the username to an address they read, reset the
// password, sign in everywhere).
func decideIdentity(a Actor, act Action, t Target) error {
	if act == EditIdentity && t.ServiceIdentity {
		return forbidden("the remote monitoring user's identity is generated, never changed")
	}
	if t.Self {
		switch act {
		case UnlockSignIn:
			return forbidden("ask an administrator to unlock your sign-in")
		case EndSessionsOf:
			return forbidden("end your own sessions from /api/v1/me/sessions")
		case ResetSecondFactor:
			return forbidden("change your own second factor from /api/v1/me/mfa, or sign in with a recovery code")
		}
		if a.Person {
			return nil
		}
	}
	if a.Operator {
		return nil
	}
	seen, managed := 0, 0
	for _, m := range t.Memberships {
		if !m.Actor.Operator && !managesPeople(m.Actor, m.Account) {
			continue
		}
		seen++
		if managesLevel(m.Actor, m.Account, m.Level) {
			managed++
		}
	}
	switch {
	case seen == 0:
		return gatehouse.NotFound("user")
	case act == ReadPhoto:
		return nil // whoever sees the person in one of their accounts sees the face
	case managed < seen:
		return forbidden("you may not change this user")
	case managed < len(t.Memberships):
		return &gatehouse.Error{Code: gatehouse.ESHAREDIDENTITY, Field: t.Field,
			Message: "this person also belongs to accounts you do not manage: only they, an operator, or an administrator of all their accounts may change this"}
	}
	return nil
}
