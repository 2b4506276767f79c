package smb

import (
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// A handle this connection never saw opened (SMB3 multichannel, or a
// capture started later) is adopted at its first successful read or
// write: its reads, writes and close are reported on a file with the
// note smb.opened_elsewhere and no name. A failed read adopts nothing.
func TestHandleOpenedElsewhere(t *testing.T) {
	fid, other := pcapgen.FileIDOf(9), pcapgen.FileIDOf(10)
	rt := func(mid uint64, cmd uint16, status uint32, req, resp []byte) []pcapgen.SMBChunk {
		return []pcapgen.SMBChunk{
			fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: cmd, MID: mid, SID: 5, TID: 1, Body: req})),
			fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: cmd, MID: mid, SID: 5, TID: 1, Response: true, Status: status, Body: resp})),
		}
	}
	var chunks []pcapgen.SMBChunk
	chunks = append(chunks, rt(1, 8, 0, pcapgen.SMB2ReadReq(fid, 0, 100), pcapgen.SMB2ReadResp(make([]byte, 100)))...)
	chunks = append(chunks, rt(2, 9, 0, pcapgen.SMB2WriteReq(fid, 100, make([]byte, 40)), pcapgen.SMB2WriteResp(40))...)
	chunks = append(chunks, rt(3, 8, 0xc0000022, pcapgen.SMB2ReadReq(other, 0, 100), pcapgen.SMB2ReadResp(nil))...) // access denied
	chunks = append(chunks, rt(4, 6, 0, pcapgen.SMB2CloseReq(fid), pcapgen.SMB2CloseResp())...)
	var got []*File
	c := NewConn(nil, Handler{File: func(f *File) { got = append(got, f) }})
	for _, ch := range chunks {
		if err := c.Data(dir(ch.FromClient), ch.B, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	c.End(time.Time{})
	if len(got) != 1 {
		t.Fatalf("%d files", len(got))
	}
	f := got[0]
	if !f.Adopted || f.Name != "" || f.Reads != 1 || f.ReadBytes != 100 || f.Writes != 1 || f.WriteBytes != 40 ||
		!slices.Equal(f.Notes, []string{noteOpenedElsewhere}) {
		t.Errorf("%+v", f)
	}
}
