// Package branding is the branding context: an integrator resells the
// platform under its own name, and its clients see its product name, logo
// and colours on the sign-in page, in the portal and in every e-mail, with
// its support contacts and its sender (docs/branding.md). An operator sets
// the platform's default brand, which every integrator's brand inherits
// what it leaves empty from. This package checks what comes from outside
// (colours and their contrast, host names, logos, SVG, message overrides)
// and holds the use cases that read and change brands.
package branding

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Service holds the branding use cases.
type Service struct {
	*kernel.Kernel
	store Store
}

// New returns the branding use cases.
func New(k *kernel.Kernel, store Store) *Service { return &Service{Kernel: k, store: store} }

// Input is what a brand's editor sets; an empty text inherits the default
// brand's.
type Input struct {
	ProductName, PrimaryColour, AccentColour string
	SupportEmail, SupportPhone               string
	SenderName, SenderAddress                string
	Host                                     string
	Messages                                 []gatehouse.BrandMessage
}

// View is a brand as its editor sees it: what it sets itself, and what its
// people see once the default fills in the rest.
type View struct {
	Own, Effective gatehouse.Brand
	// Account is the integrator's account; zero for the platform's default.
	Account gatehouse.Account
}

// authorize decides an action on the brand of accountID ("" the platform's
// default) and returns the account, which must be an integrator.
func (s *Service) authorize(ctx context.Context, r kernel.Reader, c gatehouse.Caller, accountID string, act policy.Action) (gatehouse.Account, error) {
	if accountID == "" {
		return gatehouse.Account{}, kernel.Decide(c, policy.ManagePlatformBrand, policy.Target{})
	}
	account, err := s.Authorize(ctx, r, c, accountID, act)
	if err != nil {
		return account, err
	}
	if account.Kind != gatehouse.KindIntegrator {
		return account, gatehouse.Invalid("account", "a client wears its integrator's brand: set the brand on the integrator")
	}
	return account, nil
}

// Brand reads the brand of an integrator (accountID), or the platform's
// default (accountID "").
func (s *Service) Brand(ctx context.Context, c gatehouse.Caller, accountID string) (View, error) {
	account, err := s.authorize(ctx, s.store, c, accountID, policy.ReadBrand)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, s.store, account, accountID)
}

func (s *Service) view(ctx context.Context, r kernel.Reader, account gatehouse.Account, ownerID string) (View, error) {
	own, err := r.Brand(ctx, ownerID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		own, err = gatehouse.Brand{OwnerID: ownerID}, nil
	}
	if err != nil {
		return View{}, err
	}
	effective, err := s.BrandOf(ctx, r, ownerID)
	if err != nil {
		return View{}, err
	}
	effective.Host = own.Host
	return View{Own: own, Effective: effective, Account: account}, nil
}

// check validates an editor's input into the fields of a brand, every
// refusal at its field.
func check(in Input, platform bool) (gatehouse.Brand, error) {
	var (
		b   gatehouse.Brand
		err error
	)
	if b.ProductName, err = checkLine("product_name", in.ProductName, 60); err != nil {
		return b, err
	}
	if strings.TrimSpace(in.PrimaryColour) != "" {
		if b.PrimaryColour, err = CheckColour("primary_colour", in.PrimaryColour); err != nil {
			return b, err
		}
	}
	if strings.TrimSpace(in.AccentColour) != "" {
		if b.AccentColour, err = CheckColour("accent_colour", in.AccentColour); err != nil {
			return b, err
		}
	}
	if b.SupportEmail, err = checkEmail("support_email", in.SupportEmail); err != nil {
		return b, err
	}
	if b.SupportPhone, err = checkLine("support_phone", in.SupportPhone, 40); err != nil {
		return b, err
	}
	if b.SupportPhone != "" {
		for _, r := range b.SupportPhone {
			if !strings.ContainsRune("0123456789+ ().-", r) {
				return b, gatehouse.Invalid("support_phone", "write a phone number such as +33 1 23 45 67 89")
			}
		}
	}
	if b.SenderName, err = checkLine("sender_name", in.SenderName, 60); err != nil {
		return b, err
	}
	if b.SenderAddress, err = checkEmail("sender_address", in.SenderAddress); err != nil {
		return b, err
	}
	if h := strings.TrimSpace(in.Host); h != "" {
		if platform {
			return b, gatehouse.Invalid("host", "the default brand answers on the platform's own address; host names are an integrator's")
		}
		if b.Host, err = ParseHost("host", h); err != nil {
			return b, err
		}
	}
	seen := map[string]bool{}
	for i, m := range in.Messages {
		field := "messages[" + strconv.Itoa(i) + "]"
		if !slices.Contains(messages.EmailKinds, m.Kind) {
			return b, gatehouse.Invalid(field+".kind", "no e-mail is called %q; the kinds are %s", m.Kind, strings.Join(messages.EmailKinds, ", "))
		}
		if !slices.Contains(gatehouse.Languages, m.Language) {
			return b, gatehouse.Invalid(field+".language", "messages are written in %s", strings.Join(gatehouse.Languages, ", "))
		}
		if seen[m.Kind+"/"+m.Language] {
			return b, gatehouse.Invalid(field, "%s in %s is given twice", m.Kind, m.Language)
		}
		seen[m.Kind+"/"+m.Language] = true
		subject, err := checkLine(field+".subject", m.Subject, 150)
		if err != nil {
			return b, err
		}
		intro := strings.TrimSpace(strings.ReplaceAll(m.Intro, "\r\n", "\n"))
		if len([]rune(intro)) > 1000 {
			return b, gatehouse.Invalid(field+".intro", "at most 1000 characters")
		}
		if strings.ContainsFunc(intro, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }) {
			return b, gatehouse.Invalid(field+".intro", "write plain text")
		}
		for _, f := range []struct{ name, text string }{{".subject", subject}, {".intro", intro}} {
			if bad := messages.CheckPlaceholders(f.text); bad != "" {
				return b, gatehouse.Invalid(field+f.name, "%s is not a placeholder; use {first_name}, {account_name}, {username} or {product_name}", bad)
			}
		}
		if subject == "" && intro == "" {
			continue
		}
		b.Messages = append(b.Messages, gatehouse.BrandMessage{Kind: m.Kind, Language: m.Language, Subject: subject, Intro: intro})
	}
	return b, nil
}

