package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	pdcerpc "github.com/packetsleuth/packetsleuth/parsers/dcerpc"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
	psmb "github.com/packetsleuth/packetsleuth/parsers/smb"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

var (
	categoryAuth     = []string{"network", "authentication"}
	categoryFile     = []string{"network", "file"}
	typeStart        = []string{"start"}
	typeInfo         = []string{"info"}
	typeAccess       = []string{"access"}
	typeAccessCreate = []string{"access", "creation"}
	typeAccessDelete = []string{"access", "deletion"}
	typeAccessChange = []string{"access", "change"}
)

// maxPipes bounds the DCE/RPC parsers one SMB connection runs at once
// (one per open named pipe; each holds at most a PDU per direction).
const maxPipes = 16

// newSMB starts the SMB parser of the stream. Each open named pipe gets a
// DCE/RPC parser of its own (written bytes to the server, read bytes to
// the client), ended when the pipe is closed; its calls are
// packetsleuth.dcerpc events naming the pipe. Read/write bytes of files go
// to the files layer (packetsleuth.file events) when it is on.
func (st *state) newSMB() *psmb.Conn {
	var c *psmb.Conn
	pipes := map[*psmb.File]*pdcerpc.Conn{}
	c = psmb.NewConn(st.a.acct, psmb.Handler{
		Files:   st.fileOpener("smb"),
		Session: func(s *psmb.Session) { st.emitSMBSession(c, s) },
		Tree:    func(t *psmb.Tree) { st.emitSMBTree(c, t) },
		File: func(f *psmb.File) {
			if pc := pipes[f]; pc != nil {
				pc.End(f.End)
				delete(pipes, f)
			}
			st.emitSMBFile(c, f)
		},
		Pipe: func(f *psmb.File, d parsers.Dir, data []byte, missing int, ts time.Time) {
			pc, ok := pipes[f]
			if !ok {
				if len(pipes) >= maxPipes {
					st.a.anom.Report(anomaly.ParserStateLimit, st.f, ts, "SMB named pipes bound reached: a pipe's DCE/RPC is not parsed")
					return
				}
				if pdcerpc.Sniff(data) == parsers.No {
					pipes[f] = nil // a pipe of another protocol (PsExec's stdin/stdout): not parsed, no error
					return
				}
				pc = st.newDCERPC(strings.TrimLeft(f.Name, `\`))
				pipes[f] = pc
			}
			if pc == nil {
				return // the pipe stopped looking like DCE/RPC
			}
			if err := pc.Data(d, data, ts); err != nil {
				st.a.stats.ParserErrors["dcerpc"]++
				pc.End(ts)
				pipes[f] = nil
				return
			}
			if missing > 0 {
				pc.Gap(d, missing, ts)
			}
		},
		SMB1:      func(s *psmb.SMB1) { st.emitSMB1(s) },
		Encrypted: func(e *psmb.Encrypted) { st.emitSMBEncrypted(c, e) },
		Limit: func(memory bool, detail string) {
			kind := anomaly.ParserStateLimit
			if memory {
				kind = anomaly.MemoryLimit
			}
			st.a.anom.Report(kind, st.f, st.f.Last(), detail)
		},
	})
	return c
}

// smbEvent starts an event of dataset packetsleuth.smb with the
// connection's negotiated dialect and signing.
func (st *state) smbEvent(c *psmb.Conn, action string, ts time.Time) *schemas.Event {
	ev := st.a.newEvent(st, schemas.DatasetSMB, ts)
	ev.Network.Protocol = "smb"
	ev.Event.Action = "smb-" + strings.ReplaceAll(action, "_", "-")
	x := &ev.Sensor.SMB
	x.Action = action
	if c != nil {
		x.Dialect = psmb.Dialect(c.Dialect)
		x.SigningEnabled, x.SigningRequired = c.SigningEnabled, c.Required
		x.EncryptionCapable, x.Cipher = c.EncryptionCapable, c.Cipher
	}
	return ev
}

func smbStatus(ev *schemas.Event, status uint32) {
	ev.Sensor.SMB.Status = psmb.StatusHex(status)
	ev.Sensor.SMB.StatusName = psmb.StatusName(status)
	ev.Event.Outcome = "success"
	if status != 0 {
		ev.Event.Outcome = "failure"
	}
}

func smbTimes(ev *schemas.Event, start, end time.Time) {
	ev.Event.Start, ev.Event.End, ev.Event.Duration = start, end, end.Sub(start)
}

// smbShare fills the share fields from a tree (nil when the tree connect
// was not seen).
func smbShare(x *schemas.SMB, t *psmb.Tree) {
	if t != nil {
		x.Share, x.ShareName, x.ShareType, x.AdminShare = t.Path, t.Share, t.Type, t.Admin
	}
}

// smbUser names the session's user on an event about it.
func smbUser(ev *schemas.Event, s *psmb.Session) {
	if s == nil {
		return
	}
	ev.Sensor.SMB.SessionID = "0x" + hex64(s.ID)
	ev.Sensor.SMB.AuthMechanism = s.Mech
	krbAP(&ev.Sensor.SMB.Kerberos, s.Kerberos, s.KerberosReply)
	if s.NTLMSeen {
		setUser(ev, s.NTLM.User, s.NTLM.Domain)
	}
}

func setUser(ev *schemas.Event, name, domain string) {
	ev.User = schemas.User{Name: name, Domain: domain}
	if name != "" {
		ev.Related.User = append(ev.Related.User, name)
	}
}

func hex64(v uint64) string {
	h := strconv.FormatUint(v, 16)
	return strings.Repeat("0", 16-len(h)) + h
}

var ntlmTypeNames = [...]string{ntlm.Negotiate: "negotiate", ntlm.Challenge: "challenge", ntlm.Authenticate: "authenticate"}

// ntlmInfo fills packetsleuth.ntlm from a client message and the server's
// CHALLENGE (either may be empty); types has bit 1<<t set for each message
// type t seen.
func ntlmInfo(x *schemas.NTLM, types uint8, client, challenge *ntlm.Message) {
	for t := ntlm.Negotiate; t <= ntlm.Authenticate; t++ {
		if types&(1<<t) != 0 {
			x.Messages = append(x.Messages, ntlmTypeNames[t])
		}
	}
	for _, m := range []*ntlm.Message{client, challenge} {
		if m != nil && m.Type != 0 {
			x.Flags = ntlm.FlagNames(x.Flags[:0], m.Flags)
		}
	}
	if client != nil {
		x.Version, x.Workstation, x.ClientOSVersion = client.Version, client.Workstation, client.OSVersion
	}
	if challenge != nil {
		x.TargetName, x.ServerOSVersion = challenge.TargetName, challenge.OSVersion
		x.ServerNbComputerName, x.ServerNbDomainName = challenge.NbComputer, challenge.NbDomain
		x.ServerDNSComputerName, x.ServerDNSDomainName, x.ServerDNSTreeName = challenge.DNSComputer, challenge.DNSDomain, challenge.DNSTree
	}
}

func (st *state) emitSMBSession(c *psmb.Conn, s *psmb.Session) {
	ev := st.smbEvent(c, "session_setup", s.Start)
	ev.Event.Category, ev.Event.Type = categoryAuth, typeInfo
	smbTimes(ev, s.Start, s.End)
	smbStatus(ev, s.Status)
	if s.Status == 0 {
		ev.Event.Type = typeStart
	}
	smbUser(ev, s)
	x := &ev.Sensor.SMB
	x.Guest, x.Anonymous, x.EncryptData, x.Legs = s.Guest, s.Anonymous, s.EncryptData, s.Legs
	if s.Mech == ntlm.MechNTLM {
		var client *ntlm.Message
		if s.NTLMSeen {
			client = &s.NTLM
		}
		ntlmInfo(&ev.Sensor.NTLM, s.NTLMTypes, client, &s.Challenge)
		ev.Sensor.Notes = append(append(ev.Sensor.Notes, s.NTLM.Notes...), s.Challenge.Notes...)
	}
	if s.Mech == ntlm.MechKerberos {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteKrbClient)
		if s.KerberosErr != nil {
			st.a.stats.ParserErrors["kerberos"]++
			ev.Sensor.Notes = append(ev.Sensor.Notes, s.KerberosErr.Error())
		}
	}
	st.a.emit(ev)
}

func (st *state) emitSMBTree(c *psmb.Conn, t *psmb.Tree) {
	ev := st.smbEvent(c, "tree_connect", t.Time)
	ev.Event.Type = typeAccess
	smbStatus(ev, t.Status)
	smbUser(ev, t.Session)
	smbShare(&ev.Sensor.SMB, t)
	ev.Sensor.SMB.EncryptData = t.Encrypt
	st.a.emit(ev)
}

func (st *state) emitSMBFile(c *psmb.Conn, f *psmb.File) {
	ev := st.smbEvent(c, "file", f.Start)
	ev.Event.Category, ev.Event.Type = categoryFile, typeAccess
	smbTimes(ev, f.Start, f.End)
	smbStatus(ev, f.Status)
	smbUser(ev, f.Session)
	x := &ev.Sensor.SMB
	if f.SMB1 {
		x.Dialect = "1"
	}
	smbShare(x, f.Tree)
	x.Access, x.AccessMask = psmb.AccessNames(f.Access), int64(f.Access)
	x.DeleteOnClose, x.Deleted, x.RenamedTo = f.DeleteOnClose, f.Deleted, f.RenamedTo
	created := !f.Adopted && !f.SMB1 // the SMB2 create was read
	if created {
		x.Disposition = psmb.Disposition(f.Disposition)
	}
	if f.Status == 0 && created {
		x.CreateAction = psmb.CreateAction(f.Action)
	}
	x.Reads, x.Writes, x.ReadBytes, x.WriteBytes = f.Reads, f.Writes, f.ReadBytes, f.WriteBytes
	switch {
	case f.Deleted:
		ev.Event.Type = typeAccessDelete
	case f.Status == 0 && f.Action == 2:
		ev.Event.Type = typeAccessCreate
	case f.Writes > 0 || f.RenamedTo != "":
		ev.Event.Type = typeAccessChange
	}
	if f.Pipe {
		x.Pipe = strings.TrimLeft(f.Name, `\`)
		x.AfterAdminExe = f.AfterAdminExe
	} else {
		smbFile(&ev.File, f)
	}
	ev.Sensor.Notes = f.Notes
	st.a.emit(ev)
}

// smbFile fills ECS file.* from an SMB open: paths are the share path
// joined with the name, as Windows writes them.
func smbFile(ef *schemas.File, f *psmb.File) {
	name := strings.TrimLeft(f.Name, `\`)
	dir, base := "", name
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		dir, base = name[:i], name[i+1:]
	}
	ef.Name, ef.Size, ef.Type = base, int64(f.Size), "file"
	if f.Directory {
		ef.Type = "dir"
	}
	if i := strings.LastIndexByte(base, '.'); i > 0 && !f.Directory {
		ef.Extension = base[i+1:]
	}
	if f.Tree != nil {
		ef.Path = f.Tree.Path
		ef.Directory = f.Tree.Path
		if dir != "" {
			ef.Directory += `\` + dir
		}
		if name != "" {
			ef.Path += `\` + name
		}
	} else {
		ef.Path, ef.Directory = name, dir
	}
}

func (st *state) emitSMB1(s *psmb.SMB1) {
	ev := st.smbEvent(nil, "smb1", s.Time)
	x := &ev.Sensor.SMB
	x.Dialect, x.SMB1Dialects, x.SMB1Messages = "1", s.Dialects, s.Commands
	if s.NTLMSeen {
		setUser(ev, s.NTLM.User, s.NTLM.Domain)
		x.AuthMechanism = ntlm.MechNTLM
		ntlmInfo(&ev.Sensor.NTLM, s.NTLMTypes, &s.NTLM, &s.Challenge)
	}
	st.a.emit(ev)
}

func (st *state) emitSMBEncrypted(c *psmb.Conn, e *psmb.Encrypted) {
	ev := st.smbEvent(c, "encrypted", e.First)
	smbTimes(ev, e.First, e.Last)
	smbUser(ev, e.Session)
	x := &ev.Sensor.SMB
	x.SessionID = "0x" + hex64(e.SessionID)
	x.EncryptedMessagesToServer, x.EncryptedMessagesToClient = e.Messages[0], e.Messages[1]
	x.EncryptedBytes = e.Bytes[0] + e.Bytes[1]
	ev.Sensor.Notes = append(ev.Sensor.Notes, "smb.encrypted: the commands, names and data of these messages are not visible")
	st.a.emit(ev)
}
