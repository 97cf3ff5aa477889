// Package scim is the SCIM provisioning context (docs/scim.md): an
// account's directory (Microsoft Entra ID, Okta) creates, changes,
// suspends and removes the account's people and groups through SCIM 2.0
// (RFC 7643, RFC 7644), with a SCIM token its administrators made. Its use
// cases read SCIM resources and queries and call the people and access
// contexts' use cases, whose rules hold as for anyone (the client-user
// limit, shared identities, who may give which level); the policy decides
// for the directory as for the level its token acts with.
package scim

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// Service holds the SCIM use cases.
type Service struct {
	*kernel.Kernel
	store  Store
	people *people.Service
	access *access.Service
}

// New returns the SCIM use cases over the people and access contexts.
func New(k *kernel.Kernel, store Store, people *people.Service, access *access.Service) *Service {
	return &Service{Kernel: k, store: store, people: people, access: access}
}

// BasePath is the SCIM base of an account, below the public URL.
func BasePath(accountID string) string { return "/scim/v2/accounts/" + accountID }

// Base is the SCIM base URL of an account, which its directory is given.
func (s *Service) Base(accountID string) string { return s.PublicURL() + BasePath(accountID) }

// Tokens.

// NewToken is what an administrator gives to make a SCIM token.
type NewToken struct {
	Name string
	// IdentityProvider is the id of the provider the people the token
	// creates sign in through; "" for a password of their own.
	IdentityProvider string
}

// CreateToken makes a SCIM token for the account; its secret is returned
// once, only its hash is kept. The token acts with what its maker may do
// in the account when it is made: a client's administrator's provisions
// client users; an integrator administrator's (or an operator's) every
// level.
func (s *Service) CreateToken(ctx context.Context, c gatehouse.Caller, accountID string, in NewToken) (gatehouse.SCIMToken, string, error) {
	name, err := gatehouse.ValidateLabel("name", in.Name)
	if err != nil {
		return gatehouse.SCIMToken{}, "", err
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenSCIM)
	var tok gatehouse.SCIMToken
	err = s.store.Write(ctx, func(tx Tx) error {
		account, held, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.ManageSCIM, policy.Target{})
		if err != nil {
			return err
		}
		live, err := tx.SCIMTokens(ctx, account.ID)
		if err != nil {
			return err
		}
		if len(live) >= gatehouse.MaxSCIMTokens {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "the account has %d SCIM tokens already: revoke one first", len(live))
		}
		provider := strings.TrimSpace(in.IdentityProvider)
		if provider != "" {
			if err := signin.ProviderForAccount(ctx, tx, provider, account); err != nil {
				return err
			}
		}
		actsAs := gatehouse.LevelIntegratorAdmin
		if account.Kind == gatehouse.KindClient &&
			kernel.DecideOn(c, held, account, policy.AddMember, policy.Target{Level: gatehouse.LevelClientAdmin}) != nil {
			actsAs = gatehouse.LevelClientAdmin
		}
		now := s.Now()
		tok = gatehouse.SCIMToken{ID: s.NewID(), AccountID: account.ID, Name: name, Hash: hash, ActsAs: actsAs,
			IdentityProviderID: provider, CreatedBy: c.Principal.ActorID(), CreatedAt: now}
		if err := tx.InsertSCIMToken(ctx, tok); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "scim_token.created", "scim_token", tok.ID).With("name", "", name))
	})
	if err != nil {
		return gatehouse.SCIMToken{}, "", err
	}
	return tok, secret, nil
}

// Tokens lists the account's live SCIM tokens, newest first.
func (s *Service) Tokens(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.SCIMToken, error) {
	account, err := s.Authorize(ctx, s.store, c, accountID, policy.ManageSCIM)
	if err != nil {
		return nil, err
	}
	return s.store.SCIMTokens(ctx, account.ID)
}

// RevokeToken ends a SCIM token of the account at once: its directory's
// next call is refused.
func (s *Service) RevokeToken(ctx context.Context, c gatehouse.Caller, accountID, id string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		account, err := s.Authorize(ctx, tx, c, accountID, policy.ManageSCIM)
		if err != nil {
			return err
		}
		now := s.Now()
		if err := tx.RevokeSCIMToken(ctx, account.ID, id, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "scim_token.revoked", "scim_token", id))
	})
}

// Directory is an account's directory calling its SCIM base: the caller
// its token makes, and the token.
type Directory struct {
	Caller gatehouse.Caller
	Token  gatehouse.SCIMToken
}

