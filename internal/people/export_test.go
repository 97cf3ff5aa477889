package people

// SetAfterBulkDraft makes bulk jobs call fn between each chunk's draft and
// the chunk's transaction.
func (s *Service) SetAfterBulkDraft(fn func()) { s.afterBulkDraft = fn }

// SetBeforeAddGroup makes each group of adds call fn, with its size, before
// it is written.
func (s *Service) SetBeforeAddGroup(fn func(size int)) { s.beforeAddGroup = fn }

// WaitingAdds is how many adds wait for a group, in every account.
func (s *Service) WaitingAdds() int {
	s.addQueues.mu.Lock()
	defer s.addQueues.mu.Unlock()
	return len(s.addQueues.waiting)
}

// SetAddFault makes each add a group writes call fn with its account, in
// the group's transaction; an error it returns is a fault of the store.
func (s *Service) SetAddFault(fn func(accountID string) error) { s.addFault = fn }

// AddWriters is how many groups of adds are written at once.
func (s *Service) AddWriters() int { return s.addWriters }
