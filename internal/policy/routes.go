package policy

// Route is one API route, in one variant of its target, and the action it
// asks the policy. A route whose answer depends on what it acts on (the
// level of the member removed, a built-in role, the person whose profile is
// changed) is listed once per variant. The table is what a newcomer reads to
// learn who may do what, and what docs/authorization.md is generated from;
// the HTTP server's tests check that it names every route served.
type Route struct {
	Method, Path string
	// Variant names the target's case, "" when there is one; see
	// variantTarget for what each means.
	Variant string
	Action  Action
}

// Routes lists every API route with its action.
var Routes = []Route{
	{"POST", "/api/v1/activate", "", Public},
	{"POST", "/api/v1/sessions", "", Public},
	{"POST", "/api/v1/sessions/mfa", "", Public},
	{"POST", "/api/v1/sessions/mfa/resend", "", Public},
	{"POST", "/api/v1/sessions/mfa/sms", "", Public},
	{"POST", "/api/v1/username-confirmations", "", Public},
	{"POST", "/api/v1/password-resets", "", Public},
	{"POST", "/api/v1/password-resets/confirm", "", Public},

	{"DELETE", "/api/v1/sessions/current", "", ReadSelf},
	{"GET", "/api/v1/me", "", ReadSelf},
	{"GET", "/api/v1/me/sessions", "", ManageOwnSessions},
	{"DELETE", "/api/v1/me/sessions/{session_id}", "", ManageOwnSessions},
	{"POST", "/api/v1/me/password", "", ChangeOwnPassword},
	{"POST", "/api/v1/me/password", "provider", ChangeOwnPassword},
	{"POST", "/api/v1/me/password", "service", ChangeOwnPassword},
	{"POST", "/api/v1/me/mfa/totp", "", ChangeOwnSecondFactor},
	{"POST", "/api/v1/me/mfa/totp", "service", ChangeOwnSecondFactor},
	{"POST", "/api/v1/me/mfa/totp/confirm", "", ChangeOwnSecondFactor},
	{"POST", "/api/v1/me/mfa/sms", "", ChangeOwnSecondFactor},
	{"POST", "/api/v1/me/mfa/sms/confirm", "", ChangeOwnSecondFactor},
	{"DELETE", "/api/v1/me/mfa", "", ChangeOwnSecondFactor},
	{"POST", "/api/v1/me/mfa/recovery-codes", "", ChangeOwnSecondFactor},

	{"PATCH", "/api/v1/users/{user_id}", "self", EditIdentity},
	{"PATCH", "/api/v1/users/{user_id}", "here", EditIdentity},
	{"PATCH", "/api/v1/users/{user_id}", "shared", EditIdentity},
	{"PATCH", "/api/v1/users/{user_id}", "service", EditIdentity},
	{"PUT", "/api/v1/users/{user_id}/photo", "here", EditIdentity},
	{"PUT", "/api/v1/users/{user_id}/photo", "shared", EditIdentity},
	{"GET", "/api/v1/users/{user_id}/photo", "here", ReadPhoto},
	{"GET", "/api/v1/users/{user_id}/photo", "shared", ReadPhoto},
	{"DELETE", "/api/v1/users/{user_id}/sign-in-lock", "self", UnlockSignIn},
	{"DELETE", "/api/v1/users/{user_id}/sign-in-lock", "here", UnlockSignIn},
	{"DELETE", "/api/v1/users/{user_id}/sign-in-lock", "shared", UnlockSignIn},
	{"DELETE", "/api/v1/users/{user_id}/mfa", "self", ResetSecondFactor},
	{"DELETE", "/api/v1/users/{user_id}/mfa", "here", ResetSecondFactor},
	{"DELETE", "/api/v1/users/{user_id}/mfa", "shared", ResetSecondFactor},
	{"DELETE", "/api/v1/users/{user_id}/sessions", "self", EndSessionsOf},
	{"DELETE", "/api/v1/users/{user_id}/sessions", "here", EndSessionsOf},
	{"DELETE", "/api/v1/users/{user_id}/sessions", "shared", EndSessionsOf},

	{"POST", "/api/v1/check", "", AskChecks},
	{"POST", "/api/v1/check/batch", "", AskChecks},
	{"POST", "/api/v1/check-tokens", "", ManageCheckTokens},
	{"GET", "/api/v1/check-tokens", "", ManageCheckTokens},
	{"DELETE", "/api/v1/check-tokens/{token_id}", "", ManageCheckTokens},

	{"GET", "/api/v1/operators", "", ManageOperators},
	{"PUT", "/api/v1/operators/{user_id}", "", ManageOperators},
	{"DELETE", "/api/v1/operators/{user_id}", "", ManageOperators},
	{"DELETE", "/api/v1/operators/{user_id}", "revoke-self", ManageOperators},

	{"POST", "/api/v1/identity-providers", "integrator", ManageIntegratorProviders},
	{"POST", "/api/v1/identity-providers", "platform", ManagePlatformProviders},
	{"GET", "/api/v1/identity-providers", "", ListIdentityProviders},
	{"DELETE", "/api/v1/identity-providers/{provider_id}", "integrator", ManageIntegratorProviders},
	{"DELETE", "/api/v1/identity-providers/{provider_id}", "platform", ManagePlatformProviders},

	{"POST", "/api/v1/accounts", "integrator", CreateIntegrator},
	{"POST", "/api/v1/accounts", "client", CreateClient},
	{"GET", "/api/v1/accounts", "", ListAccounts},
	{"GET", "/api/v1/accounts/{id}", "", ReadAccount},
	{"PATCH", "/api/v1/accounts/{id}", "", UpdateAccount},
	{"PATCH", "/api/v1/accounts/{id}/settings", "", ChangeSettings},
	{"GET", "/api/v1/accounts/{id}/audit-events", "", ReadAudit},
	{"POST", "/api/v1/accounts/{id}/notifications", "", Notify},

	{"GET", "/api/v1/accounts/{id}/provider-access", "", ReadProviderAccess},
	{"PUT", "/api/v1/accounts/{id}/provider-access", "", GrantProviderAccess},
	{"DELETE", "/api/v1/accounts/{id}/provider-access", "", EndProviderAccess},
	{"GET", "/api/v1/accounts/{id}/provider-access/requests", "", ReadProviderAccess},
	{"POST", "/api/v1/accounts/{id}/provider-access/requests", "", AskProviderAccess},
	{"GET", "/api/v1/accounts/{id}/provider-access/requests/{request_id}", "", ReadProviderAccess},
	{"POST", "/api/v1/accounts/{id}/provider-access/requests/{request_id}/approve", "", DecideProviderAccess},
	{"POST", "/api/v1/accounts/{id}/provider-access/requests/{request_id}/refuse", "", DecideProviderAccess},

	{"POST", "/api/v1/accounts/{id}/users", "admin", AddMember},
	{"POST", "/api/v1/accounts/{id}/users", "user", AddMember},
	{"GET", "/api/v1/accounts/{id}/users", "", ReadMembers},
	{"GET", "/api/v1/accounts/{id}/users/{membership_id}", "", ReadMembers},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "admin", ChangeMember},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "user", ChangeMember},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "remote_monitoring", ChangeMember},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "own-notifications", SetOwnNotifications},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "to-admin", ChangeMemberLevel},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "own-level", ChangeMemberLevel},
	{"DELETE", "/api/v1/accounts/{id}/users/{membership_id}", "admin", RemoveMember},
	{"DELETE", "/api/v1/accounts/{id}/users/{membership_id}", "user", RemoveMember},
	{"DELETE", "/api/v1/accounts/{id}/users/{membership_id}", "remote_monitoring", RemoveMember},
	{"GET", "/api/v1/accounts/{id}/users/{membership_id}/permissions", "self", ReadMemberPermissions},
	{"GET", "/api/v1/accounts/{id}/users/{membership_id}/permissions", "", ReadMemberPermissions},

	{"POST", "/api/v1/accounts/{id}/api-tokens", "", CreateAPIToken},
	{"GET", "/api/v1/accounts/{id}/api-tokens", "", ManageOwnAPITokens},
	{"DELETE", "/api/v1/accounts/{id}/api-tokens/{token_id}", "", ManageOwnAPITokens},

	{"GET", "/api/v1/accounts/{id}/roles", "", ReadAccessRules},
	{"POST", "/api/v1/accounts/{id}/roles", "", ManageAccessRules},
	{"GET", "/api/v1/accounts/{id}/roles/{role_id}", "", ReadAccessRules},
	{"PATCH", "/api/v1/accounts/{id}/roles/{role_id}", "", ManageAccessRules},
	{"PATCH", "/api/v1/accounts/{id}/roles/{role_id}", "builtin", ManageAccessRules},
	{"DELETE", "/api/v1/accounts/{id}/roles/{role_id}", "", ManageAccessRules},
	{"DELETE", "/api/v1/accounts/{id}/roles/{role_id}", "builtin", ManageAccessRules},
	{"GET", "/api/v1/accounts/{id}/folders", "", ReadFolders},
	{"POST", "/api/v1/accounts/{id}/folders", "", ManageFolders},
	{"POST", "/api/v1/accounts/{id}/folders", "folder-manager", ManageFolders},
	{"GET", "/api/v1/accounts/{id}/folders/{folder_id}", "", ReadFolders},
	{"PATCH", "/api/v1/accounts/{id}/folders/{folder_id}", "", ManageFolders},
	{"PATCH", "/api/v1/accounts/{id}/folders/{folder_id}", "folder-hidden", ManageFolders},
	{"DELETE", "/api/v1/accounts/{id}/folders/{folder_id}", "", ManageFolders},
	{"GET", "/api/v1/accounts/{id}/folders/{folder_id}/grants", "", ReadAccessRules},
	{"POST", "/api/v1/accounts/{id}/folders/{folder_id}/grants", "", ManageAccessRules},
	{"DELETE", "/api/v1/accounts/{id}/folders/{folder_id}/grants/{grant_id}", "", ManageAccessRules},
	{"GET", "/api/v1/accounts/{id}/groups", "", ReadAccessRules},
	{"POST", "/api/v1/accounts/{id}/groups", "", ManageAccessRules},
	{"GET", "/api/v1/accounts/{id}/groups/{group_id}", "", ReadAccessRules},
	{"PATCH", "/api/v1/accounts/{id}/groups/{group_id}", "", ManageAccessRules},
	{"DELETE", "/api/v1/accounts/{id}/groups/{group_id}", "", ManageAccessRules},
	{"POST", "/api/v1/accounts/{id}/groups/{group_id}/members", "", ManageAccessRules},
	{"DELETE", "/api/v1/accounts/{id}/groups/{group_id}/members/{user_id}", "", ManageAccessRules},

	{"POST", "/api/v1/accounts/{id}/remote-monitoring-user", "", ManageRemoteMonitoring},
	{"POST", "/api/v1/accounts/{id}/remote-monitoring-user", "client-admins-allowed", ManageRemoteMonitoring},
	{"GET", "/api/v1/accounts/{id}/remote-monitoring-user/connection-details", "", ManageRemoteMonitoring},
	{"POST", "/api/v1/accounts/{id}/remote-monitoring-user/credentials", "", ManageRemoteMonitoring},

	{"GET", "/api/v1/accounts/{id}/invitations", "", ReadMembers},
	{"POST", "/api/v1/accounts/{id}/invitations/bulk", "user", AddMember},
	{"GET", "/api/v1/accounts/{id}/invitations/bulk/{preview_id}", "user", AddMember},
	{"GET", "/api/v1/accounts/{id}/invitations/bulk/{preview_id}/rows", "user", AddMember},
	{"POST", "/api/v1/accounts/{id}/invitations/bulk/{preview_id}/confirm", "user", AddMember},
	{"GET", "/api/v1/invitations/{id}", "", ReadMembers},
	{"POST", "/api/v1/invitations/{id}/resend", "admin", AddMember},
	{"POST", "/api/v1/invitations/{id}/resend", "user", AddMember},
	{"POST", "/api/v1/invitations/{id}/cancel", "admin", AddMember},
	{"POST", "/api/v1/invitations/{id}/cancel", "user", AddMember},
}
