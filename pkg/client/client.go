// Package client is a typed Go client of Gatehouse's JSON API (/api/v1),
// for the platform's services and for the administrator's commands of
// cmd/gatehouse. It speaks HTTP only and imports nothing of the server, so
// that a service depends on the contract, not on Gatehouse's internals.
//
// Every method takes a context and returns, for an answer that is not a
// success, a *Error carrying the HTTP status and the contract's error body:
//
//	var apiErr *client.Error
//	if errors.As(err, &apiErr) && apiErr.Code == client.CodeNotFound { … }
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds a request of the default HTTP client: longer than
// the longest wait of the event feed (60 s), so a long poll is never cut.
const DefaultTimeout = 2 * time.Minute

// Client calls one Gatehouse server with one bearer secret. It is safe for
// concurrent use.
type Client struct {
	baseURL   string
	token     string
	http      *http.Client
	userAgent string
}

// Option changes how a Client is made.
type Option func(*Client)

// WithHTTPClient sends the requests through hc (for its transport, proxy or
// TLS settings). Give it a timeout over the feed's wait, or none, if the
// client reads the event feed with a wait.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent names the calling program in the User-Agent header, which
// the server's request log records.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the server at baseURL (such as
// "https://gatehouse.example.com") that authenticates with token: a
// personal API token, a session token or the bootstrap operator token.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		token:     token,
		http:      &http.Client{Timeout: DefaultTimeout},
		userAgent: "gatehouse-go-client",
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Page is one page of a list, in the list's own order. NextCursor asks for
// the next page; it is "" on the last one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// MarshalJSON writes the page as the API does: next_cursor is null on the
// last page.
func (p Page[T]) MarshalJSON() ([]byte, error) {
	out := struct {
		Items      []T     `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}{Items: p.Items}
	if out.Items == nil {
		out.Items = []T{}
	}
	if p.NextCursor != "" {
		out.NextCursor = &p.NextCursor
	}
	return json.Marshal(out)
}

// PageRequest asks for one page of a list: Limit items at most (0 for the
// server's default of 50; it serves at most 500, and refuses a negative
// limit), after Cursor (a previous page's NextCursor; "" for the first
// page).
type PageRequest struct {
	Limit  int
	Cursor string
}

func (p PageRequest) set(q url.Values) {
	if p.Limit != 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	setNonEmpty(q, "cursor", p.Cursor)
}

func setNonEmpty(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// path joins the segments under /api/v1, escaping each: an id holding a
// slash must not reach another route.
func path(segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends one request: in (when not nil) as the JSON body, the answer's
// JSON into out (when not nil). An answer of 300 or more is a *Error.
func (c *Client) do(ctx context.Context, method, route string, query url.Values, in, out any) error {
	target := c.baseURL + route
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("gatehouse: %s %s: %w", method, route, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(method, route, resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("gatehouse: %s %s: reading the answer: %w", method, route, err)
	}
	return nil
}

// All yields every item of a list, page after page: fetch returns the page
// after a cursor ("" for the first). It stops at the first error, which it
// yields.
//
//	for m, err := range client.All(func(cursor string) (client.Page[client.Membership], error) {
//		return c.ListUsers(ctx, accountID, client.UserFilter{PageRequest: client.PageRequest{Cursor: cursor}})
//	}) { … }
func All[T any](fetch func(cursor string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			page, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			cursor = page.NextCursor
		}
	}
}
