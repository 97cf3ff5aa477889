package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

func (t *tx) InsertAuditEvent(ctx context.Context, e gatehouse.AuditEvent) error {
	accountID := sql.NullString{String: e.AccountID, Valid: e.AccountID != ""}
	_, err := t.q.ExecContext(ctx, `INSERT INTO audit_events (id, account_id, at, actor_id, action, target_type, target_id, ip, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, accountID, micros(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.IP, e.RequestID)
	return mapErr(err)
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
	query := `SELECT id, account_id, at, actor_id, action, target_type, target_id, ip, request_id
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
		)
		err := rows.Scan(&e.ID, &accountID, &at, &e.ActorID, &e.Action, &e.TargetType, &e.TargetID, &e.IP, &e.RequestID)
		e.AccountID, e.At = accountID.String, fromMicros(at)
		return e, []string{e.ID}, err
	})
}

// likePrefix is a LIKE pattern matching the strings that start with prefix.
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix) + "%"
}
