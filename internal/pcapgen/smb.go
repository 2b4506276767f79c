package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
	"unicode/utf16"
)

// lew appends little-endian integers: each value's Go type sets its width.
func lew(b []byte, vs ...any) []byte {
	for _, v := range vs {
		switch v := v.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		case []byte:
			b = append(b, v...)
		}
	}
	return b
}

// UTF16LE encodes s as Windows sends names.
func UTF16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// NTLM flags the generated messages carry: Unicode, NTLM, extended session
// security, target info, version, 128-bit, key exchange, 56-bit.
const ntlmFlags = 0x00000001 | 0x00000200 | 0x00080000 | 0x00800000 | 0x02000000 | 0x20000000 | 0x40000000 | 0x80000000

// ntlmPayload lays out (len, maxlen, offset) descriptors for fields whose
// payload starts at base.
type ntlmPayload struct {
	base int
	data []byte
}

func (p *ntlmPayload) field(v []byte) []byte {
	d := lew(nil, uint16(len(v)), uint16(len(v)), uint32(p.base+len(p.data)))
	p.data = append(p.data, v...)
	return d
}

// NTLMNegotiate is an NTLMSSP NEGOTIATE message without names.
func NTLMNegotiate() []byte {
	return lew([]byte("NTLMSSP\x00"), uint32(1), uint32(ntlmFlags), uint64(0), uint64(0), []byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15})
}

// NTLMChallenge is a CHALLENGE naming the server (NetBIOS domain and
// computer, DNS domain) with a fixed server challenge.
func NTLMChallenge(domain, computer, dnsDomain string) []byte {
	var info []byte
	for _, av := range []struct {
		id uint16
		v  string
	}{{2, domain}, {1, computer}, {4, dnsDomain}, {3, computer + "." + dnsDomain}} {
		v := UTF16LE(av.v)
		info = lew(info, av.id, uint16(len(v)), v)
	}
	info = lew(info, uint32(0))
	p := ntlmPayload{base: 56}
	target := p.field(UTF16LE(domain))
	ti := p.field(info)
	return lew([]byte("NTLMSSP\x00"), uint32(2), target, uint32(ntlmFlags), []byte("\x01\x23\x45\x67\x89\xab\xcd\xef"), uint64(0), ti,
		[]byte{10, 0, 0x63, 0x45, 0, 0, 0, 15}, p.data)
}

// NTLMAuthenticate is an AUTHENTICATE for domain\user from workstation, its
// NT response ntLen bytes long (24: NTLMv1; longer: NTLMv2), filled with a
// marker pattern so tests can check it never reaches an event.
func NTLMAuthenticate(user, domain, workstation string, ntLen int) []byte {
	p := ntlmPayload{base: 88}
	lm := p.field(make([]byte, 24))
	nt := p.field(fill(ntLen, 0xA7))
	dom := p.field(UTF16LE(domain))
	usr := p.field(UTF16LE(user))
	ws := p.field(UTF16LE(workstation))
	key := p.field(fill(16, 0xB8))
	return lew([]byte("NTLMSSP\x00"), uint32(3), lm, nt, dom, usr, ws, key, uint32(ntlmFlags),
		[]byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15}, fill(16, 0xC9), p.data)
}

func fill(n int, v byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = v
	}
	return b
}

// SPNEGO wraps an NTLMSSP token as a negTokenInit's mechToken (init) or a
// negTokenResp's responseToken: enough DER for a dissector to follow.
func SPNEGO(token []byte, init bool) []byte {
	octets := der(0x04, token)
	if init {
		inner := der(0x30, append(der(0xa0, der(0x30, []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a})), der(0xa2, octets)...))
		return der(0x60, append([]byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}, der(0xa0, inner)...))
	}
	return der(0xa1, der(0x30, der(0xa2, octets)))
}

// SMB2 is one SMB2 header (64 bytes) followed by body.
type SMB2 struct {
	Cmd      uint16
	Response bool
	Status   uint32
	MID      uint64
	TID      uint32
	SID      uint64
	Body     []byte
}

// Bytes encodes the header and body; next is the NextCommand offset (0
// for the last of a chain).
func (m SMB2) Bytes(next uint32) []byte {
	var flags uint32
	if m.Response {
		flags = 1
	}
	b := lew([]byte("\xfeSMB"), uint16(64), uint16(1), m.Status, m.Cmd, uint16(1), flags, next, m.MID, uint32(0xfeff), m.TID, m.SID, make([]byte, 16))
	return append(b, m.Body...)
}

// NBSS frames one NetBIOS session message holding msgs as an SMB2
// compound chain (each but the last padded to 8 bytes).
func NBSS(msgs ...SMB2) []byte {
	var chain []byte
	for i, m := range msgs {
		b := m.Bytes(0)
		if i < len(msgs)-1 {
			b = append(b, make([]byte, (8-len(b)%8)%8)...)
			binary.LittleEndian.PutUint32(b[20:], uint32(len(b)))
		}
		chain = append(chain, b...)
	}
	return append([]byte{0, byte(len(chain) >> 16), byte(len(chain) >> 8), byte(len(chain))}, chain...)
}

