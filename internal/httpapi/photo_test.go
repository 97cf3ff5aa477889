package httpapi_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func putImage(t *testing.T, e *apitest.Env, userID, token, contentType string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("PUT", e.URL+"/api/v1/users/"+userID+"/photo", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// R-U7, the API reference at /api/docs: a JPEG or PNG up to 5 MiB becomes a 256×256
// thumbnail the person and their administrators read back; other files are
// 400, larger ones 413, other tenants 404.
func TestProfilePhoto(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil).String("user_id")
			self := session(t, e, "ann@example.com")
			img := image.NewNRGBA(image.Rect(0, 0, 640, 480))
			for y := range 480 {
				for x := range 640 {
					img.Set(x, y, color.NRGBA{0, 128, 0, 255})
				}
			}
			var src bytes.Buffer
			_ = png.Encode(&src, img)
			if r := putImage(t, e, ann, self, "image/png", src.Bytes()); r.StatusCode != 200 {
				t.Fatalf("upload: %d", r.StatusCode)
			}
			get := func(token string) (int, []byte) {
				req, _ := http.NewRequest("GET", e.URL+"/api/v1/users/"+ann+"/photo", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, body
			}
			status, body := get(ts.tokens["c1-admin"])
			if status != 200 {
				t.Fatalf("read by her administrator: %d", status)
			}
			thumb, err := jpeg.Decode(bytes.NewReader(body))
			if err != nil || thumb.Bounds().Dx() != 256 || thumb.Bounds().Dy() != 256 {
				t.Fatalf("thumbnail %v %v", thumb.Bounds(), err)
			}
			if status, _ := get(ts.tokens["i2-admin"]); status != 404 {
				t.Errorf("read by another tenant: %d", status)
			}
			if r := putImage(t, e, ann, ts.tokens["i2-admin"], "image/png", src.Bytes()); r.StatusCode != 404 {
				t.Errorf("set by another tenant: %d", r.StatusCode)
			}
			for _, c := range []struct {
				contentType string
				body        []byte
				want        int
			}{
				{"image/png", []byte("not a picture"), 400},
				{"image/gif", []byte("GIF89a"), 400},
				{"image/jpeg", src.Bytes(), 400}, // a PNG said to be a JPEG
				{"image/png", make([]byte, 5<<20+1), 413},
			} {
				if r := putImage(t, e, ann, self, c.contentType, c.body); r.StatusCode != c.want {
					t.Errorf("%s of %d bytes: %d, want %d", c.contentType, len(c.body), r.StatusCode, c.want)
				}
			}
		})
	}
}
