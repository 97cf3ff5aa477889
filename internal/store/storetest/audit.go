package storetest

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The audit log filters by the start of the action and by actor; "_" and
// "%" in a filter are plain characters (R-X1, the portal's filters).
func testAuditFilters(t *testing.T, s *store.DB) {
	ctx := context.Background()
	account := integrator("Audited")
	events := []gatehouse.AuditEvent{
		{Action: "user.added", ActorID: "ann"}, {Action: "user.updated", ActorID: "bob"}, {Action: "role.created", ActorID: "ann"},
		{Action: "user_x.odd", ActorID: "ann"}, {Action: "userAx.odd", ActorID: "ann"},
	}
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.InsertAccount(ctx, account); err != nil {
			return err
		}
		for i, e := range events {
			e.ID, e.AccountID, e.At, e.TargetType, e.TargetID = newID(), account.ID, t0.Add(time.Duration(i)*time.Second), "user", "x"
			if err := tx.InsertAuditEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	actions := func(f gatehouse.AuditFilter) []string {
		t.Helper()
		f.AccountID = account.ID
		page, err := s.ListAuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range page.Items {
			out = append(out, e.Action)
		}
		return out
	}
	for _, c := range []struct {
		f    gatehouse.AuditFilter
		want string
	}{
		{gatehouse.AuditFilter{ActionPrefix: "user."}, "user.updated user.added"},
		{gatehouse.AuditFilter{ActionPrefix: "user_"}, "user_x.odd"},
		{gatehouse.AuditFilter{ActorID: "bob"}, "user.updated"},
		{gatehouse.AuditFilter{ActionPrefix: "user.", ActorID: "ann"}, "user.added"},
		{gatehouse.AuditFilter{ActionPrefix: "%"}, ""},
	} {
		if got := strings.Join(actions(c.f), " "); got != c.want {
			t.Errorf("filter %+v: %q, want %q", c.f, got, c.want)
		}
	}
}

// An event keeps the before and after of each field it changed, in order,
// with any text a field may hold; one written alone or in a batch reads
// back the same, and an event that changed no field reads back with none.
func testAuditChanges(t *testing.T, s *store.DB) {
	ctx := context.Background()
	account := integrator("Audited")
	changed := gatehouse.AuditEvent{ID: newID(), AccountID: account.ID, At: t0, ActorID: "operator",
		Action: "account.settings_changed", TargetType: "account", TargetID: account.ID}.
		With("max_client_users", "9", "12").
		With("address", "1 Main St\nSpringfield", `"Quai" d'Orsay, 3 — Paris`).
		With("home_folder_id", "", "0193a5c4-0000-7000-8000-000000000001")
	batched := gatehouse.AuditEvent{ID: newID(), AccountID: account.ID, At: t0.Add(time.Second), ActorID: "operator",
		Action: "user.updated", TargetType: "user", TargetID: "x"}.With("roles", "viewer", "editor, viewer")
	plain := gatehouse.AuditEvent{ID: newID(), AccountID: account.ID, At: t0.Add(2 * time.Second), ActorID: "operator",
		Action: "account.updated", TargetType: "account", TargetID: account.ID}.With("name", "Same", "Same")
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.InsertAccount(ctx, account); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, changed); err != nil {
			return err
		}
		if err := tx.InsertBatch(ctx, gatehouse.WriteBatch{AuditEvents: []gatehouse.AuditEvent{batched}}); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, plain)
	})
	page, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{AccountID: account.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]gatehouse.AuditChange{}
	for _, e := range page.Items {
		got[e.ID] = e.Changes
	}
	for _, want := range []gatehouse.AuditEvent{changed, batched, plain} {
		if !slices.Equal(got[want.ID], want.Changes) {
			t.Errorf("%s read back with changes %q, want %q", want.Action, got[want.ID], want.Changes)
		}
	}
	pool := s.Pools()["main"]
	if pool == nil {
		pool = s.Pools()["read"]
	}
	var stored sql.NullString
	row := pool.QueryRowContext(ctx, `SELECT changes FROM audit_events WHERE id = $1`, plain.ID)
	if err := row.Scan(&stored); err != nil || stored.Valid {
		t.Errorf("an event without changes stored %q (%v), want NULL", stored.String, err)
	}
}
