package quic

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/packetsleuth/packetsleuth/parsers/tls"
)

const pcapDir = "../../../shared/pcaps"

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 9001 Appendix A.1 and RFC 9369 Appendix A.1: client Initial keys for
// the Destination Connection ID 0x8394c8f03e515708.
func TestClientInitialKeyVectors(t *testing.T) {
	dcid := mustHex(t, "8394c8f03e515708")
	for _, tc := range []struct {
		version     uint32
		key, iv, hp string
	}{
		{Version1, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{Version2, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
	} {
		key, iv, hp, err := ClientInitialKeys(tc.version, dcid)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(key) != tc.key || hex.EncodeToString(iv) != tc.iv || hex.EncodeToString(hp) != tc.hp {
			t.Errorf("version %#x: key %x iv %x hp %x", tc.version, key, iv, hp)
		}
	}
	if _, _, _, err := ClientInitialKeys(0xff00001d, dcid); !errors.Is(err, ErrNotInitial) {
		t.Errorf("unknown version: %v", err)
	}
}

// rfc9001ClientInitial is the protected client Initial of RFC 9001 Appendix
// A.2 (1200 bytes, packet number 2, one CRYPTO frame with a 241-byte
// ClientHello for example.com, then PADDING).
const rfc9001ClientInitial = `
c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11
d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399
1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c
8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212
30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5
457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208
4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec
4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3
485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db
059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c
7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8
9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556
be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74
68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a
c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00
f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632
291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964
25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd
14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff
ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198
e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd
c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73
203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f
cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e
fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade
a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047
90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2
162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4
40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0
6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e
8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0
be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400
54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab
760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9
f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4
056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064
7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241
e221af44860018ab0856972e194cd934`

func TestRFC9001ClientInitial(t *testing.T) {
	pkt := mustHex(t, rfc9001ClientInitial)
	orig := append([]byte(nil), pkt...)
	if !Sniff(pkt) {
		t.Error("not sniffed")
	}
	var a CryptoAssembler
	if err := ParseInitial(pkt, &a); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkt, orig) {
		t.Error("ParseInitial modified its input")
	}
	if !a.Complete() || a.Packets != 1 || a.Version != Version1 || hex.EncodeToString(a.DCID) != "8394c8f03e515708" {
		t.Fatalf("complete %v packets %d version %#x dcid %x", a.Complete(), a.Packets, a.Version, a.DCID)
	}
	if a.Hello.ServerName != "example.com" || !a.Hello.HasExtension(0x0039) {
		t.Errorf("ClientHello %+v", a.Hello)
	}
	if ja4 := string(tls.AppendJA4(nil, &a.Hello, tls.JA4QUIC)); !strings.HasPrefix(ja4, "q13d") {
		t.Errorf("JA4 %s", ja4)
	}
	// A flipped tag bit fails authentication.
	pkt[len(pkt)-1] ^= 1
	a.Reset()
	if err := ParseInitial(pkt, &a); !errors.Is(err, ErrDecrypt) {
		t.Errorf("bad tag: %v", err)
	}
}

// protect builds a protected client Initial packet (test-only encoder).
func protect(t testing.TB, version uint32, dcid []byte, pn byte, frames []byte) []byte {
	t.Helper()
	key, iv, hpKey, err := ClientInitialKeys(version, dcid)
	if err != nil {
		t.Fatal(err)
	}
	first := byte(0xc0) | initialType(version)<<4 // 1-byte packet number
	hdr := []byte{first}
	hdr = binary.BigEndian.AppendUint32(hdr, version)
	hdr = append(hdr, byte(len(dcid)))
	hdr = append(hdr, dcid...)
	hdr = append(hdr, 0, 0) // no SCID, no token
	length := 1 + len(frames) + 16
	hdr = append(hdr, 0x40|byte(length>>8), byte(length))
	pnOff := len(hdr)
	hdr = append(hdr, pn)
	blk, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(blk)
	nonce := append([]byte(nil), iv...)
	nonce[11] ^= pn
	pkt := aead.Seal(append([]byte(nil), hdr...), nonce, frames, hdr)
	hp, _ := aes.NewCipher(hpKey)
	var mask [16]byte
	hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	pkt[pnOff] ^= mask[1]
	return pkt
}

func cryptoFrame(off int, data []byte) []byte {
	f := []byte{0x06, 0x80 | byte(off>>24), byte(off >> 16), byte(off >> 8), byte(off)}
	f = append(f, 0x40|byte(len(data)>>8), byte(len(data)))
	return append(f, data...)
}

// helloMsg is a ClientHello handshake message taken from the RFC vector.
func helloMsg(t testing.TB) []byte {
	var a CryptoAssembler
	if err := ParseInitial(mustHex(t, rfc9001ClientInitial), &a); err != nil || !a.Complete() {
		t.Fatal(err)
	}
	return append([]byte(nil), a.buf[:a.ranges[0].end]...)
}

func TestOutOfOrderCryptoAcrossPackets(t *testing.T) {
	msg := helloMsg(t)
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, version := range []uint32{Version1, Version2} {
		// Packet 1 (own datagram): the tail, then PING, ACK and PADDING.
		p1 := protect(t, version, dcid, 0, concat(cryptoFrame(100, msg[100:]), []byte{0x01, 0x02, 0x05, 0x00, 0x01, 0x00, 0x03}, make([]byte, 40)))
		// Packet 2: the middle, then the head; coalesced with a Handshake packet.
		p2 := protect(t, version, dcid, 1, concat(cryptoFrame(30, msg[30:100]), cryptoFrame(0, msg[:30]), make([]byte, 20)))
		hs := []byte{0xe0, 0, 0, 0, 1, 0, 0, 3, 9, 9, 9}
		if version == Version2 {
			hs[0] = 0xf0
			binary.BigEndian.PutUint32(hs[1:], Version2)
		}
		var a CryptoAssembler
		if err := ParseInitial(p1, &a); err != nil || a.Complete() {
			t.Fatalf("%#x first datagram: %v complete=%v", version, err, a.Complete())
		}
		if err := ParseInitial(concat(p2, hs), &a); err != nil {
			t.Fatal(err)
		}
		if !a.Complete() || a.Packets != 2 || a.Hello.ServerName != "example.com" {
			t.Errorf("%#x: complete %v packets %d SNI %q", version, a.Complete(), a.Packets, a.Hello.ServerName)
		}
	}
}

func TestLimits(t *testing.T) {
	dcid := []byte{9, 9, 9, 9}
	var a CryptoAssembler
	if err := ParseInitial(protect(t, Version1, dcid, 0, cryptoFrame(MaxCryptoData, []byte{1})), &a); !errors.Is(err, ErrLimit) {
		t.Errorf("far offset: %v", err)
	}
	a.Reset()
	// A ClientHello claiming 16 MiB.
	if err := ParseInitial(protect(t, Version1, dcid, 0, cryptoFrame(0, []byte{1, 0xff, 0xff, 0xff})), &a); !errors.Is(err, ErrLimit) {
		t.Errorf("huge hello: %v", err)
	}
	a.Reset()
	if err := ParseInitial(protect(t, Version1, dcid, 0, cryptoFrame(0, []byte{2, 0, 0, 1})), &a); !errors.Is(err, ErrNotHello) {
		t.Errorf("not a ClientHello: %v", err)
	}
	// Many disjoint ranges.
	a.Reset()
	var frames []byte
	for i := 0; i <= maxRanges; i++ {
		frames = append(frames, cryptoFrame(10+2*i, []byte{0})...)
	}
	if err := ParseInitial(protect(t, Version1, dcid, 0, frames), &a); !errors.Is(err, ErrLimit) {
		t.Errorf("ranges: %v", err)
	}
	for _, b := range [][]byte{{0xc0, 0, 0, 0, 1, 21}, {0xc0, 0xff, 0, 0, 0x1d, 0, 0}, {0xc0, 0, 0, 0, 1, 0, 0, 0x7f}} {
		a.Reset()
		if err := ParseInitial(b, &a); err == nil {
			t.Errorf("%x: no error", b)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{[]byte{0xc3, 0, 0, 0, 1, 8, 0}, true},
		{[]byte{0xd3, 0x6b, 0x33, 0x43, 0xcf, 8, 0}, true},  // v2 Initial
		{[]byte{0xc3, 0x6b, 0x33, 0x43, 0xcf, 8, 0}, false}, // v2 Retry bits
		{[]byte{0xe3, 0, 0, 0, 1, 8, 0}, false},             // v1 Handshake
		{[]byte{0x43, 0, 0, 0, 1, 8, 0}, false},             // short header
		{[]byte{0xc3, 0, 0, 0, 2, 8, 0}, false},
		{[]byte{0xc3, 0, 0, 0, 1, 21, 0}, false},
		{[]byte{0xc3, 0, 0}, false},
	} {
		if got := Sniff(tc.b); got != tc.want {
			t.Errorf("Sniff(%x) = %v", tc.b, got)
		}
	}
}

func concat(b ...[]byte) []byte {
	var out []byte
	for _, x := range b {
		out = append(out, x...)
	}
	return out
}

type flowKey struct{ src, dst string }

// clientDatagrams returns the UDP payloads sent to port 443 in a capture,
// per flow, in capture order.
func clientDatagrams(t testing.TB, capture string) (map[flowKey][][]byte, []flowKey) {
	raw, err := os.ReadFile(filepath.Join(pcapDir, capture))
	if err != nil {
		t.Skipf("shared capture not available (%v); skipping", err)
	}
	type src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var s src
	var lt layers.LinkType
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		s, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		s, lt = r, r.LinkType()
	}
	flows := map[flowKey][][]byte{}
	var order []flowKey
	for {
		data, _, err := s.ReadPacketData()
		if err != nil {
			break
		}
		pkt := gopacket.NewPacket(data, lt, gopacket.Default)
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok || udp.DstPort != 443 {
			continue
		}
		nl := pkt.NetworkLayer()
		if nl == nil {
			continue
		}
		k := flowKey{nl.NetworkFlow().Src().String() + ":" + udp.SrcPort.String(), nl.NetworkFlow().Dst().String() + ":443"}
		if _, ok := flows[k]; !ok {
			order = append(order, k)
		}
		flows[k] = append(flows[k], append([]byte(nil), udp.Payload...))
	}
	return flows, order
}

func TestCapturesAgainstTshark(t *testing.T) {
	for _, capture := range []string{"tls-sni.pcapng", "tls-handshakes-many.pcapng"} {
		t.Run(capture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(pcapDir, "truth", capture+".tsv"))
			if err != nil {
				t.Skipf("truth table not available (%v)", err)
			}
			flows, _ := clientDatagrams(t, capture)
			lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
			header := strings.Split(lines[0], "\t")
			col := map[string]int{}
			for i, h := range header {
				col[h] = i
			}
			hellos := map[flowKey]*CryptoAssembler{}
			checked := 0
			for _, l := range lines[1:] {
				f := strings.Split(l, "\t")
				get := func(name string) string {
					if i, ok := col[name]; ok && i < len(f) {
						return f[i]
					}
					return ""
				}
				if get("udp.dstport") != "443" || !strings.Contains(","+get("tls.handshake.type")+",", ",1,") {
					continue
				}
				k := flowKey{get("ip.src") + get("ipv6.src") + ":" + get("udp.srcport"), get("ip.dst") + get("ipv6.dst") + ":443"}
				a := hellos[k]
				if a == nil {
					a = &CryptoAssembler{}
					for _, d := range flows[k] {
						if err := ParseInitial(d, a); err != nil && !a.Complete() {
							t.Errorf("%v: %v", k, err)
						}
					}
					hellos[k] = a
				}
				if !a.Complete() {
					t.Errorf("frame %s %v: ClientHello not complete after %d datagrams", get("frame.number"), k, len(flows[k]))
					continue
				}
				h := &a.Hello
				if h.ServerName != get("tls.handshake.extensions_server_name") {
					t.Errorf("frame %s: SNI %q", get("frame.number"), h.ServerName)
				}
				if got := strings.Join(h.ALPN, ","); got != get("tls.handshake.extensions_alpn_str") {
					t.Errorf("frame %s: ALPN %q", get("frame.number"), got)
				}
				sum := md5.Sum(tls.AppendJA3(nil, h))
				if got := hex.EncodeToString(sum[:]); got != get("tls.handshake.ja3") {
					t.Errorf("frame %s: JA3 %s, want %s", get("frame.number"), got, get("tls.handshake.ja3"))
				}
				if ja4 := string(tls.AppendJA4(nil, h, tls.JA4QUIC)); !strings.HasPrefix(ja4, "q13d") || len(ja4) != 36 {
					t.Errorf("frame %s: JA4 %s", get("frame.number"), ja4)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no QUIC ClientHello rows in the truth table")
			}
			t.Logf("%d QUIC ClientHellos checked", checked)
		})
	}
}
