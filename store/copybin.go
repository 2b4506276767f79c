package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// copyIn copies rows into table with COPY ... FROM STDIN (FORMAT binary),
// the rows encoded by appendCopyBinary, and returns how many it wrote
// (errors unwrapped: the caller tells a unique violation).
// pgx's CopyFrom chose an encoding for every value of every row (a map
// lookup and an interface call each), a sixth of a collector's CPU.
func copyIn(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	b, err := appendCopyBinary((*bp)[:0], rows)
	*bp = b
	if err != nil {
		return 0, err
	}
	q := "COPY " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(cols, ", ") + ") FROM STDIN (FORMAT binary)"
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(b), q)
	return tag.RowsAffected(), err
}

// copyBufs keeps the encoded batches' buffers (a few MB a batch).
var copyBufs = sync.Pool{New: func() any { return new([]byte) }}

// appendCopyBinary appends rows in PostgreSQL's binary COPY format: the
// values of the event tables' rows are int64 (BIGINT columns), int
// (INTEGER), string or []byte (TEXT) or nil (NULL); anything else is an
// error.
func appendCopyBinary(b []byte, rows [][]any) ([]byte, error) {
	size := 19 + 2 // header, trailer
	for _, r := range rows {
		size += 2 + 12*len(r) // field count; each value's length and an int (a bound)
		for _, v := range r {
			switch v := v.(type) {
			case string:
				size += len(v)
			case []byte:
				size += len(v)
			}
		}
	}
	b = slices.Grow(b, size)
	b = append(b, "PGCOPY\n\xff\r\n\x00"...)
	b = binary.BigEndian.AppendUint32(b, 0) // flags
	b = binary.BigEndian.AppendUint32(b, 0) // header extension length
	for _, r := range rows {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		for i, v := range r {
			switch v := v.(type) {
			case nil:
				b = binary.BigEndian.AppendUint32(b, math.MaxUint32) // -1: NULL
			case int64:
				b = binary.BigEndian.AppendUint32(b, 8)
				b = binary.BigEndian.AppendUint64(b, uint64(v))
			case int:
				if v < math.MinInt32 || v > math.MaxInt32 {
					return b, fmt.Errorf("column %d: %d does not fit an INTEGER", i+1, v)
				}
				b = binary.BigEndian.AppendUint32(b, 4)
				b = binary.BigEndian.AppendUint32(b, uint32(int32(v)))
			case string:
				if len(v) > math.MaxInt32 {
					return b, fmt.Errorf("column %d: a value of %d bytes", i+1, len(v))
				}
				b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
				b = append(b, v...)
			case []byte: // a document as received, into a TEXT column
				if len(v) > math.MaxInt32 {
					return b, fmt.Errorf("column %d: a value of %d bytes", i+1, len(v))
				}
				b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
				b = append(b, v...)
			default:
				return b, fmt.Errorf("column %d: cannot copy a %T", i+1, v)
			}
		}
	}
	return binary.BigEndian.AppendUint16(b, math.MaxUint16), nil // -1: the end
}
