package dns

import "strconv"

// Record types (IANA "Resource Record (RR) TYPEs").
const (
	TypeA          uint16 = 1
	TypeNS         uint16 = 2
	TypeMD         uint16 = 3
	TypeMF         uint16 = 4
	TypeCNAME      uint16 = 5
	TypeSOA        uint16 = 6
	TypeMB         uint16 = 7
	TypeMG         uint16 = 8
	TypeMR         uint16 = 9
	TypeNULL       uint16 = 10
	TypeWKS        uint16 = 11
	TypePTR        uint16 = 12
	TypeHINFO      uint16 = 13
	TypeMINFO      uint16 = 14
	TypeMX         uint16 = 15
	TypeTXT        uint16 = 16
	TypeRP         uint16 = 17
	TypeAFSDB      uint16 = 18
	TypeSIG        uint16 = 24
	TypeKEY        uint16 = 25
	TypeAAAA       uint16 = 28
	TypeLOC        uint16 = 29
	TypeSRV        uint16 = 33
	TypeNAPTR      uint16 = 35
	TypeKX         uint16 = 36
	TypeCERT       uint16 = 37
	TypeDNAME      uint16 = 39
	TypeOPT        uint16 = 41
	TypeAPL        uint16 = 42
	TypeDS         uint16 = 43
	TypeSSHFP      uint16 = 44
	TypeIPSECKEY   uint16 = 45
	TypeRRSIG      uint16 = 46
	TypeNSEC       uint16 = 47
	TypeDNSKEY     uint16 = 48
	TypeDHCID      uint16 = 49
	TypeNSEC3      uint16 = 50
	TypeNSEC3PARAM uint16 = 51
	TypeTLSA       uint16 = 52
	TypeSMIMEA     uint16 = 53
	TypeHIP        uint16 = 55
	TypeCDS        uint16 = 59
	TypeCDNSKEY    uint16 = 60
	TypeOPENPGPKEY uint16 = 61
	TypeCSYNC      uint16 = 62
	TypeZONEMD     uint16 = 63
	TypeSVCB       uint16 = 64
	TypeHTTPS      uint16 = 65
	TypeSPF        uint16 = 99
	TypeTKEY       uint16 = 249
	TypeTSIG       uint16 = 250
	TypeIXFR       uint16 = 251
	TypeAXFR       uint16 = 252
	TypeMAILB      uint16 = 253
	TypeMAILA      uint16 = 254
	TypeANY        uint16 = 255
	TypeURI        uint16 = 256
	TypeCAA        uint16 = 257
	TypeDLV        uint16 = 32769
)

// OptionClientSubnet is the EDNS Client Subnet option code (RFC 7871).
const OptionClientSubnet uint16 = 8

var typeNames = map[uint16]string{
	TypeA: "A", TypeNS: "NS", TypeMD: "MD", TypeMF: "MF", TypeCNAME: "CNAME",
	TypeSOA: "SOA", TypeMB: "MB", TypeMG: "MG", TypeMR: "MR", TypeNULL: "NULL",
	TypeWKS: "WKS", TypePTR: "PTR", TypeHINFO: "HINFO", TypeMINFO: "MINFO",
	TypeMX: "MX", TypeTXT: "TXT", TypeRP: "RP", TypeAFSDB: "AFSDB", TypeSIG: "SIG",
	TypeKEY: "KEY", TypeAAAA: "AAAA", TypeLOC: "LOC", TypeSRV: "SRV",
	TypeNAPTR: "NAPTR", TypeKX: "KX", TypeCERT: "CERT", TypeDNAME: "DNAME",
	TypeOPT: "OPT", TypeAPL: "APL", TypeDS: "DS", TypeSSHFP: "SSHFP",
	TypeIPSECKEY: "IPSECKEY", TypeRRSIG: "RRSIG", TypeNSEC: "NSEC",
	TypeDNSKEY: "DNSKEY", TypeDHCID: "DHCID", TypeNSEC3: "NSEC3",
	TypeNSEC3PARAM: "NSEC3PARAM", TypeTLSA: "TLSA", TypeSMIMEA: "SMIMEA",
	TypeHIP: "HIP", TypeCDS: "CDS", TypeCDNSKEY: "CDNSKEY",
	TypeOPENPGPKEY: "OPENPGPKEY", TypeCSYNC: "CSYNC", TypeZONEMD: "ZONEMD",
	TypeSVCB: "SVCB", TypeHTTPS: "HTTPS", TypeSPF: "SPF", TypeTKEY: "TKEY",
	TypeTSIG: "TSIG", TypeIXFR: "IXFR", TypeAXFR: "AXFR", TypeMAILB: "MAILB",
	TypeMAILA: "MAILA", TypeANY: "ANY", TypeURI: "URI", TypeCAA: "CAA",
	TypeDLV: "DLV",
}

// lowTypeNames is typeNames indexed by type up to CAA: every question and
// record of an event names its type, and an index costs less than hashing.
var lowTypeNames = func() (l [TypeCAA + 1]string) {
	for t, s := range typeNames {
		if int(t) < len(l) {
			l[t] = s
		}
	}
	return l
}()

// typeName is the mnemonic of t, if it has one.
func typeName(t uint16) (string, bool) {
	if int(t) < len(lowTypeNames) {
		s := lowTypeNames[t]
		return s, s != ""
	}
	s, ok := typeNames[t]
	return s, ok
}

// TypeName returns the mnemonic of a record type ("AAAA"), or "TYPEn"
// (RFC 3597) for types it does not know.
func TypeName(t uint16) string {
	if s, ok := typeName(t); ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// AppendTypeName appends TypeName(t) to dst without allocating.
func AppendTypeName(dst []byte, t uint16) []byte {
	if s, ok := typeName(t); ok {
		return append(dst, s...)
	}
	return strconv.AppendUint(append(dst, "TYPE"...), uint64(t), 10)
}

// ClassName returns "IN", "CH", "HS", "NONE", "ANY", or "CLASSn".
func ClassName(c uint16) string {
	switch c {
	case 1:
		return "IN"
	case 3:
		return "CH"
	case 4:
		return "HS"
	case 254:
		return "NONE"
	case 255:
		return "ANY"
	}
	return "CLASS" + strconv.Itoa(int(c))
}

var rcodeNames = [...]string{
	0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
	5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
	10: "NOTZONE", 11: "DSOTYPENI", 16: "BADVERS", 17: "BADKEY", 18: "BADTIME",
	19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
}

// RCodeName returns the IANA mnemonic of a (possibly extended) response
// code ("NXDOMAIN"), or "RCODEn". Code 16 is BADVERS (the OPT meaning; as a
// TSIG error it is BADSIG).
func RCodeName(r uint16) string {
	if int(r) < len(rcodeNames) && rcodeNames[r] != "" {
		return rcodeNames[r]
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// OpcodeName returns "QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE",
// "DSO", or "OPCODEn".
func OpcodeName(o uint8) string {
	switch o {
	case 0:
		return "QUERY"
	case 1:
		return "IQUERY"
	case 2:
		return "STATUS"
	case 4:
		return "NOTIFY"
	case 5:
		return "UPDATE"
	case 6:
		return "DSO"
	}
	return "OPCODE" + strconv.Itoa(int(o))
}
