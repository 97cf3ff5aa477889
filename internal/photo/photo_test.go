package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

func pngOf(w, h int, c color.Color) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// A wide PNG becomes a 256×256 JPEG of its centre; a transparent one is
// set on white (R-U7).
func TestThumbnail(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 900, 300))
	for y := range 300 {
		for x := range 900 {
			c := color.NRGBA{255, 0, 0, 255} // red sides
			if x >= 300 && x < 600 {
				c = color.NRGBA{0, 0, 255, 255} // a blue centre
			}
			img.Set(x, y, c)
		}
	}
	var src bytes.Buffer
	_ = png.Encode(&src, img)
	out, err := Thumbnail(&src, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	if b := thumb.Bounds(); b.Dx() != Size || b.Dy() != Size {
		t.Fatalf("thumbnail %v", b)
	}
	for _, p := range []image.Point{{10, 10}, {128, 128}, {245, 245}} {
		r, g, b, _ := thumb.At(p.X, p.Y).RGBA()
		if b>>8 < 200 || r>>8 > 60 || g>>8 > 60 {
			t.Errorf("pixel %v is %d,%d,%d: the centre crop should be blue", p, r>>8, g>>8, b>>8)
		}
	}
	clear, err := Thumbnail(bytes.NewReader(pngOf(50, 50, color.NRGBA{})), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	thumb, _ = jpeg.Decode(bytes.NewReader(clear))
	if r, g, b, _ := thumb.At(100, 100).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
		t.Errorf("a transparent photo is not on white: %d,%d,%d", r>>8, g>>8, b>>8)
	}
}

func TestThumbnailRefuses(t *testing.T) {
	// A PNG header that claims 100,000 × 100,000 pixels, in a few bytes.
	bomb := pngOf(1, 1, color.White)
	copy(bomb[16:24], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
	cases := []struct {
		name, contentType string
		body              []byte
		code              string
	}{
		{"a GIF type", "image/gif", []byte("GIF89a"), gatehouse.EINVALID},
		{"not an image", "image/png", []byte("hello"), gatehouse.EINVALID},
		{"a PNG sent as JPEG", "image/jpeg", pngOf(10, 10, color.White), gatehouse.EINVALID},
		{"a decompression bomb", "image/png", bomb, gatehouse.EINVALID},
		{"over 5 MiB", "image/png", append(pngOf(10, 10, color.White), make([]byte, MaxUpload)...), gatehouse.ETOOLARGE},
	}
	for _, c := range cases {
		if _, err := Thumbnail(bytes.NewReader(c.body), c.contentType); gatehouse.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}

// Whatever the bytes, a thumbnail is a 256×256 JPEG or the answer is a
// contract error; never a panic or an internal error.
func FuzzThumbnail(f *testing.F) {
	f.Add(pngOf(3, 2, color.White), true)
	var j bytes.Buffer
	_ = jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 4, 7)), nil)
	f.Add(j.Bytes(), false)
	f.Add([]byte("\x89PNG\r\n\x1a\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, asPNG bool) {
		contentType := "image/jpeg"
		if asPNG {
			contentType = "image/png"
		}
		out, err := Thumbnail(bytes.NewReader(data), contentType)
		if err != nil {
			code := gatehouse.ErrorCode(err)
			if code != gatehouse.EINVALID && code != gatehouse.ETOOLARGE {
				t.Fatalf("error %v", err)
			}
			if !strings.Contains(err.Error(), "photo") && code == gatehouse.EINVALID {
				t.Fatalf("error without the field: %v", err)
			}
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || format != "jpeg" || cfg.Width != Size || cfg.Height != Size {
			t.Fatalf("thumbnail %v %s %v", cfg, format, err)
		}
	})
}
