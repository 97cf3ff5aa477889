package gatehouse

import (
	"strings"
	"testing"
)

// A cursor of the feed comes back from outside: any text either reads as
// the cursor that prints the same, or is refused at the after field.
func FuzzParseEventCursor(f *testing.F) {
	for _, seed := range []string{"", "0.0", "0.42", "123456789.7", "1.-1", "x.1", "1", "1.2.3", "18446744073709551615.9223372036854775807"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseEventCursor(raw)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("%q refused with %v, want a validation error", raw, err)
			}
			return
		}
		if raw == "" {
			if c != (EventCursor{}) {
				t.Fatalf("the empty cursor read as %v", c)
			}
			return
		}
		again, err := ParseEventCursor(c.String())
		if err != nil || again != c || c.Seq < 0 {
			t.Fatalf("%q read as %v, which prints %q and reads back as %v (%v)", raw, c, c.String(), again, err)
		}
	})
}

// Every audit event has at most one public type, among EventTypes, and a
// subscription's patterns match the types they name.
func TestEventTypes(t *testing.T) {
	cases := []struct {
		e    AuditEvent
		want string
	}{
		{AuditEvent{AccountID: "a", Action: "user.added", TargetType: "membership"}, "member.added"},
		{AuditEvent{AccountID: "a", Action: "user.updated", TargetType: "membership", Changes: []AuditChange{{Field: "roles"}}}, "member.roles_changed"},
		{AuditEvent{AccountID: "a", Action: "user.updated", TargetType: "membership", Changes: []AuditChange{{Field: "home_folder_id"}}}, "member.updated"},
		{AuditEvent{AccountID: "a", Action: "user.updated", TargetType: "membership"}, ""},
		{AuditEvent{AccountID: "a", Action: "user.updated", TargetType: "user", Changes: []AuditChange{{Field: "first_name"}}}, "person.updated"},
		{AuditEvent{AccountID: "a", Action: "session.ended_by_administrator", TargetType: "user"}, "session.revoked"},
		{AuditEvent{AccountID: "a", Action: "session.password_refused"}, ""},
		{AuditEvent{AccountID: "a", Action: "user.suspended", TargetType: "membership"}, "member.suspended"},
		{AuditEvent{AccountID: "a", Action: "user.restored", TargetType: "membership"}, "member.restored"},
		{AuditEvent{Action: "account.updated"}, ""},
	}
	for _, c := range cases {
		if got := EventTypeOf(c.e); got != c.want {
			t.Errorf("%s on %s: type %q, want %q", c.e.Action, c.e.TargetType, got, c.want)
		}
	}
	for _, typ := range EventTypes {
		family, _, _ := strings.Cut(typ, ".")
		if !EventTypeMatches(typ, typ) || !EventTypeMatches(family+".*", typ) || !EventTypeMatches("*", typ) || EventTypeMatches("nothing.*", typ) {
			t.Errorf("the patterns do not match %s as they should", typ)
		}
	}
}
