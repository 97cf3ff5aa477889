package httpapi_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A body that encoding/json would read other than it was sent is refused
// before anything acts on it: a key given twice (the first read by a
// proxy, a log or a person, the last by the handler), at any depth and in
// any case, and a string holding bytes that are not UTF-8 (stored as
// U+FFFD). Each answers 400 with the contract's error body naming the key,
// and nothing is made. The body limit still answers 413.
func TestAmbiguousJSONBodiesAreRefused(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			for _, c := range []struct {
				name, path, body, field, message string
			}{
				{"a key given twice", "/api/v1/accounts", `{"kind":"integrator","name":"a","name":"b"}`, "name", "name is given twice"},
				{"a key given twice in another case", "/api/v1/accounts", `{"kind":"integrator","name":"a","NAME":"b"}`, "NAME", "NAME is given twice"},
				{"a key given twice, the second escaped", "/api/v1/accounts", `{"kind":"integrator","name":"a","n\u0061me":"b"}`, "name", "name is given twice"},
				{"a raw 0xff byte in a string", "/api/v1/accounts", "{\"kind\":\"integrator\",\"name\":\"Acme\xff\"}", "name", "name must be UTF-8 text"},
				{"an escaped lone surrogate", "/api/v1/accounts", `{"kind":"integrator","name":"Acme\ud800"}`, "name", "name must be UTF-8 text"},
				{"a lone continuation byte in a key", "/api/v1/accounts", "{\"kind\":\"integrator\",\"name\":\"Acme\",\"x\x80\":1}", "", "the body must be UTF-8 text"},
				{"a key given twice in a nested object", "/api/v1/check/batch",
					`{"checks":[{"user_id":"u","account_id":"a","permission":"media.view"},{"user_id":"u","account_id":"a","permission":"media.view","account_id":"b"}]}`,
					"checks[1].account_id", "checks[1].account_id is given twice"},
				{"invalid UTF-8 in a nested string", "/api/v1/check/batch",
					"{\"checks\":[{\"user_id\":\"u\xc3\",\"account_id\":\"a\",\"permission\":\"media.view\"}]}", "checks[0].user_id", "checks[0].user_id must be UTF-8 text"},
			} {
				r := e.Do(t, "POST", c.path, op, []byte(c.body))
				msg, _ := r.Body["error"].(map[string]any)["message"].(string)
				if r.Status != 400 || r.Code() != "validation_failed" || r.Field() != c.field || msg != c.message {
					t.Errorf("%s: %d %s; want 400 validation_failed on %q: %q", c.name, r.Status, r.Raw, c.field, c.message)
				}
			}
			if items := e.Must(t, 200, "GET", "/api/v1/accounts", op, nil).Items(); len(items) != 0 {
				t.Errorf("refused bodies made %d accounts", len(items))
			}
			huge := `{"kind":"integrator","name":"` + strings.Repeat("a", 1<<20) + `"}`
			if r := e.Do(t, "POST", "/api/v1/accounts", op, huge); r.Status != 413 || r.Code() != "too_large" {
				t.Errorf("a body over the limit: %d %s", r.Status, r.Raw)
			}
			// Text beyond ASCII is welcome when it is Unicode, escaped or not.
			made := e.Must(t, 201, "POST", "/api/v1/accounts", op, `{"kind":"integrator","name":"Ünïcödé ✓ \ud83d\ude00 \uFFFD"}`)
			if got := made.String("name"); got != "Ünïcödé ✓ 😀 \ufffd" {
				t.Errorf("name stored as %q", got)
			}
		})
	}
}
