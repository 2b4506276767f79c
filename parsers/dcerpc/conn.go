package dcerpc

import (
	"errors"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Bounds on what one connection (or pipe) holds.
const (
	// maxPending bounds the calls awaiting their answer; past it the
	// oldest is emitted unanswered.
	maxPending = 64
	// maxContexts bounds the presentation contexts remembered (the
	// interface each context id names).
	maxContexts = 64
	// maxOffered bounds the contexts of one bind reported on its call.
	maxOffered = 16
	// maxStub bounds the reassembled stub of an endpoint mapper answer.
	maxStub  = 64 << 10
	maxNotes = 8
)

// ErrNotDCERPC is returned by Conn.Data when a direction stops looking
// like DCE/RPC (a header that does not parse).
var ErrNotDCERPC = errors.New("dcerpc: not a DCE/RPC stream")

// Kinds of Call.
const (
	KindBind    = "bind"
	KindAlter   = "alter_context"
	KindRequest = "request"
)

// Context is a presentation context of a bind: the interface it names
// and, once answered, the server's result.
type Context struct {
	ID        uint16
	Interface string // UUID
	Name      string // well-known name, "" otherwise
	Version   string // major.minor
	// Result: acceptance, user_rejection, provider_rejection,
	// negotiate_ack (bind time feature negotiation), or "" unanswered.
	Result string
}

// Endpoint is an endpoint the endpoint mapper announced (ept_map answer).
type Endpoint struct {
	Interface string
	Proto     string // "tcp"
	IP        string // "" when the tower names none
	Port      uint16
}

// Call is one exchange: a bind or alter_context with its answer, or a
// request with its response or fault. It is valid only during the emit
// callback.
type Call struct {
	Kind   string
	CallID uint32
	// Contexts offered by a bind or alter_context (at most maxOffered).
	Contexts []Context
	// NakReason is a bind_nak's provider reject reason; Rejected is set
	// for a bind_nak.
	NakReason uint16
	Rejected  bool

	// Request fields: the context, its interface (from the bind that set
	// it up, "" when that was not seen) and the operation.
	ContextID        uint16
	Interface        string
	InterfaceName    string
	InterfaceVersion string
	Opnum            uint16
	Operation        string
	// Fragments and stub bytes each way (stub bytes include the
	// authentication padding).
	RequestFrags, ResponseFrags int
	RequestBytes, ResponseBytes int64
	Fault                       bool
	FaultStatus                 uint32
	Answered                    bool
	// Endpoints announced by an endpoint mapper answer.
	Endpoints []Endpoint

	// AuthType and AuthLevel of the call's first PDU with an
	// authentication trailer (MS-RPCE 2.2.1.1.7, 2.2.1.1.8); 0 none.
	AuthType, AuthLevel uint8

	Start, End time.Time
	Notes      []string

	reqDone bool // the request's last fragment came
}

// Auth is an authentication token carried in a bind, alter_context,
// their answers or auth3 (an NTLMSSP or SPNEGO/Kerberos message). Value is
// valid only during the OnAuth callback.
type Auth struct {
	PDU   string // bind, bind_ack, alter_context, alter_context_resp, auth3
	Dir   parsers.Dir
	Type  uint8 // 9 SPNEGO, 10 NTLMSSP, 16 Kerberos, 68 Netlogon
	Level uint8
	Value []byte
	Time  time.Time
}

type ctxInfo struct {
	iface, name, version string
}

// side is the framing state of one direction.
type side struct {
	buf    parsers.Held // the held part of the current PDU
	need   int          // bytes of the current PDU to hold before it is handled
	skip   int          // bytes of the current PDU still to pass over unread
	stub   parsers.Held // reassembled endpoint mapper stub
	stubOn bool         // the current call's stub is being reassembled
	dead   bool
}

// Conn is a parsers.StreamParser for one DCE/RPC connection: a TCP
// connection, or one SMB named pipe whose written bytes are ToServer and
// read bytes ToClient (the caller makes one Conn per open pipe).
type Conn struct {
	emit func(*Call)
	// OnAuth, when set, receives each authentication token.
	OnAuth func(*Auth)
	// OnLimit, when set, is told when the memory budget refused held
	// bytes and a direction stopped being read.
	OnLimit func(detail string)

	acct    *budget.Account
	s       [2]side
	ctx     map[uint16]ctxInfo
	pending []*Call // in arrival order
	Limited bool    // the memory budget stopped a direction (or an endpoint mapper answer)
}

// NewConn returns a parser that calls emit for each call. The bytes it
// holds (a PDU split across segments, at most one per direction, and an
// endpoint mapper answer up to maxStub) are reserved on acct (pool
// Parsers); nil accepts everything.
func NewConn(acct *budget.Account, emit func(*Call)) *Conn {
	return &Conn{emit: emit, acct: acct, ctx: map[uint16]ctxInfo{}}
}

// Data consumes bytes of direction d.
func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	s := &c.s[d]
	for len(b) > 0 && !s.dead {
		if s.skip > 0 {
			n := min(s.skip, len(b))
			s.skip -= n
			b = b[n:]
			continue
		}
		if s.need == 0 {
			s.need = headerLen
		}
		// A PDU that arrives whole is read in place.
		if len(s.buf.B) == 0 && len(b) >= s.need {
			n, err := c.step(d, b[:s.need], ts)
			if err != nil {
				return c.fail(d, err)
			}
			if n > 0 {
				b = b[n:]
			}
			continue
		}
		n := min(s.need-len(s.buf.B), len(b))
		if !c.hold(d, b[:n]) {
			return nil
		}
		b = b[n:]
		if len(s.buf.B) < s.need {
			return nil
		}
		if _, err := c.step(d, s.buf.B, ts); err != nil {
			return c.fail(d, err)
		}
	}
	return nil
}

