package app

import (
	"bytes"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	pdcerpc "github.com/packetsleuth/packetsleuth/parsers/dcerpc"
	pftp "github.com/packetsleuth/packetsleuth/parsers/ftp"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	pkrb "github.com/packetsleuth/packetsleuth/parsers/kerberos"
	pmysql "github.com/packetsleuth/packetsleuth/parsers/mysql"
	ppgsql "github.com/packetsleuth/packetsleuth/parsers/pgsql"
	prdp "github.com/packetsleuth/packetsleuth/parsers/rdp"
	psip "github.com/packetsleuth/packetsleuth/parsers/sip"
	psmb "github.com/packetsleuth/packetsleuth/parsers/smb"
	psmtp "github.com/packetsleuth/packetsleuth/parsers/smtp"
	pssh "github.com/packetsleuth/packetsleuth/parsers/ssh"
	ptls "github.com/packetsleuth/packetsleuth/parsers/tls"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Bounds of what a detector holds while the protocol is undecided: past
// either, a sniffer's More counts as No. detectCap bytes per direction cover
// a request line or a ClientHello's headers; maxRuns bounds the bookkeeping
// of a stream split into tiny segments alternating between directions.
const (
	detectCap = 512
	maxRuns   = 64
)

// detector finds the protocol of a TCP stream by content. It holds the first
// bytes of each direction until a sniffer answers Yes, or every sniffer No
// (or the stream ends, or a bound is reached), so that a client sending its
// first bytes in tiny segments is judged on the same bytes as any other.
// Then it creates the parser, replays what it held in arrival order, and
// forwards the rest of the stream.
//
// When no SYN fixed who the client is (a flow picked up mid-stream), the
// content decides: an HTTP request or a TLS ClientHello seen in the
// responder's direction (or an HTTP response in the originator's) reverses
// the parser's view of the directions, once enough bytes confirm it.
//
// A detector is a parsers.StreamParser, so it can also be run on a
// sub-stream (the bytes of a tunnel) with canFlip false.
type detector struct {
	st      *state
	canFlip bool   // the content may reverse the directions when no SYN fixed them
	byPort  string // protocol implied by the ports when the content says No ("dns")

	parser parsers.StreamParser
	proto  string
	flip   bool
	dead   bool

	buf     [2][]byte      // held bytes, up to detectCap per direction
	paid    int64          // capacity of buf reserved on the memory budget (pool Parsers)
	runs    []run          // what was held, in arrival order
	cut     [2]bool        // a gap or a bound: later bytes of the direction are not sniffed
	sniffed [2]int         // bytes of buf the sniffers judge: those before the cut
	full    [2]bool        // the direction reached the cap unrecognised and its bytes were freed
	order   [2]parsers.Dir // directions in the order they were first heard
	norder  uint8
}

// run is a piece of held input: n bytes of buf[d], or a gap of n bytes.
type run struct {
	d   parsers.Dir
	gap bool
	n   int
	ts  time.Time
}

func (dt *detector) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if dt.parser != nil {
		return dt.forward(d, b, ts)
	}
	if dt.dead || len(b) == 0 {
		return nil
	}
	if dt.norder == 0 {
		// Most streams are told by their first piece: judge it in place,
		// and copy it only when it is not enough.
		dt.order[0], dt.norder, dt.buf[d], dt.sniffed[d] = d, 1, b, len(b)
		proto, client, v := dt.sniff(false)
		dt.norder, dt.buf[d], dt.sniffed[d] = 0, nil, 0
		if v != parsers.More {
			if !dt.choose(proto, client, v) {
				return nil
			}
			return dt.forward(d, b, ts)
		}
	}
	dt.hold(d, b, ts)
	return dt.decide(false)
}

func (dt *detector) Gap(d parsers.Dir, n int, ts time.Time) {
	switch {
	case dt.parser != nil:
		dt.parser.Gap(dt.view(d), n, ts)
	case dt.dead || (len(dt.buf[d]) == 0 && !dt.full[d]):
		// Nothing held in this direction: the parser starts after the gap.
	default:
		dt.cut[d] = true
		dt.runs = append(dt.runs, run{d: d, gap: true, n: n, ts: ts})
		_ = dt.decide(false) // a parser error here ends the stream at its next Data
	}
}

func (dt *detector) End(ts time.Time) {
	if dt.parser == nil && !dt.dead && dt.norder > 0 {
		_ = dt.decide(true)
	}
	if dt.parser != nil {
		dt.parser.End(ts)
	}
}

