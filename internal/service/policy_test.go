package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUseCasesDecideNoRefusalOfTheirOwn: who may do what is decided in
// internal/policy alone. A use case that answered 403 by itself would be a
// rule the policy's matrix and docs/authorization.md do not show.
func TestUseCasesDecideNoRefusalOfTheirOwn(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"gatehouse.EFORBIDDEN", "gatehouse.ESHAREDIDENTITY"} {
			if strings.Contains(string(src), code) {
				t.Errorf("%s uses %s: ask policy.Decide instead", f, code)
			}
		}
	}
}
