package smb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// fileExchange opens big.bin on \\srv\data, writes data in two WRITEs,
// reads it back whole from offset 0 and its second half again, and closes.
func fileExchange(data []byte) []pcapgen.SMBChunk {
	fid := pcapgen.FileIDOf(3)
	var out []pcapgen.SMBChunk
	rt := func(mid uint64, req, resp pcapgen.SMB2) {
		req.MID, resp.MID, resp.Cmd, resp.Response = mid, mid, req.Cmd, true
		req.TID, resp.TID = 9, 9
		out = append(out, fromClient(pcapgen.NBSS(req)), fromServer(pcapgen.NBSS(resp)))
	}
	half := len(data) / 2
	rt(1, pcapgen.SMB2{Cmd: 3, Body: pcapgen.SMB2TreeConnectReq(`\\srv\data`)}, pcapgen.SMB2{Body: pcapgen.SMB2TreeConnectResp(1)})
	rt(2, pcapgen.SMB2{Cmd: 5, Body: pcapgen.SMB2CreateReq("big.bin", pcapgen.SMBAccessWrite, 5, 0)}, pcapgen.SMB2{Body: pcapgen.SMB2CreateResp(2, 0, fid)})
	rt(3, pcapgen.SMB2{Cmd: 9, Body: pcapgen.SMB2WriteReq(fid, 0, data[:half])}, pcapgen.SMB2{Body: pcapgen.SMB2WriteResp(uint32(half))})
	rt(4, pcapgen.SMB2{Cmd: 9, Body: pcapgen.SMB2WriteReq(fid, uint64(half), data[half:])}, pcapgen.SMB2{Body: pcapgen.SMB2WriteResp(uint32(len(data) - half))})
	rt(5, pcapgen.SMB2{Cmd: 8, Body: pcapgen.SMB2ReadReq(fid, 0, uint32(len(data)))}, pcapgen.SMB2{Body: pcapgen.SMB2ReadResp(data)})
	rt(6, pcapgen.SMB2{Cmd: 8, Body: pcapgen.SMB2ReadReq(fid, uint64(half), uint32(len(data)-half))}, pcapgen.SMB2{Body: pcapgen.SMB2ReadResp(data[half:])})
	rt(7, pcapgen.SMB2{Cmd: 6, Body: pcapgen.SMB2CloseReq(fid)}, pcapgen.SMB2{Body: pcapgen.SMB2CloseResp()})
	return out
}

