package gatehouse

import "time"

// BulkOutcome is what a preview says will happen to one line of a bulk
// invitation file (R-B2, the API reference at /api/docs).
type BulkOutcome string

const (
	BulkInvite        BulkOutcome = "invite"
	BulkAlreadyMember BulkOutcome = "already_member"
	BulkInvalidEmail  BulkOutcome = "invalid_email"
	BulkInvalidName   BulkOutcome = "invalid_name"
	BulkUnknownRole   BulkOutcome = "unknown_role"
	BulkUnknownFolder BulkOutcome = "unknown_folder"
	BulkDuplicate     BulkOutcome = "duplicate"
	BulkOverLimit     BulkOutcome = "over_limit"
)

// BulkOutcomes lists every outcome, in the order totals show them.
var BulkOutcomes = []BulkOutcome{BulkInvite, BulkAlreadyMember, BulkInvalidEmail, BulkInvalidName, BulkUnknownRole,
	BulkUnknownFolder, BulkDuplicate, BulkOverLimit}

// BulkStatus is the life of a preview: building while its file is read,
// previewed until confirmed, confirming while the job invites, done.
// "expired" is not stored: a preview not confirmed in time is expired.
type BulkStatus string

const (
	BulkBuilding   BulkStatus = "building"
	BulkPreviewed  BulkStatus = "previewed"
	BulkConfirming BulkStatus = "confirming"
	BulkDone       BulkStatus = "done"
	BulkExpired    BulkStatus = "expired"
)

// BulkPreview is one uploaded file: its lines' outcomes and, once confirmed,
// the progress of the job that invites them.
type BulkPreview struct {
	ID        string
	AccountID string
	// CreatedBy is the actor who uploaded it: only they may confirm it.
	CreatedBy string
	// Level is what every invitee becomes: client_user in a client account,
	// integrator_user in an integrator account.
	Level    Level
	Status   BulkStatus
	Rows     int
	ToInvite int
	Totals   map[BulkOutcome]int
	// NextLine is the line after which the job goes on.
	NextLine  int
	Processed int
	Invited   int
	Failed    int
	CreatedAt time.Time
	ExpiresAt time.Time
	// FinishedAt is when the job ended; zero before.
	FinishedAt   time.Time
	ClaimedBy    string
	ClaimedUntil time.Time
}

// StatusAt is the preview's status as seen at now.
func (p BulkPreview) StatusAt(now time.Time) BulkStatus {
	if p.Status == BulkPreviewed && !now.Before(p.ExpiresAt) {
		return BulkExpired
	}
	return p.Status
}

// BulkRow is one line of a bulk file with its outcome and, after the
// confirm, what was done with it.
type BulkRow struct {
	Line int
	// Email, FirstName, LastName, Role and HomeFolder are as the file
	// wrote them. The names go to a new identity only: an existing one
	// keeps its own (R-U2).
	Email      string
	FirstName  string
	LastName   string
	Role       string
	HomeFolder string
	// RoleID and FolderID are what Role and HomeFolder named.
	RoleID   string
	FolderID string
	Outcome  BulkOutcome
	Message  string
	// Result is "invited", "registered" (an active identity, told by
	// e-mail) or "skipped" once the job reached the line; "" before.
	Result string
}

// UsernameState is what is known of a username, for a bulk preview.
type UsernameState struct {
	Exists bool // an identity has it
	Active bool // that identity is active
	Member bool // it is a user of the account at hand
}
