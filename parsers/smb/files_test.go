package smb

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// opener hands every file to a real files-layer Tracker and keeps the
// results.
type opener struct {
	t       *files.Tracker
	results []files.Result
}

func (o *opener) OpenFile(info *parsers.FileInfo) parsers.FileSink {
	return o.t.Open(info, func(r *files.Result) { o.results = append(o.results, *r) })
}

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
		o := &opener{t: files.NewTracker(files.Config{}, nil)}
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
		if len(o.results) != 2 {
			t.Fatalf("step %d: %d files", step, len(o.results))
		}
		for _, r := range o.results {
			if r.SHA256 != want || r.Size != int64(len(data)) || r.End != parsers.FileComplete || r.Info.Name != `\\srv\data\big.bin` {
				t.Errorf("step %d: %v %s size %d end %v sha256 %s", step, r.Info.Dir, r.Info.Name, r.Size, r.End, r.SHA256)
			}
		}
	}
}

// Bytes lost in capture inside a write are a gap for the file.
func TestFilesGap(t *testing.T) {
	data := make([]byte, 20000)
	o := &opener{t: files.NewTracker(files.Config{}, nil)}
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
	for i := range o.results {
		if o.results[i].Info.Dir == parsers.ToServer {
			up = &o.results[i]
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
		o := &opener{t: files.NewTracker(files.Config{}, nil)}
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
