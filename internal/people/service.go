// Package people is the people context: the members of each account, their
// invitations (one by one and in bulk from a CSV file), the remote
// monitoring user, notifications to an account's members, and the profile
// of each person's identity.
package people

import (
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// Service holds the people use cases.
type Service struct {
	*kernel.Kernel
	enrolmentStore        EnrolmentStore
	membersStore          MembersStore
	invitationsStore      InvitationsStore
	bulkPreviewStore      BulkPreviewStore
	bulkJobStore          BulkJobStore
	profilesStore         ProfilesStore
	noticesStore          NoticesStore
	remoteMonitoringStore RemoteMonitoringStore
	expiryStore           ExpiryStore
	// Access resolves roles and folders, and tells who reaches what, for
	// the members added and changed.
	Access *access.Service
	// invitationTTL is how long an invitation link lives.
	invitationTTL time.Duration
	// instance names this process in the leases of bulk jobs.
	instance string
	// bulkLease is how long a bulk job stays with a node that stopped
	// renewing it; bulkPoll how often a waiting confirm looks again.
	bulkLease, bulkPoll time.Duration
	// bulkConfirmWait is how long a confirm waits for its job before it
	// answers with the job's progress.
	bulkConfirmWait time.Duration
	// bulkChunkSize is how many people one transaction of a job invites.
	bulkChunkSize int
	// bulkWake wakes RunBulkJobs for a job confirmed without waiting.
	bulkWake chan struct{}
	// afterBulkDraft, when set (tests), runs between a chunk's draft and
	// its transaction: what it changes, the chunk must see.
	afterBulkDraft func()
	// bulkWriting counts the bulk jobs this node is writing (WritingBulk).
	bulkWriting atomic.Int32
	// addQueues holds the adds waiting for a group (addgroups.go), and
	// addWriters is how many groups are written at once.
	addQueues  addQueues
	addWriters int
	// beforeAddGroup, when set (tests), runs before each group of adds is
	// written, with the group's size.
	beforeAddGroup func(size int)
	// addFault, when set (tests), is called for each add a group writes,
	// in its transaction: an error it returns is a fault of the store.
	addFault func(accountID string) error
}

// Options configures the people use cases. Zero values pick the
// production defaults.
type Options struct {
	// InvitationTTL is how long an invitation link lives (default 7 days).
	InvitationTTL time.Duration
	// BulkLease is how long a bulk job's lease lasts without renewal
	// (default 15 s): after a crash, another node (or the restarted one)
	// takes the job over once it ends.
	BulkLease time.Duration
	// BulkConfirmWait is how long a confirm that waits for its job waits
	// at most (default 90 s, under the server's two-minute write timeout,
	// which would otherwise cut the answer of a long job off); the job goes
	// on, and the answer is its progress.
	BulkConfirmWait time.Duration
	// BulkChunk is how many people one transaction of a bulk job invites
	// (default 500). The transaction holds the account's lock, and on
	// SQLite the database's one writer: every write of the node waits for
	// the chunk under way.
	BulkChunk int
	// AddWriters is how many groups of adds are written at once, each in
	// its own transaction (default 2). Where the database has one writer,
	// a second group only waits for the first, with half the adds the
	// first would have taken had they waited for it together.
	AddWriters int
}

// New returns the people use cases.
func New(k *kernel.Kernel, stores Stores, rules *access.Service, opts Options) *Service {
	s := &Service{Kernel: k, Access: rules, enrolmentStore: stores.Enrolment, membersStore: stores.Members,
		invitationsStore: stores.Invitations, bulkPreviewStore: stores.BulkPreview, bulkJobStore: stores.BulkJob,
		profilesStore: stores.Profiles, noticesStore: stores.Notices, remoteMonitoringStore: stores.RemoteMonitoring, expiryStore: stores.Expiry, invitationTTL: opts.InvitationTTL, instance: kernel.NewID(),
		bulkLease: opts.BulkLease, bulkPoll: 50 * time.Millisecond, bulkConfirmWait: opts.BulkConfirmWait, bulkChunkSize: opts.BulkChunk, bulkWake: make(chan struct{}, 1)}
	if s.invitationTTL <= 0 {
		s.invitationTTL = 7 * 24 * time.Hour
	}
	if s.bulkLease <= 0 {
		s.bulkLease = 15 * time.Second
	}
	if s.bulkConfirmWait <= 0 {
		s.bulkConfirmWait = 90 * time.Second
	}
	if s.bulkChunkSize <= 0 {
		s.bulkChunkSize = defaultBulkChunk
	}
	if s.addWriters = opts.AddWriters; s.addWriters <= 0 {
		s.addWriters = defaultAddWriters
	}
	return s
}

// Stores are the faces of the store this context's use cases see, one per
// group of use cases (see store.go).
type Stores struct {
	Enrolment        EnrolmentStore
	Members          MembersStore
	Invitations      InvitationsStore
	BulkPreview      BulkPreviewStore
	BulkJob          BulkJobStore
	Profiles         ProfilesStore
	Notices          NoticesStore
	RemoteMonitoring RemoteMonitoringStore
	Expiry           ExpiryStore
}
