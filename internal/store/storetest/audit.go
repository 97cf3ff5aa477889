package storetest

import (
	"context"
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
