package ops

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strconv"
)

// kind is what a column holds, read from its PostgreSQL type: the copy
// converts SQLite's value to it, and the checksum writes both databases'
// values of it the same way.
type kind int

const (
	kindInt   kind = iota // INTEGER / bigint, integer: counts, times in Unix microseconds
	kindBool              // INTEGER 0 or 1 / boolean
	kindText              // TEXT / text
	kindBytes             // BLOB / bytea: hashes, photos
)

// kindOf maps a PostgreSQL type name to its kind.
func kindOf(pgType string) (kind, bool) {
	switch pgType {
	case "int2", "int4", "int8":
		return kindInt, true
	case "bool":
		return kindBool, true
	case "text", "varchar":
		return kindText, true
	case "bytea":
		return kindBytes, true
	}
	return 0, false
}

// tableSum is what a copy compares of a table on both databases: the rows
// counted, and the sum (modulo 2^256) of the SHA-256 of each row's
// canonical form. A sum does not depend on the order rows are read in, so
// neither database needs to sort them, and the collations of text (which
// differ between the two) play no part.
type tableSum struct {
	rows int64
	sum  [4]uint64 // little-endian limbs
	row  []byte    // the canonical form being built, reused
}

// canonical appends a value of a column of kind k to the row being built:
// a tag, then the value, integers in decimal (booleans as 0 or 1) and text
// and bytes with their length first, so that no two rows share a form.
// SQLite gives int64, string, []byte or nil; pgx bool, int16/32/64, string,
// []byte or nil.
func (s *tableSum) canonical(k kind, v any) error {
	if v == nil {
		s.row = append(s.row, 'N')
		return nil
	}
	switch k {
	case kindInt, kindBool:
		var n int64
		switch v := v.(type) {
		case int64:
			n = v
		case int32:
			n = int64(v)
		case int16:
			n = int64(v)
		case bool:
			if v {
				n = 1
			}
		default:
			return fmt.Errorf("a %T where a number belongs", v)
		}
		s.row = append(s.row, 'I')
		s.row = strconv.AppendInt(s.row, n, 10)
		s.row = append(s.row, ';')
	case kindText, kindBytes:
		tag := byte('T')
		if k == kindBytes {
			tag = 'B'
		}
		var data string
		switch v := v.(type) {
		case string:
			data = v
		case []byte:
			data = string(v)
		default:
			return fmt.Errorf("a %T where text or bytes belong", v)
		}
		s.row = append(s.row, tag)
		s.row = strconv.AppendInt(s.row, int64(len(data)), 10)
		s.row = append(s.row, ':')
		s.row = append(s.row, data...)
	}
	return nil
}

// endRow adds the row built by canonical to the sum.
func (s *tableSum) endRow() {
	h := sha256.Sum256(s.row)
	s.row = s.row[:0]
	var carry uint64
	for i := range s.sum {
		limb := binary.LittleEndian.Uint64(h[8*i:])
		s.sum[i], carry = bits.Add64(s.sum[i], limb, carry)
	}
	s.rows++
}

// String is the sum in hex.
func (s *tableSum) String() string {
	var out [32]byte
	for i, limb := range s.sum {
		binary.BigEndian.PutUint64(out[8*(3-i):], limb)
	}
	return hex.EncodeToString(out[:])
}
