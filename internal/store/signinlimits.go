package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Brute-force protection (R-S3): counts of failed sign-ins per subject
// ("username:…" or "source:…"), kept in the database so that every node
// counts the same attempts.

func (r reader) SignInLockedUntil(ctx context.Context, subjects []string, now time.Time) (time.Time, error) {
	var args argList
	in := make([]string, len(subjects))
	for i, s := range subjects {
		in[i] = args.add(s)
	}
	var until sql.NullInt64
	err := r.q.QueryRowContext(ctx, `SELECT MAX(locked_until) FROM signin_limits WHERE subject IN (`+strings.Join(in, ", ")+`)
		AND locked_until > `+args.add(micros(now)), args...).Scan(&until)
	if err != nil {
		return time.Time{}, mapErr(err)
	}
	return fromNullMicros(until), nil
}

// CountSignInFailure adds one failure in one atomic statement, so that N
// failures at once count N on every node; failures older than the window
// start a new count. At the limit the subject is locked and its count
// starts again.
func (t *tx) CountSignInFailure(ctx context.Context, subject string, now time.Time, window time.Duration, limit int, lockFor time.Duration) (int, bool, error) {
	windowStart := int64(0)
	if window > 0 {
		windowStart = micros(now.Add(-window))
	}
	var failures int
	err := t.q.QueryRowContext(ctx, `INSERT INTO signin_limits (subject, failures, window_start) VALUES ($1, 1, $2)
		ON CONFLICT (subject) DO UPDATE SET
			failures = CASE WHEN signin_limits.window_start < $3 THEN 1 ELSE signin_limits.failures + 1 END,
			window_start = CASE WHEN signin_limits.window_start < $3 THEN $2 ELSE signin_limits.window_start END
		RETURNING failures`, subject, micros(now), windowStart).Scan(&failures)
	if err != nil {
		return 0, false, mapErr(err)
	}
	if failures < limit {
		return failures, false, nil
	}
	_, err = t.q.ExecContext(ctx, `UPDATE signin_limits SET failures = 0, window_start = $2, locked_until = $3 WHERE subject = $1`,
		subject, micros(now), micros(now.Add(lockFor)))
	return failures, true, mapErr(err)
}

func (t *tx) ClearSignInFailures(ctx context.Context, subject string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM signin_limits WHERE subject = $1`, subject)
	return mapErr(err)
}
