package scim

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// A SCIM filter (RFC 7644 §3.4.2.2), as directories send them:
//
//	userName eq "zoe@example.com"
//	externalId eq "8d3f…" and active eq true
//	emails[type eq "work"].value eq "zoe@example.com"
//	emails[type eq "work" and value co "@example.com"] or (name.familyName sw "Mar")
//	not (active eq false)
//
// ParseFilter reads one into a gatehouse.SCIMFilter for the store, which
// compares in SQL. Attribute names and operators are read without regard
// to case, attributes may carry their schema's URN, and not binds tighter
// than and, which binds tighter than or.

// MaxFilterLen and maxFilterDepth bound what a filter may cost to read.
const (
	MaxFilterLen   = 4096
	maxFilterDepth = 32
)

// Attributes maps the attribute names of one resource type a filter may
// name, lower-cased and without URN, to their canonical names; the
// multi-valued attributes (emails, members) are read through subs.
type attributes struct {
	simple map[string]string
	// multi maps a multi-valued attribute to what its sub-attributes are:
	// a canonical attribute, or a constant for the one value Gatehouse
	// keeps (a user's one e-mail address is of type work, and primary).
	multi map[string]map[string]subAttribute
	urns  []string
}

// subAttribute is one sub-attribute of a multi-valued attribute: the
// canonical attribute it compares, or, when that is "", a constant value
// every element has.
type subAttribute struct {
	canonical string
	constant  string
}

var userAttributes = attributes{
	simple: map[string]string{
		"username": gatehouse.SCIMAttrUserName, "externalid": gatehouse.SCIMAttrExternalID, "id": gatehouse.SCIMAttrID,
		"name.givenname": gatehouse.SCIMAttrGivenName, "name.familyname": gatehouse.SCIMAttrFamilyName,
		"active": gatehouse.SCIMAttrActive,
	},
	multi: map[string]map[string]subAttribute{
		"emails": {"value": {canonical: gatehouse.SCIMAttrEmail}, "type": {constant: "work"}, "primary": {constant: "true"}},
	},
	urns: []string{SchemaUser},
}

var groupAttributes = attributes{
	simple: map[string]string{
		"displayname": gatehouse.SCIMAttrDisplayName, "externalid": gatehouse.SCIMAttrExternalID, "id": gatehouse.SCIMAttrID,
	},
	multi: map[string]map[string]subAttribute{
		"members": {"value": {canonical: gatehouse.SCIMAttrMember}},
	},
	urns: []string{SchemaGroup},
}

// ParseUserFilter reads a filter of Users. A filter it cannot read is 400
// at "filter" (scimType invalidFilter).
func ParseUserFilter(s string) (*gatehouse.SCIMFilter, error) { return parseFilter(s, userAttributes) }

// ParseGroupFilter reads a filter of Groups, as ParseUserFilter does.
func ParseGroupFilter(s string) (*gatehouse.SCIMFilter, error) {
	return parseFilter(s, groupAttributes)
}

func parseFilter(s string, attrs attributes) (*gatehouse.SCIMFilter, error) {
	if len(s) > MaxFilterLen {
		return nil, badFilter("a filter is %d bytes at most", MaxFilterLen)
	}
	if !utf8.ValidString(s) {
		return nil, badFilter("a filter is UTF-8 text")
	}
	p := &filterParser{src: s, attrs: attrs}
	if err := p.scan(); err != nil {
		return nil, err
	}
	f, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.tokens) {
		return nil, badFilter("unexpected %q", p.tokens[p.pos].text)
	}
	return f, nil
}

func badFilter(format string, args ...any) error {
	return gatehouse.Invalid("filter", "invalid filter: "+format, args...)
}

type tokenKind int

const (
	tokWord   tokenKind = iota // an attribute path, operator, keyword or literal
	tokString                  // a quoted string, its value decoded
	tokOpen                    // (
	tokClose                   // )
	tokOpenBracket
	tokCloseBracket
)

type token struct {
	kind tokenKind
	text string
}

type filterParser struct {
	src    string
	tokens []token
	pos    int
	attrs  attributes
}

