package ssh

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// The KEXINIT lists of ssh-hassh-windows-client.pcap (OpenSSH_for_Windows_7.7
// client, OpenSSH_7.4 server), whose HASSH and HASSHServer tshark and
// Suricata agree on.
var (
	winClient = KexInit{
		Kex:     "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1,ext-info-c",
		HostKey: "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa",
		EncC2S:  "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		MACC2S:  "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		CompC2S: "none",
	}
	winServer = KexInit{
		Kex:     "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1",
		HostKey: "ssh-rsa,rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
		EncS2C:  "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-cbc,aes192-cbc,aes256-cbc,blowfish-cbc,cast128-cbc,3des-cbc",
		MACS2C:  "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		CompS2C: "none,zlib@openssh.com",
	}
)

func init() {
	// Each side offers the same lists in both directions, as OpenSSH does.
	for _, k := range []*KexInit{&winClient, &winServer} {
		if k.EncC2S == "" {
			k.EncC2S, k.MACC2S, k.CompC2S = k.EncS2C, k.MACS2C, k.CompS2C
		} else {
			k.EncS2C, k.MACS2C, k.CompS2C = k.EncC2S, k.MACC2S, k.CompC2S
		}
	}
}

// packet and kexInitPacket are pcapgen's, which the generated captures use.
var packet = pcapgen.SSHPacket

func kexInitPacket(k *KexInit) []byte {
	return pcapgen.SSHKexInit([10]string{k.Kex, k.HostKey, k.EncC2S, k.EncS2C, k.MACC2S, k.MACS2C, k.CompC2S, k.CompS2C, k.LangC2S, k.LangS2C})
}

// chunk is a piece of one direction.
type chunk struct {
	d parsers.Dir
	b []byte
}

// session is a whole SSH 2 connection: version lines, KEXINITs, an ECDH
// exchange (30 from the client, 31 + NEWKEYS from the server), then the
// server's encrypted chunks of the given sizes (the client's in between).
func session(clientBanner, serverBanner string, serverChunks ...int) []chunk {
	cs, sc := parsers.ToServer, parsers.ToClient
	out := []chunk{
		{sc, []byte(serverBanner + "\r\n")},
		{cs, []byte(clientBanner + "\r\n")},
		{cs, kexInitPacket(&winClient)},
		{sc, kexInitPacket(&winServer)},
		{cs, packet(append([]byte{30}, make([]byte, 36)...))},
		{sc, append(packet(append([]byte{31}, make([]byte, 200)...)), packet([]byte{msgNewKeys})...)},
		{cs, append(packet([]byte{msgNewKeys}), make([]byte, 44)...)}, // NEWKEYS + encrypted SERVICE_REQUEST
	}
	for _, n := range serverChunks {
		out = append(out, chunk{sc, make([]byte, n)}, chunk{cs, make([]byte, 100)})
	}
	return out
}

// run feeds the chunks (each split into pieces of at most split bytes, 0
// for whole) and ends the connection.
func run(t *testing.T, chunks []chunk, split int) (*Session, error) {
	t.Helper()
	var got *Session
	n := 0
	c := NewConn(nil, func(s *Session) { got, n = s, n+1 })
	var err error
	for _, ch := range chunks {
		b := ch.b
		for len(b) > 0 && err == nil {
			k := len(b)
			if split > 0 {
				k = min(k, split)
			}
			err = c.Data(ch.d, b[:k], time.Time{})
			b = b[k:]
		}
		if err != nil {
			break
		}
	}
	c.End(time.Time{})
	if n != 1 {
		t.Fatalf("emitted %d times", n)
	}
	return got, err
}

