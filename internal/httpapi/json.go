package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"

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
// The Content-Type is not insisted on: the API authenticates by bearer token,
// never by cookie, so a cross-site form post carries no credentials, and
// clients such as curl -d label JSON as a form.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	err := dec.Decode(dst)
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
	)
	switch {
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
