package smb

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// recorder keeps what a connection emitted, as text lines.
type recorder struct {
	lines  []string
	limits []string
	pipes  int
}

func (r *recorder) handler() Handler {
	return Handler{
		Session: func(s *Session) {
			r.lines = append(r.lines, fmt.Sprintf("session %s %s\\%s %s %s legs=%d", StatusHex(s.Status), s.NTLM.Domain, s.NTLM.User, s.NTLM.Version, s.Challenge.NbComputer, s.Legs))
		},
		Tree: func(t *Tree) {
			r.lines = append(r.lines, fmt.Sprintf("tree %s %s admin=%v %s", t.Path, t.Type, t.Admin, StatusHex(t.Status)))
		},
		File: func(f *File) {
			r.lines = append(r.lines, fmt.Sprintf("file %s pipe=%v w=%d/%d r=%d/%d after=%q renamed=%q deleted=%v %s %v",
				f.Name, f.Pipe, f.Writes, f.WriteBytes, f.Reads, f.ReadBytes, f.AfterAdminExe, f.RenamedTo, f.Deleted, StatusHex(f.Status), f.Notes))
		},
		SMB1: func(s *SMB1) {
			r.lines = append(r.lines, fmt.Sprintf("smb1 %v replied=%v", s.Dialects, s.ServerReplied))
		},
		Encrypted: func(e *Encrypted) {
			r.lines = append(r.lines, fmt.Sprintf("encrypted %x %v %v", e.SessionID, e.Messages, e.Bytes))
		},
		Pipe:  func(*File, parsers.Dir, []byte, int, time.Time) { r.pipes++ },
		Limit: func(memory bool, d string) { r.limits = append(r.limits, d) },
	}
}

func fromClient(b []byte) pcapgen.SMBChunk { return pcapgen.SMBChunk{FromClient: true, B: b} }
func fromServer(b []byte) pcapgen.SMBChunk { return pcapgen.SMBChunk{B: b} }

func dir(fromClient bool) parsers.Dir {
	if fromClient {
		return parsers.ToServer
	}
	return parsers.ToClient
}

