package people

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as this context sees it: one narrow interface per group of use
// cases. Every method returns ENOTFOUND for a missing row and ECONFLICT for a
// broken uniqueness rule; other errors are internal. internal/store
// implements them on SQLite and PostgreSQL, held to one contract suite.

// EnrolmentReader is what adding a member reads.
type EnrolmentReader interface {
	kernel.Reader
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	// IdentityProvider returns a provider, or ENOTFOUND.
	IdentityProvider(ctx context.Context, id string) (gatehouse.IdentityProvider, error)
	// ReachesFolder tells whether grants to the user or their groups cover
	// the folder, or a group gives them a role account-wide.
	ReachesFolder(ctx context.Context, accountID, userID, folderID string) (bool, error)
	// Role returns a custom role of the account by id; RoleByName by its name
	// without regard to case.
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
	// UsernameStates tells, for each username (by UsernameKey), whether an
	// identity has it, is active, and is a user of the account.
	UsernameStates(ctx context.Context, accountID string, usernames []string) (map[string]gatehouse.UsernameState, error)
	// UsernameStatesByAccount is UsernameStates for several accounts at
	// once (usernames by account id), keyed by account id then UsernameKey.
	UsernameStatesByAccount(ctx context.Context, usernames map[string][]string) (map[string]map[string]gatehouse.UsernameState, error)
	// UsersByUsername finds identities by username without regard to case,
	// keyed by UsernameKey.
	UsersByUsername(ctx context.Context, usernames []string) (map[string]gatehouse.User, error)
}

// EnrolmentTx is the transaction adding a member writes in.
type EnrolmentTx interface {
	EnrolmentReader
	kernel.Writer
	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	// LockAccounts reads several accounts, keyed by id, leaving out those
	// it does not find, and locks them, in the order of their ids, until
	// the transaction ends.
	LockAccounts(ctx context.Context, ids []string) (map[string]gatehouse.Account, error)
	// InsertBatch writes a batch's rows; ECONFLICT when a membership exists
	// already. Memberships raise their accounts' authz versions.
	InsertBatch(ctx context.Context, b gatehouse.WriteBatch) error
	// InsertUsersIfAbsent stores the identities whose usernames are free,
	// and returns the keys (UsernameKey) of the usernames it stored; another
	// identity has each of the others. Ten concurrent adds of one new
	// username thus yield one identity (R-U1).
	InsertUsersIfAbsent(ctx context.Context, users []gatehouse.User) (map[string]bool, error)
	// RequireMFA makes a second factor mandatory for the identity.
	RequireMFA(ctx context.Context, userID string) error
	// ReserveClientUserSlots counts up to n more client users against the
	// account's limit and returns how many it could. It is a guarded
	// update, so the limit holds under any concurrency (R-L1).
	ReserveClientUserSlots(ctx context.Context, accountID string, n int) (int, error)
	// BumpAndReserve raises the versions of accountIDs and reserves want[id]
	// client-user slots in each at once, returning how many each got.
	BumpAndReserve(ctx context.Context, accountIDs []string, want map[string]int) (map[string]int, error)
}

// EnrolmentStore is the store as adding a member sees it.
type EnrolmentStore interface {
	EnrolmentReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(EnrolmentTx) error) error
}

// MembersReader is what reading, changing and removing members reads.
type MembersReader interface {
	kernel.Reader
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	// ListMembers lists an account's memberships, oldest first.
	ListMembers(ctx context.Context, accountID string, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Member], error)
	// UserTypes lists the user types the members of an account have.
	UserTypes(ctx context.Context, accountID string) ([]string, error)
	// FindMembers lists the members of an account the filter keeps, in id
	// order.
	FindMembers(ctx context.Context, accountID string, f gatehouse.MemberFilter) (gatehouse.Page[gatehouse.Member], error)
	// Member returns one membership of the account with its identity.
	Member(ctx context.Context, accountID, membershipID string) (gatehouse.Member, error)
	// ReachesFolder tells whether grants to the user or their groups cover
	// the folder, or a group gives them a role account-wide.
	ReachesFolder(ctx context.Context, accountID, userID, folderID string) (bool, error)
	// Role returns a custom role of the account by id; RoleByName by its name
	// without regard to case.
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
}

