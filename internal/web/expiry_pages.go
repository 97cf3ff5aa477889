package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
)

// Access that ends by itself, as pages show and take it: an optional
// "Access until" in forms, a datetime-local field read as UTC (and labelled
// so), and the time left wherever a membership or grant with an end shows.

// datetimeLocal is the value of a datetime-local field for t, in UTC; ""
// for none.
func datetimeLocal(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

// readAccessEnd reads an "Access until" field: a datetime-local value read
// as UTC, "" for none.
func readAccessEnd(value string) (time.Time, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, value, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, gatehouse.Invalid("expires_at", "expires_at must be a date and time such as 2026-12-01T18:00")
}

// accessLeft says how long access that ends still lasts and when it ends,
// "ends in 5 h — 2026-12-01 18:00 UTC", or that it ended; "" for access
// without an end.
func accessLeft(texts map[string]string, end, now time.Time) string {
	if end.IsZero() {
		return ""
	}
	when := end.UTC().Format("2006-01-02 15:04 UTC")
	left := end.Sub(now)
	switch {
	case left <= 0:
		return texts["access_ended"] + " — " + when
	case left < time.Hour:
		return fmt.Sprintf(texts["ends_in_minutes"], int((left+time.Minute-1)/time.Minute)) + " — " + when
	case left < 48*time.Hour:
		return fmt.Sprintf(texts["ends_in_hours"], int(left/time.Hour)) + " — " + when
	}
	return fmt.Sprintf(texts["ends_in_days"], int(left/(24*time.Hour))) + " — " + when
}

// saveMemberExpiry changes or clears when a member's access ends (an
// emptied field, or the button that removes the end, makes it permanent).
func (p *Pages) saveMemberExpiry(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	end, err := readAccessEnd(r.PostForm.Get("expires_at"))
	if r.PostForm.Get("action") == "clear" {
		end, err = time.Time{}, nil
	}
	id := r.PathValue("membership_id")
	if err == nil {
		_, err = p.svc.People.UpdateMember(r.Context(), v.caller, v.view.Account.ID, id, people.MemberPatch{ExpiresAt: &end})
	}
	if err != nil {
		v.view.Form = r.PostForm
		p.fieldError(r, v, err)
		p.renderMember(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/users/"+id, "saved_flash", ""), http.StatusSeeOther)
}
