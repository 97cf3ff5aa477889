package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The client's privacy (R-PV1…R-PV3): the page where a client's administrators
// open their cameras and media to their service provider until a time,
// end that access, and answer the provider's requests; where the
// provider's staff ask for it; and the account's time zone, in which its
// times are shown and the access ends by default.

// registerPrivacy adds the pages of the client's privacy.
func (p *Pages) registerPrivacy(handle func(pattern string, h http.Handler)) {
	const tab = "provider_access"
	handle("GET /accounts/{id}/provider-access", p.secure(p.account(tab, p.providerAccessPage)))
	handle("POST /accounts/{id}/provider-access", p.secure(p.csrf.Handler(p.account(tab, p.openProviderAccess))))
	handle("GET /accounts/{id}/provider-access/end", p.secure(p.account(tab, p.confirm("confirm_end_provider_access", "confirm_end_provider_access_loses",
		"end_provider_access", func(v *visit, _ *http.Request) string { return providerBase(v) }, nil))))
	handle("POST /accounts/{id}/provider-access/end", p.secure(p.csrf.Handler(p.account(tab, p.endProviderAccess))))
	handle("POST /accounts/{id}/provider-access/requests", p.secure(p.csrf.Handler(p.account(tab, p.askProviderAccess))))
	handle("GET /accounts/{id}/provider-access/requests/{request_id}", p.secure(p.account(tab, p.providerRequestPage)))
	handle("POST /accounts/{id}/provider-access/requests/{request_id}/approve", p.secure(p.csrf.Handler(p.account(tab, p.decideProviderRequest(true)))))
	handle("POST /accounts/{id}/provider-access/requests/{request_id}/refuse", p.secure(p.csrf.Handler(p.account(tab, p.decideProviderRequest(false)))))
	handle("POST /accounts/{id}/time-zone", p.secure(p.csrf.Handler(p.account(tab, p.saveTimeZone))))
}

func providerBase(v *visit) string { return "/accounts/" + v.view.Account.ID + "/provider-access" }

// timeZones are the zones the time zone list offers, besides the
// account's own: enough for the sites the platform serves, kept light.
// Every name is one time.LoadLocation knows (a test holds them to it).
var timeZones = []string{
	"UTC",
	"Europe/Paris", "Europe/Brussels", "Europe/Luxembourg", "Europe/Monaco", "Europe/Zurich", "Europe/London", "Europe/Dublin",
	"Europe/Lisbon", "Europe/Madrid", "Europe/Rome", "Europe/Berlin", "Europe/Amsterdam", "Europe/Vienna", "Europe/Prague",
	"Europe/Warsaw", "Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Europe/Athens", "Europe/Bucharest",
	"Europe/Istanbul", "Europe/Kyiv", "Africa/Casablanca", "Africa/Algiers", "Africa/Tunis", "Africa/Dakar", "Africa/Abidjan",
	"Africa/Douala", "Africa/Kinshasa", "Africa/Johannesburg", "Indian/Reunion", "Indian/Mauritius", "Asia/Dubai", "Asia/Kolkata",
	"Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Noumea", "Pacific/Tahiti",
	"America/Martinique", "America/Guadeloupe", "America/Cayenne", "America/Sao_Paulo", "America/Mexico_City",
	"America/New_York", "America/Toronto", "America/Montreal", "America/Chicago", "America/Denver", "America/Phoenix",
	"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
}

// zoneOptions are the choices of the time zone list: the account's own
// first when the list lacks it.
func zoneOptions(current string) []string {
	if current == "" || slices.Contains(timeZones, current) {
		return timeZones
	}
	return append([]string{current}, timeZones...)
}

// inputTime is an instant as a datetime-local field shows it, in the
// account's time zone.
func inputTime(t time.Time, a gatehouse.Account) string {
	return t.In(a.Location()).Format("2006-01-02T15:04")
}

// formUntil reads an optional datetime-local field, a time in the
// account's time zone; nil when left empty.
func formUntil(value string, a gatehouse.Account) (*time.Time, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, value, a.Location()); err == nil {
			return &t, nil
		}
	}
	return nil, gatehouse.Invalid("until", "until must be a date and time")
}

type providerRequestRow struct {
	accounts.ProviderAccessRequestView
	CreatedText, DecidedText, UntilText string
}

type providerAccessData struct {
	State                  accounts.ProviderAccess
	UntilText, DefaultText string
	Min, Max               string // the bounds of the end field
	// Requests are the latest, the one waiting first.
	Requests                []providerRequestRow
	Zones                   []string
	MayDecide, WaitsAlready bool
}

func (p *Pages) requestRow(v *visit, r accounts.ProviderAccessRequestView) providerRequestRow {
	row := providerRequestRow{ProviderAccessRequestView: r, CreatedText: localTime(r.CreatedAt, v.view.Account)}
	if !r.DecidedAt.IsZero() {
		row.DecidedText = localTime(r.DecidedAt, v.view.Account)
	}
	if !r.Until.IsZero() {
		row.UntilText = localTime(r.Until, v.view.Account)
	}
	if r.DecidedBy == "operator" {
		row.DecidedByName = v.view.T["operator"]
	}
	return row
}

func (p *Pages) providerAccessPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderProviderAccess(w, r, v, http.StatusOK)
}