// hold keeps b. A direction holds bytes until it reaches detectCap (the
// piece that crosses it is kept whole); later bytes are recorded as missing,
// which the parser sees as a gap if one is chosen.
func (dt *detector) hold(d parsers.Dir, b []byte, ts time.Time) {
	if dt.norder == 0 || (dt.norder == 1 && dt.order[0] != d) {
		dt.order[dt.norder] = d
		dt.norder++
	}
	last := len(dt.runs) - 1
	keep := !dt.full[d] && len(dt.buf[d]) < detectCap && dt.room(d, len(b))
	switch {
	case !keep && last >= 0 && dt.runs[last].d == d && dt.runs[last].gap:
		dt.runs[last].n += len(b) // more missing bytes
	case !keep:
		dt.runs = append(dt.runs, run{d: d, gap: true, n: len(b), ts: ts})
	case last >= 0 && dt.runs[last].d == d && !dt.runs[last].gap:
		// Consecutive pieces of one direction are replayed as one, at the
		// time of the first.
		dt.runs[last].n += len(b)
		dt.buf[d] = append(dt.buf[d], b...)
	default:
		dt.runs = append(dt.runs, run{d: d, n: len(b), ts: ts})
		dt.buf[d] = append(dt.buf[d], b...)
	}
	if !dt.cut[d] {
		dt.sniffed[d] = len(dt.buf[d])
	}
	if len(dt.buf[d]) >= detectCap || len(dt.runs) >= maxRuns {
		dt.cut[d] = true
	}
}

// room makes buf[d] able to take n more bytes, the growth reserved on the
// memory budget first. When the budget refuses, the direction holds no
// more (its later bytes count as missing) and that is reported.
func (dt *detector) room(d parsers.Dir, n int) bool {
	b := dt.buf[d]
	if len(b)+n <= cap(b) {
		return true
	}
	c := max(len(b)+n, min(2*cap(b), detectCap), 64)
	if !dt.st.a.acct.Reserve(budget.Parsers, int64(c-cap(b))) {
		dt.st.a.anom.Report(anomaly.MemoryLimit, dt.st.f, dt.st.f.Last(), "memory budget spent: protocol detection decides on the bytes held")
		dt.cut[d] = true
		return false
	}
	dt.paid += int64(c - cap(b))
	dt.buf[d] = append(make([]byte, 0, c), b...)
	return true
}

// decide chooses the parser once the held bytes allow it.
func (dt *detector) decide(final bool) error {
	proto, client, v := dt.sniff(final)
	if v == parsers.More {
		dt.forgetFull()
		return nil
	}
	if !dt.choose(proto, client, v) {
		return nil
	}
	return dt.replay()
}

// forgetFull frees the bytes of a direction that reached the cap without
// being recognised while the other direction may still tell (a one-way
// transfer can last long): should a parser start, it sees them as missing.
func (dt *detector) forgetFull() {
	for _, d := range dt.order[:dt.norder] {
		if dt.full[d] || len(dt.buf[d]) < detectCap {
			continue
		}
		if _, _, v, _ := sniffStart(dt.buf[d][:dt.sniffed[d]], d); v != parsers.No {
			continue
		}
		for i := range dt.runs {
			if dt.runs[i].d == d {
				dt.runs[i].gap = true
			}
		}
		dt.st.a.acct.Release(budget.Parsers, int64(cap(dt.buf[d])))
		dt.paid -= int64(cap(dt.buf[d]))
		dt.buf[d], dt.sniffed[d], dt.full[d] = nil, 0, true
	}
}

// choose starts the parser the sniffers' verdict names (on No, the
// protocol of the ports, if any); without one, the stream is not parsed.
func (dt *detector) choose(proto string, client parsers.Dir, v parsers.Verdict) bool {
	switch {
	case v == parsers.No && dt.byPort == "":
		dt.dead = true
		dt.release()
		return false
	case v == parsers.No:
		proto, client = dt.byPort, parsers.ToServer
	}
	dt.start(proto, client != parsers.ToServer)
	return true
}

