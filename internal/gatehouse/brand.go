package gatehouse

import "time"

// Brand is how an integrator's clients see the platform: its name, logo
// and colours on the pages and in every e-mail, the support contacts the
// footers give, the sender of its mail, and the host name its portal
// answers on. The platform's default brand has no owner (OwnerID ""); an
// integrator's brand belongs to the integrator account and is worn by its
// clients too. An empty field is inherited from the default brand.
type Brand struct {
	// OwnerID is the integrator account's id, "" for the platform's default.
	OwnerID       string
	ProductName   string
	PrimaryColour string // "#rrggbb"
	AccentColour  string // "#rrggbb"
	SupportEmail  string
	SupportPhone  string
	SenderName    string
	SenderAddress string
	// Host is the host name the portal and the OpenID pages answer on with
	// this brand; integrators only, never inherited.
	Host string
	// LogoFile names the logo: the SHA-256 of its bytes in hex and its
	// extension (".png", ".jpg", ".svg"); "" for none.
	LogoFile string
	// Messages override the subject or the opening paragraph of an e-mail.
	Messages  []BrandMessage
	UpdatedAt time.Time
}

// BrandMessage overrides one kind of e-mail in one language: its subject
// and an introductory paragraph, plain text with placeholders.
type BrandMessage struct {
	Kind, Language string
	Subject, Intro string
}

// BrandLogo is a logo's bytes, addressed by their content.
type BrandLogo struct {
	File        string
	ContentType string
	Data        []byte
}

// BuiltinBrand is what the platform looks like before an operator sets a
// default brand.
var BuiltinBrand = Brand{ProductName: "Gatehouse", PrimaryColour: "#0b5cad", AccentColour: "#1b1f24"}

// Over returns b with its empty fields taken from base: an integrator's
// brand over the default, the default over the built-in one. The host is
// never inherited; message overrides are, kind by kind and language by
// language.
func (b Brand) Over(base Brand) Brand {
	out := b
	pick := func(s *string, from string) {
		if *s == "" {
			*s = from
		}
	}
	pick(&out.ProductName, base.ProductName)
	pick(&out.PrimaryColour, base.PrimaryColour)
	pick(&out.AccentColour, base.AccentColour)
	pick(&out.SupportEmail, base.SupportEmail)
	pick(&out.SupportPhone, base.SupportPhone)
	pick(&out.SenderName, base.SenderName)
	pick(&out.SenderAddress, base.SenderAddress)
	pick(&out.LogoFile, base.LogoFile)
	out.Messages = append([]BrandMessage(nil), b.Messages...)
	for _, m := range base.Messages {
		if _, ok := out.Message(m.Kind, m.Language); !ok {
			out.Messages = append(out.Messages, m)
		}
	}
	return out
}

// Message is the override of one kind of e-mail in one language.
func (b Brand) Message(kind, lang string) (BrandMessage, bool) {
	for _, m := range b.Messages {
		if m.Kind == kind && m.Language == lang {
			return m, true
		}
	}
	return BrandMessage{}, false
}
