package smb

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"maps"
	"slices"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
)

// Bounds of the state one connection keeps. A client keeps far fewer
// requests in flight (its credits) and files open per connection in
// practice; past a bound the newest entry is not tracked, which is
// counted (Stats.StateFull) and reported through Handler.Limit.
const (
	maxPending  = 512
	maxFiles    = 256
	maxTrees    = 64
	maxSessions = 16
	// maxName bounds a captured file, share or rename name, in UTF-16
	// code units (Windows' MAX_PATH): a longer one is cut (Stats.Truncated),
	// so a name held in an entry costs at most 3*maxName bytes of UTF-8.
	maxName = 260
	// entryCost is what one tracked entry is reckoned to cost on the
	// memory budget (map slot, struct, up to two names of maxName).
	entryCost = 256 + 2*3*maxName
)

// Handler receives what a connection shows. Each callback's argument is
// reused after it returns: copy what you keep (strings may be kept).
type Handler struct {
	Session func(*Session)
	Tree    func(*Tree)
	File    func(*File)
	// SMB1 is called once, when SMB1 is seen in use (see SMB1).
	SMB1 func(*SMB1)
	// Encrypted is called at the end for each session that sent SMB3
	// encrypted (transform) messages.
	Encrypted func(*Encrypted)
	// Pipe receives the bytes written to (ToServer) or read from
	// (ToClient) a named pipe: WRITE/READ data and FSCTL_PIPE_TRANSCEIVE
	// input/output, as far as the held prefix of the message goes;
	// missing counts the bytes of the transfer beyond it (never seen by
	// the parser: a gap for whoever reads the pipe). The DCE/RPC parser
	// reads the pipes through it; nil drops them.
	Pipe func(f *File, d parsers.Dir, data []byte, missing int, ts time.Time)
	// Files, when set, opens a files-layer sink per file and direction
	// for the bytes of its reads (ToClient) and writes (ToServer),
	// streamed as they arrive, in file order (a jump ahead is a gap, a
	// re-read of earlier bytes is not written again); nil: no file work.
	Files parsers.FileOpener
	// Limit reports the memory budget refusing state (memory) or a bound
	// of the connection's tables reached.
	Limit func(memory bool, detail string)
}

// Conn is a parsers.StreamParser for one SMB connection.
type Conn struct {
	acct *budget.Account
	h    Handler

	fr   [2]framer
	lost [2]bool // a gap left the direction between messages: resynchronise

	Dialect                  uint16
	SigningEnabled, Required bool
	EncryptionCapable        bool
	Cipher                   string

	pending  map[uint64]pending
	files    map[FileID]*File
	trees    map[uint32]*Tree
	sessions map[uint64]*Session
	paid     int64

	smb1 *SMB1
	// SMB1 named pipes: names of opened handles, the pipes in use,
	// requests awaiting answers.
	smb1Names map[uint16]string
	smb1Files map[uint16]*File
	smb1Pend  map[uint16]smb1Pending
	adminExe  string // an executable written to an admin share on this connection
	chainFid  FileID // the file the current response chain's create opened
	stats     Stats
	ended     bool
}

// Stats counts what a connection's parser saw and could not follow.
type Stats struct {
	Messages, Commands int64
	Errors             int64 // malformed messages and headers
	Undecoded          int64 // messages counted but not decoded (gap, budget)
	Gaps               int64
	StateFull          int64 // requests, files, trees or sessions not tracked: a bound or the budget
	Unmatched          int64 // responses without their request
	Truncated          int64 // names cut at maxName
}

// NewConn returns a parser; acct may be nil (no budget).
func NewConn(acct *budget.Account, h Handler) *Conn {
	return &Conn{acct: acct, h: h}
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats { return c.stats }

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.lost[d] {
		// Resynchronise on the next SMB2 header behind a NetBIOS message header.
		i := bytes.Index(b, []byte(protoSMB2))
		for i >= 0 && (i < 4 || b[i-4] != nbMessage) {
			j := bytes.Index(b[i+1:], []byte(protoSMB2))
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			return nil
		}
		b, c.lost[d] = b[i-4:], false
		c.fr[d] = framer{buf: c.fr[d].buf[:0], paid: c.fr[d].paid}
	}
	return c.feed(d, b, ts)
}