// sniff runs the sniffers on each direction, first heard first. It answers
// Yes with the protocol and the direction the client's bytes travel in; No
// when every direction that can still tell says No; More otherwise.
func (dt *detector) sniff(final bool) (proto string, client parsers.Dir, v parsers.Verdict) {
	mayFlip := dt.canFlip && (dt.st.f.TCPFlags[0]|dt.st.f.TCPFlags[1])&decode.SYN == 0
	dp, dc, dialog := dt.sniffDialog(mayFlip)
	// A dialog sniffer waits for both first lines while neither direction
	// is cut short; a sniffer of one direction that says Yes goes first.
	undecided := dialog == parsers.More && !final && !(dt.cut[0] && dt.cut[1])
	for _, d := range dt.order[:dt.norder] {
		b, done := dt.buf[d][:dt.sniffed[d]], final || dt.cut[d]
		p, c, dv, strong := sniffStart(b, d)
		if dv == parsers.Yes && c != parsers.ToServer {
			switch {
			case mayFlip && (strong || done):
			case mayFlip:
				dv = parsers.More // wait for the bytes that confirm a reversal
			case p == "http":
				c = parsers.ToServer // as the flow table says; the parser copes
			default:
				dv = parsers.No // a ClientHello from the responder
			}
		}
		switch {
		case dv == parsers.Yes:
			return p, c, parsers.Yes
		case dv == parsers.More && !done:
			undecided = true
		case dt.byPort != "":
			return "", 0, parsers.No // the ports name the protocol
		}
	}
	if dialog == parsers.Yes {
		return dp, dc, dialog
	}
	if undecided || (dt.norder < 2 && !final) {
		return "", 0, parsers.More // the other direction may still tell
	}
	return "", 0, parsers.No
}

