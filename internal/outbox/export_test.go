package outbox

import (
	"context"
	"time"
)

// SetPauseWait makes the worker wait out its short-batch pauses with fn
// instead of a timer, so that a test decides when a pause ends.
func (w *Worker) SetPauseWait(fn func(ctx context.Context, d time.Duration) bool) { w.waitPause = fn }

// FileSystemSyncs is how many times this process synced a file system for
// the file senders.
func FileSystemSyncs() int64 { return fileSystemSyncs.Load() }

// RecordEvery is how many deliveries the worker records as sent at once.
const RecordEvery = recordEvery
