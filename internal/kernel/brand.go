package kernel

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
)

// MailScope says whose brand an e-mail wears: the account it is about
// (its integrator's brand), or, for a message about a person alone (a
// password reset, a username change), the person (the brand of the first
// account they belong to). Neither set: the platform's default.
type MailScope struct{ AccountID, UserID string }

// BrandOf is the brand an account's people see: its integrator's brand over
// the platform's default, over the built-in one. accountID "" is the
// default alone.
func (k *Kernel) BrandOf(ctx context.Context, r Reader, accountID string) (gatehouse.Brand, error) {
	var set []gatehouse.Brand
	if accountID == "" {
		def, err := r.Brand(ctx, "")
		switch gatehouse.ErrorCode(err) {
		case "":
			set = append(set, def)
		case gatehouse.ENOTFOUND:
		default:
			return gatehouse.Brand{}, err
		}
	} else {
		var err error
		if set, err = r.BrandsOver(ctx, accountID); err != nil {
			return gatehouse.Brand{}, err
		}
	}
	return LayerBrands(set...), nil
}

// LayerBrands lays brands over the built-in one: the platform's default
// first, then an integrator's.
func LayerBrands(layers ...gatehouse.Brand) gatehouse.Brand {
	b := gatehouse.BuiltinBrand
	for _, layer := range layers {
		b = layer.Over(b)
		if layer.OwnerID == "" {
			b.OwnerID, b.Host = "", "" // the default answers on no host of its own
		}
	}
	return b
}

// MailBrand is the brand of a message's scope.
func (k *Kernel) MailBrand(ctx context.Context, r Reader, scope MailScope) (gatehouse.Brand, error) {
	accountID := scope.AccountID
	if accountID == "" && scope.UserID != "" {
		memberships, err := r.MembershipsOf(ctx, scope.UserID, k.Now())
		if err != nil {
			return gatehouse.Brand{}, err
		}
		if len(memberships) > 0 {
			accountID = memberships[0].AccountID
		}
	}
	return k.BrandOf(ctx, r, accountID)
}

// BaseURL is where a brand's links lead: its own host, over the scheme of
// the public URL, or the public URL.
func (k *Kernel) BaseURL(b gatehouse.Brand) string {
	if b.Host == "" {
		return k.publicURL
	}
	scheme := "https"
	if u, err := url.Parse(k.publicURL); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	return scheme + "://" + b.Host
}

// LogoURL is the address of a brand's logo under base; "" for none.
func LogoURL(base string, b gatehouse.Brand) string {
	if b.LogoFile == "" {
		return ""
	}
	return base + "/brand/logo/" + b.LogoFile
}

// MessageBrand is what a message shows of a brand, with links under base.
func MessageBrand(base string, b gatehouse.Brand) messages.Brand {
	return messages.Brand{ProductName: b.ProductName, LogoURL: LogoURL(base, b), PrimaryColour: b.PrimaryColour,
		AccentColour: b.AccentColour, SupportEmail: b.SupportEmail, SupportPhone: b.SupportPhone}
}

// prepareMail writes an e-mail as a brand shows it: its words, and the
// layout that draws its HTML part in the brand's colours and logo; its
// override of the kind in the language, its links on its host.
func (k *Kernel) prepareMail(b gatehouse.Brand, lang, kind string, data messages.Data) (messages.Mail, messages.Layout, error) {
	base := k.BaseURL(b)
	if data.Link != "" && strings.HasPrefix(data.Link, k.publicURL+"/") {
		data.Link = base + strings.TrimPrefix(data.Link, k.publicURL)
	}
	msgLang := lang
	if msgLang != "fr" {
		msgLang = "en"
	}
	var o messages.Override
	if m, ok := b.Message(kind, msgLang); ok {
		o = messages.Override{Subject: m.Subject, Intro: m.Intro}
	}
	return messages.Prepare(lang, kind, data, MessageBrand(base, b), o)
}

// BrandedMail is an e-mail of a brand, with its Message-ID and sender, as
// the outbox queues it: its HTML part is drawn when it is sent.
func (k *Kernel) BrandedMail(now time.Time, b gatehouse.Brand, to, lang, kind string, data messages.Data) (gatehouse.Message, error) {
	mail, layout, err := k.prepareMail(b, lang, kind, data)
	if err != nil {
		return gatehouse.Message{}, err
	}
	id := k.NewID()
	fromName := b.SenderName
	if fromName == "" {
		fromName = b.ProductName
	}
	return gatehouse.Message{ID: id, MessageID: id + "@" + k.mailDomain, To: to, Subject: mail.Subject, Body: mail.Text,
		HTMLLayout: layout.Encode(), FromName: fromName, FromAddress: b.SenderAddress, CreatedAt: now}, nil
}
