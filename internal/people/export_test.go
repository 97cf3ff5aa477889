package people

// SetAfterBulkDraft makes bulk jobs call fn between each chunk's draft and
// the chunk's transaction.
func (s *Service) SetAfterBulkDraft(fn func()) { s.afterBulkDraft = fn }

// SetBeforeAddGroup makes each group of adds call fn, with its size, before
// it is written.
func (s *Service) SetBeforeAddGroup(fn func(size int)) { s.beforeAddGroup = fn }

// WaitingAdds is how many adds wait for the account's next group.
func (s *Service) WaitingAdds(accountID string) int {
	s.addQueues.mu.Lock()
	defer s.addQueues.mu.Unlock()
	return len(s.addQueues.waiting[accountID])
}