// renderProviderAccess shows whether the service provider reaches the
// site's cameras and media, until when, the forms of those who may change
// it, and the requests.
func (p *Pages) renderProviderAccess(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	st, err := p.svc.Accounts.ProviderAccessOf(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
		return
	}
	v.view.Account = st.Account
	data := providerAccessData{State: st, DefaultText: localTime(st.DefaultUntil, st.Account), Min: inputTime(st.Now, st.Account),
		Max: inputTime(st.MaxUntil, st.Account), Zones: zoneOptions(st.Account.TimeZone), MayDecide: v.rights.DecideProviderAccess}
	if st.Open {
		data.UntilText = localTime(st.Until, st.Account)
	}
	requests, err := p.svc.Accounts.ProviderAccessRequests(r.Context(), v.caller, v.view.Account.ID, gatehouse.ProviderAccessRequestFilter{
		Page: gatehouse.PageRequest{Limit: 20}})
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	for _, req := range requests.Items {
		row := p.requestRow(v, req)
		if req.Status == gatehouse.ProviderAccessPending {
			data.Requests, data.WaitsAlready = append([]providerRequestRow{row}, data.Requests...), true
		} else {
			data.Requests = append(data.Requests, row)
		}
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "provider_access.html", v)
}

// openProviderAccess opens the access, or moves its end, until the time
// given in the account's time zone, by default its next midnight.
func (p *Pages) openProviderAccess(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	until, err := formUntil(r.PostFormValue("until"), v.view.Account)
	var st accounts.ProviderAccess
	if err == nil {
		st, err = p.svc.Accounts.GrantProviderAccess(r.Context(), v.caller, v.view.Account.ID, until)
	}
	if err != nil {
		v.view.Form = r.PostForm
		p.fieldError(r, v, err)
		p.renderProviderAccess(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL(providerBase(v), "provider_access_opened", localTime(st.Until, st.Account)), http.StatusSeeOther)
}

func (p *Pages) endProviderAccess(w http.ResponseWriter, r *http.Request, v *visit) {
	if _, err := p.svc.Accounts.EndProviderAccess(r.Context(), v.caller, v.view.Account.ID); err != nil {
		v.view.Error = p.message(r, err)
		p.renderProviderAccess(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL(providerBase(v), "provider_access_ended", ""), http.StatusSeeOther)
}

// askProviderAccess is the integrator's staff asking the site for access;
// its administrators are mailed.
func (p *Pages) askProviderAccess(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if _, err := p.svc.Accounts.RequestProviderAccess(r.Context(), v.caller, v.view.Account.ID, r.PostFormValue("reason")); err != nil {
		v.view.Form = r.PostForm
		if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			v.view.Error = v.view.T["provider_request_waiting"]
		} else {
			p.fieldError(r, v, err)
		}
		p.renderProviderAccess(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL(providerBase(v), "provider_access_asked", ""), http.StatusSeeOther)
}

type providerRequestData struct {
	Request               providerRequestRow
	Pending, MayDecide    bool
	DefaultText, Min, Max string
}

// providerRequestPage is where the link mailed to the site's
// administrators leads: who asks, when and why, and the one click that
// approves (until the next midnight, or a time chosen) or refuses.
func (p *Pages) providerRequestPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderProviderRequest(w, r, v, http.StatusOK)
}

func (p *Pages) renderProviderRequest(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	req, err := p.svc.Accounts.ProviderAccessRequest(r.Context(), v.caller, v.view.Account.ID, r.PathValue("request_id"))
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
		return
	}
	now := p.now()
	v.view.Data = providerRequestData{Request: p.requestRow(v, req), Pending: req.Status == gatehouse.ProviderAccessPending,
		MayDecide: v.rights.DecideProviderAccess, DefaultText: localTime(gatehouse.NextMidnight(now, v.view.Account.Location()), v.view.Account),
		Min: inputTime(now, v.view.Account), Max: inputTime(now.Add(gatehouse.MaxProviderAccess), v.view.Account)}
	p.renderPortal(w, r, status, "provider_request.html", v)
}

// decideProviderRequest approves or refuses a waiting request.
func (p *Pages) decideProviderRequest(approve bool) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		id := r.PathValue("request_id")
		var (
			req accounts.ProviderAccessRequestView
			err error
		)
		if approve {
			var until *time.Time
			if until, err = formUntil(r.PostFormValue("until"), v.view.Account); err == nil {
				req, err = p.svc.Accounts.ApproveProviderAccessRequest(r.Context(), v.caller, v.view.Account.ID, id, until)
			}
		} else {
			req, err = p.svc.Accounts.RefuseProviderAccessRequest(r.Context(), v.caller, v.view.Account.ID, id)
		}
		if err != nil {
			v.view.Form = r.PostForm
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				v.view.Error = v.view.T["provider_request_answered"]
			} else {
				p.fieldError(r, v, err)
			}
			p.renderProviderRequest(w, r, v, statusOf(err))
			return
		}
		if approve {
			http.Redirect(w, r, doneURL(providerBase(v), "provider_request_approved", localTime(req.Until, v.view.Account)), http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, doneURL(providerBase(v), "provider_request_refused", ""), http.StatusSeeOther)
	}
}

// saveTimeZone changes the account's time zone.
func (p *Pages) saveTimeZone(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	zone := r.PostFormValue("time_zone")
	account, err := p.svc.Accounts.UpdateAccount(r.Context(), v.caller, v.view.Account.ID, accounts.AccountPatch{TimeZone: &zone})
	if err != nil {
		p.fieldError(r, v, err)
		p.renderProviderAccess(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL(providerBase(v), "time_zone_saved", account.TimeZone), http.StatusSeeOther)
}