// run feeds chunks cut into pieces of step bytes (0: whole).
func run(t *testing.T, acct *budget.Account, chunks []pcapgen.SMBChunk, step int) (*recorder, Stats) {
	t.Helper()
	r := &recorder{}
	c := NewConn(acct, r.handler())
	for _, ch := range chunks {
		b := ch.B
		for len(b) > 0 {
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
	return r, c.Stats()
}

var psexecWant = []string{
	`session 0xc000006d CONTOSO\mallory v2 DC1 legs=2`,
	`session 0xc000006d CONTOSO\mallory v2 DC1 legs=2`,
	`session 0x00000000 CONTOSO\mallory v2 DC1 legs=2`,
	`tree \\10.0.0.1\ADMIN$ disk admin=true 0x00000000`,
	`file PSEXESVC.exe pipe=false w=2/6000 r=0/0 after="" renamed="" deleted=false 0x00000000 []`,
	`tree \\10.0.0.1\IPC$ pipe admin=true 0x00000000`,
	`file svcctl pipe=true w=1/72 r=1/60 after="PSEXESVC.exe" renamed="" deleted=false 0x00000000 []`,
}

// The generated PsExec conversation gives its sessions (two failed, one
// good), both trees, the executable written to ADMIN$ and the svcctl pipe
// opened after it — however the bytes are cut.
func TestPsExecExchange(t *testing.T) {
	chunks := pcapgen.SMBPsExecExchange("10.0.0.1", "mallory", "CONTOSO", 2)
	for _, step := range []int{0, 1, 7, 1000} {
		r, st := run(t, nil, chunks, step)
		if !slices.Equal(r.lines, psexecWant) {
			t.Errorf("step %d:\n%s", step, strings.Join(r.lines, "\n"))
		}
		if st.Errors != 0 || st.Unmatched != 0 || r.pipes != 2 {
			t.Errorf("step %d: %+v, %d pipe transfers", step, st, r.pipes)
		}
	}
}

func TestSniff(t *testing.T) {
	req := pcapgen.NBSS(pcapgen.SMB2{Cmd: 0, Body: pcapgen.SMB2NegotiateReq()})
	resp := pcapgen.NBSS(pcapgen.SMB2{Cmd: 0, Response: true, Body: pcapgen.SMB2NegotiateResp(0x311, true)})
	for i := range 24 {
		if _, v := Sniff(req[:i], parsers.ToServer); v != parsers.More {
			t.Errorf("prefix %d: %v", i, v)
		}
	}
	if c, v := Sniff(req, parsers.ToServer); v != parsers.Yes || c != parsers.ToServer {
		t.Errorf("request: %v %v", c, v)
	}
	if c, v := Sniff(resp, parsers.ToServer); v != parsers.Yes || c != parsers.ToClient {
		t.Errorf("response from the originator: %v %v", c, v)
	}
	for _, b := range []string{"\x00\x00\x00\x10GET ", "GET / HTTP/1.1", "\x00\x00\x00\x10\xfeSMX", "\x16\x03\x01", "\x81\x00\x00\x44\x21"} {
		if _, v := Sniff([]byte(b), parsers.ToServer); v != parsers.No {
			t.Errorf("%q: %v", b, v)
		}
	}
	nb := append([]byte{0x81, 0, 0, 0x44, 0x20}, strings.Repeat("EB", 16)...)
	if _, v := Sniff(nb, parsers.ToServer); v != parsers.Yes {
		t.Errorf("NetBIOS session request: %v", v)
	}
}

// Length fields that lie: a NetBIOS length past the stream's end, name
// and buffer offsets outside the message, compound offsets going nowhere.
// Each is counted; none panics or loops.
func TestHostileLengths(t *testing.T) {
	fid := pcapgen.FileIDOf(1)
	create := pcapgen.SMB2CreateReq("x.txt", 1, 1, 0)
	binary.LittleEndian.PutUint16(create[44:], 0xfff0) // name offset outside
	tree := pcapgen.SMB2TreeConnectReq(`\\h\s`)
	binary.LittleEndian.PutUint16(tree[6:], 0x7fff)                             // path length outside
	selfLoop := pcapgen.SMB2{Cmd: 6, Body: pcapgen.SMB2CloseReq(fid)}.Bytes(64) // "next" shorter than a header+body: walks forward into garbage
	backwards := pcapgen.SMB2{Cmd: 6, Body: pcapgen.SMB2CloseReq(fid)}.Bytes(0xffffffc0)
	chunks := []pcapgen.SMBChunk{
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, Body: create})),
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 3, Body: tree})),
		fromClient(append([]byte{0, 0, byte(len(selfLoop) >> 8), byte(len(selfLoop))}, selfLoop...)),
		fromClient(append([]byte{0, 0, byte(len(backwards) >> 8), byte(len(backwards))}, backwards...)),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, Response: true, MID: 77, Body: pcapgen.SMB2CreateResp(1, 0, fid)})),
		fromClient([]byte{0, 0xff, 0xff, 0xff, 0xfe, 'S', 'M', 'B'}), // 16 MiB announced, 4 bytes sent
	}
	r, st := run(t, nil, chunks, 0)
	if st.Errors < 4 || st.Unmatched != 1 || len(r.lines) != 0 {
		t.Errorf("%+v %v", st, r.lines)
	}
	// A chain of 200 small commands stops at maxCompounded.
	var chain []pcapgen.SMB2
	for range 200 {
		chain = append(chain, pcapgen.SMB2{Cmd: 4})
	}
	_, st = run(t, nil, []pcapgen.SMBChunk{fromClient(pcapgen.NBSS(chain...))}, 0)
	if st.Commands != maxCompounded || st.Errors != 1 {
		t.Errorf("long chain: %+v", st)
	}
	// Not SMB at all after a good start: the parser says so.
	c := NewConn(nil, Handler{})
	if err := c.Data(parsers.ToServer, []byte("\x42\x00\x00\x01x"), time.Time{}); err != ErrNotSMB {
		t.Errorf("err %v", err)
	}
}

