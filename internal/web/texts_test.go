package web

import (
	"io/fs"
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
