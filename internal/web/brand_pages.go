package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse/gatehouse/internal/branding"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
)

// registerBranding adds the brand pages: an integrator's on its Brand tab,
// the platform's default on the operators' pages.
func (p *Pages) registerBranding(handle func(pattern string, h http.Handler)) {
	for _, where := range []struct {
		prefix string
		wrap   func(tab string, h func(http.ResponseWriter, *http.Request, *visit)) http.Handler
		tab    string
	}{{"/accounts/{id}/brand", p.account, "brand"}, {"/platform/brand", p.platform, "platform_brand"}} {
		handle("GET "+where.prefix, p.secure(where.wrap(where.tab, p.brandPage)))
		handle("POST "+where.prefix, p.secure(p.csrf.Handler(where.wrap(where.tab, p.saveBrand))))
		handle("POST "+where.prefix+"/logo", p.secure(p.csrf.Handler(where.wrap(where.tab, p.saveBrandLogo))))
		handle("POST "+where.prefix+"/messages", p.secure(p.csrf.Handler(where.wrap(where.tab, p.saveBrandMessage))))
		handle("GET "+where.prefix+"/preview", p.secure(where.wrap(where.tab, p.brandPreviewPage)))
		handle("GET "+where.prefix+"/preview/mail.html", p.secure(where.wrap(where.tab, p.brandPreviewHTML)))
	}
}

type option struct{ Value, Label string }

type brandPageData struct {
	Base     string
	Platform bool
	Own      gatehouse.Brand
	// Fields are the form's values: the brand's, or those refused.
	Fields           map[string]string
	Effective        pageBrand
	LogoURL          string
	Kinds, Languages []option
	Message          gatehouse.BrandMessage
	Preview          *branding.Preview
	PreviewURL       string
	DefaultName      string
	// Placeholders are what an override may name.
	Placeholders []string
}

var brandFields = []string{"product_name", "primary_colour", "accent_colour", "support_email", "support_phone", "sender_name", "sender_address", "host"}

// brandOwner is the brand a page is about: the account's, or "" for the
// platform's default.
func brandOwner(v *visit) (owner, base string) {
	if v.view.Account.ID == "" {
		return "", "/platform/brand"
	}
	return v.view.Account.ID, "/accounts/" + v.view.Account.ID + "/brand"
}

// brandData reads the brand and fills what its page shows.
func (p *Pages) brandData(r *http.Request, v *visit) (*brandPageData, error) {
	owner, base := brandOwner(v)
	view, err := p.svc.Branding.Brand(r.Context(), v.caller, owner)
	if err != nil {
		return nil, err
	}
	d := &brandPageData{Base: base, Platform: owner == "", Own: view.Own, Effective: toPageBrand(view.Effective),
		LogoURL: kernel.LogoURL("", view.Own), DefaultName: view.Effective.ProductName, Placeholders: messages.Placeholders}
	if d.LogoURL == "" {
		d.LogoURL = d.Effective.LogoURL
	}
	d.Fields = map[string]string{"product_name": view.Own.ProductName, "primary_colour": view.Own.PrimaryColour,
		"accent_colour": view.Own.AccentColour, "support_email": view.Own.SupportEmail, "support_phone": view.Own.SupportPhone,
		"sender_name": view.Own.SenderName, "sender_address": view.Own.SenderAddress, "host": view.Own.Host}
	for _, k := range messages.EmailKinds {
		d.Kinds = append(d.Kinds, option{k, v.view.T["kind_"+k]})
	}
	for _, l := range gatehouse.Languages {
		d.Languages = append(d.Languages, option{l, v.view.T["lang_"+l]})
	}
	q := r.URL.Query()
	kind, lang := q.Get("kind"), q.Get("language")
	if !slices.Contains(messages.EmailKinds, kind) {
		kind = messages.Activation
	}
	if !slices.Contains(gatehouse.Languages, lang) {
		lang = v.view.Lang
	}
	d.Message = gatehouse.BrandMessage{Kind: kind, Language: lang}
	if m, ok := view.Own.Message(kind, lang); ok {
		d.Message = m
	}
	return d, nil
}

func (p *Pages) brandPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d, err := p.brandData(r, v)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	v.view.Data = d
	p.renderPortal(w, r, http.StatusOK, "brand.html", v)
}

// inputOf is a brand's input: the form's fields over the brand's, and its
// message overrides as they are.
func inputOf(own gatehouse.Brand, fields map[string]string) branding.Input {
	return branding.Input{ProductName: fields["product_name"], PrimaryColour: fields["primary_colour"], AccentColour: fields["accent_colour"],
		SupportEmail: fields["support_email"], SupportPhone: fields["support_phone"], SenderName: fields["sender_name"],
		SenderAddress: fields["sender_address"], Host: fields["host"], Messages: own.Messages}
}

func (p *Pages) saveBrand(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	d, err := p.brandData(r, v)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	for _, f := range brandFields {
		d.Fields[f] = r.PostFormValue(f)
	}
	owner, base := brandOwner(v)
	if _, err := p.svc.Branding.UpdateBrand(r.Context(), v.caller, owner, inputOf(d.Own, d.Fields)); err != nil {
		v.view.Data = d
		p.formError(r, v, err, brandFields...)
		p.renderPortal(w, r, statusOf(err), "brand.html", v)
		return
	}
	http.Redirect(w, r, doneURL(base, "brand_saved_flash", ""), http.StatusSeeOther)
}

