package scim

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// PATCH (RFC 7644 §3.5.2) as Entra ID and Okta send it: operations named in
// any case ("Replace"), with a path or with a value that maps attributes to
// values (dotted names allowed), booleans as JSON or as the strings
// "True" and "False", e-mail addresses by value filter
// (emails[type eq "work"].value), members added and removed by list or by
// filter (members[value eq "…"]). Attributes Gatehouse does not keep are
// read and dropped.

// Operation is one operation of a PATCH request.
type Operation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// PatchRequest is the body of a PATCH.
type PatchRequest struct {
	Schemas    []string    `json:"schemas"`
	Operations []Operation `json:"Operations"`
}

// MaxOperations bounds the operations of one PATCH.
const MaxOperations = 1000

// userChange is what a PATCH or PUT asks of a User; nil fields stay.
type userChange struct {
	userName, givenName, familyName, email, externalID, language *string
	active                                                       *bool
}

func badPath(format string, args ...any) error {
	return gatehouse.Invalid("path", format, args...)
}

// opName reads an operation's name: add, replace or remove.
func opName(op Operation) (string, error) {
	name := strings.ToLower(strings.TrimSpace(op.Op))
	switch name {
	case "add", "replace", "remove":
		return name, nil
	}
	return "", gatehouse.Invalid("op", "op %q is none of add, replace and remove", gatehouse.Truncate(op.Op, 40))
}

func checkPatch(p PatchRequest) error {
	if len(p.Operations) == 0 {
		return gatehouse.Invalid("Operations", "a PATCH carries at least one operation in Operations")
	}
	if len(p.Operations) > MaxOperations {
		return gatehouse.Invalid("Operations", "a PATCH carries at most %d operations", MaxOperations)
	}
	return nil
}

// userPatch reads the operations of a User's PATCH.
func userPatch(p PatchRequest) (userChange, error) {
	var ch userChange
	if err := checkPatch(p); err != nil {
		return ch, err
	}
	for _, op := range p.Operations {
		name, err := opName(op)
		if err != nil {
			return ch, err
		}
		remove := name == "remove"
		if strings.TrimSpace(op.Path) != "" {
			if err := ch.set(op.Path, op.Value, remove); err != nil {
				return ch, err
			}
			continue
		}
		if remove {
			return ch, badPath("remove needs a path")
		}
		var values map[string]json.RawMessage
		if err := json.Unmarshal(op.Value, &values); err != nil {
			return ch, gatehouse.Invalid("value", "an operation without a path carries an object of attributes")
		}
		for attr, value := range values {
			if err := ch.set(attr, value, false); err != nil {
				return ch, err
			}
		}
	}
	return ch, nil
}

// set applies one attribute of a User, by its path.
func (ch *userChange) set(path string, raw json.RawMessage, remove bool) error {
	path = userAttributes.stripURN(strings.TrimSpace(path))
	lower := strings.ToLower(path)
	if strings.HasPrefix(lower, "urn:") {
		return nil // an extension's attribute (enterprise: department, manager…)
	}
	switch {
	case lower == "active":
		if remove {
			return nil
		}
		v, err := readBool(raw)
		if err != nil {
			return gatehouse.Invalid("active", "active is true or false")
		}
		ch.active = &v
	case lower == "username":
		if remove {
			return &gatehouse.Error{Code: gatehouse.EINVALID, Field: "mutability", Message: "userName is required: it cannot be removed"}
		}
		return readString(raw, "userName", &ch.userName)
	case lower == "name":
		if remove {
			return nil
		}
		var n Name
		if err := json.Unmarshal(raw, &n); err != nil {
			return gatehouse.Invalid("name", "name is an object")
		}
		if n.GivenName != "" {
			ch.givenName = &n.GivenName
		}
		if n.FamilyName != "" {
			ch.familyName = &n.FamilyName
		}
	case lower == "name.givenname":
		if remove {
			return nil
		}
		return readString(raw, "name.givenName", &ch.givenName)
	case lower == "name.familyname":
		if remove {
			return nil
		}
		return readString(raw, "name.familyName", &ch.familyName)
	case lower == "externalid":
		if remove {
			empty := ""
			ch.externalID = &empty
			return nil
		}
		return readString(raw, "externalId", &ch.externalID)
	case lower == "preferredlanguage" || lower == "locale":
		if remove {
			return nil
		}
		var s *string
		if err := readString(raw, path, &s); err != nil {
			return err
		}
		if lang := language(*s); lang != "" {
			ch.language = &lang
		}
	case strings.HasPrefix(lower, "emails"):
		if remove {
			return nil // the address mail goes to is never without one
		}
		if strings.HasSuffix(lower, ".value") {
			return readString(raw, "emails", &ch.email)
		}
		var values []MultiValue
		if err := json.Unmarshal(raw, &values); err != nil {
			var one MultiValue
			if err := json.Unmarshal(raw, &one); err != nil {
				return gatehouse.Invalid("emails", "emails is a list of {value, type, primary}")
			}
			values = []MultiValue{one}
		}
		if email := workEmail(values); email != "" {
			ch.email = &email
		}
	}
	return nil
}

