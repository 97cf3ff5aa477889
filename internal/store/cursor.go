package store

import (
	"database/sql"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// encodeCursor and decodeCursor are gatehouse's cursor form (see
// gatehouse.EncodeCursor), kept short here because every list uses them.
func encodeCursor(key ...string) string { return gatehouse.EncodeCursor(key...) }

func decodeCursor(cursor string, n int) ([]string, error) { return gatehouse.DecodeCursor(cursor, n) }

// pageLimit applies the default and the ceiling of docs/api.md.
func pageLimit(limit int) int {
	switch {
	case limit <= 0:
		return gatehouse.DefaultPageLimit
	case limit > gatehouse.MaxPageLimit:
		return gatehouse.MaxPageLimit
	}
	return limit
}

// readPage reads at most limit items from rows, which were queried with
// LIMIT limit+1: a row beyond the page means there is a next page, whose
// cursor is the sort key of the page's last item. scan returns an item and
// its sort key.
func readPage[T any](rows *sql.Rows, limit int, scan func(*sql.Rows) (T, []string, error)) (gatehouse.Page[T], error) {
	defer rows.Close()
	var (
		page    gatehouse.Page[T]
		lastKey []string
	)
	for rows.Next() {
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(lastKey...)
			break
		}
		item, key, err := scan(rows)
		if err != nil {
			return gatehouse.Page[T]{}, err
		}
		page.Items, lastKey = append(page.Items, item), key
	}
	return page, mapErr(rows.Err())
}

// argList collects query arguments and hands out their $N placeholders.
type argList []any

func (a *argList) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// list adds values to args, one placeholder each, and returns the
// placeholders separated by commas. PostgreSQL plans such a list as it
// plans the values themselves, so a statement run often settles on one
// generic plan; given an array of unknown length instead, it judged the
// generic plan dearer than one made for the values, and planned the
// statement again at every run. The statement's text changes with the
// list's length: for short lists only, and never empty.
func (a *argList) list(values []string) string {
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = a.add(v)
	}
	return strings.Join(marks, ", ")
}
