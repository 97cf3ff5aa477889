package people

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

func readAll(csv string) ([]bulkLine, error) {
	var lines []bulkLine
	err := readBulkCSV(strings.NewReader(csv), func(l bulkLine) error {
		lines = append(lines, l)
		return nil
	})
	return lines, err
}

// R-B1: the header in any order and case, quoted fields, CRLF or LF, a BOM,
// blank lines skipped, trailing columns optional; lines keep their numbers.
func TestReadBulkCSV(t *testing.T) {
	lines, err := readAll("\ufeffHome_Folder, EMAIL ,role\r\n\"/Stores/East, North\",ann@example.com,viewer\r\n\r\n,,\n\"/a\"\"b\",bob@example.com\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []bulkLine{{2, "ann@example.com", "viewer", "/Stores/East, North"}, {5, "bob@example.com", "", `/a"b`}}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("lines %+v", lines)
	}
	if lines, err := readAll("email\n"); err != nil || len(lines) != 0 {
		t.Errorf("a header alone: %v %v", lines, err)
	}
}

// A body cut by the size cap is 413 too_large, whether or not the client
// said its length.
func TestReadBulkCSVTooLarge(t *testing.T) {
	body := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("email\n"+strings.Repeat("a@example.com\n", 100))), 64)
	err := readBulkCSV(body, func(bulkLine) error { return nil })
	if gatehouse.ErrorCode(err) != gatehouse.ETOOLARGE {
		t.Errorf("got %v", err)
	}
	stop := errors.New("stop")
	if err := readBulkCSV(strings.NewReader("email\na@example.com\n"), func(bulkLine) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("the callback's error is not returned: %v", err)
	}
}

// Whatever the file, the reader either returns lines of valid UTF-8 with
// increasing line numbers, or a validation error naming a line (R-X3).
func FuzzReadBulkCSV(f *testing.F) {
	for _, seed := range []string{
		"email,role,home_folder\nann@example.com,viewer,/Stores\n",
		"\ufeffEMAIL\r\nann@example.com\r\n\r\n",
		"email\n\"unterminated\n", "email,email\n", "role\nviewer\n", "", "\x00\xff", "email\na,b,c\n",
		"email,role\n\"a\"\"b\",\"c\nd\"\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, csv string) {
		last := 1
		err := readBulkCSV(strings.NewReader(csv), func(l bulkLine) error {
			if l.Line <= last {
				t.Fatalf("line %d after line %d", l.Line, last)
			}
			last = l.Line
			for _, s := range []string{l.Email, l.Role, l.HomeFolder} {
				if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
					t.Fatalf("field %q", s)
				}
			}
			return nil
		})
		var e *gatehouse.Error
		if err != nil && (!errors.As(err, &e) || e.Code != gatehouse.EINVALID || !strings.HasPrefix(e.Message, "line ")) {
			t.Fatalf("error %v for %q", err, csv)
		}
	})
}
