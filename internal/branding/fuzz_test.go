package branding

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/messages"
)

// A colour is refused or read as #rrggbb; reading it again gives it back.
func FuzzParseColour(f *testing.F) {
	for _, s := range []string{"#0b5cad", "#FFF", "0b5cad", "#12345", "#ggg", " #abc ", "#\u00e9\u00e9\u00e9", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseColour("c", s)
		if err != nil {
			return
		}
		if len(c) != 7 || c[0] != '#' || strings.ToLower(c) != c {
			t.Fatalf("%q read as %q", s, c)
		}
		if again, err := ParseColour("c", c); err != nil || again != c {
			t.Fatalf("%q does not read back: %q %v", c, again, err)
		}
		if r := Contrast(c, "#ffffff"); r < 1 || r > 21 {
			t.Fatalf("contrast of %s on white: %v", c, r)
		}
		if _, err := CheckColour("c", c); (err == nil) != (Contrast(c, "#ffffff") >= MinContrast) {
			t.Fatalf("CheckColour(%s) disagrees with the contrast", c)
		}
	})
}

// A Host header maps to a host name of letters, digits, dots and hyphens,
// or to none; never to something with a port, a path or upper case.
func FuzzRequestHost(f *testing.F) {
	for _, s := range []string{"portal.acme.example", "Portal.Acme.Example:8443", "127.0.0.1:8080", "[::1]:80", "a..b", "-a.b", "xn--bcher-kva.example.", "evil.example/path", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := RequestHost(s)
		if h == "" {
			return
		}
		if strings.ToLower(h) != h || strings.ContainsAny(h, ":/[]@ \t") || !strings.Contains(h, ".") || len(h) > 253 {
			t.Fatalf("%q mapped to %q", s, h)
		}
		if again, err := ParseHost("host", h); err != nil || again != h {
			t.Fatalf("%q does not read back: %q %v", h, again, err)
		}
	})
}

// Whatever comes in, a logo kept is an image of its type, within the size
// limit, named by its content.
func FuzzParseLogo(f *testing.F) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.Black)
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	f.Add("image/png", b.Bytes())
	f.Add("image/jpeg", b.Bytes())
	f.Add("image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`))
	f.Add("image/gif", []byte("GIF89a"))
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		l, err := ParseLogo(contentType, data)
		if err != nil {
			return
		}
		if len(l.Data) > MaxLogo || LogoContentType(l.File) != l.ContentType || l.ContentType != contentType {
			t.Fatalf("kept %q as %s (%d bytes)", l.File, l.ContentType, len(l.Data))
		}
		if contentType != "image/svg+xml" {
			if _, _, err := image.DecodeConfig(bytes.NewReader(l.Data)); err != nil {
				t.Fatalf("kept an image that does not decode: %v", err)
			}
		}
	})
}

// An SVG kept holds no script, no event handler, no foreignObject, no
// reference outside itself; and what is kept passes again unchanged.
func FuzzSanitizeSVG(f *testing.F) {
	for _, s := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#7a1f5c"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`,
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><g id="a"/></defs><use xlink:href="#a"/></svg>`,
		`<svg><use href="https://evil.example/x.svg"/></svg>`,
		`<svg><rect fill="url(#g)" style="x"/></svg>`,
		`<!DOCTYPE svg><svg/>`,
		`<svg><foreignObject/></svg>`,
		`<svg><text>a &amp; b</text></svg>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clean, err := SanitizeSVG(data)
		if err != nil {
			return
		}
		// Markup only: the same words in text are shown, never run.
		lower := strings.ToLower(string(clean))
		for _, bad := range []string{"<script", "<foreignobject", "<!doctype", "<!entity", "<style"} {
			if strings.Contains(lower, bad) {
				t.Fatalf("kept %q in\n%s", bad, clean)
			}
		}
		dec := xml.NewDecoder(bytes.NewReader(clean))
		for {
			tok, err := dec.RawToken()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("kept SVG is not XML: %v\n%s", err, clean)
			}
			if s, ok := tok.(xml.StartElement); ok {
				if name := strings.ToLower(s.Name.Local); name == "script" || name == "foreignobject" || name == "style" {
					t.Fatalf("kept a %s element in\n%s", s.Name.Local, clean)
				}
				for _, a := range s.Attr {
					if strings.Contains(strings.ToLower(a.Value), "javascript:") {
						t.Fatalf("kept javascript: in %s=%q", a.Name.Local, a.Value)
					}
					if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
						t.Fatalf("kept an event handler %s", a.Name.Local)
					}
					if strings.EqualFold(a.Name.Local, "href") && !strings.HasPrefix(a.Value, "#") {
						t.Fatalf("kept a reference outside: %s", a.Value)
					}
				}
			}
		}
		again, err := SanitizeSVG(clean)
		if err != nil || !bytes.Equal(again, clean) {
			t.Fatalf("kept SVG does not pass again unchanged: %v\n%s\n%s", err, clean, again)
		}
	})
}

// An override's placeholders: a text the check passes names no field but
// the allowed ones, and a text without braces is left as it is.
func FuzzCheckPlaceholders(f *testing.F) {
	for _, s := range []string{"Hello {first_name}", "{product_name}{account_name}", "{password}", "{", "}{", "{{first_name}}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		data, brand := messages.Data{FirstName: "A", AccountName: "B", Username: "C"}, messages.Brand{ProductName: "D"}
		if !strings.ContainsAny(s, "{}") && messages.Expand(s, data, brand) != s {
			t.Fatalf("%q changed without a placeholder", s)
		}
		if messages.CheckPlaceholders(s) != "" {
			return
		}
		rest := s
		for {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				t.Fatalf("%q passed with an open brace", s)
			}
			name := rest[i+1 : i+j]
			ok := false
			for _, p := range messages.Placeholders {
				ok = ok || p == name
			}
			if !ok {
				t.Fatalf("%q passed naming {%s}", s, name)
			}
			rest = rest[i+j+1:]
		}
	})
}