// MembersTx is the transaction reading, changing and removing members writes in.
type MembersTx interface {
	MembersReader
	kernel.Writer
	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	// CancelInvitationsOf ends the pending invitations of a membership.
	CancelInvitationsOf(ctx context.Context, accountID, membershipID string, now time.Time) error
	// DeleteMembership removes a membership of the account with the user's
	// grants and group places there, or ENOTFOUND.
	DeleteMembership(ctx context.Context, accountID, membershipID string) error
	// ReleaseClientUserSlot gives a slot back (removal, cancellation).
	ReleaseClientUserSlot(ctx context.Context, accountID string) error
	// ReserveClientUserSlot takes one of the account's client-user slots,
	// or fails with EUSERLIMIT when none is left.
	ReserveClientUserSlot(ctx context.Context, accountID string) error
	// Credentials returns what sign-in checks of the identity with this
	// username, its second factor among them, or ENOTFOUND.
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// RevokeOIDCAccountTokens revokes the tokens the platform's
	// applications hold for an account: the identity's, or everyone's when
	// userID is empty.
	RevokeOIDCAccountTokens(ctx context.Context, accountID, userID string, now time.Time) error
	// SetMembershipLevel moves a membership of the account to another level.
	SetMembershipLevel(ctx context.Context, accountID, membershipID string, level gatehouse.Level) error
	SetMembershipHomeFolder(ctx context.Context, accountID, membershipID, folderID string) error
	SetMembershipNotifications(ctx context.Context, accountID, membershipID string, n gatehouse.Notifications) error
	// SetMembershipExpiry sets when a membership of the account ends by
	// itself; a zero time makes it permanent.
	SetMembershipExpiry(ctx context.Context, accountID, membershipID string, end time.Time) error
	// SetMembershipRoles replaces the role ids of a membership of the account.
	SetMembershipRoles(ctx context.Context, accountID, membershipID string, roleIDs []string) error
	// SetMembershipSuspended suspends a membership of the account since at,
	// or restores it when at is zero.
	SetMembershipSuspended(ctx context.Context, accountID, membershipID string, at time.Time) error
	// SetMembershipExternalID sets the directory's id of a membership of
	// the account ("" clears it); ECONFLICT when another has it.
	SetMembershipExternalID(ctx context.Context, accountID, membershipID, externalID string) error
	// SetMembershipEmail sets where mail about the account goes for a
	// membership of the account.
	SetMembershipEmail(ctx context.Context, accountID, membershipID, email string) error
	// RevokeAPITokensOfMembership revokes the personal API tokens made
	// through a membership of the account.
	RevokeAPITokensOfMembership(ctx context.Context, accountID, membershipID string, now time.Time) error
	// IsOperator tells whether the identity is an operator.
	IsOperator(ctx context.Context, userID string) (bool, error)
}

// MembersStore is the store as reading, changing and removing members sees it.
type MembersStore interface {
	MembersReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(MembersTx) error) error
}

// InvitationsReader is what invitations reads.
type InvitationsReader interface {
	kernel.Reader
	Invitation(ctx context.Context, id string) (gatehouse.Invitation, error)
	// ListInvitations lists an account's invitations, newest first; status
	// "" lists all, and pending and expired are told apart at now.
	ListInvitations(ctx context.Context, accountID string, status gatehouse.InvitationStatus, now time.Time, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Invitation], error)
	// FindInvitations lists the invitations of an account the filter
	// keeps, newest first; pending and expired are told apart at now.
	FindInvitations(ctx context.Context, accountID string, f gatehouse.InvitationFilter, now time.Time) (gatehouse.Page[gatehouse.Invitation], error)
	// Member returns one membership of the account with its identity.
	Member(ctx context.Context, accountID, membershipID string) (gatehouse.Member, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// InvitationsTx is the transaction invitations writes in.
type InvitationsTx interface {
	InvitationsReader
	kernel.Writer
	// DeleteMembership removes a membership of the account with the user's
	// grants and group places there, or ENOTFOUND.
	DeleteMembership(ctx context.Context, accountID, membershipID string) error
	// EndInvitation moves a pending invitation to accepted or cancelled. It
	// fails with ENOTFOUND when the invitation is no longer pending, so a
	// link is used once even when two requests race (single use).
	EndInvitation(ctx context.Context, accountID, id string, status gatehouse.InvitationStatus, now time.Time) error
	// ReleaseClientUserSlot gives a slot back (removal, cancellation).
	ReleaseClientUserSlot(ctx context.Context, accountID string) error
	// RenewInvitation gives a pending invitation a new link secret, sender
	// and expiry; the old link dies with its hash. ENOTFOUND when it is not
	// pending.
	RenewInvitation(ctx context.Context, accountID, id string, hash []byte, sentBy string, sentAt, expiresAt time.Time) error
}

// InvitationsStore is the store as invitations sees it.
type InvitationsStore interface {
	InvitationsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(InvitationsTx) error) error
}

