package http

import (
	"fmt"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// splitParts runs the splitter over body cut at the given points and
// returns each part's name, bytes and end.
func splitParts(body []byte, cuts []byte) []string {
	o := &recOpener{}
	m := newMultipart("b0undary", &parsers.FileInfo{}, 256, o.OpenFile)
	for _, c := range cuts {
		n := min(int(c)%17+1, len(body))
		m.Write(body[:n])
		body = body[n:]
	}
	m.Write(body)
	m.Close(parsers.FileComplete, time.Time{})
	var out []string
	for _, f := range o.files {
		if f.closed != 1 {
			panic("part not closed once")
		}
		out = append(out, fmt.Sprintf("%q %q %v", f.info.Name, f.data.String(), f.end))
	}
	return out
}

// FuzzMultipart: the parts found do not depend on how the body is cut.
func FuzzMultipart(f *testing.F) {
	f.Add([]byte("--b0undary\r\nContent-Disposition: form-data; name=a; filename=x.exe\r\n\r\nMZ\r\n--b0undar\r\n--b0undary--\r\n"), []byte{3, 9, 1})
	f.Add([]byte("pre\r\n--b0undary \t\r\nContent-Type: text/plain\r\n\r\n\r\n\r\n--b0undary\r\n\r\nfield\r\n--b0undary--"), []byte{0})
	f.Add([]byte("--b0undaryX\r\n"), []byte{})
	f.Fuzz(func(t *testing.T, body, cuts []byte) {
		whole := splitParts(body, nil)
		cut := splitParts(body, cuts)
		if fmt.Sprint(whole) != fmt.Sprint(cut) {
			t.Fatalf("whole %v\ncut   %v", whole, cut)
		}
	})
}