// Open files beyond maxFiles are reported at once with a note and the
// bound is reported; a refusing budget is reported as memory.
func TestStateBounds(t *testing.T) {
	var chunks []pcapgen.SMBChunk
	for i := range maxFiles + 10 {
		fid := pcapgen.FileIDOf(byte(i))
		binary.LittleEndian.PutUint32(fid[12:], uint32(i))
		chunks = append(chunks,
			fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, MID: uint64(i), Body: pcapgen.SMB2CreateReq(fmt.Sprint(i), 1, 1, 0)})),
			fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, Response: true, MID: uint64(i), Body: pcapgen.SMB2CreateResp(1, 0, fid)})))
	}
	r, st := run(t, nil, chunks, 0)
	if st.StateFull != 10 || len(r.limits) != 10 || len(r.lines) != maxFiles+10 {
		t.Errorf("%+v, %d limits, %d files", st, len(r.limits), len(r.lines))
	}
	notTracked := 0
	for _, l := range r.lines {
		if strings.Contains(l, "smb.file_not_tracked") {
			notTracked++
		}
	}
	if notTracked != 10 {
		t.Errorf("%d files not tracked", notTracked)
	}

	b := budget.New(1 << 10)
	acct := b.NewAccount()
	r, st = run(t, acct, chunks[:20], 0)
	if st.StateFull == 0 || len(r.limits) == 0 || !strings.Contains(r.limits[0], "memory budget") {
		t.Errorf("budget: %+v %v", st, r.limits)
	}
	if used := b.Stats().Used; used != 0 {
		t.Errorf("%d bytes still reserved after End", used)
	}
}

// A gap inside a message skips it; a gap between messages resynchronises
// on the next SMB2 header.
func TestGaps(t *testing.T) {
	chunks := pcapgen.SMBPsExecExchange("10.0.0.1", "eve", "LAB", 0)
	r := &recorder{}
	c := NewConn(nil, r.handler())
	for i, ch := range chunks {
		if i == 4 { // the first tree connect request is lost whole
			c.Gap(dir(ch.FromClient), len(ch.B), time.Time{})
			continue
		}
		if err := c.Data(dir(ch.FromClient), ch.B, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	c.End(time.Time{})
	if !slices.Contains(r.lines, `tree \\10.0.0.1\IPC$ pipe admin=true 0x00000000`) || c.Stats().Gaps != 1 {
		t.Errorf("%+v\n%s", c.Stats(), strings.Join(r.lines, "\n"))
	}
}

// SMB1 is reported when the server answers in SMB1, not when an SMB1
// negotiate is answered in SMB2 (how SMB2 clients start).
func TestSMB1(t *testing.T) {
	neg := make([]byte, 32) // header: protocol, command 0x72, flags 0x18 (a request)
	copy(neg, "\xffSMB\x72\x00\x00\x00\x00\x18")
	neg = append(neg, 0, 0x18, 0, 0x02, 'N', 'T', ' ', 'L', 'M', ' ', '0', '.', '1', '2', 0, 0x02, 'S', 'M', 'B', ' ', '2', '.', '0', '0', '2', 0)
	binary.LittleEndian.PutUint16(neg[33:], uint16(len(neg)-35))
	smb1Resp := append([]byte("\xffSMB\x72\x00\x00\x00\x00\x98"), make([]byte, 25)...)
	frame := func(b []byte) []byte { return append([]byte{0, 0, byte(len(b) >> 8), byte(len(b))}, b...) }
	r, _ := run(t, nil, []pcapgen.SMBChunk{fromClient(frame(neg)), fromServer(frame(smb1Resp))}, 0)
	if !slices.Equal(r.lines, []string{"smb1 [NT LM 0.12 SMB 2.002] replied=true"}) {
		t.Errorf("%v", r.lines)
	}
	r, _ = run(t, nil, []pcapgen.SMBChunk{fromClient(frame(neg)),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Response: true, Body: pcapgen.SMB2NegotiateResp(0x2ff, false)}))}, 0)
	if len(r.lines) != 0 {
		t.Errorf("SMB2 answer: %v", r.lines)
	}
}