// BulkPreviewReader is what bulk invitation previews reads.
type BulkPreviewReader interface {
	kernel.Reader
	// BulkPreview returns a preview of the account, or ENOTFOUND;
	// BulkPreviewByID one of any account, for the job that applies it.
	BulkPreview(ctx context.Context, accountID, id string) (gatehouse.BulkPreview, error)
	// BulkRows returns up to limit lines of a preview after the given line,
	// in order; inviteOnly keeps the lines whose outcome is invite.
	BulkRows(ctx context.Context, previewID string, afterLine, limit int, inviteOnly bool) ([]gatehouse.BulkRow, error)
	// ClientUsers is how many client users count against the account's
	// limit now, pending ones included (R-L1).
	ClientUsers(ctx context.Context, accountID string) (int, error)
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
	// UsernameStates tells, for each username (by UsernameKey), whether an
	// identity has it, is active, and is a user of the account.
	UsernameStates(ctx context.Context, accountID string, usernames []string) (map[string]gatehouse.UsernameState, error)
}

// BulkPreviewTx is the transaction bulk invitation previews writes in.
type BulkPreviewTx interface {
	BulkPreviewReader
	kernel.Writer
	DeleteBulkPreview(ctx context.Context, id string) error
	InsertBulkPreview(ctx context.Context, p gatehouse.BulkPreview) error
	InsertBulkRows(ctx context.Context, previewID string, rows []gatehouse.BulkRow) error
	// LearnBulkRows refreshes what the database's planner knows of the
	// previews' lines, once a large file's are stored, so that its job reads
	// and marks them by their key rather than scanning the whole file again
	// for every chunk.
	LearnBulkRows(ctx context.Context) error
	// UpdateBulkPreview stores a preview's status, counts, progress and
	// lease.
	UpdateBulkPreview(ctx context.Context, p gatehouse.BulkPreview) error
}

// BulkPreviewStore is the store as bulk invitation previews sees it.
type BulkPreviewStore interface {
	BulkPreviewReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(BulkPreviewTx) error) error
}

// BulkJobReader is what bulk invitation jobs reads.
type BulkJobReader interface {
	kernel.Reader
	// BulkPreview returns a preview of the account, or ENOTFOUND;
	// BulkPreviewByID one of any account, for the job that applies it.
	BulkPreview(ctx context.Context, accountID, id string) (gatehouse.BulkPreview, error)
	BulkPreviewByID(ctx context.Context, id string) (gatehouse.BulkPreview, error)
	// BulkRows returns up to limit lines of a preview after the given line,
	// in order; inviteOnly keeps the lines whose outcome is invite.
	BulkRows(ctx context.Context, previewID string, afterLine, limit int, inviteOnly bool) ([]gatehouse.BulkRow, error)
	// DueBulkJobs lists confirmed previews whose job no node holds.
	DueBulkJobs(ctx context.Context, now time.Time) ([]gatehouse.BulkPreview, error)
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	// Role returns a custom role of the account by id; RoleByName by its name
	// without regard to case.
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
	// UsernameStates tells, for each username (by UsernameKey), whether an
	// identity has it, is active, and is a user of the account.
	UsernameStates(ctx context.Context, accountID string, usernames []string) (map[string]gatehouse.UsernameState, error)
	// UsersByUsername finds identities by username without regard to case,
	// keyed by UsernameKey.
	UsersByUsername(ctx context.Context, usernames []string) (map[string]gatehouse.User, error)
}

