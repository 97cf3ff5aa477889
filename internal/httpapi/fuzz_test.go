package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// Whatever body arrives, creating an account answers 201 or a contract 4xx,
// never a 5xx, and always with a JSON body (R-X3).
func FuzzCreateAccountBody(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"integrator","name":"Acme"}`,
		`{"kind":"client","name":"Site","integrator_id":"x"}`,
		`{"kind":"integrator","name":["a","b"]}`,
		`{"kind":"integrator","name":"A"}{}`,
		`{"kind":null,"name":null}`,
		`[]`, `""`, `{`, "\x00", `{"name":"\u0000"}`, `{"kind":"integrator","name":"é\u200b"}`,
	} {
		f.Add(seed)
	}
	e := sqliteEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/accounts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apitest.OperatorToken)
		rec := httptest.NewRecorder()
		e.API.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusCreated, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
		}
		if rec.Code != http.StatusCreated {
			if e, _ := out["error"].(map[string]any); e["code"] == "" || e["message"] == "" {
				t.Fatalf("error body without code or message: %s", rec.Body)
			}
		}
	})
}
