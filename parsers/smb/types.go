package smb

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/kerberos"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
)

// FileID is an SMB2 file handle (persistent and volatile halves).
type FileID [16]byte

// Session is one SMB2 session setup: emitted when the server answers the
// last leg (success or failure).
type Session struct {
	ID uint64
	// Mech is the authentication mechanism: "ntlm", "kerberos" or "" (not
	// seen: the session was set up before the capture).
	Mech string
	// Kerberos is the client's AP-REQ (the ticket's realm and service; the
	// client's name is encrypted), KerberosReply the server's AP-REP or
	// KRB-ERROR; nil when not seen or not parsed (KerberosErr says why).
	Kerberos, KerberosReply *kerberos.Message
	KerberosErr             error
	// NTLM is the client's AUTHENTICATE (names, flags, response version);
	// Challenge the server's CHALLENGE (its NetBIOS and DNS names).
	NTLM, Challenge ntlm.Message
	NTLMSeen        bool
	// NTLMTypes has bit 1<<t set for each NTLMSSP message type t seen.
	NTLMTypes uint8
	// Status is the NTSTATUS of the last session setup response.
	Status uint32
	// Guest, Anonymous: the server's session flags. EncryptData: the
	// server requires encryption for the whole session.
	Guest, Anonymous, EncryptData bool
	// Legs counts session setup requests (round trips).
	Legs       int
	Start, End time.Time
	Encrypted  Encrypted
}

// Tree is one tree connect: emitted when the server answers it.
type Tree struct {
	ID        uint32
	SessionID uint64
	Session   *Session // nil when the session setup was not seen
	// Path as sent (\\server\share), Share its last component.
	Path, Share string
	// Type is the share type the server answered: disk, pipe or print.
	Type string
	// Admin: C$, D$…, ADMIN$ or IPC$ (the administrative shares).
	Admin bool
	// Encrypt: the share requires encryption (SMB2_SHAREFLAG_ENCRYPT_DATA).
	Encrypt bool
	Status  uint32
	Time    time.Time
}

// File is one create with what happened to the handle until its close:
// emitted at the close, at the end of the connection for files still
// open, or at once for a create that failed.
type File struct {
	ID   FileID
	Tree *Tree // nil when the tree connect was not seen
	// Name as sent in the create (relative to the share, may be empty for
	// the share's root).
	Name        string
	Access      uint32 // desired access mask
	Disposition uint32 // create disposition
	Options     uint32 // create options
	Action      uint32 // create action of the response (0 on failure)
	Status      uint32 // NTSTATUS of the create
	Size        uint64 // end of file when opened
	Directory   bool
	Pipe        bool // opened on a pipe share (IPC$): a named pipe
	Session     *Session
	// Adopted: the create was not seen (another connection of an SMB3
	// multichannel session, or before the capture); a read or write
	// answered on the handle made it known. Name, access, disposition and
	// create action are unknown.
	Adopted bool
	// SMB1: a named pipe of an SMB1 connection (only its name and
	// TransactNmPipe data are followed).
	SMB1 bool

	Reads, Writes         int
	ReadBytes, WriteBytes int64
	// RenamedTo is the new name of a rename (set info), Deleted a delete
	// disposition set (or delete-on-close) that the server accepted.
	RenamedTo     string
	Deleted       bool
	DeleteOnClose bool
	// AfterAdminExe names an executable this connection wrote to an
	// administrative share before this named pipe was opened (the PsExec
	// sequence when the pipe is svcctl).
	AfterAdminExe string

	Start, End time.Time
	Notes      []string

	// The files layer's sinks of the bytes read (ToClient) and written
	// (ToServer), the file offset each started at and expects next, and
	// whether the layer declined the direction.
	sink   [2]parsers.FileSink
	from   [2]int64
	next   [2]int64
	noSink [2]bool
}

// SMB1 is what a connection that spoke SMB1 showed: emitted once, at the
// end, when the server answered in SMB1 or the client sent SMB1 beyond a
// negotiate (a negotiate the server answers in SMB2 is not SMB1 in use).
type SMB1 struct {
	// Dialects the client offered in its SMB1 negotiate.
	Dialects []string
	// ServerReplied: the server answered in SMB1.
	ServerReplied bool
	// Commands counts the SMB1 messages seen.
	Commands int
	// NTLM is the last AUTHENTICATE of an SMB1 session setup, if any,
	// Challenge the server's last CHALLENGE; NTLMTypes has bit 1<<t set
	// for each NTLMSSP message type t seen.
	NTLM, Challenge ntlm.Message
	NTLMSeen        bool
	NTLMTypes       uint8
	Time            time.Time
	inUse           bool // beyond a negotiate the server answered in SMB2
}

// Encrypted counts the SMB3 transform (encrypted) messages of a session:
// their commands, names and data are not visible.
type Encrypted struct {
	SessionID   uint64
	Session     *Session
	Messages    [2]int64 // per direction (parsers.Dir)
	Bytes       [2]int64
	First, Last time.Time
}

// pending is a request waiting for its response.
type pending struct {
	cmd   uint16
	sid   uint64
	tid   uint32
	fid   FileID
	n     uint32 // read/write length, ioctl code, set info class
	off   uint64 // read: file offset
	setup *setup // session setup in progress
	file  *File  // create: the file the response completes
	info  setInfo
}

// setup is what a session setup request carried.
type setup struct {
	start    time.Time
	mech     string
	krb      *kerberos.Message
	krbErr   error
	auth     ntlm.Message
	hasAuth  bool
	ntlmType int
}

// setInfo is a rename or delete request awaiting its answer.
type setInfo struct {
	rename string
	del    bool
	set    bool
}
