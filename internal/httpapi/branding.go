package httpapi

import (
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/branding"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

type brandMessageJSON struct {
	Kind     string `json:"kind"`
	Language string `json:"language"`
	Subject  string `json:"subject"`
	Intro    string `json:"intro"`
}

type brandFieldsJSON struct {
	ProductName   string `json:"product_name"`
	PrimaryColour string `json:"primary_colour"`
	AccentColour  string `json:"accent_colour"`
	SupportEmail  string `json:"support_email"`
	SupportPhone  string `json:"support_phone"`
	SenderName    string `json:"sender_name"`
	SenderAddress string `json:"sender_address"`
	Host          string `json:"host"`
}

type brandJSON struct {
	Owner string `json:"owner"`
	brandFieldsJSON
	LogoURL   *string            `json:"logo_url"`
	Messages  []brandMessageJSON `json:"messages"`
	Effective brandFieldsJSON    `json:"effective"`
	// EffectiveLogoURL is the logo people see, the default's when the
	// brand has none.
	EffectiveLogoURL *string    `json:"effective_logo_url"`
	UpdatedAt        *time.Time `json:"updated_at"`
}

type brandInputJSON struct {
	brandFieldsJSON
	Messages []brandMessageJSON `json:"messages"`
}

func fieldsJSON(b gatehouse.Brand) brandFieldsJSON {
	return brandFieldsJSON{ProductName: b.ProductName, PrimaryColour: b.PrimaryColour, AccentColour: b.AccentColour,
		SupportEmail: b.SupportEmail, SupportPhone: b.SupportPhone, SenderName: b.SenderName, SenderAddress: b.SenderAddress, Host: b.Host}
}

func (s *Server) toBrandJSON(v branding.View) brandJSON {
	out := brandJSON{Owner: v.Own.OwnerID, brandFieldsJSON: fieldsJSON(v.Own), Messages: []brandMessageJSON{}, Effective: fieldsJSON(v.Effective)}
	if out.Owner == "" {
		out.Owner = "platform"
	}
	base := s.svc.PublicURL()
	if u := kernel.LogoURL(base, v.Own); u != "" {
		out.LogoURL = &u
	}
	if u := kernel.LogoURL(base, v.Effective); u != "" {
		out.EffectiveLogoURL = &u
	}
	for _, m := range v.Own.Messages {
		out.Messages = append(out.Messages, brandMessageJSON{Kind: m.Kind, Language: m.Language, Subject: m.Subject, Intro: m.Intro})
	}
	if !v.Own.UpdatedAt.IsZero() {
		t := v.Own.UpdatedAt
		out.UpdatedAt = &t
	}
	return out
}

// brandOwner is the account a brand route names: its {id}, or "" on the
// platform's routes.
func brandOwner(r *http.Request) string { return r.PathValue("id") }

func (s *Server) getBrand(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Branding.Brand(r.Context(), caller(r), brandOwner(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toBrandJSON(v))
}

func (s *Server) putBrand(w http.ResponseWriter, r *http.Request) {
	var in brandInputJSON
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	input := branding.Input{ProductName: in.ProductName, PrimaryColour: in.PrimaryColour, AccentColour: in.AccentColour,
		SupportEmail: in.SupportEmail, SupportPhone: in.SupportPhone, SenderName: in.SenderName, SenderAddress: in.SenderAddress, Host: in.Host}
	for _, m := range in.Messages {
		input.Messages = append(input.Messages, gatehouse.BrandMessage{Kind: m.Kind, Language: m.Language, Subject: m.Subject, Intro: m.Intro})
	}
	v, err := s.svc.Branding.UpdateBrand(r.Context(), caller(r), brandOwner(r), input)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toBrandJSON(v))
}

// putBrandLogo takes the logo itself as the body, its type in Content-Type.
func (s *Server) putBrandLogo(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > branding.MaxLogo {
		s.writeError(w, r, gatehouse.Errorf(gatehouse.ETOOLARGE, "a logo is at most %d KiB", branding.MaxLogo>>10))
		return
	}
	contentType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	data, err := io.ReadAll(io.LimitReader(r.Body, branding.MaxLogo+1))
	if err != nil {
		s.writeError(w, r, gatehouse.Invalid("logo", "the logo could not be read"))
		return
	}
	v, err := s.svc.Branding.SetLogo(r.Context(), caller(r), brandOwner(r), contentType, data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toBrandJSON(v))
}

// previewBrandMail renders one kind of e-mail in one language as the brand
// sends it.
func (s *Server) previewBrandMail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang := q.Get("language")
	if lang == "" {
		lang = "en"
	}
	p, err := s.svc.Branding.PreviewMail(r.Context(), caller(r), brandOwner(r), r.PathValue("kind"), lang)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": p.Kind, "language": p.Language, "from": p.From,
		"subject": p.Subject, "text": p.Text, "html": p.HTML})
}
