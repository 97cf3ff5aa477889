package policy

import (
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// matrix is who may do what, written by hand as data: one row per route
// and case, one letter per column of Columns (OP, IA, IA→C, IU, IU→C, CA,
// CU, RM, X, TOK, CHK). A allowed; F forbidden (403); N not found (404, the
// actor learns nothing of the target); S shared identity (403: the person
// also belongs to accounts the actor does not manage).
var matrix = []struct{ method, path, variant, want string }{
	{"POST", "/api/v1/activate", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/mfa", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/mfa/resend", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/mfa/sms", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/mfa/passkey/options", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/mfa/passkey", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/passkey/options", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/sessions/passkey", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/activate/passkey/options", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/activate/passkey", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/username-confirmations", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/password-resets", "", "A A A A A A A A A A A"},
	{"POST", "/api/v1/password-resets/confirm", "", "A A A A A A A A A A A"},
	{"DELETE", "/api/v1/sessions/current", "", "A A A A A A A A A A F"},
	{"GET", "/api/v1/me", "", "A A A A A A A A A A F"},
	{"GET", "/api/v1/me/sessions", "", "A A A A A A A A A F F"},
	{"DELETE", "/api/v1/me/sessions/{session_id}", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/password", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/password", "provider", "F F F F F F F F F F F"},
	{"POST", "/api/v1/me/password", "service", "F F F F F F F F F F F"},
	{"POST", "/api/v1/me/mfa/totp", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/mfa/totp", "service", "F F F F F F F F F F F"},
	{"POST", "/api/v1/me/mfa/totp/confirm", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/mfa/sms", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/mfa/sms/confirm", "", "A A A A A A A A A F F"},
	{"DELETE", "/api/v1/me/mfa", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/mfa/recovery-codes", "", "A A A A A A A A A F F"},
	{"GET", "/api/v1/me/passkeys", "", "A A A A A A A A A A F"},
	{"POST", "/api/v1/me/passkeys/options", "", "A A A A A A A A A F F"},
	{"POST", "/api/v1/me/passkeys/options", "service", "F F F F F F F F F F F"},
	{"POST", "/api/v1/me/passkeys", "", "A A A A A A A A A F F"},
	{"DELETE", "/api/v1/me/passkeys/{passkey_id}", "", "A A A A A A A A A F F"},
	{"PATCH", "/api/v1/users/{user_id}", "self", "A A A A A A A A A F F"},
	{"PATCH", "/api/v1/users/{user_id}", "here", "A A A F A A N N N F F"},
	{"PATCH", "/api/v1/users/{user_id}", "shared", "A S S F S S N N N S F"},
	{"PATCH", "/api/v1/users/{user_id}", "service", "F F F F F F F F F F F"},
	{"PUT", "/api/v1/users/{user_id}/photo", "here", "A A A F A A N N N F F"},
	{"PUT", "/api/v1/users/{user_id}/photo", "shared", "A S S F S S N N N S F"},
	{"GET", "/api/v1/users/{user_id}/photo", "here", "A A A A A A N N N A F"},
	{"GET", "/api/v1/users/{user_id}/photo", "shared", "A A A A A A N N N A F"},
	{"DELETE", "/api/v1/users/{user_id}/sign-in-lock", "self", "F F F F F F F F F F F"},
	{"DELETE", "/api/v1/users/{user_id}/sign-in-lock", "here", "A A A F A A N N N F F"},
	{"DELETE", "/api/v1/users/{user_id}/sign-in-lock", "shared", "A S S F S S N N N S F"},
	{"DELETE", "/api/v1/users/{user_id}/mfa", "self", "F F F F F F F F F F F"},
	{"DELETE", "/api/v1/users/{user_id}/mfa", "here", "A A A F A A N N N F F"},
	{"DELETE", "/api/v1/users/{user_id}/mfa", "shared", "A S S F S S N N N S F"},
	{"DELETE", "/api/v1/users/{user_id}/sessions", "self", "F F F F F F F F F F F"},
	{"DELETE", "/api/v1/users/{user_id}/sessions", "here", "A A A F A A N N N F F"},
	{"DELETE", "/api/v1/users/{user_id}/sessions", "shared", "A S S F S S N N N S F"},
	{"POST", "/api/v1/check", "", "A F F F F F F F F F A"},
	{"POST", "/api/v1/check/batch", "", "A F F F F F F F F F A"},
	{"POST", "/api/v1/check-tokens", "", "A F F F F F F F F F F"},
	{"GET", "/api/v1/check-tokens", "", "A F F F F F F F F F F"},
	{"DELETE", "/api/v1/check-tokens/{token_id}", "", "A F F F F F F F F F F"},
	{"POST", "/api/v1/oidc-clients", "", "A F F F F F F F F F F"},
	{"GET", "/api/v1/oidc-clients", "", "A F F F F F F F F F F"},
	{"DELETE", "/api/v1/oidc-clients/{client_id}", "", "A F F F F F F F F F F"},
	{"POST", "/api/v1/oidc-clients", "integrator", "A A F F F F F F N F F"},
	{"GET", "/api/v1/oidc-clients", "integrator", "A A F F F F F F N F F"},
	{"DELETE", "/api/v1/oidc-clients/{client_id}", "integrator", "A A F F F F F F N F F"},
	{"GET", "/api/v1/brand", "", "A F F F F F F F F F F"},
	{"PUT", "/api/v1/brand", "", "A F F F F F F F F F F"},
	{"PUT", "/api/v1/brand/logo", "", "A F F F F F F F F F F"},
	{"GET", "/api/v1/brand/messages/{kind}/preview", "", "A F F F F F F F F F F"},
	{"GET", "/api/v1/accounts/{id}/brand", "", "A A F F F F F F N F F"},
	{"PUT", "/api/v1/accounts/{id}/brand", "", "A A F F F F F F N F F"},
	{"PUT", "/api/v1/accounts/{id}/brand/logo", "", "A A F F F F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/brand/messages/{kind}/preview", "", "A A F F F F F F N F F"},
	{"GET", "/api/v1/operators", "", "A F F F F F F F F F F"},
	{"PUT", "/api/v1/operators/{user_id}", "", "A F F F F F F F F F F"},
	{"DELETE", "/api/v1/operators/{user_id}", "", "A F F F F F F F F F F"},
	{"DELETE", "/api/v1/operators/{user_id}", "revoke-self", "F F F F F F F F F F F"},
	{"POST", "/api/v1/identity-providers", "integrator", "A A F F F F F F N F F"},
	{"POST", "/api/v1/identity-providers", "platform", "A F F F F F F F F F F"},
	{"GET", "/api/v1/identity-providers", "", "A A A A A A A A A F F"},
	{"DELETE", "/api/v1/identity-providers/{provider_id}", "integrator", "A A F F F F F F N F F"},
	{"DELETE", "/api/v1/identity-providers/{provider_id}", "platform", "A N N N N N N N N N F"},
	{"POST", "/api/v1/accounts", "integrator", "A F F F F F F F F F F"},
	{"POST", "/api/v1/accounts", "client", "A A F A F F F F N F F"},
	{"GET", "/api/v1/accounts", "", "A A A A A A A A A F F"},
	{"GET", "/api/v1/accounts/{id}", "", "A A A A A A A A N F F"},
	{"PATCH", "/api/v1/accounts/{id}", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/suspend", "", "A F A F A F F F N F F"},
	{"POST", "/api/v1/accounts/{id}/restore", "", "A F A F A F F F N F F"},
	{"POST", "/api/v1/accounts/{id}/restore", "deleted", "A N N N N N N N N N F"},
	{"DELETE", "/api/v1/accounts/{id}", "", "A F A F F F F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/settings", "", "A F F F F F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/audit-events", "", "A A A F A A F F N F F"},
	{"GET", "/api/v1/events", "account", "A A A F A A F F N F F"},
	{"GET", "/api/v1/events", "all-accounts", "A F F F F F F F F F F"},
	{"POST", "/api/v1/accounts/{id}/notifications", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/webhooks", "", "A A A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/webhooks", "", "A A A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/webhooks/{webhook_id}", "", "A A A F A A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/webhooks/{webhook_id}", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/webhooks/{webhook_id}/rotate-secret", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/webhooks/{webhook_id}/enable", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/webhooks/{webhook_id}/ping", "", "A A A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/webhooks/{webhook_id}/deliveries", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/webhooks/{webhook_id}/replay", "", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/scim-tokens", "", "A A A F F A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/scim-tokens", "", "A A A F F A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/scim-tokens/{token_id}", "", "A A A F F A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/scim-calls", "", "A A A F F A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/scim-group-mappings", "", "A A A F F A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/scim-group-mappings", "", "A A A F F A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/scim-group-mappings", "gives-admin", "A A A F F F F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/scim-group-mappings/{mapping_id}", "", "A A A F F A F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/ServiceProviderConfig", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/ResourceTypes", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/ResourceTypes/{name}", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/Schemas", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/Schemas/{schema_id}", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/Users", "", "F F F F F F F F N F F"},
	{"POST", "/scim/v2/accounts/{id}/Users", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/Users/{scim_id}", "", "F F F F F F F F N F F"},
	{"PUT", "/scim/v2/accounts/{id}/Users/{scim_id}", "", "F F F F F F F F N F F"},
	{"PATCH", "/scim/v2/accounts/{id}/Users/{scim_id}", "", "F F F F F F F F N F F"},
	{"DELETE", "/scim/v2/accounts/{id}/Users/{scim_id}", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/Groups", "", "F F F F F F F F N F F"},
	{"POST", "/scim/v2/accounts/{id}/Groups", "", "F F F F F F F F N F F"},
	{"GET", "/scim/v2/accounts/{id}/Groups/{scim_id}", "", "F F F F F F F F N F F"},
	{"PUT", "/scim/v2/accounts/{id}/Groups/{scim_id}", "", "F F F F F F F F N F F"},
	{"PATCH", "/scim/v2/accounts/{id}/Groups/{scim_id}", "", "F F F F F F F F N F F"},
	{"DELETE", "/scim/v2/accounts/{id}/Groups/{scim_id}", "", "F F F F F F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/provider-access", "", "A F A F A A F F N F F"},
	{"PUT", "/api/v1/accounts/{id}/provider-access", "", "F F F F F A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/provider-access", "", "A F F F F A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/provider-access/requests", "", "A F A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/provider-access/requests", "", "F F A F A F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/provider-access/requests/{request_id}", "", "A F A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/provider-access/requests/{request_id}/approve", "", "F F F F F A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/provider-access/requests/{request_id}/refuse", "", "F F F F F A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/users", "admin", "A A A F A F F F N F F"},
	{"POST", "/api/v1/accounts/{id}/users", "user", "A A A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/users", "", "A A A A A A F F N A F"},
	{"GET", "/api/v1/accounts/{id}/users", "suspended", "A P A P A P P F N P F"},
	{"GET", "/api/v1/accounts/{id}/users", "integrator-suspended", "A A P A P A F F N A F"},
	{"GET", "/api/v1/accounts/{id}/users", "deleted", "A N N N N N N N N N F"},
	{"GET", "/api/v1/accounts/{id}/users/{membership_id}", "", "A A A A A A F F N A F"},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "admin", "A A A F A F F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "user", "A A A F A A F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "remote_monitoring", "F F F F F F F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "own-notifications", "A A F A F A A A N F F"},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "to-admin", "A A A F A F F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/users/{membership_id}", "own-level", "A F F F F F F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/users/{membership_id}", "admin", "A A A F A F F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/users/{membership_id}", "user", "A A A F A A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/users/{membership_id}", "remote_monitoring", "A F A F A F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/users/{membership_id}/permissions", "self", "A A A A A A A A N A F"},
	{"GET", "/api/v1/accounts/{id}/users/{membership_id}/permissions", "", "A A A A A A F F N A F"},
	{"POST", "/api/v1/accounts/{id}/api-tokens", "", "F A F A F A A F N F F"},
	{"GET", "/api/v1/accounts/{id}/api-tokens", "", "A A A A A A A A N A F"},
	{"DELETE", "/api/v1/accounts/{id}/api-tokens/{token_id}", "", "A A A A A A A A N A F"},
	{"GET", "/api/v1/accounts/{id}/roles", "", "A A A A A A F F N A F"},
	{"POST", "/api/v1/accounts/{id}/roles", "", "A A A A A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/roles/{role_id}", "", "A A A A A A F F N A F"},
	{"PATCH", "/api/v1/accounts/{id}/roles/{role_id}", "", "A A A A A A F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/roles/{role_id}", "builtin", "F F F F F F F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/roles/{role_id}", "", "A A A A A A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/roles/{role_id}", "builtin", "F F F F F F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/folders", "", "A A A A A A A A N F F"},
	{"POST", "/api/v1/accounts/{id}/folders", "", "A A A A A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/folders", "folder-manager", "A A A A A A A A N F F"},
	{"GET", "/api/v1/accounts/{id}/folders/{folder_id}", "", "A A A A A A A A N F F"},
	{"PATCH", "/api/v1/accounts/{id}/folders/{folder_id}", "", "A A A A A A F F N F F"},
	{"PATCH", "/api/v1/accounts/{id}/folders/{folder_id}", "folder-hidden", "A A A A A A N N N F F"},
	{"DELETE", "/api/v1/accounts/{id}/folders/{folder_id}", "", "A A A A A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/folders/{folder_id}/grants", "", "A A A A A A F F N A F"},
	{"POST", "/api/v1/accounts/{id}/folders/{folder_id}/grants", "", "A A A A A A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/folders/{folder_id}/grants/{grant_id}", "", "A A A A A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/groups", "", "A A A A A A F F N A F"},
	{"POST", "/api/v1/accounts/{id}/groups", "", "A A A A A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/groups/{group_id}", "", "A A A A A A F F N A F"},
	{"PATCH", "/api/v1/accounts/{id}/groups/{group_id}", "", "A A A A A A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/groups/{group_id}", "", "A A A A A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/groups/{group_id}/members", "", "A A A A A A F F N F F"},
	{"DELETE", "/api/v1/accounts/{id}/groups/{group_id}/members/{user_id}", "", "A A A A A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/remote-monitoring-user", "", "A F A F A F F F N F F"},
	{"POST", "/api/v1/accounts/{id}/remote-monitoring-user", "client-admins-allowed", "A F A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/remote-monitoring-user/connection-details", "", "A F A F A F F F N F F"},
	{"POST", "/api/v1/accounts/{id}/remote-monitoring-user/credentials", "", "A F A F A F F F N F F"},
	{"GET", "/api/v1/accounts/{id}/invitations", "", "A A A A A A F F N A F"},
	{"POST", "/api/v1/accounts/{id}/invitations/bulk", "user", "A A A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/invitations/bulk/{preview_id}", "user", "A A A F A A F F N F F"},
	{"GET", "/api/v1/accounts/{id}/invitations/bulk/{preview_id}/rows", "user", "A A A F A A F F N F F"},
	{"POST", "/api/v1/accounts/{id}/invitations/bulk/{preview_id}/confirm", "user", "A A A F A A F F N F F"},
	{"GET", "/api/v1/invitations/{id}", "", "A A A A A A F F N A F"},
	{"POST", "/api/v1/invitations/{id}/resend", "admin", "A A A F A F F F N F F"},
	{"POST", "/api/v1/invitations/{id}/resend", "user", "A A A F A A F F N F F"},
	{"POST", "/api/v1/invitations/{id}/cancel", "admin", "A A A F A F F F N F F"},
	{"POST", "/api/v1/invitations/{id}/cancel", "user", "A A A F A A F F N F F"},
}

// TestPolicyMatrix holds the policy to the table above, cell by cell.
func TestPolicyMatrix(t *testing.T) {
	rows := map[Route]string{}
	for _, m := range matrix {
		want := strings.Fields(m.want)
		if len(want) != len(Columns) {
			t.Fatalf("%s %s [%s]: %d letters for %d columns", m.method, m.path, m.variant, len(want), len(Columns))
		}
		rows[Route{Method: m.method, Path: m.path, Variant: m.variant}] = m.want
	}
	for _, r := range Routes {
		want, ok := rows[Route{Method: r.Method, Path: r.Path, Variant: r.Variant}]
		if !ok {
			t.Errorf("%s %s [%s] has no row in the matrix", r.Method, r.Path, r.Variant)
			continue
		}
		for i, letter := range strings.Fields(want) {
			if got := Letter(Explain(r, Columns[i])); got != letter {
				t.Errorf("%s %s [%s] for %s (%s): got %s, want %s", r.Method, r.Path, r.Variant, Columns[i].Name, Columns[i].About, got, letter)
			}
		}
	}
	if len(rows) != len(Routes) {
		t.Errorf("the matrix has %d rows for %d routes and cases", len(rows), len(Routes))
	}
}

// TestEveryRouteHasAnAction: an action the policy does not know would be
// refused for everyone, operators included.
func TestEveryRouteHasAnAction(t *testing.T) {
	operator := Actor{Access: gatehouse.Access{Operator: true}, Person: true, Session: true}
	for _, r := range Routes {
		err := Decide(operator, r.Action, Target{Account: gatehouse.KindClient})
		if err != nil && strings.Contains(err.Error(), "unknown action") {
			t.Errorf("%s %s: %v", r.Method, r.Path, err)
		}
		if _, ok := Variants[r.Variant]; !ok {
			t.Errorf("%s %s: variant %q is not explained in Variants", r.Method, r.Path, r.Variant)
		}
	}
}

// TestSharedIdentityNeedsEveryMembership: an administrator who manages the
// person in one account, but not in another, may not change what the two
// accounts share; one who manages both may.
func TestSharedIdentityNeedsEveryMembership(t *testing.T) {
	ia := Actor{Access: gatehouse.Access{}, Person: true, Session: true}
	theirs := gatehouse.Access{IntegratorLevel: gatehouse.LevelIntegratorAdmin}
	siteA := Membership{Account: gatehouse.KindClient, Level: gatehouse.LevelClientAdmin, Actor: theirs}
	siteB := Membership{Account: gatehouse.KindClient, Level: gatehouse.LevelClientUser, Actor: theirs}
	elsewhere := Membership{Account: gatehouse.KindClient, Level: gatehouse.LevelClientUser}

	if err := Decide(ia, EditIdentity, Target{Memberships: []Membership{siteA, siteB}}); err != nil {
		t.Errorf("an integrator administrator over both of the person's sites was refused: %v", err)
	}
	err := Decide(ia, EditIdentity, Target{Memberships: []Membership{siteA, elsewhere}, Field: "username"})
	var e *gatehouse.Error
	if gatehouse.ErrorCode(err) != gatehouse.ESHAREDIDENTITY || !asError(err, &e) || e.Field != "username" {
		t.Errorf("a person also in another integrator's site: got %v, want shared_identity at username", err)
	}
	if err := Decide(ia, EditIdentity, Target{Memberships: []Membership{elsewhere}}); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("a person the actor sees nowhere: got %v, want not found", err)
	}
	if err := Decide(ia, EditIdentity, Target{Self: true, Memberships: []Membership{elsewhere}}); err != nil {
		t.Errorf("a person changing their own profile was refused: %v", err)
	}
	operator := Actor{Access: gatehouse.Access{Operator: true}, Person: true, Session: true}
	if err := Decide(operator, EditIdentity, Target{ServiceIdentity: true}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("an operator changing the remote monitoring user's identity: got %v, want forbidden", err)
	}
}

func asError(err error, e **gatehouse.Error) bool {
	var ge *gatehouse.Error
	ok := err != nil && errors.As(err, &ge)
	*e = ge
	return ok
}

var update = flag.Bool("update", false, "rewrite docs/authorization.md from the policy")

// TestAuthorizationDocIsTheTable: docs/authorization.md shows the table
// the policy decides, so the docs cannot drift from the code. Run with
// -update after changing the policy.
func TestAuthorizationDocIsTheTable(t *testing.T) {
	const path = "../../docs/authorization.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?s)<!-- table: generated from internal/policy -->\n.*<!-- end of table -->`)
	if !section.Match(doc) {
		t.Fatalf("%s has no generated table section", path)
	}
	fresh := section.ReplaceAllLiteral(doc, []byte("<!-- table: generated from internal/policy -->\n"+Markdown()+"<!-- end of table -->"))
	if *update {
		if err := os.WriteFile(path, fresh, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(fresh) != string(doc) {
		t.Errorf("%s differs from the policy: run go test ./internal/policy -run TestAuthorizationDocIsTheTable -update", path)
	}
}

// TestSignInToAccount: who an application may sign in to an account, for
// each kind of actor in each relation to it; an integrator's own
// application signs nobody in to another integrator's accounts, whoever
// they are there; a suspended account signs nobody in.
func TestSignInToAccount(t *testing.T) {
	want := map[string]string{"OP": "F", "IA": "A", "IA→C": "A", "IU": "A", "IU→C": "A", "CA": "A", "CU": "A", "RM": "F", "X": "F", "TOK": "A", "CHK": "F"}
	for _, c := range Columns {
		got := Letter(Decide(c.Actor, SignInToAccount, Target{Account: c.Account}))
		if got != want[c.Name] {
			t.Errorf("%s (%s) signing in to the account: got %s, want %s", c.Name, c.About, got, want[c.Name])
		}
		if err := Decide(c.Actor, SignInToAccount, Target{Account: c.Account, OtherIntegratorsApplication: true}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
			t.Errorf("%s (%s) through another integrator's application: got %v, want forbidden", c.Name, c.About, err)
		}
		if want[c.Name] == "A" {
			if err := Decide(c.Actor, SignInToAccount, Target{Account: c.Account, Suspended: true}); gatehouse.ErrorCode(err) != gatehouse.EACCOUNTSUSPENDED {
				t.Errorf("%s (%s) signing in to a suspended account: got %v", c.Name, c.About, err)
			}
		}
	}
}

// TestSCIMProvisioner: an account's directory, with a SCIM token, reads and
// changes that account's people and groups at the levels its token's maker
// manages, and does nothing else, nowhere else; a suspended account stops
// it.
func TestSCIMProvisioner(t *testing.T) {
	byClientAdmin := Actor{Access: gatehouse.SCIMAccess(gatehouse.KindClient, gatehouse.LevelClientAdmin), Token: true, Provisioner: true}
	byIntegratorAdmin := Actor{Access: gatehouse.SCIMAccess(gatehouse.KindClient, gatehouse.LevelIntegratorAdmin), Token: true, Provisioner: true}
	client := Target{Account: gatehouse.KindClient}
	user := Target{Account: gatehouse.KindClient, Level: gatehouse.LevelClientUser}
	admin := Target{Account: gatehouse.KindClient, Level: gatehouse.LevelClientAdmin}
	cases := []struct {
		name  string
		actor Actor
		act   Action
		t     Target
		want  string
	}{
		{"provisions", byClientAdmin, ProvisionSCIM, client, "A"},
		{"reads the people", byClientAdmin, ReadMembers, client, "A"},
		{"adds a client user", byClientAdmin, AddMember, user, "A"},
		{"suspends a client user", byClientAdmin, ChangeMember, user, "A"},
		{"removes a client user", byClientAdmin, RemoveMember, user, "A"},
		{"changes the groups", byClientAdmin, ManageAccessRules, client, "A"},
		{"adds no administrator when made by a client administrator", byClientAdmin, AddMember, admin, "F"},
		{"raises nobody to administrator when made by a client administrator", byClientAdmin, ChangeMemberLevel, admin, "F"},
		{"adds an administrator when made by an integrator administrator", byIntegratorAdmin, AddMember, admin, "A"},
		{"raises to administrator when made by an integrator administrator", byIntegratorAdmin, ChangeMemberLevel, admin, "A"},
		{"reads no audit log", byClientAdmin, ReadAudit, client, "F"},
		{"makes no tokens", byClientAdmin, ManageSCIM, client, "F"},
		{"makes no API tokens", byClientAdmin, CreateAPIToken, client, "F"},
		{"subscribes no webhooks", byClientAdmin, ManageWebhooks, client, "F"},
		{"asks no checks", byClientAdmin, AskChecks, client, "F"},
		{"changes no folders", byClientAdmin, ManageFolders, client, "F"},
		{"sees no other account", Actor{Token: true, Provisioner: true}, ReadMembers, client, "N"},
		{"provisions no other account", Actor{Token: true, Provisioner: true}, ProvisionSCIM, client, "N"},
	}
	for _, c := range cases {
		if got := Letter(Decide(c.actor, c.act, c.t)); got != c.want {
			t.Errorf("a SCIM token %s: got %s, want %s", c.name, got, c.want)
		}
	}
	for _, suspended := range []Target{{Account: gatehouse.KindClient, Suspended: true}, {Account: gatehouse.KindClient, IntegratorSuspended: true}} {
		for _, actor := range []Actor{byClientAdmin, byIntegratorAdmin} {
			if err := Decide(actor, ProvisionSCIM, suspended); gatehouse.ErrorCode(err) != gatehouse.EACCOUNTSUSPENDED {
				t.Errorf("a SCIM token in a suspended account (%+v): got %v, want account_suspended", suspended, err)
			}
		}
	}
}