// SMB2 request and response bodies (MS-SMB2 2.2), with the fields the
// sensor reads; the others are zero.

func SMB2NegotiateReq() []byte {
	return lew(nil, uint16(36), uint16(2), uint16(1), uint16(0), uint32(0x7f), make([]byte, 16), uint64(0), uint16(0x0210), uint16(0x0300))
}

// SMB2NegotiateResp chooses dialect with signing enabled (required when
// signingRequired) and the encryption capability.
func SMB2NegotiateResp(dialect uint16, signingRequired bool) []byte {
	mode := uint16(1)
	if signingRequired {
		mode |= 2
	}
	return lew(nil, uint16(65), mode, dialect, uint16(0), make([]byte, 16), uint32(0x40), uint32(1<<20), uint32(1<<20), uint32(1<<20),
		uint64(0), uint64(0), uint16(0), uint16(0), uint32(0), uint8(0))
}

func SMB2SessionSetupReq(blob []byte) []byte {
	return lew(nil, uint16(25), uint8(0), uint8(1), uint32(0), uint32(0), uint16(64+24), uint16(len(blob)), uint64(0), blob)
}

func SMB2SessionSetupResp(blob []byte) []byte {
	return lew(nil, uint16(9), uint16(0), uint16(64+8), uint16(len(blob)), blob)
}

func SMB2TreeConnectReq(path string) []byte {
	p := UTF16LE(path)
	return lew(nil, uint16(9), uint16(0), uint16(64+8), uint16(len(p)), p)
}

// SMB2TreeConnectResp answers with share type 1 disk, 2 pipe.
func SMB2TreeConnectResp(shareType uint8) []byte {
	return lew(nil, uint16(16), shareType, uint8(0), uint32(0), uint32(0), uint32(0x001f01ff))
}

func SMB2CreateReq(name string, access, disposition, options uint32) []byte {
	n := UTF16LE(name)
	return lew(nil, uint16(57), uint8(0), uint8(0), uint32(2), uint64(0), uint64(0), access, uint32(0x80), uint32(7), disposition, options,
		uint16(64+56), uint16(len(n)), uint32(0), uint32(0), n)
}

func SMB2CreateResp(action uint32, size uint64, fid [16]byte) []byte {
	return lew(nil, uint16(89), uint8(0), uint8(0), action, make([]byte, 32), size, size, uint32(0x80), uint32(0), fid[:], uint32(0), uint32(0))
}

func SMB2CloseReq(fid [16]byte) []byte {
	return lew(nil, uint16(24), uint16(0), uint32(0), fid[:])
}

func SMB2CloseResp() []byte { return lew(nil, uint16(60), make([]byte, 58)) }

func SMB2WriteReq(fid [16]byte, off uint64, data []byte) []byte {
	return lew(nil, uint16(49), uint16(64+48), uint32(len(data)), off, fid[:], uint32(0), uint32(0), uint16(0), uint16(0), uint32(0), data)
}

func SMB2WriteResp(n uint32) []byte {
	return lew(nil, uint16(17), uint16(0), n, uint32(0), uint16(0), uint16(0))
}

func SMB2ReadReq(fid [16]byte, off uint64, n uint32) []byte {
	return lew(nil, uint16(49), uint8(0), uint8(0), n, off, fid[:], uint32(0), uint32(0), uint32(0), uint16(0), uint16(0), uint8(0))
}

func SMB2ReadResp(data []byte) []byte {
	return lew(nil, uint16(17), uint8(64+16), uint8(0), uint32(len(data)), uint32(0), uint32(0), data)
}

// SMB2RenameReq is a set info FileRenameInformation to newName.
func SMB2RenameReq(fid [16]byte, newName string) []byte {
	n := UTF16LE(newName)
	buf := lew(nil, uint8(0), make([]byte, 7), uint64(0), uint32(len(n)), n)
	return lew(nil, uint16(33), uint8(1), uint8(10), uint32(len(buf)), uint16(64+32), uint16(0), uint32(0), fid[:], buf)
}

func SMB2SetInfoResp() []byte { return lew(nil, uint16(2)) }

// Access masks and values the generated sessions use.
const (
	SMBAccessWrite     = 0x0012019f // generic file read/write
	SMBDispositionOvIf = 5
	SMBStatusLogonFail = 0xC000006D
	smbMoreProcessing  = 0xC0000016
)

// SMBChunk is one NetBIOS message of a generated SMB exchange.
type SMBChunk struct {
	FromClient bool
	B          []byte
}

