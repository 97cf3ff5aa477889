package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/events"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// eventJSON is an event of the feed, with the cursor to read after it.
type eventJSON struct {
	gatehouse.Event
	Cursor string `json:"cursor"`
}

// listEvents is GET /api/v1/events?account_id=&after=&limit=&wait=: the
// changes after a cursor, in commit order, waiting up to wait (30s, or
// seconds) for the first one.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := events.Query{AccountID: q.Get("account_id")}
	var err error
	if query.After, err = gatehouse.ParseEventCursor(q.Get("after")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if raw := q.Get("limit"); raw != "" {
		if query.Limit, err = strconv.Atoi(raw); err != nil || query.Limit < 1 {
			s.writeError(w, r, gatehouse.Invalid("limit", "limit is a number of events from 1 to %d", events.MaxLimit))
			return
		}
	}
	if raw := q.Get("wait"); raw != "" {
		if query.Wait, err = time.ParseDuration(raw); err != nil {
			seconds, convErr := strconv.Atoi(raw)
			if convErr != nil {
				s.writeError(w, r, gatehouse.Invalid("wait", "wait is a duration (30s) or a number of seconds"))
				return
			}
			query.Wait = time.Duration(seconds) * time.Second
		}
	}
	page, err := s.svc.Events.Feed(r.Context(), caller(r), query)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]eventJSON, len(page.Events))
	for i, e := range page.Events {
		if e.Changes == nil {
			e.Changes = []gatehouse.AuditChange{}
		}
		items[i] = eventJSON{Event: e, Cursor: page.Cursors[i].String()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.Next.String()})
}