// Transform (encrypted) messages are counted against their session.
func TestEncrypted(t *testing.T) {
	tr := func(sid uint64, n int) []byte {
		b := append([]byte("\xfdSMB"), make([]byte, 48+n)...)
		binary.LittleEndian.PutUint64(b[44:], sid)
		return append([]byte{0, 0, byte(len(b) >> 8), byte(len(b))}, b...)
	}
	r, _ := run(t, nil, []pcapgen.SMBChunk{fromClient(tr(7, 100)), fromServer(tr(7, 200)), fromClient(tr(7, 10))}, 0)
	if !slices.Equal(r.lines, []string{"encrypted 7 [2 1] [214 252]"}) {
		t.Errorf("%v", r.lines)
	}
}

// Rename and delete through set info, and delete-on-close.
func TestRenameDelete(t *testing.T) {
	a, b := pcapgen.FileIDOf(1), pcapgen.FileIDOf(2)
	ex := []pcapgen.SMBChunk{}
	rt := func(mid uint64, req, resp pcapgen.SMB2) {
		req.MID, resp.MID, resp.Cmd, resp.Response = mid, mid, req.Cmd, true
		ex = append(ex, fromClient(pcapgen.NBSS(req)), fromServer(pcapgen.NBSS(resp)))
	}
	rt(1, pcapgen.SMB2{Cmd: 5, Body: pcapgen.SMB2CreateReq(`dir\old.txt`, 0x10000, 1, 0)}, pcapgen.SMB2{Body: pcapgen.SMB2CreateResp(1, 10, a)})
	rt(2, pcapgen.SMB2{Cmd: 17, Body: pcapgen.SMB2RenameReq(a, `dir\new.txt`)}, pcapgen.SMB2{Body: pcapgen.SMB2SetInfoResp()})
	rt(3, pcapgen.SMB2{Cmd: 6, Body: pcapgen.SMB2CloseReq(a)}, pcapgen.SMB2{Body: pcapgen.SMB2CloseResp()})
	rt(4, pcapgen.SMB2{Cmd: 5, Body: pcapgen.SMB2CreateReq(`tmp.dat`, 0x10000, 1, createOptDeleteOnClose)}, pcapgen.SMB2{Body: pcapgen.SMB2CreateResp(1, 10, b)})
	rt(5, pcapgen.SMB2{Cmd: 6, Body: pcapgen.SMB2CloseReq(b)}, pcapgen.SMB2{Body: pcapgen.SMB2CloseResp()})
	r, _ := run(t, nil, ex, 0)
	want := []string{
		`file dir\old.txt pipe=false w=0/0 r=0/0 after="" renamed="dir\\new.txt" deleted=false 0x00000000 []`,
		`file tmp.dat pipe=false w=0/0 r=0/0 after="" renamed="" deleted=true 0x00000000 []`,
	}
	if !slices.Equal(r.lines, want) {
		t.Errorf("%s", strings.Join(r.lines, "\n"))
	}
}

// Reads and writes of data, the hot path, allocate nothing.
func BenchmarkReadWrite(b *testing.B) {
	fid := pcapgen.FileIDOf(1)
	data := make([]byte, 60000)
	var msgs []pcapgen.SMBChunk
	msgs = append(msgs,
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, MID: 1, Body: pcapgen.SMB2CreateReq("big.bin", 3, 5, 0)})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, MID: 1, Response: true, Body: pcapgen.SMB2CreateResp(2, 0, fid)})))
	loop := []pcapgen.SMBChunk{
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 9, MID: 2, Body: pcapgen.SMB2WriteReq(fid, 0, data)})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 9, MID: 2, Response: true, Body: pcapgen.SMB2WriteResp(60000)})),
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 8, MID: 3, Body: pcapgen.SMB2ReadReq(fid, 0, 60000)})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 8, MID: 3, Response: true, Body: pcapgen.SMB2ReadResp(data)})),
	}
	c := NewConn(nil, Handler{})
	for _, m := range msgs {
		_ = c.Data(dir(m.FromClient), m.B, time.Time{})
	}
	var n int64
	for _, m := range loop {
		n += int64(len(m.B))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range loop {
			// Delivered in 1460-byte segments, as TCP would.
			for p := m.B; len(p) > 0; {
				k := min(1460, len(p))
				_ = c.Data(dir(m.FromClient), p[:k], time.Time{})
				p = p[k:]
			}
		}
	}
}

