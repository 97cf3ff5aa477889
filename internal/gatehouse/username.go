package gatehouse

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// UsernameKeyVersion names the rules of UsernameKey. The store re-keys the
// identities made under older rules once, at the first start after it
// changes, so it must grow whenever UsernameKey would key a username
// differently. 1 was trimmed and lower-cased; 2 is PRECIS and IDNA.
const UsernameKeyVersion = 2

// UsernameKey is the unique form of a username (R-U1): the local part mapped
// by the PRECIS UsernameCaseMapped profile (RFC 8265: width, case, NFC) and
// the domain in IDNA ASCII form, so that the spellings of one address that
// people cannot tell apart ("ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "Zoe@EXAMPLE.com")
// name one identity. It is total, as sign-in looks up whatever people
// type: what neither PRECIS nor IDNA accepts is keyed trimmed and
// lower-cased, as before. The username as typed is kept for display.
func UsernameKey(username string) string {
	s := strings.TrimSpace(username)
	if plainAddress(s) {
		return strings.ToLower(s) // what mappedKey gives it, without its passes
	}
	return keyByPasses(s)
}

// keyByPasses is UsernameKey of a trimmed username, worked out in full.
func keyByPasses(s string) string {
	if key, ok := mappedKey(s); ok {
		return key
	}
	return strings.ToLower(s)
}

// mappedKey is the PRECIS and IDNA key of s, if both accept it.
func mappedKey(s string) (string, bool) {
	local, domain, ok := splitAddress(width.Fold.String(s))
	if !ok {
		return "", false
	}
	l, err := precis.UsernameCaseMapped.String(local)
	if err != nil || l == "" {
		return "", false
	}
	d, err := idna.Lookup.ToASCII(domain)
	if err != nil || d == "" {
		return "", false
	}
	return l + "@" + strings.ToLower(d), true
}

// splitAddress cuts an address at its last "@": a local part may hold one
// (quoted) but a domain never does.
func splitAddress(s string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// ParseUsername checks a username as people type it and returns the form to
// keep and show: trimmed, full-width forms folded and NFC (the PRECIS
// UsernameCasePreserved profile for the local part), case as typed. Beyond
// ParseEmail it refuses what would let a username read as another, or hide
// part of what it says: invisible characters, bidirectional controls, what
// PRECIS or IDNA refuse, and local parts that mix scripts ("pаypal" with a
// Cyrillic а).
func ParseUsername(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if plainAddress(s) {
		return s, nil // what parseByPasses keeps of it, without its passes
	}
	return parseByPasses(field, s)
}

// parseByPasses is ParseUsername of a trimmed username, worked out in full.
func parseByPasses(field, s string) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", Invalid(field, "%s must be an e-mail address such as ann@example.com", field)
	case strings.ContainsFunc(s, isBidiControl):
		return "", Invalid(field, "%s must not contain characters that change the direction of text", field)
	case strings.ContainsFunc(s, isInvisible):
		return "", Invalid(field, "%s must not contain invisible characters", field)
	}
	s, err := ParseEmail(field, norm.NFC.String(width.Fold.String(s)))
	if err != nil {
		return "", err
	}
	local, domain, _ := splitAddress(s) // ParseEmail found the @
	shown, err := precis.UsernameCasePreserved.String(local)
	if err != nil || shown == "" {
		return "", Invalid(field, "%s can only have letters of one alphabet, digits and signs such as . _ - + before the @", field)
	}
	if mixesScripts(shown) {
		return "", Invalid(field, "%s mixes letters of different alphabets before the @, so it could pass for another address", field)
	}
	if _, err := idna.Lookup.ToASCII(domain); err != nil {
		return "", Invalid(field, "%s must have a valid domain name after the @, such as example.com", field)
	}
	username := shown + "@" + domain
	if _, ok := mappedKey(username); !ok {
		// Keyed the old way, it would not meet its other spellings.
		return "", Invalid(field, "%s must be an e-mail address such as ann@example.com", field)
	}
	return username, nil
}

// plainAddress tells whether s is an address of the plainest kind: ASCII
// letters and digits, with ". _ + -" inside the local part and "-" inside
// the domain's labels. Most addresses are, and for them the passes of
// ParseUsername and UsernameKey (width, NFC, PRECIS with its Bidi rule,
// IDNA), each copying the text, come to this: ParseUsername keeps s as it
// is, and its key is s lower-cased. A bulk file of 100,000 lines is parsed
// and keyed several times over, so the shortcut is worth having; the tests
// hold both ways to the same answers.
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || len(s) > MaxEmailLen {
		return false
	}
	local, domain := s[:at], s[at+1:]
	// The local part starts and ends with a letter or digit, and has no two
	// dots together (an e-mail address's dot-atom).
	if !isASCIILetterOrDigit(local[0]) || !isASCIILetterOrDigit(local[len(local)-1]) || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !isASCIILetterOrDigit(c) && c != '.' && c != '_' && c != '+' && c != '-' {
			return false
		}
	}
	// At least two labels, each of letters, digits and inner hyphens, and
	// none an IDNA label ("xn--"): those need IDNA's own checks.
	labels := 0
	for label := range strings.SplitSeq(domain, ".") {
		labels++
		if label == "" || !isASCIILetterOrDigit(label[0]) || !isASCIILetterOrDigit(label[len(label)-1]) || (len(label) >= 4 && label[2:4] == "--") {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isASCIILetterOrDigit(c) && c != '-' {
				return false
			}
		}
	}
	return labels >= 2
}

func isASCIILetterOrDigit(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isBidiControl tells the characters that reorder the text around them,
// which can make a username or a name read as something else.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isInvisible tells the characters that show as nothing: format characters
// (Cf: zero-width space and joiners, soft hyphen, byte order mark...),
// variation selectors and the other default-ignorable ones (Hangul
// fillers...). IDNA drops some of them from a domain, so a username holding
// one would display as text its key does not have.
func isInvisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// scriptFamilies are the scripts that one language writes together: Han
// with kana in Japanese, with Hangul in Korean, with Bopomofo in Chinese
// (UTS 39's highly restrictive level, without its Latin).
var scriptFamilies = [][]string{
	{"Han", "Hiragana", "Katakana"},
	{"Han", "Hangul"},
	{"Han", "Bopomofo"},
}

// mixesScripts tells whether s has letters of more than one script (or
// script family). Common and Inherited characters (digits, punctuation,
// combining marks) belong to every script.
func mixesScripts(s string) bool {
	var seen []string
	for _, r := range s {
		if r < utf8.RuneSelf && !unicode.IsLetter(r) {
			continue
		}
		name := scriptOf(r)
		if name == "" || name == "Common" || name == "Inherited" {
			continue
		}
		if !slices.Contains(seen, name) {
			seen = append(seen, name)
		}
	}
	if len(seen) <= 1 {
		return false
	}
	for _, family := range scriptFamilies {
		all := true
		for _, name := range seen {
			all = all && slices.Contains(family, name)
		}
		if all {
			return false
		}
	}
	return true
}

// scriptOf names the script of r, "" when Unicode assigns it none.
func scriptOf(r rune) string {
	switch {
	case r < utf8.RuneSelf && unicode.IsLetter(r), unicode.Is(unicode.Latin, r):
		return "Latin"
	case unicode.Is(unicode.Common, r):
		return "Common"
	case unicode.Is(unicode.Inherited, r):
		return "Inherited"
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}
