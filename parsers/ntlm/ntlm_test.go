package ntlm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

func TestAuthenticateNamesAndVersion(t *testing.T) {
	for _, tc := range []struct {
		ntLen int
		want  string
	}{{312, "v2"}, {24, "v1"}, {0, "lm"}} {
		m, err := Parse(pcapgen.NTLMAuthenticate("alice", "CONTOSO", "WS-0042", tc.ntLen))
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != Authenticate || m.User != "alice" || m.Domain != "CONTOSO" || m.Workstation != "WS-0042" || m.Version != tc.want {
			t.Errorf("nt %d: %+v", tc.ntLen, m)
		}
		if m.OSVersion != "10.0.19041" {
			t.Errorf("os version %q", m.OSVersion)
		}
		if !slices.Contains(FlagNames(nil, m.Flags), "extended_session_security") {
			t.Errorf("flags %v", FlagNames(nil, m.Flags))
		}
	}
}

// The anonymous flag, or no responses at all, is an anonymous logon.
func TestAnonymous(t *testing.T) {
	b := pcapgen.NTLMAuthenticate("", "", "", 0)
	binary.LittleEndian.PutUint16(b[12:], 0) // no LM response either
	if m, _ := Parse(b); m.Version != "anonymous" {
		t.Errorf("version %q", m.Version)
	}
}

func TestChallengeTargetInfo(t *testing.T) {
	m, err := Parse(pcapgen.NTLMChallenge("CONTOSO", "DC1", "contoso.local"))
	if err != nil {
		t.Fatal(err)
	}
	want := Message{Type: Challenge, Flags: m.Flags, TargetName: "CONTOSO", NbDomain: "CONTOSO", NbComputer: "DC1",
		DNSDomain: "contoso.local", DNSComputer: "DC1.contoso.local", OSVersion: "10.0.17763"}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
}

// Nothing of the challenge, the responses, the session key or the MIC is
// in what Parse returns: the message's fields are names and numbers only,
// and none holds the generated marker bytes.
func TestNoSecretsKept(t *testing.T) {
	for _, b := range [][]byte{pcapgen.NTLMAuthenticate("u", "d", "w", 24), pcapgen.NTLMChallenge("D", "C", "d.example")} {
		m, _ := Parse(b)
		s := fmt.Sprintf("%+v", m)
		for _, marker := range []string{"\xa7\xa7", "\xb8\xb8", "\xc9\xc9", "\x01\x23\x45\x67"} {
			if bytes.Contains([]byte(s), []byte(marker)) {
				t.Errorf("%q found in %s", marker, s)
			}
		}
	}
}

// Offsets pointing outside the message leave the field empty and noted;
// short and foreign messages are errors, never panics.
func TestHostileFields(t *testing.T) {
	b := pcapgen.NTLMAuthenticate("alice", "CONTOSO", "WS", 312)
	binary.LittleEndian.PutUint32(b[36+4:], 0xfffffff0) // user offset far away
	m, err := Parse(b)
	if err != nil || m.User != "" || m.Domain != "CONTOSO" || !slices.Contains(m.Notes, "ntlm.field_out_of_bounds") {
		t.Errorf("%+v %v", m, err)
	}
	binary.LittleEndian.PutUint16(b[28:], 0xffff) // domain length past the end
	if m, _ := Parse(b); m.Domain != "" {
		t.Errorf("domain %q", m.Domain)
	}
	for _, bad := range [][]byte{nil, []byte("NTLMSSP\x00"), []byte("NTLMSSP\x00\x03\x00\x00\x00"), []byte("NTLMSSP\x00\x09\x00\x00\x00xxxxxxxx"), []byte("HTTP/1.1 200")} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// A name longer than maxField is cut.
	long := pcapgen.NTLMAuthenticate(string(bytes.Repeat([]byte("A"), 2000)), "D", "W", 312)
	if m, _ := Parse(long); len(m.User) != maxField/2 || !slices.Contains(m.Notes, "ntlm.name_truncated") {
		t.Errorf("user of %d bytes, notes %v", len(m.User), m.Notes)
	}
}

func TestFindInBlob(t *testing.T) {
	b := FindInBlob(pcapgen.SPNEGO(pcapgen.NTLMAuthenticate("bob", "LAB", "PC", 312), false))
	if b.Mech != MechNTLM || b.NTLM.User != "bob" {
		t.Errorf("%+v", b)
	}
	// A krb5 AP-REQ token inside a negTokenInit.
	krb := append([]byte{0x60, 0x20, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00}, 0x6e, 0x00)
	if b := FindInBlob(krb); b.Mech != MechKerberos || len(b.Kerberos) == 0 {
		t.Errorf("%+v", b)
	}
	// A mechanism list naming Kerberos without a token is no token.
	list := []byte{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x06, 0x0a}
	if b := FindInBlob(list); b.Mech != "" {
		t.Errorf("%+v", b)
	}
}

func TestFromHTTP(t *testing.T) {
	raw := pcapgen.NTLMAuthenticate("carol", "CORP", "LAPTOP", 312)
	for _, v := range []string{
		"NTLM " + base64.StdEncoding.EncodeToString(raw),
		"Negotiate " + base64.StdEncoding.EncodeToString(pcapgen.SPNEGO(raw, false)),
		"Basic realm=\"x\", NTLM " + base64.RawStdEncoding.EncodeToString(raw),
	} {
		b, ok := FromHTTP(v)
		if !ok || b.NTLM.User != "carol" {
			t.Errorf("%.30s: %v %+v", v, ok, b)
		}
	}
	for _, v := range []string{"NTLM", "Negotiate", "Basic dXNlcjpwYXNz", "NTLM !!!notbase64", "Bearer abc"} {
		if _, ok := FromHTTP(v); ok {
			t.Errorf("%q accepted", v)
		}
	}
}

func BenchmarkParseAuthenticate(b *testing.B) {
	msg := pcapgen.NTLMAuthenticate("alice", "CONTOSO", "WS-0042", 312)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse(msg)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(pcapgen.NTLMAuthenticate("alice", "CONTOSO", "WS", 312))
	f.Add(pcapgen.NTLMChallenge("CONTOSO", "DC1", "contoso.local"))
	f.Add(pcapgen.NTLMNegotiate())
	f.Add(pcapgen.SPNEGO(pcapgen.NTLMAuthenticate("a", "b", "c", 24), true))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _ := Parse(b)
		for _, s := range []string{m.User, m.Domain, m.Workstation, m.TargetName, m.NbComputer, m.NbDomain, m.DNSComputer, m.DNSDomain, m.DNSTree} {
			if len(s) > 3*maxField { // UTF-16 to UTF-8 grows at most 3/2
				t.Fatalf("name of %d bytes", len(s))
			}
		}
		_ = FindInBlob(b)
		_, _ = FromHTTP("Negotiate " + base64.StdEncoding.EncodeToString(b))
	})
}

// BenchmarkFindInBlob: an AUTHENTICATE inside a SPNEGO negTokenResp, as
// SMB session setups carry it.
func BenchmarkFindInBlob(b *testing.B) {
	blob := pcapgen.SPNEGO(pcapgen.NTLMAuthenticate("alice", "CONTOSO", "WS-0042", 312), false)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		if FindInBlob(blob).Mech != MechNTLM {
			b.Fatal("not found")
		}
	}
}
