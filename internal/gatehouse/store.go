package gatehouse

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"
)

// User is one identity: a global username that may be registered to many
// accounts (SPEC R-U1).
type User struct {
	ID        string
	Username  string // as typed; unique without regard to case
	FirstName string
	LastName  string
	Language  string
	// Phone is the mobile number in E.164 form, or "".
	Phone string
	// UserType is a free label of the person's role at the site (R-U7).
	UserType string
	// IdentityProviderID is the provider the identity signs in through,
	// or "" for a local password (R-U5).
	IdentityProviderID string
	Status             UserStatus
	CreatedAt          time.Time
}

// UserStatus tells whether an identity has activated (set a password or
// signed in through its identity provider).
type UserStatus string

const (
	UserPending UserStatus = "pending"
	UserActive  UserStatus = "active"
)

// MembershipStatus is the life cycle of one user in one account (SPEC R-M1).
type MembershipStatus string

const (
	MembershipCreating           MembershipStatus = "creating"
	MembershipActivationRequired MembershipStatus = "activation_required"
	MembershipActive             MembershipStatus = "active"
)

// Membership registers a user to an account with a level.
type Membership struct {
	ID        string
	AccountID string
	UserID    string
	Level     Level
	Status    MembershipStatus
	// Email is where mail about this account goes (SPEC R-U3).
	Email string
	// Description says what a remote monitoring user is for (R-RM1).
	Description   string
	HomeFolderID  string
	Notifications Notifications
	// AddedBy is the actor id of whoever added the member.
	AddedBy   string
	CreatedAt time.Time
}

// AuditEvent records one change or security event (SPEC R-X1).
type AuditEvent struct {
	ID         string
	AccountID  string // empty for platform-wide events
	At         time.Time
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	IP         string
	RequestID  string
}

// AuditFilter selects one account's audit events, newest first.
type AuditFilter struct {
	AccountID string
	// ActionPrefix keeps the events whose action starts with it ("user."
	// for every change of users); ActorID those of one actor.
	ActionPrefix string
	ActorID      string
	Page         PageRequest
}

