// Package password hashes passwords with argon2id and decides whether a
// new password is acceptable (R-S1): at least 12 characters, at most
// 256, not a common password, and no composition rules (NIST SP 800-63B
// 5.1.1.2).
package password

import (
	"bufio"
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// MinLength and MaxLength bound a password in characters. The maximum
// keeps hashing cost and memory predictable; 256 is far beyond any
// passphrase people use.
const (
	MinLength = 12
	MaxLength = 256
)

//go:embed common-words.txt
var commonWordsFile string

// commonWords are the words common passwords are made of.
var commonWords = func() map[string]bool {
	words := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonWordsFile))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			words[w] = true
		}
	}
	return words
}()

// Check returns a validation error naming field "password" when the
// password may not be used. username, when given, may not be the password
// or its main part.
func Check(pw, username string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return gatehouse.Invalid("password", "the password must be text")
	case n < MinLength:
		return gatehouse.Invalid("password", "the password must be at least %d characters long", MinLength)
	case n > MaxLength:
		return gatehouse.Invalid("password", "the password must be at most %d characters long", MaxLength)
	case isCommon(pw):
		return gatehouse.Invalid("password", "this password is too common; a few unrelated words make a good one")
	case username != "" && containsUsername(pw, username):
		return gatehouse.Invalid("password", "the password must not be your username")
	}
	return nil
}

// isCommon: one character repeated, a run of consecutive characters
// ("123456789012", "abcdefghijkl"), a keyboard row, or a common word
// (possibly repeated) with a common ending.
func isCommon(pw string) bool {
	lower := strings.ToLower(pw)
	if isRepeatedUnit(lower) || isSequence(lower) {
		return true
	}
	stem := strings.TrimRightFunc(lower, func(r rune) bool { return strings.ContainsRune("0123456789!@#$%^&*?.,;:-_+= ", r) })
	if stem == "" {
		return true // digits and punctuation only, such as "1234567890!!"
	}
	for unit := 1; unit <= len(stem)/2; unit++ {
		if len(stem)%unit == 0 && strings.Repeat(stem[:unit], len(stem)/unit) == stem {
			stem = stem[:unit]
			break
		}
	}
	return commonWords[stem] || isSequence(stem)
}

// isRepeatedUnit: the whole password is one short piece repeated
// ("aaaaaaaaaaaa", "abcabcabcabc", "12121212121212").
func isRepeatedUnit(s string) bool {
	for unit := 1; unit <= 4 && unit <= len(s)/2; unit++ {
		if len(s)%unit == 0 && strings.Repeat(s[:unit], len(s)/unit) == s {
			return true
		}
	}
	return false
}

// isSequence: every character is the one before it plus or minus one
// ("0123456789", "9876543210", "abcdefghijkl"), or a stretch of a keyboard row.
func isSequence(s string) bool {
	if len(s) < 4 {
		return false
	}
	for _, row := range []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn"} {
		if strings.Contains(row+row, s) || strings.Contains(reverse(row+row), s) {
			return true
		}
	}
	up, down := true, true
	for i := 1; i < len(s); i++ {
		up = up && s[i] == s[i-1]+1
		down = down && s[i] == s[i-1]-1
	}
	return up || down
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func containsUsername(pw, username string) bool {
	lower := strings.ToLower(pw)
	name := strings.ToLower(strings.TrimSpace(username))
	local, _, _ := strings.Cut(name, "@")
	return lower == name || (len(local) >= 4 && strings.TrimRight(strings.TrimPrefix(lower, local), "0123456789!@#$%^&*?.") == "")
}