// UpdateBrand sets the brand of an integrator (accountID) or the
// platform's default (accountID ""), keeping its logo, and writes
// brand.updated with the fields it changed.
func (s *Service) UpdateBrand(ctx context.Context, c gatehouse.Caller, accountID string, in Input) (View, error) {
	b, err := check(in, accountID == "")
	if err != nil {
		return View{}, err
	}
	var out View
	err = s.store.Write(ctx, func(tx Tx) error {
		account, err := s.authorize(ctx, tx, c, accountID, policy.ManageBrand)
		if err != nil {
			return err
		}
		before, err := s.view(ctx, tx, account, accountID)
		if err != nil {
			return err
		}
		now := s.Now()
		b.OwnerID, b.LogoFile, b.UpdatedAt = accountID, before.Own.LogoFile, now
		if err := tx.SaveBrand(ctx, b); err != nil {
			return err
		}
		e := s.Audit(c, now, accountID, "brand.updated", "brand", ownerName(accountID))
		e.Changes = changes(before.Own, b)
		if err := tx.InsertAuditEvent(ctx, e); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, account, accountID)
		return err
	})
	return out, err
}

// SetLogo replaces a brand's logo with an uploaded PNG, JPEG or SVG (see
// ParseLogo), and writes brand.logo_changed.
func (s *Service) SetLogo(ctx context.Context, c gatehouse.Caller, accountID, contentType string, data []byte) (View, error) {
	// Who may is decided before the file is looked at: others learn
	// nothing from the answer about the logo.
	if _, err := s.authorize(ctx, s.store, c, accountID, policy.ManageBrand); err != nil {
		return View{}, err
	}
	logo, err := ParseLogo(contentType, data)
	if err != nil {
		return View{}, err
	}
	var out View
	err = s.store.Write(ctx, func(tx Tx) error {
		account, err := s.authorize(ctx, tx, c, accountID, policy.ManageBrand)
		if err != nil {
			return err
		}
		before, err := s.view(ctx, tx, account, accountID)
		if err != nil {
			return err
		}
		now := s.Now()
		if err := tx.SaveBrandLogo(ctx, logo, now); err != nil {
			return err
		}
		b := before.Own
		b.OwnerID, b.LogoFile, b.UpdatedAt = accountID, logo.File, now
		if err := tx.SaveBrand(ctx, b); err != nil {
			return err
		}
		e := s.Audit(c, now, accountID, "brand.logo_changed", "brand", ownerName(accountID))
		e.Changes = []gatehouse.AuditChange{{Field: "logo", Before: before.Own.LogoFile, After: logo.File}}
		if err := tx.InsertAuditEvent(ctx, e); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, account, accountID)
		return err
	})
	return out, err
}

// ownerName is a brand's id in the audit log: its integrator's id, or
// "platform".
func ownerName(accountID string) string {
	if accountID == "" {
		return "platform"
	}
	return accountID
}