// Authenticate turns the bearer secret of a call to an account's SCIM base
// into its directory, or fails with EUNAUTHENTICATED: an unknown or
// revoked token, and a token of another account, are refused alike.
func (s *Service) Authenticate(ctx context.Context, accountID, secret, ip, requestID string) (Directory, error) {
	refused := gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "this is no live SCIM token of this account")
	if !strings.HasPrefix(secret, gatehouse.TokenSCIM) {
		return Directory{}, refused
	}
	tok, err := s.store.SCIMTokenByHash(ctx, gatehouse.HashToken(secret))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && tok.AccountID != accountID) {
		return Directory{}, refused
	} else if err != nil {
		return Directory{}, err
	}
	now := s.Now()
	if tok.LastUsedAt.Before(now.Add(-time.Minute)) {
		// Recorded to the minute: one write a minute a token, not one a
		// call.
		if err := s.store.Write(ctx, func(tx Tx) error { return tx.TouchSCIMToken(ctx, tok.ID, now) }); err != nil {
			return Directory{}, err
		}
	}
	p := gatehouse.Principal{ScopeAccountID: tok.AccountID, SCIMTokenID: tok.ID, SCIMActsAs: tok.ActsAs}
	return Directory{Caller: gatehouse.Caller{Principal: p, IP: ip, RequestID: requestID}, Token: tok}, nil
}

// The call log.

// Limits of a call's record.
const (
	maxCallPath   = 500
	maxCallDetail = 500
)

// RecordCall writes one provisioning call in the account's log. The call
// has been answered already: its record is what the administrators read
// to see what the directory did and what was refused.
func (s *Service) RecordCall(ctx context.Context, call gatehouse.SCIMCall) error {
	call.ID, call.At = s.NewID(), s.Now()
	call.Path, call.Detail = gatehouse.Truncate(call.Path, maxCallPath), gatehouse.Truncate(call.Detail, maxCallDetail)
	switch {
	case call.Status >= 500:
		call.Outcome = gatehouse.SCIMCallFailed
	case call.Status >= 400:
		call.Outcome = gatehouse.SCIMCallRefused
	default:
		call.Outcome = gatehouse.SCIMCallOK
	}
	return s.store.Write(ctx, func(tx Tx) error { return tx.InsertSCIMCall(ctx, call) })
}

// Calls lists the account's provisioning calls, newest first.
func (s *Service) Calls(ctx context.Context, c gatehouse.Caller, accountID string, p gatehouse.PageRequest) (gatehouse.Page[gatehouse.SCIMCall], error) {
	account, err := s.Authorize(ctx, s.store, c, accountID, policy.ManageSCIM)
	if err != nil {
		return gatehouse.Page[gatehouse.SCIMCall]{}, err
	}
	return s.store.SCIMCalls(ctx, account.ID, p)
}

// PurgeCalls removes the calls older than gatehouse.SCIMCallsKept and tells
// how many. Several nodes may run it at once.
func (s *Service) PurgeCalls(ctx context.Context) (int, error) {
	var n int
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteSCIMCallsBefore(ctx, s.Now().Add(-gatehouse.SCIMCallsKept))
		return err
	})
	return n, err
}

// Group mappings.

// NewMapping says what membership of a directory group gives: a role
// (a custom role's name or id, or a built-in one) or the account's
// administrator level.
type NewMapping struct {
	Group string
	Role  string
	Level gatehouse.Level
}

// adminLevel is the administrators' level of an account of kind.
func adminLevel(kind gatehouse.AccountKind) gatehouse.Level {
	if kind == gatehouse.KindIntegrator {
		return gatehouse.LevelIntegratorAdmin
	}
	return gatehouse.LevelClientAdmin
}

// userLevel is the level of a person a directory adds to an account of
// kind.
func userLevel(kind gatehouse.AccountKind) gatehouse.Level {
	if kind == gatehouse.KindIntegrator {
		return gatehouse.LevelIntegratorUser
	}
	return gatehouse.LevelClientUser
}

// CreateMapping maps a directory group to a role or to the administrators'
// level. Only who may give that level maps a group to it. The group's
// Gatehouse group, when the directory pushed it already, is brought in
// line at once, by the caller: it holds the role; its members hold the
// level.
func (s *Service) CreateMapping(ctx context.Context, c gatehouse.Caller, accountID string, in NewMapping) (gatehouse.SCIMGroupMapping, error) {
	var check gatehouse.Validation
	group, err := gatehouse.ValidateLabel("group", in.Group)
	check.Check(err)
	role := strings.TrimSpace(in.Role)
	if (role == "") == (in.Level == "") {
		check.Check(gatehouse.Invalid("role", "give either role or level"))
	}
	if err := check.Err(); err != nil {
		return gatehouse.SCIMGroupMapping{}, err
	}
	var m gatehouse.SCIMGroupMapping
	err = s.store.Write(ctx, func(tx Tx) error {
		account, held, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.ManageSCIM, policy.Target{})
		if err != nil {
			return err
		}
		if in.Level != "" && in.Level != adminLevel(account.Kind) {
			return gatehouse.Invalid("level", "a directory group gives the level %s, or a role", adminLevel(account.Kind))
		}
		if err := kernel.DecideOn(c, held, account, policy.ManageSCIM, policy.Target{Level: in.Level}); err != nil {
			return err
		}
		now := s.Now()
		m = gatehouse.SCIMGroupMapping{ID: s.NewID(), AccountID: account.ID, GroupName: group, Level: in.Level, CreatedBy: c.Principal.ActorID(), CreatedAt: now}
		if role != "" {
			resolved, err := access.ResolveRoles(ctx, tx, account.ID, "role", []string{role})
			if err != nil {
				return err
			}
			m.RoleID, m.Role = resolved[0].ID, resolved[0].Name
		}
		if err := tx.InsertSCIMGroupMapping(ctx, m); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: "group", Message: "the group " + group + " is mapped already: remove its mapping first"}
		} else if err != nil {
			return err
		}
		gives := m.Role
		if m.Level != "" {
			gives = string(m.Level)
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "scim_mapping.created", "scim_mapping", m.ID).
			With("group", "", group).With("gives", "", gives))
	})
	if err != nil {
		return m, err
	}
	return m, s.applyMapping(ctx, c, m, true)
}

