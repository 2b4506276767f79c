package dcerpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

var le = binary.LittleEndian

var (
	pdu       = pcapgen.DCERPCPDU
	uuidBytes = pcapgen.UUIDBytes
	bindBody  = pcapgen.DCERPCBindBody
	ackBody   = pcapgen.DCERPCAckBody
	reqBody   = pcapgen.DCERPCRequestBody
	respBody  = pcapgen.DCERPCResponseBody
)

const (
	svcctl = "367abb81-9844-35f1-ad32-98f038001003"
	epm    = "e1af8308-5d1f-11c9-91a4-08002b14a0fa"
	drs    = pcapgen.DRSUAPI
)

type chunk struct {
	d parsers.Dir
	b []byte
}

// psexecLike: bind to svcctl, ROpenSCManagerW, RCreateServiceW with a
// request in three fragments, RStartServiceW answered by a fault.
func psexecLike() []chunk {
	create := reqBody(0, 12, 300)
	return []chunk{
		{parsers.ToServer, pdu(ptBind, 3, 1, bindBody(svcctl), []byte("NTLMSSP\x00\x01"))},
		{parsers.ToClient, pdu(ptBindAck, 3, 1, ackBody(0), nil)},
		{parsers.ToServer, pdu(ptRequest, 3, 2, reqBody(0, 15, 40), nil)},
		{parsers.ToClient, pdu(ptResponse, 3, 2, respBody(0, make([]byte, 24)), nil)},
		{parsers.ToServer, append(append(pdu(ptRequest, 1, 3, create[:108], nil),
			pdu(ptRequest, 0, 3, create[:108], nil)...), pdu(ptRequest, 2, 3, create[:108], nil)...)},
		{parsers.ToClient, pdu(ptResponse, 3, 3, respBody(0, make([]byte, 28)), nil)},
		{parsers.ToServer, pdu(ptRequest, 3, 4, reqBody(0, 19, 24), nil)},
		{parsers.ToClient, pdu(ptFault, 3, 4, append(respBody(0, nil), 5, 0, 0, 0), nil)},
	}
}