func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) { c.gapIn(d, n) }

// End emits the files still open and the encrypted sessions, then frees
// the connection's state.
func (c *Conn) End(ts time.Time) {
	if c.ended {
		return
	}
	c.ended = true
	// Map order is random: emit in the order things happened, so a replay
	// gives its events in the same order each time.
	open := slices.SortedFunc(maps.Values(c.files), func(a, b *File) int {
		return cmp.Or(a.Start.Compare(b.Start), bytes.Compare(a.ID[:], b.ID[:]))
	})
	for _, f := range open {
		f.Notes = append(f.Notes, "smb.not_closed")
		f.End = ts
		closeSinks(f, false, ts)
		c.emitFile(f)
	}
	c.smb1End(ts)
	if s := c.smb1; s != nil && (s.inUse || s.ServerReplied) && c.h.SMB1 != nil {
		c.h.SMB1(s)
	}
	sessions := slices.SortedFunc(maps.Values(c.sessions), func(a, b *Session) int { return cmp.Compare(a.ID, b.ID) })
	for _, s := range sessions {
		if s.Encrypted.Messages[0]+s.Encrypted.Messages[1] > 0 && c.h.Encrypted != nil {
			s.Encrypted.Session = s
			c.h.Encrypted(&s.Encrypted)
		}
	}
	c.files, c.trees, c.sessions, c.pending = nil, nil, nil, nil
	var freed int64
	for i := range c.fr {
		freed += c.fr[i].paid
		c.fr[i] = framer{}
	}
	c.acct.Release(budget.Parsers, c.paid+freed)
	c.paid = 0
}

// message decodes one NetBIOS message: its held prefix m, whole length n.
func (c *Conn) message(d parsers.Dir, m []byte, n int, ts time.Time) error {
	c.stats.Messages++
	if len(m) < 4 {
		c.stats.Errors++
		return nil
	}
	switch string(m[:4]) {
	case protoSMB2:
		c.smb2(d, m, n, ts)
	case protoSMB1:
		c.smb1Message(d, m, ts)
	case protoTransform:
		c.transform(d, m, n, ts)
	case protoCompress:
		c.stats.Undecoded++ // compressed SMB 3.1.1 messages are not decompressed
	default:
		c.stats.Errors++
		return ErrNotSMB
	}
	return nil
}

// reserve takes one entry's cost from the budget.
func (c *Conn) reserve() bool {
	if !c.acct.Reserve(budget.Parsers, entryCost) {
		c.stats.StateFull++
		c.limit(true, "memory budget spent: SMB state not tracked")
		return false
	}
	c.paid += entryCost
	return true
}

func (c *Conn) unreserve() {
	c.acct.Release(budget.Parsers, entryCost)
	c.paid -= entryCost
}

// name decodes a captured UTF-16LE name, cut at maxName code units.
func (c *Conn) name(b []byte) string {
	if len(b) > 2*maxName {
		b = b[:2*maxName]
		c.stats.Truncated++
	}
	return ntlm.UTF16(b)
}

func (c *Conn) full(what string) {
	c.stats.StateFull++
	c.limit(false, "SMB "+what+" bound reached: newest not tracked")
}

func (c *Conn) limit(memory bool, detail string) {
	if c.h.Limit != nil {
		c.h.Limit(memory, detail)
	}
}

// le16/le32/le64 read little-endian integers at off, or 0 beyond b.
func le16(b []byte, off int) uint16 {
	if off < 0 || off+2 > len(b) {
		return 0
	}
	return binary.LittleEndian.Uint16(b[off:])
}

func le32(b []byte, off int) uint32 {
	if off < 0 || off+4 > len(b) {
		return 0
	}
	return binary.LittleEndian.Uint32(b[off:])
}

func le64(b []byte, off int) uint64 {
	if off < 0 || off+8 > len(b) {
		return 0
	}
	return binary.LittleEndian.Uint64(b[off:])
}

// span returns b[off:off+n] when it lies inside b.
func span(b []byte, off, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off > len(b) || n > len(b)-off {
		return nil, false
	}
	return b[off : off+n], true
}