// scan cuts the filter into tokens.
func (p *filterParser) scan() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.tokens = append(p.tokens, token{tokOpen, "("})
			i++
		case c == ')':
			p.tokens = append(p.tokens, token{tokClose, ")"})
			i++
		case c == '[':
			p.tokens = append(p.tokens, token{tokOpenBracket, "["})
			i++
		case c == ']':
			p.tokens = append(p.tokens, token{tokCloseBracket, "]"})
			i++
		case c == '"':
			end := i + 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return badFilter("a string is not closed")
			}
			var value string
			if err := json.Unmarshal([]byte(s[i:end+1]), &value); err != nil {
				return badFilter("%s is not a valid string", s[i:end+1])
			}
			p.tokens = append(p.tokens, token{tokString, value})
			i = end + 1
		default:
			end := i
			for end < len(s) && !strings.ContainsRune(" \t\n\r()[]\"", rune(s[end])) {
				end++
			}
			p.tokens = append(p.tokens, token{tokWord, s[i:end]})
			i = end
		}
	}
	if len(p.tokens) == 0 {
		return badFilter("the filter is empty")
	}
	return nil
}

func (p *filterParser) peekKeyword(word string) bool {
	return p.pos < len(p.tokens) && p.tokens[p.pos].kind == tokWord && strings.EqualFold(p.tokens[p.pos].text, word)
}

func (p *filterParser) next() (token, bool) {
	if p.pos >= len(p.tokens) {
		return token{}, false
	}
	p.pos++
	return p.tokens[p.pos-1], true
}

// or reads a filter: ands joined by or.
func (p *filterParser) or(depth int) (*gatehouse.SCIMFilter, error) {
	return p.chain(depth, "or", p.and)
}

// and reads factors joined by and.
func (p *filterParser) and(depth int) (*gatehouse.SCIMFilter, error) {
	return p.chain(depth, "and", p.factor)
}

func (p *filterParser) chain(depth int, op string, sub func(int) (*gatehouse.SCIMFilter, error)) (*gatehouse.SCIMFilter, error) {
	left, err := sub(depth)
	if err != nil {
		return nil, err
	}
	for p.peekKeyword(op) {
		p.pos++
		right, err := sub(depth)
		if err != nil {
			return nil, err
		}
		left = &gatehouse.SCIMFilter{Op: op, Left: left, Right: right}
	}
	return left, nil
}

// factor reads a comparison, a parenthesised filter, or not and one.
func (p *filterParser) factor(depth int) (*gatehouse.SCIMFilter, error) {
	if depth > maxFilterDepth {
		return nil, badFilter("the filter nests more than %d deep", maxFilterDepth)
	}
	if p.peekKeyword("not") && p.pos+1 < len(p.tokens) && p.tokens[p.pos+1].kind == tokOpen {
		p.pos++
		inner, err := p.factor(depth + 1)
		if err != nil {
			return nil, err
		}
		return &gatehouse.SCIMFilter{Op: "not", Left: inner}, nil
	}
	t, ok := p.next()
	if !ok {
		return nil, badFilter("the filter ends too soon")
	}
	switch t.kind {
	case tokOpen:
		inner, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if close, ok := p.next(); !ok || close.kind != tokClose {
			return nil, badFilter("a parenthesis is not closed")
		}
		return inner, nil
	case tokWord:
		return p.comparison(t.text, depth)
	}
	return nil, badFilter("unexpected %q", t.text)
}

// comparison reads what follows an attribute path: an operator and value,
// or a value filter in brackets on a multi-valued attribute.
func (p *filterParser) comparison(path string, depth int) (*gatehouse.SCIMFilter, error) {
	path = p.attrs.stripURN(path)
	if p.pos < len(p.tokens) && p.tokens[p.pos].kind == tokOpenBracket {
		p.pos++
		subs, ok := p.attrs.multi[strings.ToLower(path)]
		if !ok {
			return nil, badFilter("%s has no values to filter", path)
		}
		inner, err := p.valueFilter(subs, depth+1)
		if err != nil {
			return nil, err
		}
		if close, ok := p.next(); !ok || close.kind != tokCloseBracket {
			return nil, badFilter("a bracket is not closed")
		}
		// emails[type eq "work"].value eq "…": the element filter, and a
		// comparison of one of its sub-attributes.
		if p.pos < len(p.tokens) && p.tokens[p.pos].kind == tokWord && strings.HasPrefix(p.tokens[p.pos].text, ".") {
			sub := strings.TrimPrefix(p.tokens[p.pos].text, ".")
			p.pos++
			cmp, err := p.compare(sub, subs)
			if err != nil {
				return nil, err
			}
			return &gatehouse.SCIMFilter{Op: "and", Left: inner, Right: cmp}, nil
		}
		return inner, nil
	}
	lower := strings.ToLower(path)
	if canonical, ok := p.attrs.simple[lower]; ok {
		return p.operatorAndValue(canonical)
	}
	// emails.value eq "…", or emails eq "…" (the value of each element).
	attr, sub, dotted := strings.Cut(lower, ".")
	if subs, ok := p.attrs.multi[attr]; ok {
		if !dotted {
			sub = "value"
		}
		return p.compare(sub, subs)
	}
	return nil, badFilter("%s cannot be filtered on", path)
}