// run feeds the chunks cut into pieces of step bytes (0: whole).
func run(t *testing.T, c *Conn, chunks []chunk, step int) error {
	t.Helper()
	for _, ch := range chunks {
		b := ch.b
		for len(b) > 0 {
			n := len(b)
			if step > 0 {
				n = min(step, n)
			}
			if err := c.Data(ch.d, b[:n], time.Unix(1, 0)); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	c.End(time.Unix(2, 0))
	return nil
}

func TestCallsOfAPsExecLikeSession(t *testing.T) {
	for _, step := range []int{0, 1, 7} {
		var calls []Call
		var auths []string
		c := NewConn(nil, func(call *Call) { calls = append(calls, *call) })
		c.OnAuth = func(a *Auth) { auths = append(auths, a.PDU+":"+string(a.Value)) }
		if err := run(t, c, psexecLike(), step); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if len(calls) != 4 {
			t.Fatalf("step %d: %d calls, want 4: %+v", step, len(calls), calls)
		}
		b := calls[0]
		if b.Kind != KindBind || len(b.Contexts) != 1 || b.Contexts[0].Name != "svcctl" || b.Contexts[0].Result != "acceptance" || b.AuthType != 10 || b.AuthLevel != 6 {
			t.Errorf("step %d: bind %+v", step, b)
		}
		if len(auths) != 1 || auths[0] != "bind:NTLMSSP\x00\x01" {
			t.Errorf("step %d: auth tokens %q", step, auths)
		}
		want := []struct {
			op           string
			reqFrags     int
			reqBytes     int64
			fault        bool
			status       uint32
			respFragsMin int
		}{
			{"ROpenSCManagerW", 1, 40, false, 0, 1},
			{"RCreateServiceW", 3, 3 * 100, false, 0, 1},
			{"RStartServiceW", 1, 24, true, 5, 1},
		}
		for i, w := range want {
			got := calls[i+1]
			if got.Operation != w.op || got.InterfaceName != "svcctl" || got.RequestFrags != w.reqFrags ||
				got.RequestBytes != w.reqBytes || got.Fault != w.fault || got.FaultStatus != w.status || !got.Answered {
				t.Errorf("step %d: call %d = %+v, want %+v", step, i+1, got, w)
			}
		}
	}
}

func TestLyingLengthsStopTheDirection(t *testing.T) {
	for name, b := range map[string][]byte{
		"fragment shorter than header": func() []byte { p := pdu(ptBind, 3, 1, bindBody(svcctl), nil); le.PutUint16(p[8:], 10); return p }(),
		"auth longer than fragment":    func() []byte { p := pdu(ptBind, 3, 1, bindBody(svcctl), nil); le.PutUint16(p[10:], 4000); return p }(),
		"version 4":                    func() []byte { p := pdu(ptBind, 3, 1, bindBody(svcctl), nil); p[0] = 4; return p }(),
		"bad data representation":      func() []byte { p := pdu(ptBind, 3, 1, bindBody(svcctl), nil); p[6] = 1; return p }(),
	} {
		c := NewConn(nil, func(*Call) {})
		err := c.Data(parsers.ToServer, b, time.Time{})
		if !errors.Is(err, ErrNotDCERPC) {
			t.Errorf("%s: error %v, want ErrNotDCERPC", name, err)
		}
	}
	// A bind that announces more contexts than it carries keeps those that fit.
	body := bindBody(svcctl)
	body[8] = 200
	var calls []Call
	c := NewConn(nil, func(call *Call) { calls = append(calls, *call) })
	if err := run(t, c, []chunk{{parsers.ToServer, pdu(ptBind, 3, 1, body, nil)}}, 0); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || len(calls[0].Contexts) != 1 || len(calls[0].Notes) != 1 {
		t.Fatalf("calls %+v", calls)
	}
}

// A request sent as a flood of fragments that never ends holds nothing
// beyond one header per direction and is one call, emitted at the end.
func TestFragmentFloodHoldsNothing(t *testing.T) {
	b := budget.New(1 << 20)
	acct := b.NewAccount()
	var calls []Call
	c := NewConn(acct, func(call *Call) { calls = append(calls, *call) })
	frag := pdu(ptRequest, 0, 9, reqBody(0, 3, 1000), nil)
	first := pdu(ptRequest, flagFirstFrag, 9, reqBody(0, 3, 1000), nil)
	if err := c.Data(parsers.ToServer, first, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for range 20000 {
		// Cut each fragment across two segments so its header is held.
		if err := c.Data(parsers.ToServer, frag[:10], time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := c.Data(parsers.ToServer, frag[10:], time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if used := acct.Used(budget.Parsers); used > 128 {
		t.Errorf("%d bytes held during the flood", used)
	}
	c.End(time.Time{})
	if len(calls) != 1 || calls[0].RequestFrags != 20001 || calls[0].Answered {
		t.Fatalf("calls %+v", calls)
	}
	if used := acct.Used(budget.Parsers); used != 0 {
		t.Errorf("%d bytes still reserved after End", used)
	}
}

func TestBudgetRefusalIsReported(t *testing.T) {
	b := budget.New(32)
	var limited []string
	c := NewConn(b.NewAccount(), func(*Call) {})
	c.OnLimit = func(d string) { limited = append(limited, d) }
	p := pdu(ptBind, 3, 1, bindBody(svcctl, drs), nil)
	if err := c.Data(parsers.ToServer, p[:20], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Data(parsers.ToServer, p[20:], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if !c.Limited || len(limited) != 1 {
		t.Fatalf("limited %v %q", c.Limited, limited)
	}
}

// mapAnswer announces drsuapi at TCP 10.0.0.5:49667.
func mapAnswer() []byte {
	return pcapgen.DCERPCMapAnswer(drs, netip.MustParseAddrPort("10.0.0.5:49667"))
}

func TestEndpointMapperAnswer(t *testing.T) {
	ans := mapAnswer()
	for _, step := range []int{0, 3} {
		var calls []Call
		c := NewConn(nil, func(call *Call) { calls = append(calls, *call) })
		err := run(t, c, []chunk{
			{parsers.ToServer, pdu(ptBind, 3, 1, bindBody(epm), nil)},
			{parsers.ToClient, pdu(ptBindAck, 3, 1, ackBody(0), nil)},
			{parsers.ToServer, pdu(ptRequest, 3, 2, reqBody(0, 3, 100), nil)},
			// The answer in two fragments, cut inside the tower.
			{parsers.ToClient, append(pdu(ptResponse, 1, 2, respBody(0, ans[:50]), nil), pdu(ptResponse, 2, 2, respBody(0, ans[50:]), nil)...)},
		}, step)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 2 || calls[1].Operation != "ept_map" || calls[1].ResponseFrags != 2 {
			t.Fatalf("calls %+v", calls)
		}
		want := Endpoint{Interface: drs, Proto: "tcp", IP: "10.0.0.5", Port: 49667}
		if eps := calls[1].Endpoints; len(eps) != 1 || eps[0] != want {
			t.Errorf("step %d: endpoints %+v, want %+v", step, eps, want)
		}
	}
}

func TestSniff(t *testing.T) {
	bind := pdu(ptBind, 3, 1, bindBody(svcctl), nil)
	for _, tc := range []struct {
		name string
		b    []byte
		want parsers.Verdict
	}{
		{"bind", bind, parsers.Yes},
		{"bind prefix", bind[:15], parsers.More},
		{"one byte", []byte{5}, parsers.More},
		{"version byte only differs", append([]byte{6}, bind[1:]...), parsers.No},
		{"response first", pdu(ptResponse, 3, 1, respBody(0, nil), nil), parsers.No},
		{"request without first fragment", pdu(ptRequest, 2, 1, reqBody(0, 1, 4), nil), parsers.No},
		{"request", pdu(ptRequest, 3, 1, reqBody(0, 1, 4), nil), parsers.Yes},
		{"text", []byte("GET / HTTP/1.1\r\n"), parsers.No},
	} {
		if got := Sniff(tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUUIDFormat(t *testing.T) {
	if got := uuid(uuidBytes(drs), le); got != drs {
		t.Fatalf("%s", got)
	}
	be := uuidBytes(drs)
	be[0], be[1], be[2], be[3], be[4], be[5], be[6], be[7] = be[3], be[2], be[1], be[0], be[5], be[4], be[7], be[6]
	if got := uuid(be, binary.BigEndian); got != drs {
		t.Fatalf("big-endian %s", got)
	}
	if !bytes.Equal(uuidBytes(drs)[:4], []byte{0x35, 0x42, 0x51, 0xe3}) {
		t.Fatal("uuidBytes")
	}
}

func BenchmarkConn(b *testing.B) {
	var stream [2][]byte
	for _, ch := range psexecLike() {
		stream[ch.d] = append(stream[ch.d], ch.b...)
	}
	b.SetBytes(int64(len(stream[0]) + len(stream[1])))
	b.ReportAllocs()
	for range b.N {
		c := NewConn(nil, func(*Call) {})
		_ = c.Data(parsers.ToServer, stream[0], time.Time{})
		_ = c.Data(parsers.ToClient, stream[1], time.Time{})
		c.End(time.Time{})
	}
}
