// Package docs holds the documents; its tests keep them standing on their
// own: every link of the README and of docs/ leads to a file (and heading)
// of this repository, and every rule id used anywhere is defined in
// rules.md.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

const root = ".."

// markdownFiles are the README and every document.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(root, "README.md")}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no documents: %v", err)
	}
	return append(files, docs...)
}

var (
	fence      = regexp.MustCompile("(?ms)^```.*?^```")
	codeSpan   = regexp.MustCompile("`[^`\n]*`")
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)\)`)
	heading    = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
	scheme     = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// prose is a document without its code, where links are not links.
func prose(doc string) string {
	return codeSpan.ReplaceAllString(fence.ReplaceAllString(doc, ""), "")
}

// anchors are the fragment ids a document's headings get, as GitHub makes
// them: lower case, punctuation dropped, spaces as hyphens, repeats
// numbered.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(doc, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.ReplaceAll(m[1], "`", "")) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			out[id+"-"+strconv.Itoa(n)] = true
		} else {
			out[id] = true
		}
		seen[id]++
	}
	return out
}

// Every relative link leads to a file of the repository, and every
// fragment to a heading of its document; nothing leads out of the
// repository.
func TestLinksResolve(t *testing.T) {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, file := range markdownFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inlineLink.FindAllStringSubmatch(prose(string(raw)), -1) {
			target := m[1]
			if scheme.MatchString(target) {
				continue // a page on the web, not a file
			}
			links++
			path, fragment, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			full, err := filepath.Abs(dest)
			if err != nil || (full != abs && !strings.HasPrefix(full, abs+string(filepath.Separator))) {
				t.Errorf("%s: %s leads out of the repository", file, target)
				continue
			}
			info, err := os.Stat(dest)
			if err != nil {
				t.Errorf("%s: %s: no such file", file, target)
				continue
			}
			if fragment == "" {
				continue
			}
			if info.IsDir() || !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s: %s: a fragment of something that is not a document", file, target)
				continue
			}
			doc, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(string(doc))[fragment] {
				t.Errorf("%s: %s: %s has no heading #%s", file, target, dest, fragment)
			}
		}
	}
	if links == 0 {
		t.Fatal("no links found: the test reads nothing")
	}
}

var (
	ruleID    = regexp.MustCompile(`\bR-([A-Z]+)([0-9]+)\b`)
	ruleRange = regexp.MustCompile(`\bR-([A-Z]+)([0-9]+)\s*(?:…|\.\.\.)\s*R-([A-Z]+)([0-9]+)\b`)
	ruleHead  = regexp.MustCompile(`(?m)^### (R-[A-Z]+[0-9]+)$`)
)

// ruleIDs are the rule ids text names, ranges such as R-A1…R-A5 included.
func ruleIDs(text string) []string {
	var ids []string
	for _, m := range ruleID.FindAllStringSubmatch(text, -1) {
		ids = append(ids, "R-"+m[1]+m[2])
	}
	for _, m := range ruleRange.FindAllStringSubmatch(text, -1) {
		from, _ := strconv.Atoi(m[2])
		to, _ := strconv.Atoi(m[4])
		for n := from; m[1] == m[3] && n <= to; n++ {
			ids = append(ids, "R-"+m[1]+strconv.Itoa(n))
		}
	}
	return ids
}

// Every rule id the code, the tests and the documents cite is defined in
// rules.md, once.
func TestEveryRuleIsDefined(t *testing.T) {
	rules, err := os.ReadFile("rules.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, m := range ruleHead.FindAllStringSubmatch(string(rules), -1) {
		if defined[m[1]] {
			t.Errorf("rules.md defines %s twice", m[1])
		}
		defined[m[1]] = true
	}
	used := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "testdata" || name == "gatehouse-data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !slices.Contains([]string{".go", ".md", ".sql", ".json", ".html", ".js", ".css", ".txt", ".yml", ".yaml", ""}, filepath.Ext(path)) {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, id := range ruleIDs(string(raw)) {
			used[id] = append(used[id], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) == 0 {
		t.Fatal("no rule id found: the test reads nothing")
	}
	for id, where := range used {
		if !defined[id] {
			slices.Sort(where)
			t.Errorf("%s is used (%s) but not defined in docs/rules.md", id, strings.Join(slices.Compact(where), ", "))
		}
	}
}
