package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// An audit event that is also an event (gatehouse.EventTypeOf) is written
// with its public type, the person it concerns (from the membership acted
// on, when the use case did not say) and its place in commit order, in the
// change's own transaction: the feed and the webhooks see it exactly when
// the change committed. Its webhook deliveries are queued there too.
func (t *tx) InsertAuditEvent(ctx context.Context, e gatehouse.AuditEvent) error {
	accountID := sql.NullString{String: e.AccountID, Valid: e.AccountID != ""}
	eventType := gatehouse.EventTypeOf(e)
	if eventType == "" {
		_, err := t.q.ExecContext(ctx, `INSERT INTO audit_events (id, account_id, at, actor_id, action, target_type, target_id, ip, request_id, changes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			e.ID, accountID, micros(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.IP, e.RequestID, auditChanges(e.Changes))
		return mapErr(err)
	}
	userID := sql.NullString{String: e.UserID, Valid: e.UserID != ""}
	if lookup, ok := personOfTarget[e.TargetType]; ok && !userID.Valid {
		err := t.q.QueryRowContext(ctx, lookup, e.TargetID).Scan(&userID)
		if err != nil && err != sql.ErrNoRows {
			return mapErr(err)
		}
	}
	if t.dialect == SQLite {
		seq, err := t.takeEventNumbers(ctx, 1)
		if err != nil {
			return err
		}
		_, err = t.q.ExecContext(ctx, `INSERT INTO audit_events (id, account_id, at, actor_id, action, target_type, target_id, ip, request_id,
			changes, user_id, event_type, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			e.ID, accountID, micros(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.IP, e.RequestID, auditChanges(e.Changes),
			userID, eventType, seq)
		if err != nil {
			return mapErr(err)
		}
		return t.fanOutEvent(ctx, e, eventType, userID.String)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO audit_events (id, account_id, at, actor_id, action, target_type, target_id, ip, request_id,
		changes, user_id, event_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ID, accountID, micros(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.IP, e.RequestID, auditChanges(e.Changes),
		userID, eventType)
	if err != nil {
		return mapErr(err)
	}
	return t.fanOutEvent(ctx, e, eventType, userID.String)
}

// personOfTarget finds the person an event concerns from what it acted on.
var personOfTarget = map[string]string{
	"membership": `SELECT user_id FROM memberships WHERE id = $1`,
	"invitation": `SELECT user_id FROM invitations WHERE id = $1`,
	"user":       `SELECT id FROM users WHERE id = $1`,
}

// auditChange is how one change is kept in the changes column.
type auditChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// auditChanges is the changes column of an event: NULL when it changed no
// field, so the events that only happened take no room.
func auditChanges(changes []gatehouse.AuditChange) sql.NullString {
	if len(changes) == 0 {
		return sql.NullString{}
	}
	out := make([]auditChange, len(changes))
	for i, c := range changes {
		out[i] = auditChange(c)
	}
	b, _ := json.Marshal(out) // strings always marshal
	return sql.NullString{String: string(b), Valid: true}
}

// readAuditChanges reads the changes column back.
func readAuditChanges(column sql.NullString) ([]gatehouse.AuditChange, error) {
	if !column.Valid || column.String == "" {
		return nil, nil
	}
	var in []auditChange
	if err := json.Unmarshal([]byte(column.String), &in); err != nil {
		return nil, fmt.Errorf("audit event changes: %w", err)
	}
	out := make([]gatehouse.AuditChange, len(in))
	for i, c := range in {
		out[i] = gatehouse.AuditChange(c)
	}
	return out, nil
}

// ListAuditEvents lists newest first. Ids are time-ordered (UUIDv7), so the
// id alone is the sort key.
func (r reader) ListAuditEvents(ctx context.Context, f gatehouse.AuditFilter) (gatehouse.Page[gatehouse.AuditEvent], error) {
	var page gatehouse.Page[gatehouse.AuditEvent]
	after, err := decodeCursor(f.Page.Cursor, 1)
	if err != nil {
		return page, err
	}
	limit := pageLimit(f.Page.Limit)
	var args argList
	query := `SELECT id, account_id, at, actor_id, action, target_type, target_id, ip, request_id, changes
		FROM audit_events WHERE account_id = ` + args.add(f.AccountID)
	if after != nil {
		query += " AND id < " + args.add(after[0])
	}
	if f.ActionPrefix != "" {
		// Actions are made of letters, dots and underscores; the escape
		// keeps "_" from matching any character.
		query += ` AND action LIKE ` + args.add(likePrefix(f.ActionPrefix)) + ` ESCAPE '\'`
	}
	if f.ActorID != "" {
		query += " AND actor_id = " + args.add(f.ActorID)
	}
	if !f.Since.IsZero() {
		query += " AND at >= " + args.add(micros(f.Since))
	}
	if !f.Until.IsZero() {
		query += " AND at < " + args.add(micros(f.Until))
	}
	query += " ORDER BY id DESC LIMIT " + args.add(limit+1)
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return page, mapErr(err)
	}
	return readPage(rows, limit, func(rows *sql.Rows) (gatehouse.AuditEvent, []string, error) {
		var (
			e         gatehouse.AuditEvent
			accountID sql.NullString
			at        int64
			changes   sql.NullString
		)
		if err := rows.Scan(&e.ID, &accountID, &at, &e.ActorID, &e.Action, &e.TargetType, &e.TargetID, &e.IP, &e.RequestID, &changes); err != nil {
			return e, nil, err
		}
		e.AccountID, e.At = accountID.String, fromMicros(at)
		var err error
		e.Changes, err = readAuditChanges(changes)
		return e, []string{e.ID}, err
	})
}

// likePrefix is a LIKE pattern matching the strings that start with prefix.
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix) + "%"
}
