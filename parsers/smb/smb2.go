package smb

import (
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// SMB2 header (MS-SMB2 2.2.1).
const (
	hdrLen        = 64
	flagResponse  = 0x00000001
	flagAsync     = 0x00000002
	maxCompounded = 64 // commands decoded per message; a chain is a forward walk, this bounds its work
)

// SMB2 commands.
const (
	cmdNegotiate      = 0
	cmdSessionSetup   = 1
	cmdLogoff         = 2
	cmdTreeConnect    = 3
	cmdTreeDisconnect = 4
	cmdCreate         = 5
	cmdClose          = 6
	cmdRead           = 8
	cmdWrite          = 9
	cmdIoctl          = 11
	cmdSetInfo        = 17
)

// NTSTATUS values the parser acts on.
const (
	statusSuccess          = 0
	statusPending          = 0x00000103
	statusMoreProcessing   = 0xC0000016
	statusBufferOverflow   = 0x80000005
	fsctlPipeTransceive    = 0x0011C017
	createOptDirectory     = 0x00000001
	createOptDeleteOnClose = 0x00001000
)

// related is the file id of a related compound operation: "the handle
// the previous create of the chain opened".
var related = FileID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// hdr is the part of an SMB2 header the parser uses.
type hdr struct {
	status uint32
	cmd    uint16
	flags  uint32
	next   uint32
	mid    uint64
	tid    uint32
	sid    uint64
}

// smb2 walks a message's compound chain (NextCommand offsets, always
// forward, so a chain cannot loop).
func (c *Conn) smb2(d parsers.Dir, m []byte, total int, ts time.Time) {
	off := 0
	c.chainFid = FileID{}
	for i := 0; i < maxCompounded; i++ {
		p := m[off:]
		if len(p) < hdrLen || string(p[:4]) != protoSMB2 || le16(p, 4) != hdrLen {
			c.stats.Errors++
			return
		}
		h := hdr{status: le32(p, 8), cmd: le16(p, 12), flags: le32(p, 16), next: le32(p, 20),
			mid: le64(p, 24), tid: le32(p, 36), sid: le64(p, 40)}
		if h.flags&flagAsync != 0 {
			h.tid = 0
		}
		body := p[hdrLen:]
		if h.next != 0 {
			if h.next < hdrLen || int64(h.next) > int64(total-off) {
				c.stats.Errors++
				return
			}
			if int(h.next) <= len(p) {
				body = p[hdrLen:h.next]
			}
		}
		c.stats.Commands++
		c.command(d, &h, p, body, ts)
		if h.next == 0 {
			return
		}
		off += int(h.next)
		if off >= len(m) {
			if off < total {
				c.stats.Undecoded++ // the rest of the chain lies beyond the held prefix
			}
			return
		}
	}
	c.stats.Errors++ // longer chains than any client sends
}

// command handles one SMB2 command: p is the message from its header on,
// body the command's bytes after the header (cut short when truncated).
func (c *Conn) command(d parsers.Dir, h *hdr, p, body []byte, ts time.Time) {
	resp := h.flags&flagResponse != 0
	if (d == parsers.ToClient) != resp {
		c.stats.Errors++ // a request from the server or a response from the client
		return
	}
	if !resp {
		c.request(h, p, body, ts)
		return
	}
	if h.status == statusPending && h.flags&flagAsync != 0 {
		return // interim response: the final one follows
	}
	if h.cmd == cmdNegotiate {
		c.negotiateResponse(body)
		return
	}
	pd, ok := c.pending[h.mid]
	if !ok {
		if h.cmd != cmdClose && h.cmd != cmdLogoff && h.cmd != cmdTreeDisconnect {
			c.stats.Unmatched++
		}
		return
	}
	delete(c.pending, h.mid)
	c.unreserve()
	if pd.cmd != h.cmd {
		c.stats.Errors++
		return
	}
	if pd.fid == related {
		pd.fid = c.chainFid // a related compound operation: the handle the chain's create opened
	}
	switch h.cmd {
	case cmdClose:
		if h.status == statusSuccess {
			c.closeFile(pd.fid, ts)
		}
	case cmdSessionSetup:
		c.sessionResponse(h, &pd, p, body, ts)
	case cmdTreeConnect:
		c.treeResponse(h, &pd, body, ts)
	case cmdCreate:
		c.createResponse(h, &pd, body, ts)
	case cmdRead:
		if h.status != statusSuccess && h.status != statusBufferOverflow || len(body) < 8 {
			break
		}
		if f := c.fileOf(&pd, ts); f != nil {
			n := le32(body, 4)
			f.Reads++
			f.ReadBytes += int64(n)
			if f.Pipe {
				c.pipeData(f, parsers.ToClient, p, int(body[2]), int(n), ts)
			}
		}
	case cmdWrite:
		if h.status != statusSuccess {
			break
		}
		if f := c.fileOf(&pd, ts); f != nil {
			f.Writes++
			f.WriteBytes += int64(le32(body, 4))
		}
	case cmdIoctl:
		if f := c.files[pd.fid]; f != nil && pd.n == fsctlPipeTransceive &&
			(h.status == statusSuccess || h.status == statusBufferOverflow) {
			c.pipeData(f, parsers.ToClient, p, int(le32(body, 32)), int(le32(body, 36)), ts)
		}
	case cmdSetInfo:
		if f := c.files[pd.fid]; f != nil && h.status == statusSuccess && pd.info.set {
			if pd.info.rename != "" {
				f.RenamedTo = pd.info.rename
			}
			if pd.info.del {
				f.Deleted = true
			}
		}
	}
}

// request handles a request: what its response needs is kept in pending.
func (c *Conn) request(h *hdr, p, body []byte, ts time.Time) {
	pd := pending{cmd: h.cmd, sid: h.sid, tid: h.tid}
	switch h.cmd {
	case cmdSessionSetup:
		pd.setup = c.sessionRequest(p, body, ts)
	case cmdTreeConnect:
		off, n := int(le16(body, 4)), int(le16(body, 6))
		path, ok := span(p, off, n)
		if !ok {
			c.stats.Errors++
			return
		}
		pd.file = &File{Name: c.name(path)} // the path travels in a File until the answer
	case cmdTreeDisconnect:
		if t := c.trees[h.tid]; t != nil {
			delete(c.trees, h.tid)
			c.unreserve()
		}
		return
	case cmdCreate:
		if len(body) < 56 {
			c.stats.Errors++
			return
		}
		off, n := int(le16(body, 44)), int(le16(body, 46))
		name, ok := span(p, off, n)
		if !ok && n > 0 {
			c.stats.Errors++
			return
		}
		f := &File{Name: c.name(name), Access: le32(body, 24), Disposition: le32(body, 36),
			Options: le32(body, 40), Start: ts}
		f.Directory = f.Options&createOptDirectory != 0
		f.DeleteOnClose = f.Options&createOptDeleteOnClose != 0
		pd.file = f
	case cmdClose:
		pd.fid = fileID(body, 8)
		if _, open := c.files[pd.fid]; !open && pd.fid != related {
			return
		}
	case cmdRead:
		pd.fid, pd.off = fileID(body, 16), le64(body, 8)
	case cmdWrite:
		pd.fid = fileID(body, 16)
		f := c.files[pd.fid]
		if f != nil && f.Pipe {
			c.pipeData(f, parsers.ToServer, p, int(le16(body, 2)), int(le32(body, 4)), ts)
		}
		if f != nil && f.Tree != nil && f.Tree.Admin && !f.Pipe && isExecutable(f.Name) {
			c.adminExe = f.Name
		}
	case cmdIoctl:
		pd.n, pd.fid = le32(body, 4), fileID(body, 8)
		if f := c.files[pd.fid]; f != nil && pd.n == fsctlPipeTransceive {
			c.pipeData(f, parsers.ToServer, p, int(le32(body, 24)), int(le32(body, 28)), ts)
		}
	case cmdSetInfo:
		pd.fid = fileID(body, 16)
		pd.info = c.setInfoRequest(p, body)
		if !pd.info.set {
			return
		}
	default:
		return // not followed: its response needs nothing
	}
	if len(c.pending) >= maxPending {
		c.full("pending request")
		return
	}
	if !c.reserve() {
		return
	}
	if c.pending == nil {
		c.pending = make(map[uint64]pending)
	}
	if _, dup := c.pending[h.mid]; dup {
		c.unreserve() // a message id reused before its answer: the newer request wins
	}
	c.pending[h.mid] = pd
}

func fileID(b []byte, off int) FileID {
	var id FileID
	if v, ok := span(b, off, 16); ok {
		copy(id[:], v)
	}
	return id
}

// isExecutable tells whether a file name ends in an extension Windows runs.
func isExecutable(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	switch strings.ToLower(name[i+1:]) {
	case "exe", "dll", "sys", "bat", "cmd", "ps1", "vbs", "scr", "msi":
		return true
	}
	return false
}

// pipeData hands the n bytes at off of a pipe transfer to the pipe seam,
// as many as the held prefix has.
func (c *Conn) pipeData(f *File, d parsers.Dir, p []byte, off, n int, ts time.Time) {
	if c.h.Pipe == nil {
		return
	}
	data, whole := span(p, off, n)
	if !whole {
		data, _ = span(p, off, max(0, len(p)-off))
	}
	c.h.Pipe(f, d, data, max(0, n-len(data)), ts)
}