func TestSessionHASSHAndNegotiation(t *testing.T) {
	// 52: SERVICE_ACCEPT; 84, 84: two USERAUTH_FAILUREs; 36: USERAUTH_SUCCESS.
	chunks := session("SSH-2.0-OpenSSH_for_Windows_7.7", "SSH-2.0-OpenSSH_7.4 Debian-10", 52, 84, 84, 36)
	for _, split := range []int{0, 1, 3, 7} {
		s, err := run(t, chunks, split)
		if err != nil {
			t.Fatal(err)
		}
		want := Session{
			Client:  Banner{Line: "SSH-2.0-OpenSSH_for_Windows_7.7", Proto: "2.0", Software: "OpenSSH_for_Windows_7.7"},
			Server:  Banner{Line: "SSH-2.0-OpenSSH_7.4 Debian-10", Proto: "2.0", Software: "OpenSSH_7.4", Comments: "Debian-10"},
			Version: 2, HASSH: "2dd6531c7e89d3c925db9214711be76a", HASSHServer: "6832f1ce43d4397c2c0a3e2f8c94334e",
			Kex: "curve25519-sha256", HostKey: "ssh-ed25519", // the client's first the server has
			Cipher: "chacha20-poly1305@openssh.com", CipherS2C: "chacha20-poly1305@openssh.com",
			MAC: "umac-64-etm@openssh.com", MACS2C: "umac-64-etm@openssh.com",
			Compression: "none", CompressionS2C: "none",
			Encrypted: true, Auth: AuthSuccess, AuthAttempts: 2,
		}
		if split > 0 {
			// The outcome is inferred from the sizes of the server's
			// segments, so segments cut otherwise tell otherwise (as in Zeek).
			want.Auth, want.AuthAttempts = s.Auth, s.AuthAttempts
		}
		if s.Client != want.Client || s.Server != want.Server || s.Version != want.Version ||
			s.HASSH != want.HASSH || s.HASSHServer != want.HASSHServer || s.Kex != want.Kex || s.HostKey != want.HostKey ||
			s.Cipher != want.Cipher || s.CipherS2C != want.CipherS2C || s.MAC != want.MAC || s.MACS2C != want.MACS2C ||
			s.Compression != want.Compression || s.CompressionS2C != want.CompressionS2C ||
			s.Encrypted != want.Encrypted || s.Auth != want.Auth || s.AuthAttempts != want.AuthAttempts || s.Reversed {
			s.ClientKex, s.ServerKex, s.HASSHAlgorithms, s.HASSHServerAlgorithms = KexInit{}, KexInit{}, "", ""
			t.Errorf("split %d:\n got %+v\nwant %+v", split, *s, want)
		}
		if !strings.HasPrefix(s.HASSHAlgorithms, "curve25519-sha256,") || !strings.HasSuffix(s.HASSHServerAlgorithms, ";none,zlib@openssh.com") {
			t.Errorf("split %d: hassh strings %q / %q", split, s.HASSHAlgorithms, s.HASSHServerAlgorithms)
		}
	}
}

func TestAuthOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		chunks   []int
		auth     string
		attempts int
	}{
		{"failures only", []int{52, 84, 84, 84}, AuthFailure, 2},
		{"none method accepted", []int{52, 36}, AuthSuccess, 1},
		{"banner skipped then failure then success", []int{52, 600, 84, 84, 36}, AuthSuccess, 2},
		{"nothing after service accept", []int{52}, "", 0},
		{"no encrypted server data", nil, "", 0},
	} {
		s, err := run(t, session("SSH-2.0-a", "SSH-2.0-b", tc.chunks...), 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Auth != tc.auth || s.AuthAttempts != tc.attempts {
			t.Errorf("%s: auth %q attempts %d, want %q %d", tc.name, s.Auth, s.AuthAttempts, tc.auth, tc.attempts)
		}
	}
}

// A reverse SSH connection: the TCP originator is the server (it answers
// the key exchange with 31), so roles, banners and HASSHes swap.
func TestReverseRoles(t *testing.T) {
	chunks := session("SSH-2.0-client", "SSH-2.0-server", 52, 36)
	for i := range chunks {
		chunks[i].d = chunks[i].d.Reverse()
	}
	s, err := run(t, chunks, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Reversed || s.Client.Software != "client" || s.HASSH != "2dd6531c7e89d3c925db9214711be76a" || s.Auth != AuthSuccess {
		t.Errorf("reverse: %+v", *s)
	}
}

func TestSSH1(t *testing.T) {
	// The version lines are all an SSH 1 session shows: it is emitted once
	// both are there, and what follows is not read.
	s, err := run(t, []chunk{
		{parsers.ToClient, []byte("SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2\r\n")},
		{parsers.ToServer, []byte("SSH-1.5-OpenSSH_6.2\n")},
		{parsers.ToServer, []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}},
	}, 0)
	if err != nil || s.Version != 1 || s.Client.Proto != "1.5" || s.Server.Software != "OpenSSH_6.6.1p1" || s.HASSH != "" {
		t.Errorf("ssh1: %+v %v", *s, err)
	}
}

func TestHostileInput(t *testing.T) {
	cs := parsers.ToServer
	for _, tc := range []struct {
		name   string
		chunks []chunk
	}{
		{"packet length too large", []chunk{{cs, []byte("SSH-2.0-x\r\n")}, {cs, []byte{0, 1, 0, 0, 4, 20}}}},
		{"packet length too small", []chunk{{cs, []byte("SSH-2.0-x\r\n")}, {cs, []byte{0, 0, 0, 1, 0}}}},
		{"padding beyond packet", []chunk{{cs, []byte("SSH-2.0-x\r\n")}, {cs, []byte{0, 0, 0, 8, 200, 20, 0, 0, 0, 0, 0, 0}}}},
		{"truncated KEXINIT", []chunk{{cs, []byte("SSH-2.0-x\r\n")}, {cs, packet(append([]byte{20}, make([]byte, 20)...))}}},
		{"KEXINIT list past its packet", []chunk{{cs, []byte("SSH-2.0-x\r\n")}, {cs, packet(append(append([]byte{20}, make([]byte, 16)...), 0x7f, 0, 0, 0, 'a'))}}},
		{"endless line", []chunk{{cs, bytes.Repeat([]byte("A"), 5000)}}},
		{"version line too long", []chunk{{cs, []byte("SSH-2.0-" + strings.Repeat("x", 300) + "\r\n")}}},
		{"too many lines before the version", []chunk{{cs, bytes.Repeat([]byte("hello\r\n"), maxPreLines+1)}}},
	} {
		for _, split := range []int{0, 1} {
			s, err := run(t, tc.chunks, split)
			if !errors.Is(err, ErrNotSSH) && !errors.Is(err, errKexInit) {
				t.Errorf("%s (split %d): error %v", tc.name, split, err)
			}
			if len(s.Notes) == 0 {
				t.Errorf("%s (split %d): no note", tc.name, split)
			}
		}
	}
}

