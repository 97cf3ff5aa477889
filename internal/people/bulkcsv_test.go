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
	want := []bulkLine{{Line: 2, Email: "ann@example.com", Role: "viewer", HomeFolder: "/Stores/East, North"},
		{Line: 5, Email: "bob@example.com", HomeFolder: `/a"b`}}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("lines %+v", lines)
	}
	if lines, err := readAll("email\n"); err != nil || len(lines) != 0 {
		t.Errorf("a header alone: %v %v", lines, err)
	}
}

// The optional first_name and last_name columns, like the others: in any
// order and case, trimmed, quoted, left out at the end of a line.
func TestReadBulkCSVNames(t *testing.T) {
	lines, err := readAll(" Last_Name ,EMAIL,First_NAME,role\r\n" +
		"\"Le Goff, Jr\",zoe@example.com, Zoé ,viewer\r\n" +
		"Martin,ann@example.com\r\n" +
		",bob@example.com,,\r\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []bulkLine{
		{Line: 2, Email: "zoe@example.com", FirstName: "Zoé", LastName: "Le Goff, Jr", Role: "viewer"},
		{Line: 3, Email: "ann@example.com", LastName: "Martin"},
		{Line: 4, Email: "bob@example.com"},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %+v", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", want[i].Line, lines[i], want[i])
		}
	}
	// A misspelt name column is refused, and the message lists every
	// column a file may have.
	_, err = readAll("email,firstname\nann@example.com,Ann\n")
	message := `line 1: unknown column "firstname" in the header; the columns are email, first_name, last_name, role and home_folder`
	var e *gatehouse.Error
	if !errors.As(err, &e) || e.Code != gatehouse.EINVALID || e.Message != message {
		t.Errorf("a misspelt column: %v", err)
	}
	if _, err := readAll("email,last_name,LAST_NAME\n"); err == nil || !strings.Contains(err.Error(), "the header names last_name twice") {
		t.Errorf("a column twice: %v", err)
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
		"email,first_name,last_name,role,home_folder\nann@example.com,Ann,Lee,viewer,/Stores\n",
		"Last_Name, First_Name ,EMAIL\r\n\"Le Goff, Jr\",\" Zoé \",zoe@example.com\r\n,,bob@example.com\r\n",
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
			for _, s := range []string{l.Email, l.FirstName, l.LastName, l.Role, l.HomeFolder} {
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

// A name too long to store whole is cut, and the cut stays invalid: the
// confirm judges the stored name again and must see what the preview saw,
// even when the cut falls in a run of spaces that trimming would remove.
func TestBulkNameCutStaysInvalid(t *testing.T) {
	for _, name := range []string{
		"a" + strings.Repeat(" ", bulkNameCut) + "b",
		strings.Repeat("é", 300),
		strings.Repeat("x", 5000),
	} {
		cut := bulkName(name)
		if len(cut) > bulkNameCut+len("…") || !utf8.ValidString(cut) {
			t.Errorf("cut %q", cut)
		}
		if _, err := gatehouse.ValidatePersonName("first_name", cut); err == nil {
			t.Errorf("%q became valid once cut to %q", name, cut)
		}
	}
	if name := strings.Repeat("é", gatehouse.MaxNameLen); bulkName(name) != name {
		t.Errorf("a valid name was cut")
	}
}
