package people

// SetAfterBulkDraft makes bulk jobs call fn between each chunk's draft and
// the chunk's transaction.
func (s *Service) SetAfterBulkDraft(fn func()) { s.afterBulkDraft = fn }
