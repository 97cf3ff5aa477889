package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// maxJSONBody caps every JSON request body; no request of this API needs more.
const maxJSONBody = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads one JSON object into dst. Unknown fields are ignored (the
// contract may grow); a wrong type, trailing data, a body over the limit or a
// body that is not JSON is a validation error naming the field when it can.
// So are text that is not UTF-8 and a key given twice (see
// refuseAmbiguousJSON), which encoding/json would take without a word.
// The Content-Type is not insisted on: the API authenticates by bearer token,
// never by cookie, so a cross-site form post carries no credentials, and
// clients such as curl -d label JSON as a form.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err == nil && !plainAndUnambiguous(body) {
		err = refuseAmbiguousJSON(body)
	}
	// Unmarshal accepts exactly what the stream decoder below accepts (one
	// value, then only white space) without the decoder's buffer and
	// tokens; what it refuses is read again by the decoder, whose errors
	// say which field is wrong or that data trails.
	if err == nil && json.Unmarshal(body, dst) == nil {
		return nil
	}
	var dec *json.Decoder
	if err == nil {
		dec = json.NewDecoder(bytes.NewReader(body))
		err = dec.Decode(dst)
	}
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return nil
	}
	var (
		tooLarge  *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
		refused   *gatehouse.Error
	)
	switch {
	case errors.As(err, &refused):
		return refused
	case errors.As(err, &tooLarge):
		return gatehouse.Errorf(gatehouse.ETOOLARGE, "the body is larger than %d bytes", maxJSONBody)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return gatehouse.Invalid("", "the body must be a JSON object")
		}
		return gatehouse.Invalid(field, "%s must be %s, not a JSON %s", field, describeType(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return gatehouse.Invalid("", "the body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.EOF):
		return gatehouse.Invalid("", "the body is empty; a JSON object is required")
	default:
		return gatehouse.Invalid("", "the body is not a valid JSON object: %v", err)
	}
}

// plainAndUnambiguous tells, cheaply, that refuseAmbiguousJSON would find
// nothing in body, for the bodies clients send nearly always: ASCII text
// without a backslash (so valid UTF-8, with no escaped surrogate, and keys
// that fold as encoding/json folds them, by ASCII case), whose first value
// nests at most plainMaxDepth deep, has at most plainMaxKeys keys in an
// object, and no key twice in one. It reads the value's structure in one
// pass without allocating, where refuseAmbiguousJSON allocates a token at a
// time: on a check that was most of what reading its body cost. A body it
// cannot be sure of, malformed ones included, is false and is read by
// refuseAmbiguousJSON. It is lax only where JSON is invalid anyway (a
// number or literal is whatever runs up to the next comma, bracket, brace
// or white space): within a valid prefix it finds every key that
// refuseAmbiguousJSON finds, and past an invalid one refuseAmbiguousJSON
// finds nothing and leaves the error to the decoder.
func plainAndUnambiguous(body []byte) bool {
	for _, c := range body {
		if c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	type frame struct {
		object   bool
		firstKey int // index in keys of this object's first key
	}
	var (
		frameArray [plainMaxDepth]frame
		keyArray   [2 * plainMaxKeys][]byte
	)
	frames, keys := frameArray[:0], keyArray[:0]
	const (
		wantValue        = iota
		wantValueOrClose // just after '['
		wantKey
		wantKeyOrClose // just after '{'
		wantColon
		wantCommaOrClose
	)
	state := wantValue
	for i := 0; ; {
		for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
			i++
		}
		if i == len(body) {
			return false
		}
		c := body[i]
		valueEnded := false
		switch state {
		case wantValue, wantValueOrClose:
			switch {
			case c == ']' && state == wantValueOrClose:
				frames = frames[:len(frames)-1]
				i++
				valueEnded = true
			case c == '{' || c == '[':
				if len(frames) == plainMaxDepth {
					return false
				}
				frames = append(frames, frame{object: c == '{', firstKey: len(keys)})
				state = wantValueOrClose
				if c == '{' {
					state = wantKeyOrClose
				}
				i++
			case c == '"':
				if i = stringEnd(body, i); i < 0 {
					return false
				}
				valueEnded = true
			default:
				start := i
				for i < len(body) && !endsScalar(body[i]) {
					i++
				}
				if i == start {
					return false
				}
				valueEnded = true
			}
		case wantKey, wantKeyOrClose:
			switch {
			case c == '}' && state == wantKeyOrClose:
				frames = frames[:len(frames)-1]
				i++
				valueEnded = true
			case c == '"':
				end := stringEnd(body, i)
				if end < 0 {
					return false
				}
				key := body[i+1 : end-1]
				mine := keys[frames[len(frames)-1].firstKey:]
				if len(mine) == plainMaxKeys || len(keys) == cap(keys) {
					return false
				}
				for _, other := range mine {
					if bytes.EqualFold(key, other) {
						return false
					}
				}
				keys = append(keys, key)
				i = end
				state = wantColon
			default:
				return false
			}
		case wantColon:
			if c != ':' {
				return false
			}
			i++
			state = wantValue
		case wantCommaOrClose:
			top := frames[len(frames)-1]
			switch {
			case c == ',':
				state = wantValue
				if top.object {
					state = wantKey
				}
				i++
			case c == '}' && top.object, c == ']' && !top.object:
				keys = keys[:top.firstKey]
				frames = frames[:len(frames)-1]
				i++
				valueEnded = true
			default:
				return false
			}
		}
		if valueEnded {
			if len(frames) == 0 {
				return true // the first value is read; what trails is the decoder's to refuse
			}
			state = wantCommaOrClose
		}
	}
}

// stringEnd is the offset just past the string that opens at body[i], in a
// body without backslashes (so the next quote closes it), or -1 when the
// string is not closed.
func stringEnd(body []byte, i int) int {
	end := bytes.IndexByte(body[i+1:], '"')
	if end < 0 {
		return -1
	}
	return i + end + 2
}

// endsScalar tells whether c ends a number or a literal in JSON.
func endsScalar(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// plainMaxDepth and plainMaxKeys bound what plainAndUnambiguous reads
// itself: no request of this API nests deeper or names more keys in one
// object, and the keys of an object are compared pairwise.
const (
	plainMaxDepth = 32
	plainMaxKeys  = 32
)

// maxJSONDepth is encoding/json's own nesting limit, which no request comes
// near.
const maxJSONDepth = 10000

// refuseAmbiguousJSON refuses, in the first JSON value of body, what
// encoding/json would take without a word: invalid UTF-8, which it replaces
// with U+FFFD (a name stored other than sent), and a key given twice in one
// object, of which it keeps the last (what a proxy or a log read from the
// first is not what the handler acts on). Keys are compared as encoding/json
// matches them to fields, regardless of case. The field named is the path
// of the key, as "checks[0].user_id". Syntax errors are left to Decode,
// which says where they are.
func refuseAmbiguousJSON(body []byte) error {
	bad := -1
	if !utf8.Valid(body) {
		bad = firstInvalidUTF8(body)
	}
	// One frame per open object or array.
	type frame struct {
		keys    map[string]bool // seen, folded; nil for an array
		key     string          // the key whose value is being read
		wantKey bool            // a key comes next
		index   int             // the element being read, in an array
	}
	var stack []frame
	path := func(last string) string {
		var b strings.Builder
		for i, f := range stack {
			switch {
			case f.keys == nil:
				fmt.Fprintf(&b, "[%d]", f.index)
			case i < len(stack)-1 || !f.wantKey:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		if last != "" {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(last)
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			break // io.EOF, or a syntax error that Decode reports
		}
		if bad >= 0 && int64(bad) < dec.InputOffset() {
			return invalidUTF8(path(""))
		}
		if s, ok := tok.(string); ok && replacedSurrogate(s, body[start:dec.InputOffset()]) {
			return invalidUTF8(path(""))
		}
		top := len(stack) - 1
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				if len(stack) == maxJSONDepth {
					return gatehouse.Invalid("", "the body nests more than %d levels deep", maxJSONDepth)
				}
				f := frame{}
				if tok == '{' {
					f = frame{keys: map[string]bool{}, wantKey: true}
				}
				stack = append(stack, f)
				continue
			default:
				stack = stack[:top]
			}
		case string:
			if top >= 0 && stack[top].wantKey {
				folded := foldKey(tok)
				if stack[top].keys[folded] {
					field := path(tok)
					return gatehouse.Invalid(field, "%s is given twice", field)
				}
				stack[top].keys[folded] = true
				stack[top].key, stack[top].wantKey = tok, false
				continue
			}
		}
		// A value ended: an object wants a key next, an array its next
		// element; at the top, the body's value is read.
		if len(stack) == 0 {
			break
		}
		if f := &stack[len(stack)-1]; f.keys != nil {
			f.wantKey = true
		} else {
			f.index++
		}
	}
	if bad >= 0 {
		return invalidUTF8("")
	}
	return nil
}

func invalidUTF8(field string) error {
	if field == "" {
		return gatehouse.Invalid("", "the body must be UTF-8 text")
	}
	return gatehouse.Invalid(field, "%s must be UTF-8 text", field)
}

// replacedSurrogate tells whether the string s, read from raw, holds a
// U+FFFD that encoding/json put in place of an escaped lone surrogate
// ("\ud800"), which is no UTF-8 text either: raw has fewer U+FFFD, as such
// or escaped, than s. (Raw bytes that are not UTF-8 are caught before.)
func replacedSurrogate(s string, raw []byte) bool {
	n := strings.Count(s, "\ufffd")
	if n == 0 {
		return false
	}
	given := bytes.Count(raw, []byte("\ufffd")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	return given < n
}

// firstInvalidUTF8 is the offset of the first byte of b that is not UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// foldKey is the form under which encoding/json matches a key to a field:
// keys with one fold are one field to it.
func foldKey(key string) string {
	return strings.Map(func(r rune) rune {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				return next
			}
			r = next
		}
	}, key)
}

// describeType names the JSON a Go destination type accepts.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// pageRequest reads ?limit= and ?cursor=.
func pageRequest(r *http.Request) (gatehouse.PageRequest, error) {
	q := r.URL.Query()
	var page gatehouse.PageRequest
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return page, gatehouse.Invalid("limit", "limit must be a whole number from 1 to %d", gatehouse.MaxPageLimit)
		}
		page.Limit = min(n, gatehouse.MaxPageLimit) // "at most 500": more is served as 500
	}
	page.Cursor = q.Get("cursor")
	return page, nil
}

type listBody[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T, U any](page gatehouse.Page[T], convert func(T) U) listBody[U] {
	body := listBody[U]{Items: make([]U, 0, len(page.Items))}
	for _, item := range page.Items {
		body.Items = append(body.Items, convert(item))
	}
	if page.NextCursor != "" {
		body.NextCursor = &page.NextCursor
	}
	return body
}
