package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Whatever body arrives, decodeJSON answers nil or a validation or size
// error, never panics, and what it accepts is valid UTF-8 with no key given
// twice in any object.
func FuzzDecodeJSONBody(f *testing.F) {
	for _, seed := range []string{
		`{"name":"a"}`, `{"name":"a","name":"b"}`, `{"name":"a","NAME":"b"}`, "{\"name\":\"\xff\"}", `{"a":{"b":1,"b":2}}`,
		`{"a":[{"b":1},{"b":2}]}`, `{"a":[{"b":1,"b":2}]}`, `[1,2,{"x":1,"x":2}]`, `{"k":1,"K":2}`, `{"\u212a":1,"k":2}`,
		`{"a":1}{"a":1,"a":2}`, `{"a":"\ud800"}`, `""`, `{`, "", "\xef\xbb\xbf{}", `{"a":[[[[]]]]}`, "{\"\xc3\":1}",
		`{"a":1 "a":2}`, `{"a":[],"b":{},"A":0}`, `{"a":{"b":1},"b":2,"c":{"b":3}}`, `{"a":tru,"a":1}`, `[{"a":1},{"a":1}]`,
		`{"a":1,}`, `[1,]`, `{"a" "a":1}`, ` {"x":null , "y" : [ 1 , { "x" : 2 } ] } `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if plainAndUnambiguous(body) {
			if err := refuseAmbiguousJSON(body); err != nil {
				t.Fatalf("the quick reading let %q through, which the full one refuses: %v", body, err)
			}
		}
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		var dst any
		err := decodeJSON(httptest.NewRecorder(), req, &dst)
		if err != nil {
			if code := gatehouse.ErrorCode(err); code != gatehouse.EINVALID && code != gatehouse.ETOOLARGE {
				t.Fatalf("error %v for %q", err, body)
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		if key, twice := repeatedKey(dec); twice {
			t.Fatalf("accepted %q given twice in %q", key, body)
		}
	})
}

// repeatedKey reads one JSON value from dec, telling whether an object in it
// has a key twice, exactly.
func repeatedKey(dec *json.Decoder) (string, bool) {
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, _ := dec.Token()
			key, _ := k.(string)
			if seen[key] {
				return key, true
			}
			seen[key] = true
			if key, twice := repeatedKey(dec); twice {
				return key, true
			}
		}
		_, _ = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if key, twice := repeatedKey(dec); twice {
				return key, true
			}
		}
		_, _ = dec.Token()
	}
	return "", false
}