// SMBPsExecExchange is an SMB 3.0.2 conversation doing what PsExec does:
// NTLMv2 session setup as domain\user, tree connect to ADMIN$, write
// PSEXESVC.exe (two writes, 6000 bytes), close, tree connect to IPC$, open
// the svcctl pipe, a write and a read on it, close. Before it, failed
// session setups (wrong password) as many times as failures.
func SMBPsExecExchange(server, user, domain string, failures int) []SMBChunk {
	var out []SMBChunk
	mid := uint64(0)
	const sid = 0x0000100000000011
	rt := func(req, resp SMB2) {
		req.MID, resp.MID = mid, mid
		resp.Response, resp.Cmd = true, req.Cmd
		mid++
		out = append(out, SMBChunk{true, NBSS(req)}, SMBChunk{false, NBSS(resp)})
	}
	rt(SMB2{Cmd: 0, Body: SMB2NegotiateReq()}, SMB2{Body: SMB2NegotiateResp(0x0302, false)})
	for i := 0; i <= failures; i++ {
		s := uint64(sid + i)
		rt(SMB2{Cmd: 1, Body: SMB2SessionSetupReq(SPNEGO(NTLMNegotiate(), true))},
			SMB2{Status: smbMoreProcessing, SID: s, Body: SMB2SessionSetupResp(SPNEGO(NTLMChallenge("CONTOSO", "DC1", "contoso.local"), false))})
		status := uint32(0)
		if i < failures {
			status = SMBStatusLogonFail
		}
		rt(SMB2{Cmd: 1, SID: s, Body: SMB2SessionSetupReq(SPNEGO(NTLMAuthenticate(user, domain, "WS-0042", 312), false))},
			SMB2{Status: status, SID: s, Body: SMB2SessionSetupResp(nil)})
	}
	s := uint64(sid + failures)
	admin, exe := FileIDOf(1), make([]byte, 3000)
	copy(exe, "MZ")
	rt(SMB2{Cmd: 3, SID: s, Body: SMB2TreeConnectReq(`\\` + server + `\ADMIN$`)}, SMB2{TID: 5, SID: s, Body: SMB2TreeConnectResp(1)})
	rt(SMB2{Cmd: 5, SID: s, TID: 5, Body: SMB2CreateReq("PSEXESVC.exe", SMBAccessWrite, SMBDispositionOvIf, 0x40)},
		SMB2{SID: s, TID: 5, Body: SMB2CreateResp(2, 0, admin)})
	rt(SMB2{Cmd: 9, SID: s, TID: 5, Body: SMB2WriteReq(admin, 0, exe)}, SMB2{SID: s, TID: 5, Body: SMB2WriteResp(3000)})
	rt(SMB2{Cmd: 9, SID: s, TID: 5, Body: SMB2WriteReq(admin, 3000, exe)}, SMB2{SID: s, TID: 5, Body: SMB2WriteResp(3000)})
	rt(SMB2{Cmd: 6, SID: s, TID: 5, Body: SMB2CloseReq(admin)}, SMB2{SID: s, TID: 5, Body: SMB2CloseResp()})
	pipe := FileIDOf(2)
	rt(SMB2{Cmd: 3, SID: s, Body: SMB2TreeConnectReq(`\\` + server + `\IPC$`)}, SMB2{TID: 6, SID: s, Body: SMB2TreeConnectResp(2)})
	rt(SMB2{Cmd: 5, SID: s, TID: 6, Body: SMB2CreateReq("svcctl", 0x0012019f, 1, 0)}, SMB2{SID: s, TID: 6, Body: SMB2CreateResp(1, 0, pipe)})
	rt(SMB2{Cmd: 9, SID: s, TID: 6, Body: SMB2WriteReq(pipe, 0, make([]byte, 72))}, SMB2{SID: s, TID: 6, Body: SMB2WriteResp(72)})
	rt(SMB2{Cmd: 8, SID: s, TID: 6, Body: SMB2ReadReq(pipe, 0, 1024)}, SMB2{SID: s, TID: 6, Body: SMB2ReadResp(make([]byte, 60))})
	rt(SMB2{Cmd: 6, SID: s, TID: 6, Body: SMB2CloseReq(pipe)}, SMB2{SID: s, TID: 6, Body: SMB2CloseResp()})
	return out
}

// SMBPsExecSession is SMBPsExecExchange over a TCP connection.
func SMBPsExecSession(client, server netip.AddrPort, t time.Time, user, domain string, failures int) []Packet {
	c := NewTCPConn(client, server, t).Handshake()
	for _, ch := range SMBPsExecExchange(server.Addr().String(), user, domain, failures) {
		c.Data(ch.FromClient, ch.B, 1460)
	}
	return c.Close().Packets
}

// FileIDOf is a recognisable SMB2 file id.
func FileIDOf(n byte) [16]byte {
	return [16]byte{n, 0, 0, 0, 0, 0, 0, 0, n, 0xee, 0xee, 0xee, 0, 0, 0, 0}
}