// step handles p, the first s.need bytes of the current PDU. It either
// asks for more of it (raising s.need; 0 returned) or handles it, sets
// s.skip to what remains of the PDU and returns len(p).
func (c *Conn) step(d parsers.Dir, p []byte, ts time.Time) (int, error) {
	s := &c.s[d]
	h, err := parseHeader(p)
	if err != nil {
		return 0, err
	}
	if want := c.want(h, p); want > len(p) {
		s.need = want
		return 0, nil
	}
	if err := c.pdu(d, h, p, ts); err != nil {
		return 0, err
	}
	s.skip = h.fragLen - len(p)
	s.need = 0
	c.drop(d)
	return len(p), nil
}

// want is how much of a PDU is read: control PDUs whole; requests and
// responses their 24-byte header (40 with an object UUID), and an
// endpoint mapper response whole, for the endpoints it announces.
func (c *Conn) want(h header, p []byte) int {
	switch h.ptype {
	case ptRequest, ptResponse:
		n := reqHeaderLen
		if h.ptype == ptRequest && h.flags&flagObject != 0 {
			n += 16
		}
		if h.ptype == ptResponse && len(p) >= reqHeaderLen {
			if call := c.findRequest(h.callID, false); call != nil && call.InterfaceName == "epm" && call.Opnum == 3 {
				n = h.fragLen
			}
		}
		return min(n, h.fragLen)
	case ptShutdown, ptCoCancel, ptOrphaned:
		return headerLen
	}
	return h.fragLen
}

// hold appends b to the held bytes of d, the growth paid on the budget.
func (c *Conn) hold(d parsers.Dir, b []byte) bool {
	s := &c.s[d]
	if !s.buf.Append(c.acct, b, s.need) {
		c.limit(d, "memory budget spent: a DCE/RPC PDU split across segments not read, direction "+d.String()+" no longer parsed")
		return false
	}
	return true
}

// drop forgets the held bytes of d, keeping their room for the next PDU
// unless it is large.
func (c *Conn) drop(d parsers.Dir) { c.s[d].buf.Reset(c.acct, 1024) }

func (c *Conn) limit(d parsers.Dir, detail string) {
	c.s[d].dead = true
	c.Limited = true
	if c.OnLimit != nil {
		c.OnLimit(detail)
	}
}

func (c *Conn) fail(d parsers.Dir, err error) error {
	c.s[d].dead = true
	return fmt.Errorf("%w: %s: %v", ErrNotDCERPC, d, err)
}

// Gap: bytes were lost in direction d. The PDU in progress is abandoned
// and the direction is not parsed further (nothing in the stream marks
// where the next PDU starts); the other direction goes on.
func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	s := &c.s[d]
	if s.skip >= n && len(s.buf.B) == 0 {
		s.skip -= n // the gap fell in bytes that are not read anyway
		return
	}
	s.dead = true
	c.drop(d)
	for _, call := range c.pending {
		call.note(fmt.Sprintf("%d bytes missing %s", n, d))
	}
}

// End emits the calls still waiting for their answer and frees what is
// held.
func (c *Conn) End(ts time.Time) {
	for _, call := range c.pending {
		c.emit(call)
	}
	c.pending = nil
	for d := range c.s {
		c.s[d].buf.Reset(c.acct, 0)
		c.s[d].stub.Reset(c.acct, 0)
	}
}

func (call *Call) note(n string) {
	if len(call.Notes) < maxNotes {
		call.Notes = append(call.Notes, n)
	}
}

// findBind returns the pending bind or alter_context of id, or nil.
func (c *Conn) findBind(id uint32) *Call {
	for _, call := range c.pending {
		if call.CallID == id && call.Kind != KindRequest {
			return call
		}
	}
	return nil
}

// findRequest returns the pending request of id (with unfinished true,
// only one whose last fragment has not come), or nil.
func (c *Conn) findRequest(id uint32, unfinished bool) *Call {
	for _, call := range c.pending {
		if call.CallID == id && call.Kind == KindRequest && !(unfinished && call.reqDone) {
			return call
		}
	}
	return nil
}

// open starts a pending call, emitting the oldest unanswered one when
// maxPending are waiting.
func (c *Conn) open(kind string, id uint32, ts time.Time) *Call {
	if len(c.pending) >= maxPending {
		old := c.pending[0]
		old.note("no answer before too many other calls")
		c.finish(old)
	}
	call := &Call{Kind: kind, CallID: id, Start: ts}
	c.pending = append(c.pending, call)
	return call
}

// finish emits call and forgets it.
func (c *Conn) finish(call *Call) {
	for i, p := range c.pending {
		if p == call {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			break
		}
	}
	c.emit(call)
}
