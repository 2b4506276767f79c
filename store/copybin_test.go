package store

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// The binary COPY stream: header, per row the field count and each value's
// length and bytes (-1 for NULL), the -1 trailer; values of other types,
// or ints past an INTEGER, are refused. Stores' tests check the rows
// PostgreSQL reads from it.
func TestAppendCopyBinary(t *testing.T) {
	b, err := appendCopyBinary(nil, [][]any{{int64(-2), 443, "ab", nil, []byte("{}")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00" +
		"\x00\x05" + "\x00\x00\x00\x08\xff\xff\xff\xff\xff\xff\xff\xfe" + "\x00\x00\x00\x04\x00\x00\x01\xbb" +
		"\x00\x00\x00\x02ab" + "\xff\xff\xff\xff" + "\x00\x00\x00\x02{}" + "\xff\xff")
	if !bytes.Equal(b, want) {
		t.Errorf("got  %q\nwant %q", b, want)
	}
	for _, bad := range []any{math.MaxInt32 + 1, 1.5, int32(1)} {
		if _, err := appendCopyBinary(nil, [][]any{{bad}}); err == nil || !strings.Contains(err.Error(), "column 1") {
			t.Errorf("%T %v: %v", bad, bad, err)
		}
	}
}
