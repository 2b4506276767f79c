package tls

import "fmt"

// cipherNames maps common IANA cipher suite values to their IANA names.
var cipherNames = map[uint16]string{
	0x0000: "TLS_NULL_WITH_NULL_NULL",
	0x0001: "TLS_RSA_WITH_NULL_MD5",
	0x0002: "TLS_RSA_WITH_NULL_SHA",
	0x0004: "TLS_RSA_WITH_RC4_128_MD5",
	0x0005: "TLS_RSA_WITH_RC4_128_SHA",
	0x000a: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
	0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
	0x002f: "TLS_RSA_WITH_AES_128_CBC_SHA",
	0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
	0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003c: "TLS_RSA_WITH_AES_128_CBC_SHA256",
	0x003d: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0041: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
	0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
	0x006b: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	0x0084: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
	0x008c: "TLS_PSK_WITH_AES_128_CBC_SHA",
	0x008d: "TLS_PSK_WITH_AES_256_CBC_SHA",
	0x009c: "TLS_RSA_WITH_AES_128_GCM_SHA256",
	0x009d: "TLS_RSA_WITH_AES_256_GCM_SHA384",
	0x009e: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009f: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0x00a8: "TLS_PSK_WITH_AES_128_GCM_SHA256",
	0x00a9: "TLS_PSK_WITH_AES_256_GCM_SHA384",
	0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x1301: "TLS_AES_128_GCM_SHA256",
	0x1302: "TLS_AES_256_GCM_SHA384",
	0x1303: "TLS_CHACHA20_POLY1305_SHA256",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x5600: "TLS_FALLBACK_SCSV",
	0xc007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
	0xc008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
	0xc009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	0xc00a: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	0xc011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
	0xc012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
	0xc013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	0xc014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	0xc023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	0xc024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xc027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	0xc028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0xc02b: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	0xc02c: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	0xc030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	0xc09c: "TLS_RSA_WITH_AES_128_CCM",
	0xc09d: "TLS_RSA_WITH_AES_256_CCM",
	0xc0ac: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
	0xc0ad: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
	0xcca8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	0xcca9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	0xccaa: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// CipherSuiteName returns the IANA name of a cipher suite, or its value as
// "0x" and four hex digits when it is not in the table.
func CipherSuiteName(v uint16) string {
	if page := cipherPages[v>>8]; page != nil {
		if n := page[v&0xff]; n != "" {
			return n
		}
	}
	return fmt.Sprintf("0x%04x", v)
}

// cipherPages are cipherNames by a value's high byte, then its low byte:
// a name is two loads, where the map hashed the value and probed (a
// ClientHello names its ~40 suites). The few high bytes in use make
// 4 KiB pages each.
var cipherPages = func() (pages [256]*[256]string) {
	for v, n := range cipherNames {
		if pages[v>>8] == nil {
			pages[v>>8] = new([256]string)
		}
		pages[v>>8][v&0xff] = n
	}
	return pages
}()

// groupNames maps TLS supported group (named curve) values to their names.
var groupNames = map[uint16]string{
	19:     "secp192r1",
	21:     "secp224r1",
	23:     "secp256r1",
	24:     "secp384r1",
	25:     "secp521r1",
	26:     "brainpoolP256r1",
	27:     "brainpoolP384r1",
	28:     "brainpoolP512r1",
	29:     "x25519",
	30:     "x448",
	256:    "ffdhe2048",
	257:    "ffdhe3072",
	258:    "ffdhe4096",
	259:    "ffdhe6144",
	260:    "ffdhe8192",
	0x11eb: "SecP256r1MLKEM768",
	0x11ec: "X25519MLKEM768",
	0x11ed: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00",
}

// GroupName returns the name of a supported group / named curve ("x25519",
// "secp256r1", ...), or its value as "0x" and four hex digits.
func GroupName(v uint16) string {
	if n, ok := groupNames[v]; ok {
		return n
	}
	return fmt.Sprintf("0x%04x", v)
}

// VersionString returns the ECS tls.version and tls.version_protocol of a
// protocol version: 0x0303 gives "1.2", "tls"; 0x0300 gives "3.0", "ssl".
// Unknown values give their hex value and "".
func VersionString(v uint16) (version, protocol string) {
	switch v {
	case 0x0002:
		return "2.0", "ssl"
	case 0x0300:
		return "3.0", "ssl"
	case 0x0301:
		return "1.0", "tls"
	case 0x0302:
		return "1.1", "tls"
	case 0x0303:
		return "1.2", "tls"
	case 0x0304:
		return "1.3", "tls"
	}
	return fmt.Sprintf("0x%04x", v), ""
}