func readString(raw json.RawMessage, field string, into **string) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return gatehouse.Invalid(field, "%s is a string", field)
	}
	*into = &s
	return nil
}

// workEmail picks the address mail goes to among a User's: the primary
// one, else the work one, else the first.
func workEmail(values []MultiValue) string {
	for _, v := range values {
		if v.Primary != nil && bool(*v.Primary) && v.Value != "" {
			return v.Value
		}
	}
	for _, v := range values {
		if strings.EqualFold(v.Type, "work") && v.Value != "" {
			return v.Value
		}
	}
	for _, v := range values {
		if v.Value != "" {
			return v.Value
		}
	}
	return ""
}

// language reads a preferred language or locale ("fr", "fr-FR", "en_US")
// as one Gatehouse speaks, "" for another.
func language(tag string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	lang, _, _ = strings.Cut(lang, "_")
	if gatehouse.ValidLanguage(lang) {
		return lang
	}
	return ""
}

// groupChange is what a PATCH or PUT asks of a Group; nil fields stay.
type groupChange struct {
	displayName, externalID *string
	// members replaces the members (by SCIM id) when not nil; add and
	// remove change them.
	members     *[]string
	add, remove []string
}

var memberFilterPath = regexp.MustCompile(`(?i)^members\s*\[\s*value\s+eq\s+"([^"]*)"\s*\]$`)

// groupPatch reads the operations of a Group's PATCH.
func groupPatch(p PatchRequest) (groupChange, error) {
	var ch groupChange
	if err := checkPatch(p); err != nil {
		return ch, err
	}
	for _, op := range p.Operations {
		name, err := opName(op)
		if err != nil {
			return ch, err
		}
		path := groupAttributes.stripURN(strings.TrimSpace(op.Path))
		if path == "" {
			if name == "remove" {
				return ch, badPath("remove needs a path")
			}
			var values map[string]json.RawMessage
			if err := json.Unmarshal(op.Value, &values); err != nil {
				return ch, gatehouse.Invalid("value", "an operation without a path carries an object of attributes")
			}
			for attr, value := range values {
				if err := ch.set(name, attr, value); err != nil {
					return ch, err
				}
			}
			continue
		}
		if m := memberFilterPath.FindStringSubmatch(path); m != nil {
			if name != "remove" {
				return ch, badPath("a member filter is a path to remove")
			}
			ch.removeMembers([]string{m[1]})
			continue
		}
		if err := ch.set(name, path, op.Value); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// set applies one operation on an attribute of a Group.
func (ch *groupChange) set(op, path string, raw json.RawMessage) error {
	switch strings.ToLower(path) {
	case "displayname":
		if op == "remove" {
			return &gatehouse.Error{Code: gatehouse.EINVALID, Field: "mutability", Message: "displayName is required: it cannot be removed"}
		}
		return readString(raw, "displayName", &ch.displayName)
	case "externalid":
		if op == "remove" {
			empty := ""
			ch.externalID = &empty
			return nil
		}
		return readString(raw, "externalId", &ch.externalID)
	case "members":
		var ids []string
		if len(raw) > 0 && string(raw) != "null" {
			var values []MultiValue
			if err := json.Unmarshal(raw, &values); err != nil {
				return gatehouse.Invalid("members", "members is a list of {value}")
			}
			for _, v := range values {
				ids = append(ids, v.Value)
			}
		}
		switch {
		case op == "add":
			ch.addMembers(ids)
		case op == "replace":
			ch.members, ch.add, ch.remove = &ids, nil, nil
		case len(raw) == 0 || string(raw) == "null":
			none := []string{} // remove without a value: every member
			ch.members, ch.add, ch.remove = &none, nil, nil
		default:
			ch.removeMembers(ids)
		}
	case "id", "schemas", "meta":
		// Okta repeats the id in a path-less replace: it changes nothing.
	default:
		return badPath("%s is not an attribute of a Group that changes", gatehouse.Truncate(path, 80))
	}
	return nil
}

// addMembers and removeMembers change the members, after a replacement
// if one came first.
func (ch *groupChange) addMembers(ids []string) {
	if ch.members != nil {
		*ch.members = append(*ch.members, ids...)
		return
	}
	ch.remove = deleteAll(ch.remove, ids)
	ch.add = append(ch.add, ids...)
}

func (ch *groupChange) removeMembers(ids []string) {
	if ch.members != nil {
		*ch.members = deleteAll(*ch.members, ids)
		return
	}
	ch.add = deleteAll(ch.add, ids)
	ch.remove = append(ch.remove, ids...)
}

func deleteAll(list, gone []string) []string {
	out := list[:0:0]
	for _, id := range list {
		keep := true
		for _, g := range gone {
			if id == g {
				keep = false
			}
		}
		if keep {
			out = append(out, id)
		}
	}
	return out
}
