package branding

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// MaxLogo is the largest logo accepted, in bytes: a logo is shown small,
// and every page and e-mail carries it.
const MaxLogo = 256 << 10

// maxLogoSide is the largest width or height of a PNG or JPEG logo.
const maxLogoSide = 2048

// MinContrast is WCAG AA's contrast ratio for normal text.
const MinContrast = 4.5

// ParseColour reads a colour written #rgb or #rrggbb (any case) and
// returns it as #rrggbb in lower case.
func ParseColour(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	bad := gatehouse.Invalid(field, "write a colour as #rrggbb, for example #0b5cad")
	if !strings.HasPrefix(s, "#") {
		return "", bad
	}
	hexDigits := s[1:]
	if len(hexDigits) == 3 {
		hexDigits = string([]byte{hexDigits[0], hexDigits[0], hexDigits[1], hexDigits[1], hexDigits[2], hexDigits[2]})
	}
	if len(hexDigits) != 6 {
		return "", bad
	}
	if _, err := hex.DecodeString(hexDigits); err != nil {
		return "", bad
	}
	return "#" + hexDigits, nil
}

// luminance is a #rrggbb colour's relative luminance, as WCAG 2 defines it.
func luminance(colour string) float64 {
	var rgb [3]float64
	for i := range rgb {
		v, _ := strconv.ParseUint(colour[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

// Contrast is the WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// CheckColour parses a brand colour and refuses one white text cannot be
// read on: both brand colours carry white text (the header band, buttons,
// the footer band), and serve as text on white pages (links, headings),
// which is the same ratio.
func CheckColour(field, s string) (string, error) {
	c, err := ParseColour(field, s)
	if err != nil {
		return "", err
	}
	if r := Contrast(c, "#ffffff"); r < MinContrast {
		return "", gatehouse.Invalid(field, "white text on %s has a contrast of %.2f:1; it needs at least 4.5:1: choose a darker colour", c, r)
	}
	return c, nil
}

// ParseHost reads the host name a brand's portal answers on: a DNS name of
// at least two labels, in lower case, without port or trailing dot.
func ParseHost(field, s string) (string, error) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	bad := gatehouse.Invalid(field, "write a host name such as portal.example.com, without https:// or a port")
	if len(h) > 253 || !strings.Contains(h, ".") {
		return "", bad
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", bad
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", bad
			}
		}
	}
	return h, nil
}

// RequestHost is the host name of a request's Host header, the way brands
// are found by it: lower case, without port or trailing dot; "" for a
// header that is not a host name (an address, garbage).
func RequestHost(hostHeader string) string {
	h := hostHeader
	if strings.HasPrefix(h, "[") {
		return "" // an IPv6 address
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h, err := ParseHost("host", h)
	if err != nil {
		return ""
	}
	return h
}

// ParseLogo checks an uploaded logo and returns it addressed by its
// content. PNG and JPEG must decode as what they claim, within 2048
// pixels a side; an SVG must pass SanitizeSVG, and is stored as it
// re-serialised it.
func ParseLogo(contentType string, data []byte) (gatehouse.BrandLogo, error) {
	if len(data) > MaxLogo {
		return gatehouse.BrandLogo{}, gatehouse.Errorf(gatehouse.ETOOLARGE, "a logo is at most %d KiB", MaxLogo>>10)
	}
	if len(data) == 0 {
		return gatehouse.BrandLogo{}, gatehouse.Invalid("logo", "the logo is empty")
	}
	var ext string
	switch contentType {
	case "image/png", "image/jpeg":
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || "image/"+format != contentType {
			return gatehouse.BrandLogo{}, gatehouse.Invalid("logo", "the file is not a %s image", strings.TrimPrefix(contentType, "image/"))
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
			return gatehouse.BrandLogo{}, gatehouse.Invalid("logo", "a logo is at most %d pixels wide and high", maxLogoSide)
		}
		ext = ".png"
		if format == "jpeg" {
			ext = ".jpg"
		}
	case "image/svg+xml":
		clean, err := SanitizeSVG(data)
		if err != nil {
			return gatehouse.BrandLogo{}, err
		}
		data, ext = clean, ".svg"
	default:
		return gatehouse.BrandLogo{}, gatehouse.Invalid("logo", "a logo is a PNG, JPEG or SVG image (Content-Type image/png, image/jpeg or image/svg+xml)")
	}
	sum := sha256.Sum256(data)
	return gatehouse.BrandLogo{File: hex.EncodeToString(sum[:]) + ext, ContentType: contentType, Data: data}, nil
}

// LogoContentType is the content type of a logo file's name; "" for a
// name that is not one ParseLogo gives.
func LogoContentType(file string) string {
	name, ext, ok := strings.Cut(file, ".")
	if !ok || len(name) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(name); err != nil || strings.ToLower(name) != name {
		return ""
	}
	switch ext {
	case "png":
		return "image/png"
	case "jpg":
		return "image/jpeg"
	case "svg":
		return "image/svg+xml"
	}
	return ""
}

// svgElements are the elements a logo may draw with. Anything else —
// script, foreignObject, style, image, a, animation — refuses the file.
var svgElements = map[string]bool{
	"svg": true, "g": true, "path": true, "rect": true, "circle": true, "ellipse": true, "line": true,
	"polyline": true, "polygon": true, "text": true, "tspan": true, "defs": true, "title": true, "desc": true,
	"lineargradient": true, "radialgradient": true, "stop": true, "clippath": true, "mask": true, "use": true, "symbol": true,
}

// svgAttributes are the attributes a logo's elements may carry.
var svgAttributes = map[string]bool{
	"id": true, "class": true, "width": true, "height": true, "viewbox": true, "preserveaspectratio": true, "version": true,
	"x": true, "y": true, "x1": true, "y1": true, "x2": true, "y2": true, "cx": true, "cy": true, "r": true, "rx": true, "ry": true,
	"d": true, "points": true, "transform": true, "fill": true, "fill-opacity": true, "fill-rule": true, "clip-rule": true,
	"stroke": true, "stroke-width": true, "stroke-opacity": true, "stroke-linecap": true, "stroke-linejoin": true,
	"stroke-miterlimit": true, "stroke-dasharray": true, "stroke-dashoffset": true, "opacity": true,
	"font-family": true, "font-size": true, "font-weight": true, "font-style": true, "text-anchor": true,
	"dominant-baseline": true, "letter-spacing": true, "offset": true, "stop-color": true, "stop-opacity": true,
	"gradientunits": true, "gradienttransform": true, "spreadmethod": true, "fx": true, "fy": true,
	"clip-path": true, "mask": true, "clippathunits": true, "maskunits": true, "maskcontentunits": true,
	"href": true, "dx": true, "dy": true, "xmlns": true,
}

// SanitizeSVG checks an SVG logo and returns it re-serialised from what was
// checked. It refuses, rather than cleans, a file that holds a script, an
// event handler attribute (on…), a foreignObject, a style sheet, an
// external reference (a link or url() to anything but a fragment of the
// file itself), an entity or document type declaration, or any element or
// attribute not on the allow-lists: a logo that needs any of these is not
// a logo.
func SanitizeSVG(data []byte) ([]byte, error) {
	refuse := func(format string, args ...any) ([]byte, error) {
		return nil, gatehouse.Invalid("logo", "this SVG cannot be a logo: "+format, args...)
	}
	if len(data) > MaxLogo {
		return nil, gatehouse.Errorf(gatehouse.ETOOLARGE, "a logo is at most %d KiB", MaxLogo>>10)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	depth, roots := 0, 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return refuse("it is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if depth == 0 {
				roots++
				if name != "svg" || roots > 1 {
					return refuse("its root must be one svg element")
				}
			}
			if !svgElements[name] {
				return refuse("it holds a %s element", t.Name.Local)
			}
			if t.Name.Space != "" && t.Name.Space != "svg" {
				return refuse("it holds an element of another namespace (%s:%s)", t.Name.Space, t.Name.Local)
			}
			clean := xml.StartElement{Name: xml.Name{Local: t.Name.Local}}
			for _, a := range t.Attr {
				local := strings.ToLower(a.Name.Local)
				space := strings.ToLower(a.Name.Space)
				switch {
				case strings.HasPrefix(local, "on"):
					return refuse("it holds an event handler (%s)", a.Name.Local)
				case space == "xmlns" || (space == "" && local == "xmlns"):
					continue // namespaces are written back by the encoder's rules below
				case space != "" && !(space == "xlink" && local == "href"):
					return refuse("it holds an attribute of another namespace (%s:%s)", a.Name.Space, a.Name.Local)
				case !svgAttributes[local]:
					return refuse("it holds a %s attribute", a.Name.Local)
				}
				v := a.Value
				if local == "href" && !strings.HasPrefix(v, "#") {
					return refuse("it refers to something outside the file (%s)", v)
				}
				if refersOutside(v) {
					return refuse("it refers to something outside the file")
				}
				if local == "href" {
					clean.Attr = append(clean.Attr, xml.Attr{Name: xml.Name{Local: "href"}, Value: v})
					continue
				}
				clean.Attr = append(clean.Attr, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: v})
			}
			if depth == 0 {
				clean.Attr = append([]xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: "http://www.w3.org/2000/svg"}}, clean.Attr...)
			}
			if err := enc.EncodeToken(clean); err != nil {
				return refuse("it cannot be written back")
			}
			depth++
		case xml.EndElement:
			depth--
			if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: t.Name.Local}}); err != nil {
				return refuse("it cannot be written back")
			}
		case xml.CharData:
			if depth == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return refuse("it holds text outside the svg element")
				}
				continue
			}
			if err := enc.EncodeToken(t); err != nil {
				return refuse("it cannot be written back")
			}
		case xml.Comment:
			// Dropped.
		case xml.ProcInst:
			if t.Target != "xml" {
				return refuse("it holds a processing instruction (%s)", t.Target)
			}
		case xml.Directive:
			return refuse("it holds a document type or entity declaration")
		}
	}
	if roots != 1 || depth != 0 {
		return refuse("its root must be one svg element")
	}
	if err := enc.Flush(); err != nil {
		return refuse("it cannot be written back")
	}
	return out.Bytes(), nil
}

// refersOutside tells whether an attribute's value reaches outside the file:
// url() of anything but a fragment, or a scheme.
func refersOutside(v string) bool {
	l := strings.ToLower(strings.Join(strings.Fields(v), ""))
	for i := strings.Index(l, "url("); i >= 0; i = strings.Index(l, "url(") {
		rest := strings.TrimLeft(l[i+4:], `"'`)
		if !strings.HasPrefix(rest, "#") {
			return true
		}
		l = l[i+4:]
	}
	return strings.Contains(l, "javascript:") || strings.Contains(l, "data:") || strings.Contains(l, "expression(")
}

// checkEmail reads a support or sender address; "" is none.
func checkEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if _, err := gatehouse.ParseEmail(field, s); err != nil {
		return "", gatehouse.Invalid(field, "write an e-mail address such as support@example.com")
	}
	return s, nil
}

// checkLine reads a one-line text of at most n characters; "" is none.
func checkLine(field, s string, n int) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\r\n\t") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", gatehouse.Invalid(field, "write it on one line")
	}
	if len([]rune(s)) > n {
		return "", gatehouse.Invalid(field, "at most %d characters", n)
	}
	return s, nil
}