// valueFilter reads the filter inside a multi-valued attribute's brackets,
// whose attributes are its sub-attributes.
func (p *filterParser) valueFilter(subs map[string]subAttribute, depth int) (*gatehouse.SCIMFilter, error) {
	if depth > maxFilterDepth {
		return nil, badFilter("the filter nests more than %d deep", maxFilterDepth)
	}
	left, err := p.valueTerm(subs, depth)
	if err != nil {
		return nil, err
	}
	for p.peekKeyword("and") || p.peekKeyword("or") {
		op := strings.ToLower(p.tokens[p.pos].text)
		p.pos++
		right, err := p.valueTerm(subs, depth)
		if err != nil {
			return nil, err
		}
		left = &gatehouse.SCIMFilter{Op: op, Left: left, Right: right}
	}
	return left, nil
}

func (p *filterParser) valueTerm(subs map[string]subAttribute, depth int) (*gatehouse.SCIMFilter, error) {
	t, ok := p.next()
	if !ok || t.kind != tokWord {
		return nil, badFilter("a value filter needs a sub-attribute")
	}
	return p.compare(t.text, subs)
}

// compare reads the operator and value of a sub-attribute's comparison.
func (p *filterParser) compare(sub string, subs map[string]subAttribute) (*gatehouse.SCIMFilter, error) {
	s, ok := subs[strings.ToLower(sub)]
	if !ok {
		return nil, badFilter("%s cannot be filtered on", sub)
	}
	if s.canonical != "" {
		return p.operatorAndValue(s.canonical)
	}
	// A constant: decided here, whatever the element.
	f, err := p.operatorAndValue("")
	if err != nil {
		return nil, err
	}
	value := strings.ToLower(f.Value)
	var holds bool
	switch f.Op {
	case "pr":
		holds = true
	case "eq":
		holds = value == s.constant
	case "ne":
		holds = value != s.constant
	case "co":
		holds = strings.Contains(s.constant, value)
	case "sw":
		holds = strings.HasPrefix(s.constant, value)
	case "ew":
		holds = strings.HasSuffix(s.constant, value)
	}
	if holds {
		return &gatehouse.SCIMFilter{Op: "true"}, nil
	}
	return &gatehouse.SCIMFilter{Op: "false"}, nil
}

// operatorAndValue reads "pr", or an operator and a value.
func (p *filterParser) operatorAndValue(attribute string) (*gatehouse.SCIMFilter, error) {
	op, ok := p.next()
	if !ok || op.kind != tokWord {
		return nil, badFilter("an operator must follow %s", attribute)
	}
	name := strings.ToLower(op.text)
	switch name {
	case "pr":
		return &gatehouse.SCIMFilter{Op: "pr", Attribute: attribute}, nil
	case "eq", "ne", "co", "sw", "ew":
	case "gt", "ge", "lt", "le":
		return nil, badFilter("%s compares no values here; use eq, ne, co, sw, ew or pr", name)
	default:
		return nil, badFilter("%q is no operator", op.text)
	}
	v, ok := p.next()
	if !ok {
		return nil, badFilter("a value must follow %s", name)
	}
	value := v.text
	switch {
	case v.kind == tokString:
	case v.kind == tokWord && (strings.EqualFold(value, "true") || strings.EqualFold(value, "false")):
		value = strings.ToLower(value)
	default:
		return nil, badFilter("compare %s with a string in double quotes, true or false", attribute)
	}
	if attribute == gatehouse.SCIMAttrActive && v.kind == tokString {
		// Directories that quote booleans (Entra's "True") mean them.
		lower := strings.ToLower(value)
		if lower != "true" && lower != "false" {
			return nil, badFilter("active is true or false")
		}
		value = lower
	}
	return &gatehouse.SCIMFilter{Op: name, Attribute: attribute, Value: value}, nil
}

// stripURN removes a schema's URN before an attribute name
// ("urn:ietf:params:scim:schemas:core:2.0:User:userName").
func (a attributes) stripURN(path string) string {
	for _, urn := range a.urns {
		if len(path) > len(urn)+1 && strings.EqualFold(path[:len(urn)+1], urn+":") {
			return path[len(urn)+1:]
		}
	}
	return path
}