// BulkJobTx is the transaction bulk invitation jobs writes in.
type BulkJobTx interface {
	BulkJobReader
	kernel.Writer
	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	// ClaimBulkJob leases a confirming preview's job to worker until the
	// given time, unless another worker's lease runs at now; ENOTFOUND then.
	ClaimBulkJob(ctx context.Context, id, worker string, until, now time.Time) error
	// DeleteBulkPreviewsBefore removes previews (with their lines) that
	// expired unconfirmed, or finished, before the given time.
	DeleteBulkPreviewsBefore(ctx context.Context, before time.Time) error
	// InsertBatch writes a batch's rows; ECONFLICT when a membership exists
	// already. Memberships raise their accounts' authz versions.
	InsertBatch(ctx context.Context, b gatehouse.WriteBatch) error
	// InsertUsersIfAbsent stores the identities whose usernames are free,
	// and returns the keys (UsernameKey) of the usernames it stored; another
	// identity has each of the others.
	InsertUsersIfAbsent(ctx context.Context, users []gatehouse.User) (map[string]bool, error)
	// PurgeExpired removes what ended before the given time and can never
	// be used again: sessions, second-factor challenges, trips to identity
	// providers, username-change links, and sign-in counts without a lock
	// that are spent (a source's) or zero (a username's after its lock).
	PurgeExpired(ctx context.Context, before time.Time) error
	// ReserveClientUserSlots counts up to n more client users against the
	// account's limit and returns how many it could (R-L1).
	ReserveClientUserSlots(ctx context.Context, accountID string, n int) (int, error)
	// SetBulkRowResults stores the Result and Message of lines of a preview.
	SetBulkRowResults(ctx context.Context, previewID string, rows []gatehouse.BulkRow) error
	// StartBulkConfirm moves a previewed preview to confirming; ENOTFOUND
	// when it is not previewed (another confirm won).
	StartBulkConfirm(ctx context.Context, accountID, id string) error
	// UpdateBulkPreview stores a preview's status, counts, progress and
	// lease.
	UpdateBulkPreview(ctx context.Context, p gatehouse.BulkPreview) error
}

// BulkJobStore is the store as bulk invitation jobs sees it.
type BulkJobStore interface {
	BulkJobReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(BulkJobTx) error) error
}

// ProfilesReader is what profiles reads.
type ProfilesReader interface {
	kernel.Reader
	User(ctx context.Context, id string) (gatehouse.User, error)
	// UserByUsername finds an identity by its username without regard to case.
	UserByUsername(ctx context.Context, username string) (gatehouse.User, error)
	// UserPhoto returns an identity's thumbnail, or ENOTFOUND.
	UserPhoto(ctx context.Context, userID string) ([]byte, error)
}

// ProfilesTx is the transaction profiles writes in.
type ProfilesTx interface {
	ProfilesReader
	kernel.Writer
	// ClearSignInFailures forgets a subject's failures and lock.
	ClearSignInFailures(ctx context.Context, subject string) error
	InsertUsernameChange(ctx context.Context, c gatehouse.UsernameChange) error
	// SetUserPhoto stores an identity's thumbnail, replacing any.
	SetUserPhoto(ctx context.Context, userID string, image []byte, now time.Time) error
	// UpdateUser stores the names, language, phone, user type and username
	// of an identity; ECONFLICT when the username is taken.
	UpdateUser(ctx context.Context, u gatehouse.User) error
	// UseUsernameChange marks the live, unused change with this link hash
	// used and returns it; ENOTFOUND otherwise.
	UseUsernameChange(ctx context.Context, hash []byte, now time.Time) (gatehouse.UsernameChange, error)
}

// ProfilesStore is the store as profiles sees it.
type ProfilesStore interface {
	ProfilesReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ProfilesTx) error) error
}

