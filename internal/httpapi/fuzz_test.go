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

// Whatever batch of questions arrives, the check answers 200 with exactly
// one result per question, or a contract 400/413 naming the fault; never a
// 5xx (R-X3, R-A5).
func FuzzCheckBatchBody(f *testing.F) {
	for _, seed := range []string{
		`{"checks":[{"user_id":"u","account_id":"a","permission":"media.view"}]}`,
		`{"checks":[{"user_id":"u","account_id":"a","permission":"media.view","folder_id":"f"},{"user_id":"u","account_id":"a","permission":"x"}]}`,
		`{"checks":[]}`, `{"checks":null}`, `{"checks":{}}`, `{"checks":[1]}`,
		`{"checks":[{"user_id":["a","b"],"account_id":"a","permission":"media.view"}]}`,
		`[]`, `{`, "\x00",
	} {
		f.Add(seed)
	}
	e := sqliteEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/check/batch", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apitest.OperatorToken)
		rec := httptest.NewRecorder()
		e.API.ServeHTTP(rec, req)
		var out struct {
			Results []map[string]bool `json:"results"`
			Error   struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
		}
		switch rec.Code {
		case http.StatusOK:
			var in struct{ Checks []any }
			if err := json.Unmarshal([]byte(body), &in); err != nil || len(out.Results) != len(in.Checks) {
				t.Fatalf("%d results for %q", len(out.Results), body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if out.Error.Code == "" || out.Error.Message == "" {
				t.Fatalf("error body without code or message: %s", rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