// Mappings lists the account's group mappings by group name.
func (s *Service) Mappings(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.SCIMGroupMapping, error) {
	account, err := s.Authorize(ctx, s.store, c, accountID, policy.ManageSCIM)
	if err != nil {
		return nil, err
	}
	return s.store.SCIMGroupMappings(ctx, account.ID)
}

// DeleteMapping removes a group mapping. A role mapping's role leaves the
// group; a level mapping leaves its members' levels as they are, until
// the directory next adds or removes them.
func (s *Service) DeleteMapping(ctx context.Context, c gatehouse.Caller, accountID, id string) error {
	var m gatehouse.SCIMGroupMapping
	err := s.store.Write(ctx, func(tx Tx) error {
		account, held, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.ManageSCIM, policy.Target{})
		if err != nil {
			return err
		}
		if m, err = tx.SCIMGroupMapping(ctx, account.ID, id); err != nil {
			return err
		}
		// Who may not give the level may not take its mapping away.
		if err := kernel.DecideOn(c, held, account, policy.ManageSCIM, policy.Target{Level: m.Level}); err != nil {
			return err
		}
		if err := tx.DeleteSCIMGroupMapping(ctx, account.ID, id); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), account.ID, "scim_mapping.deleted", "scim_mapping", id).
			With("group", m.GroupName, ""))
	})
	if err != nil || m.RoleID == "" {
		return err
	}
	return s.applyMapping(ctx, c, m, false)
}

// applyMapping brings the group of a mapping's name in line with it, as
// caller: given, the group holds the role (or its members the level);
// taken back, the group no longer holds the role.
func (s *Service) applyMapping(ctx context.Context, c gatehouse.Caller, m gatehouse.SCIMGroupMapping, given bool) error {
	group, found, err := s.groupNamed(ctx, m.AccountID, m.GroupName)
	if err != nil || !found {
		return err
	}
	if m.RoleID != "" {
		roles := slices.DeleteFunc(slices.Clone(group.RoleIDs), func(id string) bool { return id == m.RoleID })
		if given {
			roles = append(roles, m.RoleID)
		}
		_, err := s.access.UpdateGroup(ctx, c, m.AccountID, group.ID, access.GroupPatch{Roles: &roles})
		return err
	}
	for _, member := range group.Members {
		patch := people.MemberPatch{Level: &m.Level}
		if _, err := s.people.UpdateMember(ctx, c, m.AccountID, member.MembershipID, patch); err != nil {
			return err
		}
	}
	return nil
}

// groupNamed finds the account's group of a name, with its members.
func (s *Service) groupNamed(ctx context.Context, accountID, name string) (gatehouse.SCIMGroup, bool, error) {
	groups, _, err := s.store.SCIMGroups(ctx, accountID, &gatehouse.SCIMFilter{Op: "eq", Attribute: gatehouse.SCIMAttrDisplayName, Value: name}, 0, 1, true)
	if err != nil || len(groups) == 0 {
		return gatehouse.SCIMGroup{}, false, err
	}
	return groups[0], true, nil
}

// mappingsOf returns the account's mappings of a group name.
func (s *Service) mappingsOf(ctx context.Context, accountID, groupName string) ([]gatehouse.SCIMGroupMapping, error) {
	all, err := s.store.SCIMGroupMappings(ctx, accountID)
	return slices.DeleteFunc(all, func(m gatehouse.SCIMGroupMapping) bool {
		return gatehouse.NameKey(m.GroupName) != gatehouse.NameKey(groupName)
	}), err
}

// authorize reads the account and asks the policy whether the directory
// provisions it, then whether it may do act there.
func (s *Service) authorize(ctx context.Context, c gatehouse.Caller, accountID string, act policy.Action) (gatehouse.Account, error) {
	account, held, err := s.AuthorizeAccess(ctx, s.store, c, accountID, policy.ProvisionSCIM, policy.Target{})
	if err != nil {
		return account, err
	}
	return account, kernel.DecideOn(c, held, account, act, policy.Target{})
}