func FuzzConn(f *testing.F) {
	var seed []byte
	for _, ch := range pcapgen.SMBPsExecExchange("10.0.0.1", "u", "d", 1) {
		seed = append(seed, ch.B...)
	}
	var withFile []byte
	for _, ch := range fileExchange(make([]byte, 3000)) {
		withFile = append(withFile, ch.B...)
	}
	f.Add(append([]byte{3}, withFile...))
	smb1Pipe := append(smb1(smb1NTCreate, false, 0, 1, words(24, map[int]uint16{5: 14}), append([]byte{0}, pcapgen.UTF16LE(`\srvsvc`)...)),
		smb1(smb1NTCreate, true, 0, 1, words(34, map[int]uint16{5: 0x4000}), nil)...)
	smb1Pipe = append(smb1Pipe, transNmPipe(2, 0x4000, []byte("bind"), 33+32+2)...)
	f.Add(append([]byte{1}, append(smb1Pipe, transResp(2, []byte("ack"))...)...))
	f.Add(append([]byte{0}, seed...))
	f.Add(append([]byte{9}, seed...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		step := int(b[0]%32) + 1
		b = b[1:]
		bg := budget.New(1 << 20)
		acct := bg.NewAccount()
		o := &files.Collector{Tracker: files.NewTracker(files.Config{}, acct)}
		c := NewConn(acct, Handler{File: func(*File) {}, Session: func(*Session) {}, Tree: func(*Tree) {}, Files: o})
		d := parsers.ToServer
		for len(b) > 0 {
			k := min(step, len(b))
			if c.Data(d, b[:k], time.Time{}) != nil {
				break
			}
			if b[k-1]&1 == 1 {
				d = d.Reverse()
			}
			b = b[k:]
		}
		c.End(time.Time{})
		if len(c.pending) > maxPending || len(c.files) > maxFiles {
			t.Fatal("bounds passed")
		}
		if used := bg.Stats().Used; used != 0 {
			t.Fatalf("%d bytes reserved after End", used)
		}
	})
}

// A name of thousands of characters (a share path, a file name) is cut at
// maxName and counted: the entries holding names stay within entryCost.
func TestLongNamesCut(t *testing.T) {
	long := strings.Repeat("A", 8000)
	fid := pcapgen.FileIDOf(1)
	chunks := []pcapgen.SMBChunk{
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 3, MID: 1, Body: pcapgen.SMB2TreeConnectReq(`\\h\` + long)})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 3, MID: 1, Response: true, Body: pcapgen.SMB2TreeConnectResp(1)})),
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, MID: 2, Body: pcapgen.SMB2CreateReq(long, 1, 1, 0)})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 5, MID: 2, Response: true, Body: pcapgen.SMB2CreateResp(1, 0, fid)})),
	}
	r, st := run(t, nil, chunks, 0)
	if st.Truncated != 2 || len(r.lines) != 2 {
		t.Fatalf("%+v\n%s", st, strings.Join(r.lines, "\n"))
	}
	a := func(n int) string { return strings.Repeat("A", n) }
	if !strings.HasPrefix(r.lines[0], `tree \\h\`+a(maxName-4)+" ") || !strings.HasPrefix(r.lines[1], "file "+a(maxName)+" ") {
		t.Errorf("not cut at %d:\n%.300s\n%.300s", maxName, r.lines[0], r.lines[1])
	}
}
