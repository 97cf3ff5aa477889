package people

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// bulkLine is one line of a bulk invitation file, as written.
type bulkLine struct {
	Line       int
	Email      string
	FirstName  string
	LastName   string
	Role       string
	HomeFolder string
}

// bulkColumns are the columns a bulk file may have (R-B1), in the order
// the header's messages name them.
var bulkColumns = []string{"email", "first_name", "last_name", "role", "home_folder"}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readBulkCSV reads a bulk invitation file with encoding/csv (RFC 4180), in
// UTF-8 with or without a byte-order mark, with CRLF or LF line ends, and
// calls fn for each line that is not blank, in order. The first line is the
// header: it must name an email column and may name first_name, last_name,
// role and home_folder, in any order and case; any other column is refused,
// so that a misspelt "home folder" is not silently ignored. A line may leave
// trailing columns out. Errors name the line at fault.
func readBulkCSV(r io.Reader, fn func(bulkLine) error) error {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return bulkInvalid(1, "the file is empty; its first line must be a header such as %s", strings.Join(bulkColumns, ","))
	} else if err != nil {
		return csvError(err)
	}
	columns := map[string]int{}
	for i, name := range header {
		key := strings.ToLower(strings.TrimSpace(name))
		switch {
		case !isBulkColumn(key):
			return bulkInvalid(1, "unknown column %q in the header; the columns are %s and %s", gatehouse.Truncate(name, 40),
				strings.Join(bulkColumns[:len(bulkColumns)-1], ", "), bulkColumns[len(bulkColumns)-1])
		case columns[key] != 0:
			return bulkInvalid(1, "the header names %s twice", key)
		}
		columns[key] = i + 1 // 0 means absent
	}
	if columns["email"] == 0 {
		return bulkInvalid(1, "the header has no email column; it must be a header such as %s", strings.Join(bulkColumns, ","))
	}
	field := func(record []string, name string) string {
		i := columns[name] - 1
		if i < 0 || i >= len(record) {
			return ""
		}
		return strings.TrimSpace(record[i])
	}
	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(record) > len(header) {
			return bulkInvalid(line, "the line has %d fields but the header %d", len(record), len(header))
		}
		blank := true
		for _, f := range record {
			if !utf8.ValidString(f) {
				return bulkInvalid(line, "the line is not UTF-8 text")
			}
			blank = blank && strings.TrimSpace(f) == ""
		}
		if blank {
			continue
		}
		if err := fn(bulkLine{Line: line, Email: field(record, "email"), FirstName: field(record, "first_name"),
			LastName: field(record, "last_name"), Role: field(record, "role"), HomeFolder: field(record, "home_folder")}); err != nil {
			return err
		}
	}
}

func isBulkColumn(name string) bool {
	for _, c := range bulkColumns {
		if c == name {
			return true
		}
	}
	return false
}

func bulkInvalid(line int, format string, args ...any) error {
	return gatehouse.Invalid("file", "line %d: %s", line, fmt.Sprintf(format, args...))
}

// csvError turns what encoding/csv or the body's size cap says into the
// contract's errors.
func csvError(err error) error {
	var tooLarge *http.MaxBytesError
	var parse *csv.ParseError
	switch {
	case errors.As(err, &tooLarge):
		return gatehouse.Errorf(gatehouse.ETOOLARGE, "the file is larger than %d bytes", tooLarge.Limit)
	case errors.As(err, &parse):
		return bulkInvalid(parse.Line, "not CSV: %v", parse.Err)
	}
	return err
}