// sniffStart tells whether b, the first bytes of direction d, start HTTP,
// TLS, SSH, DCE/RPC, Kerberos or SMB, the direction the client's bytes travel in, and whether the bytes are
// enough to trust that direction over the flow table's guess: a whole
// request or status line for HTTP, a ClientHello's version for TLS.
func sniffStart(b []byte, d parsers.Dir) (proto string, client parsers.Dir, v parsers.Verdict, strong bool) {
	// SIP first: HTTP shares the OPTIONS method, and a SIP request line
	// is told from an HTTP one by its URI and version.
	isSIPReq, iv := psip.Sniff(b)
	if iv == parsers.Yes {
		if isSIPReq {
			return "sip", d, iv, true
		}
		return "sip", d.Reverse(), iv, true
	}
	isReq, hv := phttp.Sniff(b)
	if hv == parsers.Yes && iv != parsers.More {
		if !isReq {
			return "http", d.Reverse(), hv, len(b) >= 12 && b[8] == ' ' && digits(b[9:12])
		}
		line, _, complete := bytes.Cut(b, []byte{'\n'})
		return "http", d, hv, complete && bytes.Contains(line, []byte(" HTTP/1."))
	}
	tv := ptls.Sniff(b)
	if tv == parsers.Yes {
		return "tls", d, tv, len(b) >= 11 && b[9] == 3
	}
	sv := pssh.Sniff(b)
	if sv == parsers.Yes {
		// Both sides send a version line: the roles are the parser's to
		// decide, from the key exchange.
		return "ssh", parsers.ToServer, sv, false
	}
	dv := pdcerpc.Sniff(b)
	if dv == parsers.Yes {
		// Only a client starts with a bind, alter_context or request.
		return "dcerpc", d, dv, true
	}
	rv := prdp.Sniff(b)
	if rv == parsers.Yes {
		return "rdp", d, rv, true // a whole, well-formed connection request
	}
	kv := pkrb.Sniff(b)
	if kv == parsers.Yes {
		return "kerberos", d, kv, true // an AS-REQ or TGS-REQ: the client's
	}
	mv := pmysql.Sniff(b)
	if mv == parsers.Yes {
		return "mysql", d.Reverse(), mv, true // the server's greeting
	}
	pv := ppgsql.Sniff(b)
	if pv == parsers.Yes {
		return "pgsql", d, pv, true // the client's first message
	}
	bc, bv := psmb.Sniff(b, d)
	if bv == parsers.Yes {
		// An SMB1/SMB2 header says whether it is a response.
		return "smb", bc, bv, len(b) >= 8 && (b[4] == 0xfe || b[4] == 0xff)
	}
	if hv == parsers.More || tv == parsers.More || sv == parsers.More || dv == parsers.More || rv == parsers.More ||
		kv == parsers.More || mv == parsers.More || pv == parsers.More || bv == parsers.More || iv == parsers.More {
		return "", d, parsers.More, false
	}
	return "", d, parsers.No, false
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// start creates the parser of proto.
func (dt *detector) start(proto string, flip bool) {
	a := dt.st.a
	switch proto {
	case "http":
		cfg := a.httpConfig()
		cfg.Files = dt.st.fileOpener("http")
		dt.parser = phttp.NewConnHandler(cfg, (*httpHandler)(dt.st))
	case "tls":
		dt.parser = ptls.NewConnHandler(a.cfg.TLS, (*tlsHandler)(dt.st))
	case "dns":
		dt.parser = dt.st.newDNS()
	case "ssh":
		dt.parser = pssh.NewConn(a.acct, dt.st.emitSSH)
	case "dcerpc":
		dt.parser = dt.st.newDCERPC("")
	case "rdp":
		dt.parser = prdp.NewConn(a.acct, dt.st.emitRDP)
	case "kerberos":
		dt.parser = dt.st.newKerberos()
	case "mysql":
		c := pmysql.NewConn(a.acct, dt.st.emitMySQL)
		c.OnStatements(dt.st.emitMySQLStatements)
		dt.parser = c
	case "pgsql":
		c := ppgsql.NewConn(a.acct, dt.st.emitPgSQL)
		c.OnStatements(dt.st.emitPgSQLStatements)
		dt.parser = c
	case "smb":
		dt.parser = dt.st.newSMB()
	case "smtp":
		cfg := a.cfg.SMTP
		cfg.Files = dt.st.fileOpener("smtp")
		dt.parser = psmtp.NewConn(cfg, a.acct, dt.st.emitSMTP)
	case "sip":
		dt.parser = dt.st.newSIP()
	case "ftp":
		c := pftp.NewConn(a.acct, dt.st.emitFTP)
		if a.files != nil {
			c.OnData = dt.st.ftpTransfer
		}
		dt.parser = c
	}
	dt.proto, dt.flip = proto, flip
	dt.st.detected(proto, flip)
}

// replay hands the held input to the new parser, in arrival order.
func (dt *detector) replay() error {
	var off [2]int
	defer dt.release()
	for _, r := range dt.runs {
		if r.gap {
			dt.parser.Gap(dt.view(r.d), r.n, r.ts)
			continue
		}
		b := dt.buf[r.d][off[r.d] : off[r.d]+r.n]
		off[r.d] += r.n
		if err := dt.forward(r.d, b, r.ts); err != nil {
			return err
		}
	}
	return nil
}

func (dt *detector) release() {
	dt.st.a.acct.Release(budget.Parsers, dt.paid)
	dt.buf, dt.runs, dt.norder, dt.paid = [2][]byte{}, nil, 0, 0
}

// view is d as the parser sees it.
func (dt *detector) view(d parsers.Dir) parsers.Dir {
	if dt.flip {
		return d.Reverse()
	}
	return d
}

func (dt *detector) forward(d parsers.Dir, b []byte, ts time.Time) error {
	err := dt.parser.Data(dt.view(d), b, ts)
	switch err {
	case phttp.ErrSwitched:
		return dt.st.switched(dt, ts)
	case parsers.ErrStartTLS:
		return dt.st.startedTLS(dt, ts)
	}
	if _, tunnel := dt.parser.(*detector); err != nil && !tunnel { // a tunnel's detector counts its own
		dt.st.a.stats.ParserErrors[dt.proto]++
	}
	return err
}

// dialogSniffers tell the protocols whose server speaks first (a 220
// greeting) by both first lines: the greeting alone does not name one.
var dialogSniffers = []struct {
	proto string
	sniff func(server, client []byte) parsers.Verdict
}{
	{"smtp", psmtp.Sniff},
	{"ftp", pftp.Sniff},
}

// sniffDialog runs the dialog sniffers on the held bytes, the originator as
// the client (or, when mayFlip, the responder too). It answers Yes with the
// protocol and the client's direction, More while a sniffer waits for a
// line to end, No otherwise.
func (dt *detector) sniffDialog(mayFlip bool) (string, parsers.Dir, parsers.Verdict) {
	v := parsers.No
	for _, client := range []parsers.Dir{parsers.ToServer, parsers.ToClient} {
		if client == parsers.ToClient && !mayFlip {
			break
		}
		srv, cl := dt.buf[client.Reverse()][:dt.sniffed[client.Reverse()]], dt.buf[client][:dt.sniffed[client]]
		for _, s := range dialogSniffers {
			switch s.sniff(srv, cl) {
			case parsers.Yes:
				return s.proto, client, parsers.Yes
			case parsers.More:
				v = parsers.More
			}
		}
	}
	return "", 0, v
}
