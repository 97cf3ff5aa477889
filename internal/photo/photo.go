// Package photo turns an uploaded profile picture into the square thumbnail
// Gatehouse keeps (R-U7): JPEG or PNG in, at most MaxUpload bytes and
// MaxPixels pixels (checked from the header, before any pixel is decoded, so
// a small file that claims a huge image is refused), a 256×256 JPEG out,
// centre-cropped and re-encoded, so no metadata of the upload survives.
package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

const (
	// MaxUpload is the largest file accepted (the API reference at /api/docs).
	MaxUpload = 5 << 20
	// MaxPixels bounds a decoded image (about 200 MB of pixels at most):
	// enough for any camera's photo, refusing decompression bombs.
	MaxPixels = 50_000_000
	// Size is the side of the stored thumbnail.
	Size = 256
)

// ContentType is the type of every stored thumbnail.
const ContentType = "image/jpeg"

// Thumbnail reads an uploaded image of the declared content type and returns
// the thumbnail to store. Errors are the contract's: 413 too_large over
// MaxUpload, 400 validation_failed (field "photo") for anything that is not
// a JPEG or PNG of a sane size, or not of the declared type.
func Thumbnail(r io.Reader, contentType string) ([]byte, error) {
	var format string
	switch contentType {
	case "image/jpeg":
		format = "jpeg"
	case "image/png":
		format = "png"
	default:
		return nil, gatehouse.Invalid("photo", "a photo must be sent as image/jpeg or image/png")
	}
	// One byte past the cap tells a file that is too large.
	data, err := io.ReadAll(io.LimitReader(r, MaxUpload+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxUpload {
		return nil, gatehouse.Errorf(gatehouse.ETOOLARGE, "a photo is at most %d bytes", MaxUpload)
	}
	config, decoded, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || decoded != format {
		return nil, gatehouse.Invalid("photo", "the file is not a %s image", format)
	}
	if config.Width <= 0 || config.Height <= 0 || int64(config.Width)*int64(config.Height) > MaxPixels {
		return nil, gatehouse.Invalid("photo", "the image is %d×%d pixels; at most %d pixels are accepted", config.Width, config.Height, MaxPixels)
	}
	var img image.Image
	if format == "jpeg" {
		img, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, gatehouse.Invalid("photo", "the %s image cannot be read: %v", format, err)
	}
	return square(img)
}

// square crops the centre square of img, scales it to Size×Size over a white
// background (a transparent PNG has no black corners) and encodes it as JPEG.
func square(img image.Image) ([]byte, error) {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	corner := image.Pt(b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2)
	crop := image.Rectangle{Min: corner, Max: corner.Add(image.Pt(side, side))}
	out := image.NewRGBA(image.Rect(0, 0, Size, Size))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(out, out.Bounds(), img, crop, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