// NoticesReader is what notifications to an account reads.
type NoticesReader interface {
	kernel.Reader
	// AccountNotificationByKey finds a notification sent to the account
	// with this idempotency key, or ENOTFOUND.
	AccountNotificationByKey(ctx context.Context, accountID, key string) (gatehouse.AccountNotification, error)
	// NotificationRecipients lists the members of an account who enabled
	// external notifications and hold access at now.
	NotificationRecipients(ctx context.Context, accountID string, now time.Time) ([]gatehouse.NotificationRecipient, error)
}

// NoticesTx is the transaction notifications to an account writes in.
type NoticesTx interface {
	NoticesReader
	kernel.Writer
	// InsertAccountNotification: ECONFLICT when the key was used already.
	InsertAccountNotification(ctx context.Context, n gatehouse.AccountNotification) error
}

// NoticesStore is the store as notifications to an account sees it.
type NoticesStore interface {
	NoticesReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(NoticesTx) error) error
}

// RemoteMonitoringReader is what the remote monitoring user reads.
type RemoteMonitoringReader interface {
	kernel.Reader
	// RemoteMonitoringUser returns the account's remote monitoring member,
	// or ENOTFOUND.
	RemoteMonitoringUser(ctx context.Context, accountID string) (gatehouse.Member, error)
	// SealedPassword returns a service identity's sealed password.
	SealedPassword(ctx context.Context, userID string) (string, error)
}

// RemoteMonitoringTx is the transaction the remote monitoring user writes in.
type RemoteMonitoringTx interface {
	RemoteMonitoringReader
	kernel.Writer
	// InsertMembership returns ECONFLICT when the user is already a member.
	InsertMembership(ctx context.Context, m gatehouse.Membership) error
	// InsertServiceUser stores an active service identity with its password
	// hash and the password sealed for showing again.
	InsertServiceUser(ctx context.Context, u gatehouse.User, passwordHash, passwordSealed string) error
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// SetServicePassword replaces a service identity's password.
	SetServicePassword(ctx context.Context, userID, passwordHash, passwordSealed string) error
}

// RemoteMonitoringStore is the store as the remote monitoring user sees it.
type RemoteMonitoringStore interface {
	RemoteMonitoringReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(RemoteMonitoringTx) error) error
}

// ExpiryReader is what ending access that ended by itself reads.
type ExpiryReader interface {
	kernel.Reader
	// ExpiredMemberships lists, soonest ended first, at most limit
	// memberships that ended by themselves at now.
	ExpiredMemberships(ctx context.Context, now time.Time, limit int) ([]gatehouse.Membership, error)
	// ExpiredGrants lists, soonest ended first, at most limit grants that
	// ended by themselves at now.
	ExpiredGrants(ctx context.Context, now time.Time, limit int) ([]gatehouse.Grant, error)
	// IsOperator tells whether the identity is an operator.
	IsOperator(ctx context.Context, userID string) (bool, error)
}

// ExpiryTx is the transaction ending one membership or grant writes in.
type ExpiryTx interface {
	ExpiryReader
	kernel.Writer
	// DeleteExpiredMembership removes a membership that ended by itself at
	// now, with the user's grants and group places in the account, and
	// returns it. The delete is guarded: a membership that is gone or does
	// not end by now is ENOTFOUND, so two nodes never both remove it.
	DeleteExpiredMembership(ctx context.Context, accountID, membershipID string, now time.Time) (gatehouse.Membership, error)
	// DeleteExpiredGrant removes a grant that ended by itself at now,
	// guarded the same way.
	DeleteExpiredGrant(ctx context.Context, accountID, grantID string, now time.Time) error
	// CancelInvitationsOf ends the pending invitations of a membership.
	CancelInvitationsOf(ctx context.Context, accountID, membershipID string, now time.Time) error
	// ReleaseClientUserSlot gives a slot of the client-user limit back.
	ReleaseClientUserSlot(ctx context.Context, accountID string) error
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// RevokeOIDCAccountTokens revokes the tokens the platform's
	// applications hold for an account: the identity's, or everyone's when
	// userID is empty.
	RevokeOIDCAccountTokens(ctx context.Context, accountID, userID string, now time.Time) error
}

// ExpiryStore is the store as ending access that ended by itself sees it.
type ExpiryStore interface {
	ExpiryReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ExpiryTx) error) error
}
