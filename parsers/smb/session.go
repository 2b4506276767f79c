package smb

import (
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/kerberos"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
)

// Dialect names an SMB2 dialect revision ("3.1.1"); 0x02FF is the
// wildcard a server answers an SMB1 negotiate with.
func Dialect(d uint16) string {
	switch d {
	case 0:
		return ""
	case 0x0202:
		return "2.0.2"
	case 0x0210:
		return "2.1"
	case 0x0300:
		return "3.0"
	case 0x0302:
		return "3.0.2"
	case 0x0311:
		return "3.1.1"
	case 0x02ff:
		return "2.???"
	}
	return "0x" + hex16(d)
}

func hex16(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// ciphers names SMB 3.1.1 encryption ciphers.
var ciphers = map[uint16]string{1: "AES-128-CCM", 2: "AES-128-GCM", 3: "AES-256-CCM", 4: "AES-256-GCM"}

// negotiateResponse reads the server's choice: dialect, signing, and
// encryption (the capability bit, or 3.1.1's encryption context).
func (c *Conn) negotiateResponse(body []byte) {
	if len(body) < 64 {
		c.stats.Errors++
		return
	}
	mode := le16(body, 2)
	c.Dialect = le16(body, 4)
	c.SigningEnabled, c.Required = mode&1 != 0, mode&2 != 0
	c.EncryptionCapable = le32(body, 24)&0x40 != 0
	if c.Dialect != 0x0311 {
		return
	}
	// Negotiate contexts: offsets from the header, 8-byte aligned.
	off, n := int(le32(body, 60))-hdrLen, int(le16(body, 6))
	for i := 0; i < n && i < 16 && off >= 0 && off+8 <= len(body); i++ {
		typ, l := le16(body, off), int(le16(body, off+2))
		data, ok := span(body, off+8, l)
		if !ok {
			break
		}
		if typ == 2 && l >= 4 && le16(data, 0) >= 1 {
			c.EncryptionCapable = true
			if name, ok := ciphers[le16(data, 2)]; ok {
				c.Cipher = name
			}
		}
		off += 8 + (l+7)&^7
	}
}

// sessionRequest reads the security blob of a session setup request.
func (c *Conn) sessionRequest(p, body []byte, ts time.Time) *setup {
	st := &setup{start: ts}
	blob, ok := span(p, int(le16(body, 12)), int(le16(body, 14)))
	if !ok {
		c.stats.Errors++
		return st
	}
	b := ntlm.FindInBlob(blob)
	st.mech = b.Mech
	if b.Mech == ntlm.MechNTLM && b.Err == nil {
		st.ntlmType = b.NTLM.Type
	}
	switch {
	case b.Mech == ntlm.MechNTLM && b.Err == nil && b.NTLM.Type == ntlm.Authenticate:
		st.auth, st.hasAuth = b.NTLM, true
	case b.Mech == ntlm.MechKerberos || b.Mech == "":
		st.krb, st.krbErr = c.kerberos(b, blob)
		if st.krb != nil {
			st.mech = ntlm.MechKerberos
		}
	}
	return st
}

// kerberos reads the Kerberos message of a security blob: a krb5 GSS-API
// token, or the bare message a SPNEGO blob may carry as its token (which
// FindInBlob does not recognise: b.Mech is ""). A blob that is neither is
// no error; a krb5 token that does not parse is one.
func (c *Conn) kerberos(b ntlm.Blob, blob []byte) (*kerberos.Message, error) {
	m, err := kerberos.ParseBlob(blob)
	if err != nil && b.Mech == ntlm.MechKerberos {
		c.stats.Errors++
		return nil, err
	}
	return m, nil
}

// session returns the tracked session sid, creating it when there is room.
func (c *Conn) session(sid uint64) *Session {
	if s := c.sessions[sid]; s != nil || sid == 0 {
		return s
	}
	if len(c.sessions) >= maxSessions {
		c.full("session")
		return nil
	}
	if !c.reserve() {
		return nil
	}
	if c.sessions == nil {
		c.sessions = make(map[uint64]*Session)
	}
	s := &Session{ID: sid}
	c.sessions[sid] = s
	return s
}

// sessionResponse completes a leg of a session setup; the last leg
// (anything but MORE_PROCESSING_REQUIRED) emits the session.
func (c *Conn) sessionResponse(h *hdr, pd *pending, p, body []byte, ts time.Time) {
	s := c.session(h.sid)
	if s == nil {
		s = &Session{ID: h.sid} // untracked, still reported
	}
	s.Legs++
	if st := pd.setup; st != nil {
		if s.Start.IsZero() {
			s.Start = st.start
		}
		if st.mech != "" {
			s.Mech = st.mech
		}
		if st.krb != nil || st.krbErr != nil {
			s.Kerberos, s.KerberosErr = st.krb, st.krbErr
		}
		if st.hasAuth {
			s.NTLM, s.NTLMSeen = st.auth, true
		}
		s.NTLMTypes |= 1 << st.ntlmType
	}
	if blob, ok := span(p, int(le16(body, 4)), int(le16(body, 6))); ok && len(blob) > 0 {
		switch b := ntlm.FindInBlob(blob); {
		case b.Mech == ntlm.MechNTLM && b.Err == nil && b.NTLM.Type == ntlm.Challenge:
			s.Challenge = b.NTLM
			s.Mech = ntlm.MechNTLM
			s.NTLMTypes |= 1 << ntlm.Challenge
		case b.Mech == ntlm.MechKerberos || b.Mech == "":
			if m, err := c.kerberos(b, blob); m != nil {
				s.KerberosReply, s.Mech = m, ntlm.MechKerberos
			} else if err != nil {
				s.KerberosErr = err
			}
		}
	}
	if h.status == statusMoreProcessing {
		return
	}
	flags := le16(body, 2)
	s.Status, s.End = h.status, ts
	s.Guest, s.Anonymous, s.EncryptData = flags&1 != 0, flags&2 != 0, flags&4 != 0
	if s.NTLMSeen && s.NTLM.Version == "anonymous" {
		s.Anonymous = true
	}
	if c.h.Session != nil {
		c.h.Session(s)
	}
	if h.status != statusSuccess && c.sessions[h.sid] == s {
		delete(c.sessions, h.sid)
		c.unreserve()
	}
}

// treeResponse completes a tree connect.
func (c *Conn) treeResponse(h *hdr, pd *pending, body []byte, ts time.Time) {
	t := &Tree{ID: h.tid, SessionID: pd.sid, Session: c.sessions[pd.sid], Path: pd.file.Name, Status: h.status, Time: ts}
	t.Share = t.Path[strings.LastIndexByte(t.Path, '\\')+1:]
	t.Admin = AdminShare(t.Share)
	if h.status == statusSuccess && len(body) >= 8 {
		switch body[2] {
		case 1:
			t.Type = "disk"
		case 2:
			t.Type = "pipe"
		case 3:
			t.Type = "print"
		}
		t.Encrypt = le32(body, 4)&0x8000 != 0
		switch {
		case len(c.trees) >= maxTrees:
			c.full("tree")
		case c.reserve():
			if c.trees == nil {
				c.trees = make(map[uint32]*Tree)
			}
			if c.trees[h.tid] != nil {
				c.unreserve() // a tree id reused: the new tree replaces the old
			}
			c.trees[h.tid] = t
		}
	}
	if c.h.Tree != nil {
		c.h.Tree(t)
	}
}

// AdminShare tells whether a share name is one of Windows' administrative
// shares: ADMIN$, IPC$, or a drive letter followed by $.
func AdminShare(name string) bool {
	switch {
	case strings.EqualFold(name, "ADMIN$"), strings.EqualFold(name, "IPC$"):
		return true
	case len(name) == 2 && name[1] == '$':
		l := name[0] | 0x20
		return l >= 'a' && l <= 'z'
	}
	return false
}

// createResponse completes a create: a failed one is emitted at once, an
// opened one is tracked until its close.
func (c *Conn) createResponse(h *hdr, pd *pending, body []byte, ts time.Time) {
	f := pd.file
	f.Status = h.status
	f.Tree, f.Session = c.trees[pd.tid], c.sessions[pd.sid]
	f.Pipe = f.Tree != nil && (f.Tree.Type == "pipe" || strings.EqualFold(f.Tree.Share, "IPC$"))
	if h.status != statusSuccess || len(body) < 80 {
		if h.status == statusSuccess {
			c.stats.Errors++
		}
		f.End = ts
		c.emitFile(f)
		return
	}
	f.Action, f.Size = le32(body, 4), le64(body, 48)
	f.Directory = f.Directory || le32(body, 56)&0x10 != 0
	f.ID = fileID(body, 64)
	c.chainFid = f.ID
	if f.Pipe && c.adminExe != "" {
		f.AfterAdminExe = c.adminExe
	}
	switch {
	case len(c.files) >= maxFiles:
		c.full("open file")
		f.Notes = append(f.Notes, "smb.file_not_tracked")
		f.End = ts
		c.emitFile(f)
		return
	case !c.reserve():
		f.Notes = append(f.Notes, "smb.file_not_tracked")
		f.End = ts
		c.emitFile(f)
		return
	}
	if c.files == nil {
		c.files = make(map[FileID]*File)
	}
	if old := c.files[f.ID]; old != nil {
		c.unreserve() // a handle reused without a close seen: the old file ends here
		old.Notes = append(old.Notes, "smb.not_closed")
		old.End = ts
		closeSinks(old, false, ts)
		c.emitFile(old)
	}
	c.files[f.ID] = f
}

// noteOpenedElsewhere marks a file whose create this connection did not
// see.
const noteOpenedElsewhere = "smb.opened_elsewhere: the handle was opened on another connection (SMB3 multichannel) or before the capture; its name is not known here"

// fileOf returns the open file a read or write answered with success
// uses: one opened on this connection, else the handle is adopted (when
// there is room), so that its reads and writes are counted and its close
// emits it. An adopted handle is a named pipe when the request's tree is
// one; its bytes do not go to the files layer (no name, a part only).
func (c *Conn) fileOf(pd *pending, ts time.Time) *File {
	if f := c.files[pd.fid]; f != nil || pd.fid == (FileID{}) {
		return f
	}
	if len(c.files) >= maxFiles {
		c.full("open file")
		return nil
	}
	if !c.reserve() {
		return nil
	}
	t := c.trees[pd.tid]
	f := &File{ID: pd.fid, Tree: t, Session: c.sessions[pd.sid], Start: ts, Adopted: true,
		Pipe: t != nil && (t.Type == "pipe" || strings.EqualFold(t.Share, "IPC$")), Notes: []string{noteOpenedElsewhere}}
	f.noSink = [2]bool{true, true}
	if c.files == nil {
		c.files = make(map[FileID]*File)
	}
	c.files[f.ID] = f
	return f
}

// closeFile emits an open file at its close.
func (c *Conn) closeFile(id FileID, ts time.Time) {
	f := c.files[id]
	if f == nil {
		return
	}
	delete(c.files, id)
	c.unreserve()
	if f.DeleteOnClose {
		f.Deleted = true
	}
	f.End = ts
	closeSinks(f, true, ts)
	c.emitFile(f)
}

func (c *Conn) emitFile(f *File) {
	if c.h.File != nil {
		c.h.File(f)
	}
}

// setInfoRequest reads a rename (FileRenameInformation[Ex]) or a delete
// (FileDispositionInformation[Ex]) from a set info request.
func (c *Conn) setInfoRequest(p, body []byte) setInfo {
	var si setInfo
	if len(body) < 32 || body[2] != 1 { // SMB2_0_INFO_FILE
		return si
	}
	buf, ok := span(p, int(le16(body, 8)), int(le32(body, 4)))
	if !ok {
		return si
	}
	switch body[3] {
	case 10, 65: // FileRenameInformation, FileRenameInformationEx
		if name, ok := span(buf, 20, int(le32(buf, 16))); ok && len(buf) >= 20 {
			si.rename, si.set = c.name(name), true
		}
	case 13: // FileDispositionInformation: DeletePending
		si.del, si.set = len(buf) >= 1 && buf[0] != 0, len(buf) >= 1 && buf[0] != 0
	case 64: // FileDispositionInformationEx: FILE_DISPOSITION_DELETE
		si.del, si.set = le32(buf, 0)&1 != 0, le32(buf, 0)&1 != 0
	}
	return si
}

// transform counts an SMB3 encrypted message against its session.
func (c *Conn) transform(d parsers.Dir, m []byte, n int, ts time.Time) {
	if len(m) < 52 {
		c.stats.Errors++
		return
	}
	sid := le64(m, 44)
	s := c.session(sid)
	if s == nil {
		return
	}
	e := &s.Encrypted
	e.SessionID = sid
	e.Messages[d]++
	e.Bytes[d] += int64(n)
	if e.First.IsZero() {
		e.First = ts
	}
	e.Last = ts
}

// smb1Message notes an SMB1 message: the client's offered dialects, a
// server answering in SMB1, the NTLMSSP names of a session setup.
func (c *Conn) smb1Message(d parsers.Dir, m []byte, ts time.Time) {
	if len(m) < 35 {
		c.stats.Errors++
		return
	}
	if c.smb1 == nil {
		c.smb1 = &SMB1{Time: ts}
	}
	s := c.smb1
	s.Commands++
	cmd := m[4]
	switch {
	case cmd == 0x72 && d == parsers.ToServer && len(s.Dialects) == 0:
		// WordCount 0, ByteCount, then 0x02 "name\0" per dialect.
		b := m[35:min(len(m), 35+int(le16(m, 33)))]
		for len(b) > 1 && b[0] == 0x02 && len(s.Dialects) < 16 {
			end := strings.IndexByte(string(b[1:]), 0)
			if end < 0 {
				break
			}
			s.Dialects = append(s.Dialects, string(b[1:1+end]))
			b = b[2+end:]
		}
	case d == parsers.ToClient:
		s.ServerReplied = true
	}
	if cmd == 0x73 { // SESSION_SETUP_ANDX
		if b := ntlm.FindInBlob(m[32:]); b.Mech == ntlm.MechNTLM && b.Err == nil {
			s.NTLMTypes |= 1 << b.NTLM.Type
			switch b.NTLM.Type {
			case ntlm.Authenticate:
				s.NTLM, s.NTLMSeen = b.NTLM, true
			case ntlm.Challenge:
				s.Challenge = b.NTLM
			}
		}
	}
	if cmd != 0x72 {
		s.inUse = true
	}
	c.smb1Pipe(d, m, ts)
}
