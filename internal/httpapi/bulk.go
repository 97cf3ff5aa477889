package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
)

// Bulk invitations (the API reference at /api/docs).

type bulkRowJSON struct {
	Line       int     `json:"line"`
	Email      string  `json:"email"`
	FirstName  string  `json:"first_name"`
	LastName   string  `json:"last_name"`
	Role       string  `json:"role"`
	HomeFolder string  `json:"home_folder"`
	Outcome    string  `json:"outcome"`
	Message    string  `json:"message"`
	Result     *string `json:"result,omitempty"`
}

func toBulkRowJSON(r gatehouse.BulkRow) bulkRowJSON {
	out := bulkRowJSON{Line: r.Line, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Role: r.Role,
		HomeFolder: r.HomeFolder, Outcome: string(r.Outcome), Message: r.Message}
	if r.Result != "" {
		out.Result = &r.Result
	}
	return out
}

// totalsJSON has every outcome, zero ones included, and the number of lines.
func totalsJSON(p gatehouse.BulkPreview) map[string]int {
	totals := map[string]int{"rows": p.Rows}
	for _, o := range gatehouse.BulkOutcomes {
		totals[string(o)] = p.Totals[o]
	}
	return totals
}

type bulkStatusJSON struct {
	PreviewID  string         `json:"preview_id"`
	Status     string         `json:"status"`
	Totals     map[string]int `json:"totals"`
	ToInvite   int            `json:"to_invite"`
	Processed  int            `json:"processed"`
	Invited    int            `json:"invited"`
	Failed     int            `json:"failed"`
	CreatedAt  time.Time      `json:"created_at"`
	ExpiresAt  time.Time      `json:"expires_at"`
	FinishedAt *time.Time     `json:"finished_at"`
}

func toBulkStatusJSON(p gatehouse.BulkPreview) bulkStatusJSON {
	out := bulkStatusJSON{PreviewID: p.ID, Status: string(p.Status), Totals: totalsJSON(p), ToInvite: p.ToInvite,
		Processed: p.Processed, Invited: p.Invited, Failed: p.Failed, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt}
	if !p.FinishedAt.IsZero() {
		out.FinishedAt = &p.FinishedAt
	}
	return out
}

// previewBulk reads the CSV body, stores the preview, then streams it back
// line by line from the store: the answer of a 100,000-line file is never
// held in memory.
func (s *Server) previewBulk(w http.ResponseWriter, r *http.Request) {
	accountID := r.PathValue("id")
	if r.ContentLength > people.MaxBulkFile {
		// Known too large: refused before a line is read. A body without a
		// length is cut at the cap as it streams.
		s.writeError(w, r, gatehouse.Errorf(gatehouse.ETOOLARGE, "the file is larger than %d bytes", people.MaxBulkFile))
		return
	}
	preview, err := s.svc.People.PreviewBulk(r.Context(), caller(r), accountID, http.MaxBytesReader(w, r.Body, people.MaxBulkFile))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `{"preview_id":%q,"rows":[`, preview.ID)
	enc := json.NewEncoder(w)
	first := true
	for after := 0; ; {
		rows, err := s.svc.People.BulkRows(r.Context(), caller(r), accountID, preview.ID, after, 1000)
		if err != nil {
			// The status is sent: cut the answer short rather than end it
			// as if it were whole.
			s.log.ErrorContext(r.Context(), "bulk preview stream", "request_id", requestID(r.Context()), "error", err)
			panic(http.ErrAbortHandler)
		}
		if len(rows) == 0 {
			break
		}
		for _, row := range rows {
			if !first {
				_, _ = w.Write([]byte{','})
			}
			first = false
			_ = enc.Encode(toBulkRowJSON(row))
		}
		after = rows[len(rows)-1].Line
	}
	_, _ = w.Write([]byte(`],"totals":`))
	_ = enc.Encode(totalsJSON(preview))
	_, _ = w.Write([]byte("}\n"))
}

// confirmBulk applies a preview. It answers 200 {"invited":n,…} once the
// job is done; with ?wait=false it answers 202 at once with the job's
// progress, to follow with GET.
func (s *Server) confirmBulk(w http.ResponseWriter, r *http.Request) {
	wait := r.URL.Query().Get("wait") != "false"
	p, err := s.svc.People.ConfirmBulk(r.Context(), caller(r), r.PathValue("id"), r.PathValue("preview_id"), wait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := toBulkStatusJSON(p)
	body := struct {
		Invited int `json:"invited"`
		bulkStatusJSON
	}{p.Invited, status}
	code := http.StatusOK
	if p.Status != gatehouse.BulkDone {
		code = http.StatusAccepted
	}
	writeJSON(w, code, body)
}

func (s *Server) bulkStatus(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.People.BulkStatus(r.Context(), caller(r), r.PathValue("id"), r.PathValue("preview_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBulkStatusJSON(p))
}

// bulkRows pages through a preview's lines with what the confirm did to
// each: the downloadable result.
func (s *Server) bulkRows(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after := 0
	if key, err := gatehouse.DecodeCursor(page.Cursor, 1); err != nil {
		s.writeError(w, r, err)
		return
	} else if key != nil {
		if after, err = strconv.Atoi(key[0]); err != nil {
			s.writeError(w, r, gatehouse.Invalid("cursor", "cursor is not one this list gave out"))
			return
		}
	}
	limit := page.Limit
	if limit == 0 {
		limit = gatehouse.DefaultPageLimit
	}
	rows, err := s.svc.People.BulkRows(r.Context(), caller(r), r.PathValue("id"), r.PathValue("preview_id"), after, limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := gatehouse.Page[gatehouse.BulkRow]{Items: rows}
	if len(rows) > limit {
		out.Items = rows[:limit]
		out.NextCursor = gatehouse.EncodeCursor(strconv.Itoa(rows[limit-1].Line))
	}
	writeJSON(w, http.StatusOK, newList(out, toBulkRowJSON))
}
