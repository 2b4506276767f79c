package source

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPcapng reads arbitrary blocks after a section header, mapped and
// through a buffer, against pcapgo's NgReader: no panic; both ways give the
// same frames and the same end; the frames both readers give are the same;
// a file pcapgo reads to its end without error is read to the same end,
// unless this reader found a block malformed where pcapgo reads on.
func FuzzPcapng(f *testing.F) {
	shb := edgeSections().Bytes()[:28]
	f.Add([]byte(nil), false)
	f.Add(edgeSections().Bytes()[28:], true)
	for _, name := range []string{"pcapng-multi-interface.pcapng", "pcapng-custom-blocks-le.pcapng"} {
		if b, err := os.ReadFile(filepath.Join("../../../shared/pcaps", name)); err == nil && len(b) < 1<<20 {
			f.Add(b, false)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, big bool) {
		head := bytes.Clone(shb)
		if len(body) >= 28 && binary.LittleEndian.Uint32(body) == ngSectionHeader {
			head = nil // the input begins with its own section header
		} else if !big {
			head = leSection()
		}
		b := append(head, body...)
		path := filepath.Join(t.TempDir(), "f.pcapng")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, gotErr := ngRead(path, OpenFile)
		buf, bufErr := ngRead(path, OpenFileForSeek)
		if len(got) != len(buf) || errText(gotErr) != errText(bufErr) {
			t.Fatalf("mapped: %d frames, %v; buffered: %d, %v", len(got), gotErr, len(buf), bufErr)
		}
		for i := range got {
			if !got[i].equal(buf[i]) || !got[i].ts.Equal(buf[i].ts) {
				t.Fatalf("frame %d: mapped %v, buffered %v", i, got[i], buf[i])
			}
		}
		want, wantErr := pcapgoNg(b)
		for i := range min(len(got), len(want)) {
			if !got[i].equal(want[i]) {
				t.Fatalf("frame %d is %v, pcapgo's %v", i, got[i], want[i])
			}
		}
		stricter := strings.Contains(errText(gotErr), "malformed pcapng block")
		if wantErr == nil && !stricter && (gotErr != nil || len(got) != len(want)) {
			t.Fatalf("%d frames, %v; pcapgo read %d to the end", len(got), gotErr, len(want))
		}
	})
}

// leSection is a little-endian section header.
func leSection() []byte {
	b := binary.LittleEndian.AppendUint32(nil, ngSectionHeader)
	b = binary.LittleEndian.AppendUint32(b, 28)
	b = binary.LittleEndian.AppendUint32(b, ngByteOrderMagic)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
	return binary.LittleEndian.AppendUint32(b, 28)
}
