package scim

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// show prints a parsed filter back, canonically, for the table below.
func show(f *gatehouse.SCIMFilter) string {
	switch f.Op {
	case "and", "or":
		return "(" + show(f.Left) + " " + f.Op + " " + show(f.Right) + ")"
	case "not":
		return "not " + show(f.Left)
	case "true", "false":
		return f.Op
	case "pr":
		return f.Attribute + " pr"
	}
	return f.Attribute + " " + f.Op + " " + `"` + f.Value + `"`
}

// The filters Entra ID and Okta send, and the grammar around them, read
// as the store will compare them.
func TestParseUserFilter(t *testing.T) {
	cases := []struct{ in, want string }{
		{`userName eq "zoe@example.com"`, `userName eq "zoe@example.com"`},
		{`USERNAME Eq "Zoe@Example.com"`, `userName eq "Zoe@Example.com"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@b.c"`, `userName eq "a@b.c"`},
		{`externalId eq "0a1b-2c"`, `externalId eq "0a1b-2c"`},
		{`emails[type eq "work"].value eq "zoe@example.com"`, `(true and emails.value eq "zoe@example.com")`},
		{`emails[type eq "home"].value eq "zoe@example.com"`, `(false and emails.value eq "zoe@example.com")`},
		{`emails[type eq "work" and value co "@example.com"]`, `(true and emails.value co "@example.com")`},
		{`emails.value eq "a@b.c"`, `emails.value eq "a@b.c"`},
		{`emails eq "a@b.c"`, `emails.value eq "a@b.c"`},
		{`userName eq "a" or userName eq "b" and active eq true`, `(userName eq "a" or (userName eq "b" and active eq "true"))`},
		{`(userName eq "a" or userName eq "b") and active eq "False"`, `((userName eq "a" or userName eq "b") and active eq "false")`},
		{`not (active eq false)`, `not active eq "false"`},
		{`name.givenName sw "Zo" and name.familyName ew "in"`, `(name.givenName sw "Zo" and name.familyName ew "in")`},
		{`externalId pr`, `externalId pr`},
		{`userName eq "quote \" and \\ backslash"`, `userName eq "quote " and \ backslash"`},
	}
	for _, c := range cases {
		f, err := ParseUserFilter(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := show(f); got != c.want {
			t.Errorf("%s\n read as %s\n want    %s", c.in, got, c.want)
		}
	}
}

// What cannot be read is refused at "filter", whatever it is.
func TestParseFilterRefusals(t *testing.T) {
	for _, in := range []string{``, `   `, `userName`, `userName eq`, `userName eq zoe`, `userName gt "a"`, `title eq "x"`,
		`(userName eq "a"`, `userName eq "a")`, `userName eq "a" and`, `emails[type eq "work"`, `emails[type eq "work"].value`,
		`userName eq "unterminated`, `name[givenName eq "x"]`, `not active eq true`, `userName eq "a" userName eq "b"`,
		`active eq "maybe"`, strings.Repeat("(", 40) + `userName eq "a"` + strings.Repeat(")", 40),
		strings.Repeat("x", MaxFilterLen+1), "userName eq \"\xff\""} {
		_, err := ParseUserFilter(in)
		var e *gatehouse.Error
		if err == nil || !asInvalid(err, &e) || e.Field != "filter" {
			t.Errorf("%.60q: got %v, want invalid at filter", in, err)
		}
	}
	if _, err := ParseGroupFilter(`displayName eq "Night shift" and members[value eq "0190"]`); err != nil {
		t.Errorf("a group filter: %v", err)
	}
	if _, err := ParseGroupFilter(`userName eq "a"`); err == nil {
		t.Errorf("a group filter on userName was read")
	}
}

func asInvalid(err error, e **gatehouse.Error) bool {
	ge, ok := err.(*gatehouse.Error)
	*e = ge
	return ok && ge.Code == gatehouse.EINVALID
}

// FuzzParseSCIMFilter: whatever a directory sends as a filter is read or
// refused at "filter", never crashed on, and what is read names only
// attributes the store compares, with operators it knows, no deeper than
// the bound.
func FuzzParseSCIMFilter(f *testing.F) {
	for _, sample := range []string{`userName eq "zoe@example.com"`, `externalId eq "x" and active eq true`,
		`emails[type eq "work"].value eq "a@b.c"`, `not (userName sw "a") or (name.familyName co "é")`, `members[value eq "1"]`,
		`displayName eq "Night" and members[value eq "x"]`, `((((`, `"\u00e9"`, `emails[type eq "work" or primary eq true]`} {
		f.Add(sample)
	}
	known := map[string]bool{gatehouse.SCIMAttrUserName: true, gatehouse.SCIMAttrExternalID: true, gatehouse.SCIMAttrID: true,
		gatehouse.SCIMAttrEmail: true, gatehouse.SCIMAttrGivenName: true, gatehouse.SCIMAttrFamilyName: true, gatehouse.SCIMAttrActive: true,
		gatehouse.SCIMAttrDisplayName: true, gatehouse.SCIMAttrMember: true}
	var check func(t *testing.T, f *gatehouse.SCIMFilter, depth int)
	check = func(t *testing.T, f *gatehouse.SCIMFilter, depth int) {
		if f == nil || depth > 10000 {
			t.Fatalf("a nil or runaway filter node")
		}
		switch f.Op {
		case "and", "or":
			check(t, f.Left, depth+1)
			check(t, f.Right, depth+1)
		case "not":
			check(t, f.Left, depth+1)
		case "true", "false":
		case "eq", "ne", "co", "sw", "ew", "pr":
			if !known[f.Attribute] {
				t.Fatalf("read an unknown attribute %q", f.Attribute)
			}
		default:
			t.Fatalf("read an unknown operator %q", f.Op)
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, parse := range []func(string) (*gatehouse.SCIMFilter, error){ParseUserFilter, ParseGroupFilter} {
			parsed, err := parse(in)
			if err != nil {
				var e *gatehouse.Error
				if !asInvalid(err, &e) || e.Field != "filter" {
					t.Fatalf("%q: refused with %v, not at filter", in, err)
				}
				continue
			}
			check(t, parsed, 0)
		}
	})
}
