package httpapi

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The quick reading of a body takes the bodies clients send (so that they
// skip the token-by-token reading) and hands every other to the full one,
// which refuses what must be refused and says where.
func TestPlainBodiesAreReadQuicklyAndTheRestFully(t *testing.T) {
	t.Parallel()
	batch := `{"checks":[` + strings.TrimSuffix(strings.Repeat(`{"user_id":"u","account_id":"a","permission":"media.view","folder_id":"f"},`, 1000), ",") + `]}`
	for _, body := range []string{
		`{"user_id":"01J","account_id":"01K","permission":"media.view","folder_id":"01L"}`,
		batch,
		` { "kind" : "client" , "integrator_id":"x", "settings": {"max_client_users": 12, "mfa": true, "tags": ["a", "b"], "x": null} } `,
		`{"a":{"b":1},"b":2,"c":{"b":3}}`, // one name in different objects
		`[{"a":1},{"a":1}]`,
		`"text"`, `12`, `[]`, `{}`,
		`{"a":1}{"a":1,"a":2}`, // what trails the first value is the decoder's to refuse
	} {
		if !plainAndUnambiguous([]byte(body)) {
			t.Errorf("not read quickly: %.80s", body)
		}
	}
	for _, body := range []string{
		`{"name":"a","name":"b"}`, `{"name":"a","NAME":"b"}`, `{"a":[{"b":1,"b":2}]}`, `{"checks":[{"x":{"y":1,"Y":2}}]}`,
		`{"name":"a","n\u0061me":"b"}`, // escapes are read fully
		"{\"name\":\"Ünïcödé\"}",       // so is text beyond ASCII
		`{"a":1,}`, `[1,]`, `{"a" "a":1}`, `{`, ``, `   `, `{"a":"unterminated}`,
		strings.Repeat("[", plainMaxDepth+1) + strings.Repeat("]", plainMaxDepth+1),
	} {
		if plainAndUnambiguous([]byte(body)) {
			t.Errorf("read quickly, but it needs the full reading: %.80s", body)
		}
	}
}

// Bodies the quick path lets through but Unmarshal refuses are read again
// by the stream decoder, whose answers are the contract's: a wrong type
// names its field, what trails the object and an empty body say so.
func TestRefusedBodiesKeepTheDecodersAnswers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, field, message string }{
		{`{"user_id":12}`, "user_id", "user_id must be a string, not a JSON number"},
		{`{"user_id":"u"} {"x":1}`, "", "the body is not a valid JSON object: trailing data"},
		{`{"user_id":"u"} x`, "", "the body is not a valid JSON object: trailing data"},
		{` `, "", "the body is empty; a JSON object is required"},
		{`[1]`, "", "the body must be a JSON object"},
		{`{"user_id":"u",}`, "", "the body is not valid JSON (at byte 16)"},
	} {
		var in checkJSON
		err := decodeJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(c.body)), &in)
		var refused *gatehouse.Error
		if !errors.As(err, &refused) || refused.Code != gatehouse.EINVALID || refused.Field != c.field || refused.Message != c.message {
			t.Errorf("%q: %v; want %q on %q", c.body, err, c.message, c.field)
		}
	}
}

// What decoding a check's body, and a batch of a thousand, costs.
func BenchmarkDecodeCheckBody(b *testing.B) {
	question := `{"user_id":"01JB6Y2V4CQ4G1A0000000000U","account_id":"01JB6Y2V4CQ4G1A0000000000A","permission":"media.view","folder_id":"01JB6Y2V4CQ4G1A0000000000F"}`
	batch := `{"checks":[` + strings.TrimSuffix(strings.Repeat(question+",", 1000), ",") + `]}`
	b.Run("single", func(b *testing.B) {
		benchmarkDecode(b, question, func() any { return new(checkJSON) })
	})
	b.Run("batch", func(b *testing.B) {
		benchmarkDecode(b, batch, func() any { return new(struct{ Checks []checkJSON }) })
	})
}

func benchmarkDecode(b *testing.B, body string, dst func() any) {
	b.ReportAllocs()
	w := httptest.NewRecorder()
	for b.Loop() {
		if err := decodeJSON(w, httptest.NewRequest("POST", "/", strings.NewReader(body)), dst()); err != nil {
			b.Fatal(err)
		}
	}
}
