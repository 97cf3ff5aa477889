package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUseCasesDecideNoRefusalOfTheirOwn: who may do what is decided in
// internal/policy alone. A use case of any context that answered 403 by itself would be a
// rule the policy's matrix and docs/authorization.md do not show.
func TestUseCasesDecideNoRefusalOfTheirOwn(t *testing.T) {
	var files []string
	for _, context := range []string{"kernel", "accounts", "people", "signin", "access", "webhooks", "scim"} {
		found, err := filepath.Glob(filepath.Join("..", context, "*.go"))
		if err != nil || len(found) == 0 {
			t.Fatalf("no source in %s: %v", context, err)
		}
		files = append(files, found...)
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
