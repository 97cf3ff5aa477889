package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The event feed reads the events in commit order.
//
// On SQLite one writer commits at a time, so the order of writing (seq,
// from the writer's counter; eventsequence.go) is the order of commits: a
// reader never sees an event while one written before it is still to come.
//
// On PostgreSQL transactions commit in any order, so neither an id nor a
// sequence taken while writing is commit order: a transaction that took
// sequence 5 may commit after one that took 6, and a reader that had passed
// 6 would never see 5. The feed orders events by their transaction id and
// then their sequence, (tx, seq), and reads only transactions older than
// the oldest one still running (pg_snapshot_xmin of the reader's snapshot):
// every transaction below that horizon has committed or rolled back, so the
// feed up to it never grows again. A cursor below the horizon is final.
// What a long transaction holds back is only delayed, never skipped.

// EventsAfter returns up to limit events after the cursor, in commit
// order, of one account and, when it is an integrator, its clients (every
// account when accountID is empty), with each event's cursor.
func (r reader) EventsAfter(ctx context.Context, accountID string, after gatehouse.EventCursor, limit int) ([]gatehouse.Event, []gatehouse.EventCursor, error) {
	var query string
	args := []any{accountID, limit}
	where := `event_type IS NOT NULL AND ($1 = '' OR account_id = $1 OR account_id IN (SELECT id FROM accounts WHERE integrator_id = $1))`
	if r.dialect == SQLite {
		query = `SELECT id, account_id, at, actor_id, event_type, target_type, target_id, user_id, changes, 0, seq
			FROM audit_events WHERE ` + where + ` AND seq > $3 ORDER BY seq LIMIT $2`
		args = append(args, after.Seq)
	} else {
		// The transaction's number is read out under another name: ORDER BY
		// tx would otherwise sort by that output column, a bigint the
		// index on (tx, seq) does not hold, and read the whole table.
		query = `SELECT id, account_id, at, actor_id, event_type, target_type, target_id, user_id, changes, tx::text::bigint AS tx_number, seq
			FROM audit_events WHERE ` + where + ` AND (tx, seq) > ($3::text::xid8, $4::bigint)
			AND tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY audit_events.tx, audit_events.seq LIMIT $2`
		args = append(args, fmt.Sprint(after.TX), after.Seq)
	}
	var (
		events  []gatehouse.Event
		cursors []gatehouse.EventCursor
	)
	err := r.each(ctx, query, args, func(rows *sql.Rows) error {
		var (
			e               gatehouse.Event
			account, userID sql.NullString
			at              int64
			changes         sql.NullString
			c               gatehouse.EventCursor
			tx              int64
		)
		if err := rows.Scan(&e.ID, &account, &at, &e.ActorID, &e.Type, &e.Subject.Type, &e.Subject.ID, &userID, &changes, &tx, &c.Seq); err != nil {
			return err
		}
		e.AccountID, e.OccurredAt, e.Subject.UserID, c.TX = account.String, fromMicros(at).UTC(), userID.String, uint64(tx)
		var err error
		e.Changes, err = readAuditChanges(changes)
		events, cursors = append(events, e), append(cursors, c)
		return err
	})
	return events, cursors, err
}