func changes(before, after gatehouse.Brand) []gatehouse.AuditChange {
	var out []gatehouse.AuditChange
	add := func(field, a, b string) {
		if a != b {
			out = append(out, gatehouse.AuditChange{Field: field, Before: a, After: b})
		}
	}
	add("product_name", before.ProductName, after.ProductName)
	add("primary_colour", before.PrimaryColour, after.PrimaryColour)
	add("accent_colour", before.AccentColour, after.AccentColour)
	add("support_email", before.SupportEmail, after.SupportEmail)
	add("support_phone", before.SupportPhone, after.SupportPhone)
	add("sender_name", before.SenderName, after.SenderName)
	add("sender_address", before.SenderAddress, after.SenderAddress)
	add("host", before.Host, after.Host)
	list := func(ms []gatehouse.BrandMessage) string {
		var names []string
		for _, m := range ms {
			names = append(names, m.Kind+"/"+m.Language)
		}
		return strings.Join(names, ", ")
	}
	if !slices.Equal(before.Messages, after.Messages) {
		out = append(out, gatehouse.AuditChange{Field: "messages", Before: list(before.Messages), After: list(after.Messages)})
	}
	return out
}

// Preview is one e-mail as a brand's people would receive it.
type Preview struct {
	Kind, Language string
	From           string
	messages.Mail
}

// PreviewMail renders a kind of e-mail in a language as the brand of an
// integrator (or the default) sends it now, with sample names and links.
func (s *Service) PreviewMail(ctx context.Context, c gatehouse.Caller, accountID, kind, lang string) (Preview, error) {
	if !slices.Contains(messages.EmailKinds, kind) {
		return Preview{}, gatehouse.Invalid("kind", "no e-mail is called %q; the kinds are %s", kind, strings.Join(messages.EmailKinds, ", "))
	}
	if !slices.Contains(gatehouse.Languages, lang) {
		return Preview{}, gatehouse.Invalid("language", "messages are written in %s", strings.Join(gatehouse.Languages, ", "))
	}
	account, err := s.authorize(ctx, s.store, c, accountID, policy.ReadBrand)
	if err != nil {
		return Preview{}, err
	}
	v, err := s.view(ctx, s.store, account, accountID)
	if err != nil {
		return Preview{}, err
	}
	m, err := s.BrandedMail(s.Now(), v.Effective, "ann@example.com", lang, kind, SampleData(s.Kernel, s.Now(), lang))
	if err != nil {
		return Preview{}, err
	}
	from := m.FromName
	if m.FromAddress != "" {
		from += " <" + m.FromAddress + ">"
	}
	html, err := messages.HTMLPart(m.Subject, m.Body, m.HTMLLayout)
	if err != nil {
		return Preview{}, err
	}
	return Preview{Kind: kind, Language: lang, From: from, Mail: messages.Mail{Subject: m.Subject, Text: m.Body, HTML: html}}, nil
}

// ForPage is, from one read, the brand of the host a page is asked on (a
// request's Host header: the brand of the integrator that answers there,
// else the default) and, when accountID is set, the brand that account's
// people see (its integrator's over the default; the default for an
// unknown account). Both come without their message overrides, which
// pages do not show. Callers have already been allowed to see the account.
func (s *Service) ForPage(ctx context.Context, hostHeader, accountID string) (host, account gatehouse.Brand, err error) {
	requested := RequestHost(hostHeader)
	brands, accountOwner, err := s.store.PageBrands(ctx, requested, accountID)
	if err != nil {
		return gatehouse.Brand{}, gatehouse.Brand{}, err
	}
	var platform, onHost, ofAccount []gatehouse.Brand
	for _, b := range brands {
		if b.OwnerID == "" {
			platform = append(platform, b)
			continue
		}
		if b.OwnerID == accountOwner {
			ofAccount = append(ofAccount, b)
		}
		if b.Host != "" && b.Host == requested {
			onHost = append(onHost, b)
		}
	}
	host = kernel.LayerBrands(slices.Concat(platform, onHost)...)
	account = kernel.LayerBrands(slices.Concat(platform, ofAccount)...)
	return host, account, nil
}

// Logo is a logo by its file name, for anyone: a logo is shown on the
// sign-in page and in mail, before anyone signs in.
func (s *Service) Logo(ctx context.Context, file string) (gatehouse.BrandLogo, error) {
	if LogoContentType(file) == "" {
		return gatehouse.BrandLogo{}, gatehouse.NotFound("logo")
	}
	return s.store.BrandLogo(ctx, file)
}
