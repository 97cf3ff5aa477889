package gatehouse

// MemberFilter selects the members of one account a list shows: Query
// matches the username or the names (without regard to case), Status and
// Level keep one status or level; empty fields keep everyone.
type MemberFilter struct {
	Query  string
	Status MembershipStatus
	Level  Level
	Page   PageRequest
}

// InvitationFilter selects the invitations of one account a list shows:
// Status keeps one status ("" all; pending and expired are told apart by
// the deadline), Query matches the address (without regard to case).
type InvitationFilter struct {
	Status InvitationStatus
	Query  string
	Page   PageRequest
}