func (p *Pages) saveBrandLogo(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, branding.MaxLogo+64<<10)
	owner, base := brandOwner(v)
	err := r.ParseMultipartForm(branding.MaxLogo + 64<<10)
	var data []byte
	contentType := ""
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = gatehouse.Errorf(gatehouse.ETOOLARGE, "a logo is at most %d KiB", branding.MaxLogo>>10)
		} else {
			err = gatehouse.Invalid("logo", "choose a file")
		}
	} else if file, header, ferr := r.FormFile("logo"); ferr != nil {
		err = gatehouse.Invalid("logo", "choose a file")
	} else {
		data, err = io.ReadAll(io.LimitReader(file, branding.MaxLogo+1))
		file.Close()
		contentType = header.Header.Get("Content-Type")
		if contentType == "" || contentType == "application/octet-stream" {
			contentType = http.DetectContentType(data)
		}
	}
	if err == nil {
		_, err = p.svc.Branding.SetLogo(r.Context(), v.caller, owner, contentType, data)
	}
	if err != nil {
		d, derr := p.brandData(r, v)
		if derr != nil {
			p.refused(w, r, v, derr)
			return
		}
		v.view.Data = d
		if gatehouse.ErrorCode(err) == gatehouse.ETOOLARGE {
			err = &gatehouse.Error{Code: gatehouse.EINVALID, Message: "a logo is at most 256 KiB", Field: "logo"}
		}
		p.formError(r, v, err, "logo")
		p.renderPortal(w, r, statusOf(err), "brand.html", v)
		return
	}
	http.Redirect(w, r, doneURL(base, "brand_logo_flash", ""), http.StatusSeeOther)
}

// saveBrandMessage sets (or, both fields empty, removes) the override of
// one kind of e-mail in one language.
func (p *Pages) saveBrandMessage(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	kind, lang := r.PostFormValue("kind"), r.PostFormValue("language")
	r.URL.RawQuery = url.Values{"kind": {kind}, "language": {lang}}.Encode()
	d, err := p.brandData(r, v)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	m := gatehouse.BrandMessage{Kind: kind, Language: lang, Subject: r.PostFormValue("subject"), Intro: r.PostFormValue("intro")}
	var list []gatehouse.BrandMessage
	for _, old := range d.Own.Messages {
		if old.Kind != kind || old.Language != lang {
			list = append(list, old)
		}
	}
	list = append(list, m)
	own := d.Own
	own.Messages = list
	owner, base := brandOwner(v)
	if _, err := p.svc.Branding.UpdateBrand(r.Context(), v.caller, owner, inputOf(own, d.Fields)); err != nil {
		d.Message = m
		v.view.Data = d
		var e *gatehouse.Error
		if errors.As(err, &e) && e.Code == gatehouse.EINVALID {
			// The use case names the message's place in the list; the
			// page has one of each field.
			for _, f := range []string{"subject", "intro"} {
				if len(e.Field) > len(f) && e.Field[len(e.Field)-len(f):] == f {
					e = &gatehouse.Error{Code: e.Code, Message: e.Message, Field: "message_" + f}
				}
			}
			err = e
		}
		p.formError(r, v, err, "message_subject", "message_intro")
		p.renderPortal(w, r, statusOf(err), "brand.html", v)
		return
	}
	http.Redirect(w, r, base+"?"+url.Values{"done": {"brand_message_flash"}, "kind": {kind}, "language": {lang}}.Encode()+"#messages", http.StatusSeeOther)
}

// brandPreviewPage shows one e-mail as the brand sends it: its sender,
// subject, text part, and its HTML part in a frame of its own.
func (p *Pages) brandPreviewPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d, err := p.brandData(r, v)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	owner, base := brandOwner(v)
	preview, err := p.svc.Branding.PreviewMail(r.Context(), v.caller, owner, d.Message.Kind, d.Message.Language)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	d.Preview = &preview
	d.PreviewURL = base + "/preview/mail.html?" + url.Values{"kind": {d.Message.Kind}, "language": {d.Message.Language}}.Encode()
	v.view.Data = d
	// The HTML part is framed from this server alone.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "+
		"frame-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	p.renderPortal(w, r, http.StatusOK, "brand_preview.html", v)
}

// brandPreviewHTML is the HTML part of a previewed e-mail, as a document
// that runs nothing, shown in the preview page's frame.
func (p *Pages) brandPreviewHTML(w http.ResponseWriter, r *http.Request, v *visit) {
	owner, _ := brandOwner(v)
	q := r.URL.Query()
	preview, err := p.svc.Branding.PreviewMail(r.Context(), v.caller, owner, q.Get("kind"), q.Get("language"))
	if err != nil {
		http.Error(w, p.message(r, err), statusOf(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'self'; sandbox")
	_, _ = io.WriteString(w, preview.HTML)
}
