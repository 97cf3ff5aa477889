package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every language has every text, so no page shows a missing word (R-U6).
func TestEveryLanguageHasEveryText(t *testing.T) {
	for lang, texts := range pageTexts {
		for other, otherTexts := range pageTexts {
			for key := range otherTexts {
				if strings.TrimSpace(texts[key]) == "" {
					t.Errorf("%q has no %q text (%q has)", lang, key, other)
				}
			}
		}
	}
}

// Every text a template asks for exists: a missing key would show nothing.
func TestTemplatesAskForKnownTexts(t *testing.T) {
	keys := regexp.MustCompile(`index \$?\.T "([a-z_]+)"`)
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, name := range files {
		raw, _ := fs.ReadFile(templateFiles, name)
		for _, m := range keys.FindAllStringSubmatch(string(raw), -1) {
			if _, ok := pageTexts["en"][m[1]]; !ok {
				t.Errorf("%s asks for the text %q, which does not exist", name, m[1])
			}
		}
	}
}

// Every change the use cases audit reads as a sentence in every language:
// the audit log shows no action codes.
func TestEveryAuditedActionHasASentence(t *testing.T) {
	action := regexp.MustCompile(`"([a-z_]+\.[a-z_]+)"`)
	found := 0
	for _, context := range []string{"accounts", "people", "signin", "access", "oidcprovider", "webhooks", "scim", "branding"} {
		files, _ := filepath.Glob(filepath.Join("..", context, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(src), "\n") {
				if !strings.Contains(line, "Audit(") && !strings.Contains(line, "Action: ") && !strings.Contains(line, `action := "`) && !strings.Contains(line, `action = "`) {
					continue
				}
				for _, m := range action.FindAllStringSubmatch(line, -1) {
					found++
					for lang, texts := range pageTexts {
						if _, ok := texts["audit_"+m[1]]; !ok {
							t.Errorf("%s: no sentence in %s for the audited action %s", f, lang, m[1])
						}
					}
				}
			}
		}
	}
	if found < 40 {
		t.Errorf("found %d audited actions in the contexts; the scan is broken", found)
	}
}