// The bytes written and read go to the files layer as two files (upload
// and download) whose SHA-256 is that of the data, however the segments
// cut the messages; the second read of bytes already seen is not written
// twice.
func TestFilesGetReadsAndWrites(t *testing.T) {
	data := make([]byte, 100000)
	copy(data, "MZ\x90\x00")
	for i := 4; i < len(data); i++ {
		data[i] = byte(i * 7)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	for _, step := range []int{0, 1460, 1} {
		o := &files.Collector{Tracker: files.NewTracker(files.Config{}, nil)}
		c := NewConn(nil, Handler{Files: o})
		for _, ch := range fileExchange(data) {
			for b := ch.B; len(b) > 0; {
				k := len(b)
				if step > 0 {
					k = min(step, len(b))
				}
				if err := c.Data(dir(ch.FromClient), b[:k], time.Time{}); err != nil {
					t.Fatal(err)
				}
				b = b[k:]
			}
		}
		c.End(time.Time{})
		if len(o.Results) != 2 {
			t.Fatalf("step %d: %d files", step, len(o.Results))
		}
		for _, r := range o.Results {
			if r.SHA256 != want || r.Size != int64(len(data)) || r.End != parsers.FileComplete || r.Info.Name != `\\srv\data\big.bin` {
				t.Errorf("step %d: %v %s size %d end %v sha256 %s", step, r.Info.Dir, r.Info.Name, r.Size, r.End, r.SHA256)
			}
		}
	}
}

// Bytes lost in capture inside a write are a gap for the file.
func TestFilesGap(t *testing.T) {
	data := make([]byte, 20000)
	o := &files.Collector{Tracker: files.NewTracker(files.Config{}, nil)}
	c := NewConn(nil, Handler{Files: o})
	for i, ch := range fileExchange(data) {
		b := ch.B
		if i == 4 { // the first write request: 1000 bytes of its data are lost
			_ = c.Data(parsers.ToServer, b[:2000], time.Time{})
			c.Gap(parsers.ToServer, 1000, time.Time{})
			b = b[3000:]
		}
		_ = c.Data(dir(ch.FromClient), b, time.Time{})
	}
	c.End(time.Time{})
	var up *files.Result
	for i := range o.Results {
		if o.Results[i].Info.Dir == parsers.ToServer {
			up = &o.Results[i]
		}
	}
	if up == nil || up.End != parsers.FileGap || up.Missing != 1000 || up.SHA256 != "" {
		t.Errorf("%+v", up)
	}
}

// The read/write path with the files layer taking every byte (typing and
// MD5/SHA-1/SHA-256): what an SMB file transfer costs end to end.
func BenchmarkFileTransfer(b *testing.B) {
	data := make([]byte, 1<<20)
	ex := fileExchange(data)
	var n int64
	for _, ch := range ex {
		n += int64(len(ch.B))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		o := &files.Collector{Tracker: files.NewTracker(files.Config{}, nil)}
		c := NewConn(nil, Handler{Files: o})
		for _, ch := range ex {
			for p := ch.B; len(p) > 0; {
				k := min(1460, len(p))
				_ = c.Data(dir(ch.FromClient), p[:k], time.Time{})
				p = p[k:]
			}
		}
		c.End(time.Time{})
	}
}

// A direction is the whole file only when its bytes cover the file from
// offset 0 to its end: a read of the first 4 KiB of an 8 KiB file is
// truncated even at a clean close; a whole read is complete even when the
// close never comes (or fails, as Samba's ACCESS_DENIED in the shared
// capture); a write that overwrote an existing file's every byte is complete
// without a close, a new file's write is not (it may still be growing).
func TestFilesWholeOrNot(t *testing.T) {
	data := make([]byte, 8192)
	for i := range data {
		data[i] = byte(i * 13)
	}
	fid := pcapgen.FileIDOf(4)
	exchange := func(size uint64, reads [][2]int, writes int, closed bool) map[parsers.Dir]parsers.FileEnd {
		var chunks []pcapgen.SMBChunk
		mid := uint64(0)
		rt := func(req, resp pcapgen.SMB2) {
			mid++
			req.MID, resp.MID, resp.Cmd, resp.Response = mid, mid, req.Cmd, true
			req.TID, resp.TID = 9, 9
			chunks = append(chunks, fromClient(pcapgen.NBSS(req)), fromServer(pcapgen.NBSS(resp)))
		}
		rt(pcapgen.SMB2{Cmd: 3, Body: pcapgen.SMB2TreeConnectReq(`\\srv\data`)}, pcapgen.SMB2{Body: pcapgen.SMB2TreeConnectResp(1)})
		rt(pcapgen.SMB2{Cmd: 5, Body: pcapgen.SMB2CreateReq("f.bin", pcapgen.SMBAccessWrite, 1, 0)}, pcapgen.SMB2{Body: pcapgen.SMB2CreateResp(1, size, fid)})
		for _, r := range reads {
			rt(pcapgen.SMB2{Cmd: 8, Body: pcapgen.SMB2ReadReq(fid, uint64(r[0]), uint32(r[1]-r[0]))}, pcapgen.SMB2{Body: pcapgen.SMB2ReadResp(data[r[0]:r[1]])})
		}
		if writes > 0 {
			rt(pcapgen.SMB2{Cmd: 9, Body: pcapgen.SMB2WriteReq(fid, 0, data[:writes])}, pcapgen.SMB2{Body: pcapgen.SMB2WriteResp(uint32(writes))})
		}
		if closed {
			rt(pcapgen.SMB2{Cmd: 6, Body: pcapgen.SMB2CloseReq(fid)}, pcapgen.SMB2{Body: pcapgen.SMB2CloseResp()})
		}
		o := &files.Collector{Tracker: files.NewTracker(files.Config{}, nil)}
		c := NewConn(nil, Handler{Files: o})
		for _, ch := range chunks {
			if err := c.Data(dir(ch.FromClient), ch.B, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		c.End(time.Time{})
		ends := map[parsers.Dir]parsers.FileEnd{}
		for _, r := range o.Results {
			ends[r.Info.Dir] = r.End
		}
		return ends
	}
	down, up := parsers.ToClient, parsers.ToServer
	for _, tc := range []struct {
		name   string
		size   uint64
		reads  [][2]int
		writes int
		closed bool
		want   map[parsers.Dir]parsers.FileEnd
	}{
		{"first 4 KiB read, closed", 8192, [][2]int{{0, 4096}}, 0, true, map[parsers.Dir]parsers.FileEnd{down: parsers.FileTruncated}},
		{"whole read in two, never closed", 8192, [][2]int{{0, 4096}, {4096, 8192}}, 0, false, map[parsers.Dir]parsers.FileEnd{down: parsers.FileComplete}},
		{"read from the middle", 8192, [][2]int{{4096, 8192}}, 0, true, map[parsers.Dir]parsers.FileEnd{down: parsers.FileTruncated}},
		{"existing file overwritten whole, never closed", 8192, [][2]int{{0, 8192}}, 8192, false, map[parsers.Dir]parsers.FileEnd{down: parsers.FileComplete, up: parsers.FileComplete}},
		{"4 KiB read and overwritten of 8 KiB, never closed", 8192, [][2]int{{0, 4096}}, 4096, false, map[parsers.Dir]parsers.FileEnd{down: parsers.FileTruncated, up: parsers.FileTruncated}},
		{"new file written, closed", 0, nil, 8192, true, map[parsers.Dir]parsers.FileEnd{up: parsers.FileComplete}},
		{"new file written, never closed", 0, nil, 8192, false, map[parsers.Dir]parsers.FileEnd{up: parsers.FileTruncated}},
	} {
		if got := exchange(tc.size, tc.reads, tc.writes, tc.closed); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
