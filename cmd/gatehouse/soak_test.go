package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The soak command runs every kind of request it knows against a real
// server for a few seconds, with no failure, and reports what it measured
// (the 10-minute run is in docs/benchmarks.md).
func TestSoakRunsMixedTrafficCleanly(t *testing.T) {
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	var out bytes.Buffer
	env := func(k string) string {
		return map[string]string{"GATEHOUSE_TOKEN": apitest.OperatorToken}[k]
	}
	err := run(context.Background(), []string{"soak", "--server", e.URL, "--duration", "3s", "--workers", "4"}, env, nil, &out, &out)
	if err != nil {
		t.Fatalf("soak: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{" 0 failed", "add user", "list users", "check", "audit", "server goroutines:"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
}
