package smb

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// SMB1 named pipes: DCE/RPC over SMB1 travels in TRANSACTION requests of
// function TransactNmPipe on a handle NT_CREATE_ANDX opened, which is
// all that is followed of SMB1 beyond flagging it (no file reads or
// writes; WRITE_ANDX/READ_ANDX on a pipe are not handed over).
const (
	smb1Close      = 0x04
	smb1Trans      = 0x25
	smb1NTCreate   = 0xa2
	transactNmPipe = 0x26
	smb1Unicode    = 0x8000 // Flags2: strings are UTF-16LE
)

// smb1Pending is an SMB1 request awaiting its answer (by MID).
type smb1Pending struct {
	cmd  byte
	name string // NT_CREATE_ANDX
	fid  uint16 // TRANSACTION
}

// smb1Pipe follows the named pipes of an SMB1 connection: the names of
// the creates, the data of TransactNmPipe each way, the closes. A handle
// carries a File (Pipe, SMB1) from its first TransactNmPipe on, emitted
// at its close or at the end.
func (c *Conn) smb1Pipe(d parsers.Dir, m []byte, ts time.Time) {
	wc := int(m[32])
	words, ok := span(m, 33, 2*wc)
	if !ok {
		c.stats.Errors++
		return
	}
	mid := le16(m, 30)
	if d == parsers.ToServer {
		var pd smb1Pending
		switch m[4] {
		case smb1NTCreate:
			if wc != 24 {
				return
			}
			pd.name = c.smb1Name(m, 33+2*wc+2, int(le16(words, 5)))
		case smb1Trans:
			if wc < 16 || le16(words, 28) != transactNmPipe {
				return
			}
			pd.fid = le16(words, 30)
			if f := c.smb1PipeFile(pd.fid, ts); f != nil {
				c.pipeData(f, parsers.ToServer, m, int(le16(words, 24)), int(le16(words, 22)), ts)
			}
		case smb1Close:
			if wc >= 3 {
				c.smb1Closed(le16(words, 0), ts)
			}
			return
		default:
			return
		}
		if len(c.smb1Pend) >= maxPending {
			c.full("request")
			return
		}
		if c.smb1Pend == nil {
			c.smb1Pend = make(map[uint16]smb1Pending)
		}
		pd.cmd = m[4]
		c.smb1Pend[mid] = pd
		return
	}
	pd, ok := c.smb1Pend[mid]
	if !ok || pd.cmd != m[4] {
		return
	}
	delete(c.smb1Pend, mid)
	status := le32(m, 5)
	if status != statusSuccess && status != statusBufferOverflow || wc == 0 {
		return // an error answer carries no words
	}
	switch pd.cmd {
	case smb1NTCreate:
		if wc >= 34 && pd.name != "" {
			c.smb1Named(le16(words, 5), pd.name)
		}
	case smb1Trans:
		if wc >= 10 {
			if f := c.smb1Files[pd.fid]; f != nil {
				c.pipeData(f, parsers.ToClient, m, int(le16(words, 14)), int(le16(words, 12)), ts)
			}
		}
	}
}

// smb1Name reads a create's file name at off (after the ByteCount):
// UTF-16LE, aligned on 2 bytes from the header, when Flags2 says so.
func (c *Conn) smb1Name(m []byte, off, n int) string {
	if le16(m, 10)&smb1Unicode != 0 {
		off += off & 1
	}
	b, ok := span(m, off, min(n, len(m)-off))
	if !ok {
		c.stats.Errors++
		return ""
	}
	var s string
	if le16(m, 10)&smb1Unicode != 0 {
		s = c.name(b)
	} else {
		if len(b) > maxName {
			b = b[:maxName]
			c.stats.Truncated++
		}
		s = string(b)
	}
	return strings.TrimRight(s, "\x00")
}

// smb1Named remembers the name of an opened handle (bounded like the
// SMB2 files; a handle reused replaces the name).
func (c *Conn) smb1Named(fid uint16, name string) {
	if f := c.smb1Files[fid]; f != nil {
		c.smb1Closed(fid, f.Start) // reused without a close seen
	}
	if _, known := c.smb1Names[fid]; !known {
		if len(c.smb1Names) >= maxFiles {
			c.full("open file")
			return
		}
		if !c.reserve() {
			return
		}
	}
	if c.smb1Names == nil {
		c.smb1Names = make(map[uint16]string)
	}
	c.smb1Names[fid] = name
}

// smb1PipeFile returns the File of a handle used as a named pipe,
// making it at the first use. A handle whose create was not seen (opened
// before the capture) is adopted without a name: TransactNmPipe says it
// is a pipe.
func (c *Conn) smb1PipeFile(fid uint16, ts time.Time) *File {
	if f := c.smb1Files[fid]; f != nil {
		return f
	}
	name, known := c.smb1Names[fid]
	if !known {
		if len(c.smb1Names) >= maxFiles {
			c.full("open file")
			return nil
		}
		if !c.reserve() {
			return nil
		}
		if c.smb1Names == nil {
			c.smb1Names = make(map[uint16]string)
		}
		c.smb1Names[fid] = ""
	}
	if c.smb1Files == nil {
		c.smb1Files = make(map[uint16]*File)
	}
	f := &File{Name: name, Pipe: true, SMB1: true, Start: ts, Adopted: !known}
	if !known {
		f.Notes = []string{noteOpenedElsewhere}
	}
	c.smb1Files[fid] = f
	return f
}

// smb1Closed ends a handle: its pipe File, if any, is emitted.
func (c *Conn) smb1Closed(fid uint16, ts time.Time) {
	if _, known := c.smb1Names[fid]; !known {
		return
	}
	delete(c.smb1Names, fid)
	c.unreserve()
	if f := c.smb1Files[fid]; f != nil {
		delete(c.smb1Files, fid)
		f.End = ts
		c.emitFile(f)
	}
}

// smb1End emits the pipes still open at the end of the connection, in
// the order they were first used.
func (c *Conn) smb1End(ts time.Time) {
	open := slices.SortedFunc(maps.Values(c.smb1Files), func(a, b *File) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Name, b.Name))
	})
	for _, f := range open {
		f.Notes = append(f.Notes, "smb.not_closed")
		f.End = ts
		c.emitFile(f)
	}
	c.smb1Files, c.smb1Names, c.smb1Pend = nil, nil, nil
}