// Lines a server sends before its version line are skipped (RFC 4253 §4.2).
func TestLinesBeforeVersion(t *testing.T) {
	chunks := session("SSH-2.0-c", "SSH-2.0-s", 52, 36)
	chunks[0].b = append([]byte("Welcome\r\nno ssh here\n"), chunks[0].b...)
	s, err := run(t, chunks, 2)
	if err != nil || s.Server.Software != "s" || s.HASSHServer == "" {
		t.Errorf("%+v %v", *s, err)
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]parsers.Verdict{
		"": parsers.More, "S": parsers.More, "SSH": parsers.More, "SSH-": parsers.More, "SSH-2": parsers.More,
		"SSH-2.0": parsers.More, "SSH-2.0-": parsers.Yes, "SSH-1.99-OpenSSH": parsers.Yes, "SSH-1.5-x": parsers.Yes,
		"GET /": parsers.No, "SSX-": parsers.No, "SSH-a": parsers.No, "SSH--": parsers.No, "SSH-2-": parsers.No,
		"SSH-2..0-": parsers.No, "SSH-.2-": parsers.No, "SSH-2.-": parsers.No, "SSH-2.0.1-": parsers.No,
		"SSH-11111111111111111": parsers.No,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range [][3]string{
		{"a,b,c", "c,b", "b"}, {"a", "b", ""}, {"", "a", ""}, {"x,,y", "y", "y"}, {"ext-info-c,k", "k,ext-info-s", "k"},
	} {
		if got := negotiate(tc[0], tc[1]); got != tc[2] {
			t.Errorf("negotiate(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// With compression negotiated the sizes say nothing: no outcome, as in Zeek.
func TestAuthOffWithCompression(t *testing.T) {
	chunks := session("SSH-2.0-c", "SSH-2.0-s", 52, 84, 36)
	k := winClient
	k.CompC2S, k.CompS2C = "zlib@openssh.com,none", "zlib@openssh.com,none"
	chunks[2].b = kexInitPacket(&k)
	s, err := run(t, chunks, 0)
	if err != nil || s.Auth != "" || s.AuthAttempts != 0 || s.Compression != "zlib@openssh.com" || !s.Encrypted {
		t.Errorf("%+v %v", *s, err)
	}
}

// Server chunks before the client's first encrypted data (an EXT_INFO
// right after the server's NEWKEYS) are not the SERVICE_ACCEPT.
func TestServerDataBeforeClientEncrypted(t *testing.T) {
	chunks := session("SSH-2.0-c", "SSH-2.0-s", 52, 84, 84, 36)
	chunks[5].b = append(chunks[5].b, make([]byte, 172)...) // EXT_INFO with the server's NEWKEYS
	s, err := run(t, chunks, 0)
	if err != nil || s.Auth != AuthSuccess || s.AuthAttempts != 2 {
		t.Errorf("auth %q attempts %d, want success 2 (%v)", s.Auth, s.AuthAttempts, err)
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		c, s string
		want int
	}{{"2.0", "2.0", 2}, {"2.0", "1.99", 2}, {"1.99", "1.99", 2}, {"1.5", "1.99", 1}, {"1.5", "1.5", 1}, {"1.5", "2.0", 0}, {"2.0", "1.3", 0}} {
		if got := version(tc.c, tc.s); got != tc.want {
			t.Errorf("version(%s, %s) = %d, want %d", tc.c, tc.s, got, tc.want)
		}
	}
}

// The bytes held of a split line or packet are paid from the memory budget
// and given back at the end; when the budget refuses, the direction is not
// read further, the session says so, and nothing is left reserved.
func TestHeldBytesOnTheBudget(t *testing.T) {
	chunks := session("SSH-2.0-c", "SSH-2.0-s", 52, 36)
	for _, tc := range []struct {
		name    string
		limit   int64
		limited bool
	}{{"room", 1 << 30, false}, {"spent", 1, true}} {
		b := budget.New(tc.limit)
		var got *Session
		c := NewConn(b.NewAccount(), func(s *Session) { got = s })
		for _, ch := range chunks {
			for i := range ch.b {
				if err := c.Data(ch.d, ch.b[i:i+1], time.Time{}); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
			}
		}
		c.End(time.Time{})
		if got.MemoryLimited != tc.limited || (got.HASSH != "") == tc.limited {
			t.Errorf("%s: limited %v, hassh %q", tc.name, got.MemoryLimited, got.HASSH)
		}
		if used := b.Stats().Pools[budget.Parsers].Used; used != 0 {
			t.Errorf("%s: %d bytes still reserved", tc.name, used)
		}
	}
}