// DefaultPageLimit and MaxPageLimit bound list sizes (API.md "Conventions").
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// PageRequest asks for one page of a list: at most Limit items after the
// position encoded in Cursor (opaque to clients).
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// Store is the persistence contract. Every method returns ENOTFOUND for a
// missing row and ECONFLICT for a broken uniqueness rule; other errors are
// internal. Implementations: SQLite and PostgreSQL (internal/store), both
// held to the same contract suite (internal/store/storetest).
type Store interface {
	Reader
	Outbox
	// Write runs fn in one write transaction and commits when fn returns nil.
	// On SQLite the transaction takes the write lock at its start, so reads
	// inside fn see what later writes will be checked against.
	Write(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Reader holds the reads, available outside and inside a transaction.
type Reader interface {
	Account(ctx context.Context, id string) (Account, error)
	ListAccounts(ctx context.Context, f AccountFilter) (Page[Account], error)
	ListAuditEvents(ctx context.Context, f AuditFilter) (Page[AuditEvent], error)
	// AccessTo returns the user's active levels on the account and, for a
	// client account, on its integrator. A scoped principal holds nothing
	// outside its scope.
	AccessTo(ctx context.Context, p Principal, account Account) (Access, error)
	// APITokenByHash returns a live token by the SHA-256 of its secret, or
	// ENOTFOUND.
	APITokenByHash(ctx context.Context, hash []byte, now time.Time) (APIToken, error)
	User(ctx context.Context, id string) (User, error)
	// UserByUsername finds an identity by its username without regard to case.
	UserByUsername(ctx context.Context, username string) (User, error)
	// Member returns one membership of the account with its identity.
	Member(ctx context.Context, accountID, membershipID string) (Member, error)
	// MemberByUser returns the user's membership of the account, whatever
	// its status, or ENOTFOUND.
	MemberByUser(ctx context.Context, accountID, userID string) (Member, error)
	// ListMembers lists an account's memberships, oldest first.
	ListMembers(ctx context.Context, accountID string, page PageRequest) (Page[Member], error)
	Invitation(ctx context.Context, id string) (Invitation, error)
	// InvitationByTokenHash finds an invitation by the SHA-256 of its link's
	// secret, whatever its status, or ENOTFOUND.
	InvitationByTokenHash(ctx context.Context, hash []byte) (Invitation, error)
	// PendingInvitationsOf lists the invitations of an identity that wait
	// for its activation, expired ones included.
	PendingInvitationsOf(ctx context.Context, userID string) ([]Invitation, error)
	// ListInvitations lists an account's invitations, newest first; status
	// "" lists all, and pending and expired are told apart at now.
	ListInvitations(ctx context.Context, accountID string, status InvitationStatus, now time.Time, page PageRequest) (Page[Invitation], error)
	// Credentials returns what sign-in checks of the identity with this
	// username (without regard to case), or ENOTFOUND.
	Credentials(ctx context.Context, username string) (Credentials, error)
	// HasActiveAdminMembership tells whether the identity must use a second
	// factor (R-P4): it administers an account, is an operator, or an
	// administrator required one of it.
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	// Operators lists the identities that are operators.
	Operators(ctx context.Context) ([]User, error)
	// MembershipsOf lists an identity's memberships with their accounts.
	MembershipsOf(ctx context.Context, userID string) ([]MembershipSummary, error)
	MFAChallengeByHash(ctx context.Context, hash []byte) (MFAChallenge, error)
	SessionByHash(ctx context.Context, hash []byte) (Session, error)
	// RemoteMonitoringUser returns the account's remote monitoring member,
	// or ENOTFOUND.
	RemoteMonitoringUser(ctx context.Context, accountID string) (Member, error)
	// SealedPassword returns a service identity's sealed password.
	SealedPassword(ctx context.Context, userID string) (string, error)

	// AuthzVersion returns the account's authz version (and its
	// integrator's), which every change of its access rules raises
	// (BumpAuthzVersion), or ENOTFOUND.
	AuthzVersion(ctx context.Context, accountID string) (AuthzVersion, error)
	// AccessSnapshot reads everything that decides checks in the account.
	AccessSnapshot(ctx context.Context, accountID string) (AccessSnapshot, error)
	// Role returns a custom role of the account by id; RoleByName by its name
	// without regard to case.
	Role(ctx context.Context, accountID, id string) (Role, error)
	RoleByName(ctx context.Context, accountID, name string) (Role, error)
	// ListRoles lists the account's custom roles by name.
	ListRoles(ctx context.Context, accountID string) ([]Role, error)
	// RoleInUse tells whether a membership, group or grant holds the role.
	RoleInUse(ctx context.Context, accountID, roleID string) (bool, error)
	Folder(ctx context.Context, accountID, id string) (Folder, error)
	// FolderLineage returns the folder and its ancestors, the folder first,
	// or ENOTFOUND.
	FolderLineage(ctx context.Context, accountID, id string) ([]Folder, error)
	// FolderHeight counts the levels of the subtree under a folder, itself
	// included.
	FolderHeight(ctx context.Context, accountID, id string) (int, error)
	FolderHasChildren(ctx context.Context, accountID, id string) (bool, error)
	// ReachesFolder tells whether grants to the user or their groups cover
	// the folder, or a group gives them a role account-wide.
	ReachesFolder(ctx context.Context, accountID, userID, folderID string) (bool, error)
	Group(ctx context.Context, accountID, id string) (Group, error)
	ListGroups(ctx context.Context, accountID string, page PageRequest) (Page[Group], error)
	GroupMemberIDs(ctx context.Context, accountID, groupID string) ([]string, error)
	Grant(ctx context.Context, accountID, id string) (Grant, error)
	FolderGrants(ctx context.Context, accountID, folderID string) ([]Grant, error)
	// CheckTokenByHash returns a live check token by the SHA-256 of its
	// secret, or ENOTFOUND.
	CheckTokenByHash(ctx context.Context, hash []byte) (CheckToken, error)
	ListCheckTokens(ctx context.Context) ([]CheckToken, error)

	// BulkPreview returns a preview of the account, or ENOTFOUND;
	// BulkPreviewByID one of any account, for the job that applies it.
	BulkPreview(ctx context.Context, accountID, id string) (BulkPreview, error)
	BulkPreviewByID(ctx context.Context, id string) (BulkPreview, error)
	// ClientUsers is how many client users count against the account's
	// limit now, pending ones included (R-L1).
	ClientUsers(ctx context.Context, accountID string) (int, error)
	// BulkRows returns up to limit lines of a preview after the given line,
	// in order; inviteOnly keeps the lines whose outcome is invite.
	BulkRows(ctx context.Context, previewID string, afterLine, limit int, inviteOnly bool) ([]BulkRow, error)
	// UsernameStates tells, for each username (by UsernameKey), whether an
	// identity has it, is active, and is a user of the account.
	UsernameStates(ctx context.Context, accountID string, usernames []string) (map[string]UsernameState, error)
	// APITokensOf lists a user's live tokens for an account, newest first.
	APITokensOf(ctx context.Context, userID, accountID string, now time.Time) ([]APIToken, error)
	// UserPhoto returns an identity's thumbnail, or ENOTFOUND.
	UserPhoto(ctx context.Context, userID string) ([]byte, error)
	// SignInLockedUntil returns the latest end of a running lock among the
	// subjects, or the zero time (R-S3).
	SignInLockedUntil(ctx context.Context, subjects []string, now time.Time) (time.Time, error)
	// DueBulkJobs lists confirmed previews whose job no node holds.
	DueBulkJobs(ctx context.Context, now time.Time) ([]BulkPreview, error)

	// IdentityProvider returns a provider, or ENOTFOUND.
	IdentityProvider(ctx context.Context, id string) (IdentityProvider, error)
	// IdentityProviders lists the providers owned by the given accounts ("" is
	// the platform), oldest first; nil owners lists every provider.
	IdentityProviders(ctx context.Context, owners []string) ([]IdentityProvider, error)
	// IdentityProviderUsers counts the identities that sign in through a
	// provider.
	IdentityProviderUsers(ctx context.Context, id string) (int, error)
	// UserByProviderSubject finds the identity bound to a provider's
	// subject, or ENOTFOUND.
	UserByProviderSubject(ctx context.Context, providerID, subject string) (User, error)
	// RecoveryCodesLeft counts an identity's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	// NotificationRecipients lists the active members of an account who
	// enabled external notifications.
	NotificationRecipients(ctx context.Context, accountID string) ([]NotificationRecipient, error)
	// SessionsOf lists an identity's live sessions, newest first.
	SessionsOf(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// PasswordResetUserID returns the identity of a live, unused reset
	// link, or ENOTFOUND.
	PasswordResetUserID(ctx context.Context, hash []byte, now time.Time) (string, error)
	// AccountNotificationByKey finds a notification sent to the account
	// with this idempotency key, or ENOTFOUND.
	AccountNotificationByKey(ctx context.Context, accountID, key string) (AccountNotification, error)
}

// Tx is one write transaction.
type Tx interface {
	Reader
	InsertAccount(ctx context.Context, a Account) error
	UpdateAccount(ctx context.Context, a Account) error
	InsertAuditEvent(ctx context.Context, e AuditEvent) error
	InsertUser(ctx context.Context, u User) error
	// InsertUserIfAbsent stores u unless its username is taken, and returns
	// the identity the username now has: u, or the one that was there. Ten
	// concurrent adds of one new username thus yield one identity (R-U1).
	InsertUserIfAbsent(ctx context.Context, u User) (stored User, created bool, err error)
	// InsertMembership returns ECONFLICT when the user is already a member.
	InsertMembership(ctx context.Context, m Membership) error
	// SetMembershipRoles replaces the role ids of a membership of the account.
	SetMembershipRoles(ctx context.Context, accountID, membershipID string, roleIDs []string) error
	SetMembershipHomeFolder(ctx context.Context, accountID, membershipID, folderID string) error
	// DeleteMembership removes a membership of the account with the user's
	// grants and group places there, or ENOTFOUND.
	DeleteMembership(ctx context.Context, accountID, membershipID string) error
	// ReserveClientUserSlot counts one more client user against the
	// account's limit, or fails with EUSERLIMIT when it is reached. It is a
	// guarded update, so the limit holds under any concurrency (R-L1).
	ReserveClientUserSlot(ctx context.Context, accountID string) error
	// ReleaseClientUserSlot gives a slot back (removal, cancellation).
	ReleaseClientUserSlot(ctx context.Context, accountID string) error
	InsertInvitation(ctx context.Context, inv Invitation) error
	// EndInvitation moves a pending invitation to accepted or cancelled. It
	// fails with ENOTFOUND when the invitation is no longer pending, so a
	// link is used once even when two requests race (single use).
	EndInvitation(ctx context.Context, accountID, id string, status InvitationStatus, now time.Time) error
	// InsertServiceUser stores an active service identity with its password
	// hash and the password sealed for showing again.
	InsertServiceUser(ctx context.Context, u User, passwordHash, passwordSealed string) error
	// SetServicePassword replaces a service identity's password.
	SetServicePassword(ctx context.Context, userID, passwordHash, passwordSealed string) error
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// CancelInvitationsOf ends the pending invitations of a membership.
	CancelInvitationsOf(ctx context.Context, accountID, membershipID string, now time.Time) error
	// RenewInvitation gives a pending invitation a new link secret, sender
	// and expiry; the old link dies with its hash. ENOTFOUND when it is not
	// pending.
	RenewInvitation(ctx context.Context, accountID, id string, hash []byte, sentBy string, sentAt, expiresAt time.Time) error
	// UpdateUser stores the names, language, phone, user type and username
	// of an identity; ECONFLICT when the username is taken.
	UpdateUser(ctx context.Context, u User) error
	// ActivateUser makes a pending identity active with its password hash;
	// ENOTFOUND when it is not pending.
	ActivateUser(ctx context.Context, userID, passwordHash string, now time.Time) error
	SetMembershipStatus(ctx context.Context, accountID, membershipID string, status MembershipStatus) error
	InsertMFAChallenge(ctx context.Context, c MFAChallenge) error
	// UseMFAChallenge marks a challenge used; ENOTFOUND if it already was.
	UseMFAChallenge(ctx context.Context, id string, now time.Time) error
	// UseTOTPStep records that the code of this time step was used, and
	// fails with ENOTFOUND for a step at or before the last one used: a code
	// works once. secret, when not "", enrolls that sealed key.
	UseTOTPStep(ctx context.Context, userID string, step int64, secret string) error
	InsertSession(ctx context.Context, s Session) error
	TouchSession(ctx context.Context, id string, now time.Time) error
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// EnqueueMessage queues an e-mail in the same transaction as its cause.
	EnqueueMessage(ctx context.Context, m Message) error
	InsertAPIToken(ctx context.Context, t APIToken) error

	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	// InsertRole, UpdateRole: ECONFLICT when the name is taken.
	InsertRole(ctx context.Context, r Role) error
	UpdateRole(ctx context.Context, r Role) error
	DeleteRole(ctx context.Context, accountID, id string) error
	// InsertFolder, UpdateFolder: ECONFLICT when a sibling has the name.
	InsertFolder(ctx context.Context, f Folder) error
	UpdateFolder(ctx context.Context, f Folder) error
	// DeleteFolder removes a folder without subfolders, its grants, and the
	// home folder choices naming it.
	DeleteFolder(ctx context.Context, accountID, id string) error
	// InsertGroup, UpdateGroup store a group with its roles; ECONFLICT when
	// the name is taken.
	InsertGroup(ctx context.Context, g Group) error
	UpdateGroup(ctx context.Context, g Group) error
	// DeleteGroup removes a group with its members, roles and grants.
	DeleteGroup(ctx context.Context, accountID, id string) error
	// AddGroupMember: ECONFLICT when the user is in the group already.
	AddGroupMember(ctx context.Context, accountID, groupID, userID string) error
	RemoveGroupMember(ctx context.Context, accountID, groupID, userID string) error
	// InsertGrant: ECONFLICT when the same grant exists.
	InsertGrant(ctx context.Context, g Grant) error
	DeleteGrant(ctx context.Context, accountID, id string) error
	InsertCheckToken(ctx context.Context, t CheckToken, hash []byte) error
	RevokeCheckToken(ctx context.Context, id string, now time.Time) error

	// InsertBatch writes a batch's rows; ECONFLICT when a membership exists
	// already. Memberships raise their accounts' authz versions.
	InsertBatch(ctx context.Context, b WriteBatch) error
	// InsertUsersIfAbsent stores the identities whose usernames are free;
	// read them back by username to learn which identity each has.
	InsertUsersIfAbsent(ctx context.Context, users []User) error
	// UsersByUsername finds identities by username without regard to case,
	// keyed by UsernameKey.
	UsersByUsername(ctx context.Context, usernames []string) (map[string]User, error)
	// ReserveClientUserSlots counts up to n more client users against the
	// account's limit and returns how many it could (R-L1).
	ReserveClientUserSlots(ctx context.Context, accountID string, n int) (int, error)
	// CountSignInFailure counts one failed sign-in of a subject and returns
	// the count; failures older than window (0: none) are forgotten first.
	// At limit the subject is locked for lockFor, its count starts again,
	// and it returns locked.
	CountSignInFailure(ctx context.Context, subject string, now time.Time, window time.Duration, limit int, lockFor time.Duration) (failures int, locked bool, err error)
	// RevokeAPIToken ends a user's token for an account, or ENOTFOUND.
	RevokeAPIToken(ctx context.Context, userID, accountID, id string, now time.Time) error
	// TouchAPIToken records a use of a token, at most once a minute.
	TouchAPIToken(ctx context.Context, id string, now time.Time) error
	// SetUserPhoto stores an identity's thumbnail, replacing any.
	SetUserPhoto(ctx context.Context, userID string, image []byte, now time.Time) error
	// ClearSignInFailures forgets a subject's failures and lock.
	ClearSignInFailures(ctx context.Context, subject string) error
	InsertBulkPreview(ctx context.Context, p BulkPreview) error
	InsertBulkRows(ctx context.Context, previewID string, rows []BulkRow) error
	// UpdateBulkPreview stores a preview's status, counts, progress and
	// lease.
	UpdateBulkPreview(ctx context.Context, p BulkPreview) error
	// StartBulkConfirm moves a previewed preview to confirming; ENOTFOUND
	// when it is not previewed (another confirm won).
	StartBulkConfirm(ctx context.Context, accountID, id string) error
	// ClaimBulkJob leases a confirming preview's job to worker until the
	// given time, unless another worker's lease runs at now; ENOTFOUND then.
	ClaimBulkJob(ctx context.Context, id, worker string, until, now time.Time) error
	// SetBulkRowResults stores the Result and Message of lines of a preview.
	SetBulkRowResults(ctx context.Context, previewID string, rows []BulkRow) error
	DeleteBulkPreview(ctx context.Context, id string) error
	// DeleteBulkPreviewsBefore removes previews (with their lines) that
	// expired unconfirmed, or finished, before the given time.
	DeleteBulkPreviewsBefore(ctx context.Context, before time.Time) error

	// ResendSMSCode replaces the code of an unused SMS challenge and counts
	// the send, unless the last was sent after notBefore or maxSends were
	// sent: ENOTFOUND then (resends are throttled, R-S2).
	ResendSMSCode(ctx context.Context, id string, codeHash []byte, now, notBefore time.Time, maxSends int) error
	// SetMFAMethod stores an identity's second factor: for MFATOTP the
	// sealed key, for MFASMS and MFANone no key.
	// For MFASMS, phone is the number the confirming code was sent to.
	SetMFAMethod(ctx context.Context, userID, method, sealedTOTP, phone string) error
	// ReplaceRecoveryCodes replaces an identity's recovery codes by these
	// hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// UseRecoveryCode marks an unused code of the identity used; ENOTFOUND
	// when there is none with this hash.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) error
	InsertIdentityProvider(ctx context.Context, p IdentityProvider) error
	DeleteIdentityProvider(ctx context.Context, id string) error
	InsertOIDCLogin(ctx context.Context, l OIDCLogin) error
	// UseOIDCLogin marks the live, unused trip with this state hash used and
	// returns it; ENOTFOUND otherwise. One statement, so a state works once.
	UseOIDCLogin(ctx context.Context, stateHash []byte, now time.Time) (OIDCLogin, error)
	// BindProviderSubject binds an identity of the provider to the
	// provider's subject; ENOTFOUND when the identity is bound to another
	// subject, ECONFLICT when another identity has this one.
	BindProviderSubject(ctx context.Context, userID, providerID, subject string) error
	InsertUsernameChange(ctx context.Context, c UsernameChange) error
	// UseUsernameChange marks the live, unused change with this link hash
	// used and returns it; ENOTFOUND otherwise.
	UseUsernameChange(ctx context.Context, hash []byte, now time.Time) (UsernameChange, error)
	SetMembershipNotifications(ctx context.Context, accountID, membershipID string, n Notifications) error
	// InsertAccountNotification: ECONFLICT when the key was used already.
	InsertAccountNotification(ctx context.Context, n AccountNotification) error
	// InsertPasswordReset stores a reset link's hash for an identity.
	InsertPasswordReset(ctx context.Context, id, userID string, hash []byte, createdAt, expiresAt time.Time) error
	// UsePasswordReset marks the live, unused link with this hash used and
	// returns its identity; ENOTFOUND otherwise. Using one link ends the
	// identity's other links too.
	UsePasswordReset(ctx context.Context, hash []byte, now time.Time) (userID string, err error)
	// SetPassword replaces an active identity's password hash.
	SetPassword(ctx context.Context, userID, passwordHash string) error
	// RevokeUserSession ends one live session of the identity, or
	// ENOTFOUND.
	RevokeUserSession(ctx context.Context, userID, id string, now time.Time) error
	// RevokeOtherSessions ends every session of the identity but keepID.
	RevokeOtherSessions(ctx context.Context, userID, keepID string, now time.Time) error
	// RequireMFA makes a second factor mandatory for the identity.
	RequireMFA(ctx context.Context, userID string) error
	// SetOperator makes an identity an operator or takes the power away.
	SetOperator(ctx context.Context, userID string, operator bool) error
	// PurgeExpired removes what ended before the given time and can never
	// be used again: sessions, second-factor challenges, trips to identity
	// providers, username-change links, and sign-in counts without a lock
	// that are spent (a source's) or zero (a username's after its lock).
	PurgeExpired(ctx context.Context, before time.Time) error
}

// WriteBatch holds the rows one use case inserts together: a store writes
// each table's rows in a few statements. Adding one user is a batch of one;
// a chunk of a bulk job, a batch of hundreds.
type WriteBatch struct {
	Memberships []Membership
	// MembershipRoles pairs a membership id with a role id.
	MembershipRoles [][2]string
	Invitations     []Invitation
	Messages        []Message
	AuditEvents     []AuditEvent
}

// Add appends another batch's rows.
func (b *WriteBatch) Add(o WriteBatch) {
	b.Memberships = append(b.Memberships, o.Memberships...)
	b.MembershipRoles = append(b.MembershipRoles, o.MembershipRoles...)
	b.Invitations = append(b.Invitations, o.Invitations...)
	b.Messages = append(b.Messages, o.Messages...)
	b.AuditEvents = append(b.AuditEvents, o.AuditEvents...)
}

// EncodeCursor makes the cursor of a list from the sort key of a page's last
// item: base64 of a JSON array, so clients cannot come to depend on its shape.
func EncodeCursor(key ...string) string {
	b, _ := json.Marshal(key) // a []string always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor of exactly n parts; "" means the first page.
func DecodeCursor(cursor string, n int) ([]string, error) {
	if cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var key []string
	if err == nil {
		err = json.Unmarshal(raw, &key)
	}
	if err != nil || len(key) != n {
		return nil, Invalid("cursor", "cursor is not one this list gave out")
	}
	return key, nil
}
