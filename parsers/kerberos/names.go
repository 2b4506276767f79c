package kerberos

import "strconv"

// MessageName is the RFC 4120 name of a message type.
func MessageName(t int) string {
	switch t {
	case ASReq:
		return "AS-REQ"
	case ASRep:
		return "AS-REP"
	case TGSReq:
		return "TGS-REQ"
	case TGSRep:
		return "TGS-REP"
	case KRBError:
		return "KRB-ERROR"
	case APReq:
		return "AP-REQ"
	case APRep:
		return "AP-REP"
	}
	return strconv.Itoa(t)
}

// errorNames are the KRB-ERROR codes of RFC 4120 §7.5.9 and RFC 4556.
var errorNames = map[int]string{
	0: "KDC_ERR_NONE", 1: "KDC_ERR_NAME_EXP", 2: "KDC_ERR_SERVICE_EXP", 3: "KDC_ERR_BAD_PVNO",
	4: "KDC_ERR_C_OLD_MAST_KVNO", 5: "KDC_ERR_S_OLD_MAST_KVNO", 6: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
	7: "KDC_ERR_S_PRINCIPAL_UNKNOWN", 8: "KDC_ERR_PRINCIPAL_NOT_UNIQUE", 9: "KDC_ERR_NULL_KEY",
	10: "KDC_ERR_CANNOT_POSTDATE", 11: "KDC_ERR_NEVER_VALID", 12: "KDC_ERR_POLICY", 13: "KDC_ERR_BADOPTION",
	14: "KDC_ERR_ETYPE_NOSUPP", 15: "KDC_ERR_SUMTYPE_NOSUPP", 16: "KDC_ERR_PADATA_TYPE_NOSUPP",
	17: "KDC_ERR_TRTYPE_NOSUPP", 18: "KDC_ERR_CLIENT_REVOKED", 19: "KDC_ERR_SERVICE_REVOKED",
	20: "KDC_ERR_TGT_REVOKED", 21: "KDC_ERR_CLIENT_NOTYET", 22: "KDC_ERR_SERVICE_NOTYET",
	23: "KDC_ERR_KEY_EXPIRED", 24: "KDC_ERR_PREAUTH_FAILED", 25: "KDC_ERR_PREAUTH_REQUIRED",
	26: "KDC_ERR_SERVER_NOMATCH", 27: "KDC_ERR_MUST_USE_USER2USER", 28: "KDC_ERR_PATH_NOT_ACCEPTED",
	29: "KDC_ERR_SVC_UNAVAILABLE", 31: "KRB_AP_ERR_BAD_INTEGRITY", 32: "KRB_AP_ERR_TKT_EXPIRED",
	33: "KRB_AP_ERR_TKT_NYV", 34: "KRB_AP_ERR_REPEAT", 35: "KRB_AP_ERR_NOT_US", 36: "KRB_AP_ERR_BADMATCH",
	37: "KRB_AP_ERR_SKEW", 38: "KRB_AP_ERR_BADADDR", 39: "KRB_AP_ERR_BADVERSION", 40: "KRB_AP_ERR_MSG_TYPE",
	41: "KRB_AP_ERR_MODIFIED", 42: "KRB_AP_ERR_BADORDER", 44: "KRB_AP_ERR_BADKEYVER", 45: "KRB_AP_ERR_NOKEY",
	46: "KRB_AP_ERR_MUT_FAIL", 47: "KRB_AP_ERR_BADDIRECTION", 48: "KRB_AP_ERR_METHOD", 49: "KRB_AP_ERR_BADSEQ",
	50: "KRB_AP_ERR_INAPP_CKSUM", 51: "KRB_AP_PATH_NOT_ACCEPTED", 52: "KRB_ERR_RESPONSE_TOO_BIG",
	60: "KRB_ERR_GENERIC", 61: "KRB_ERR_FIELD_TOOLONG", 62: "KDC_ERR_CLIENT_NOT_TRUSTED",
	63: "KDC_ERR_KDC_NOT_TRUSTED", 64: "KDC_ERR_INVALID_SIG", 65: "KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
	66: "KDC_ERR_CERTIFICATE_MISMATCH", 67: "KRB_AP_ERR_NO_TGT", 68: "KDC_ERR_WRONG_REALM",
	69: "KRB_AP_ERR_USER_TO_USER_REQUIRED", 70: "KDC_ERR_CANT_VERIFY_CERTIFICATE",
	71: "KDC_ERR_INVALID_CERTIFICATE", 72: "KDC_ERR_REVOKED_CERTIFICATE",
	73: "KDC_ERR_REVOCATION_STATUS_UNKNOWN", 74: "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
	75: "KDC_ERR_CLIENT_NAME_MISMATCH", 76: "KDC_ERR_KDC_NAME_MISMATCH",
}

// ErrorName is the name of a KRB-ERROR code, or its number.
func ErrorName(code int) string {
	if n, ok := errorNames[code]; ok {
		return n
	}
	return strconv.Itoa(code)
}

// etypeNames are the encryption types of RFC 3961, 3962, 4757, 8009.
var etypeNames = map[int]string{
	1: "des-cbc-crc", 2: "des-cbc-md4", 3: "des-cbc-md5", 16: "des3-cbc-sha1",
	17: "aes128-cts-hmac-sha1-96", 18: "aes256-cts-hmac-sha1-96",
	19: "aes128-cts-hmac-sha256-128", 20: "aes256-cts-hmac-sha384-192",
	23: "rc4-hmac", 24: "rc4-hmac-exp", 25: "camellia128-cts-cmac", 26: "camellia256-cts-cmac",
}

// EtypeName is the name of an encryption type, or its number.
func EtypeName(e int) string {
	if n, ok := etypeNames[e]; ok {
		return n
	}
	return strconv.Itoa(e)
}

// kdcOptionNames are the KDC options by bit (RFC 4120 §5.4.1, RFC 6806
// for canonicalize, MS-SFU for cname-in-addl-tkt).
var kdcOptionNames = map[int]string{
	1: "forwardable", 2: "forwarded", 3: "proxiable", 4: "proxy", 5: "allow-postdate", 6: "postdated",
	8: "renewable", 14: "cname-in-addl-tkt", 15: "canonicalize", 16: "request-anonymous",
	26: "disable-transited-check", 27: "renewable-ok", 28: "enc-tkt-in-skey", 30: "renew", 31: "validate",
}

// KDCOptionNames lists the options set in o, in bit order (unnamed bits
// as "bitN").
func KDCOptionNames(o uint32) []string {
	var out []string
	for bit := 0; bit < 32; bit++ {
		if o&(1<<(31-bit)) == 0 {
			continue
		}
		n, ok := kdcOptionNames[bit]
		if !ok {
			n = "bit" + strconv.Itoa(bit)
		}
		out = append(out, n)
	}
	return out
}

// APOptionNames lists the AP options set in o (RFC 4120 §5.5.1).
func APOptionNames(o uint32) []string {
	var out []string
	if o&APUseSessionKey != 0 {
		out = append(out, "use-session-key")
	}
	if o&APMutualRequired != 0 {
		out = append(out, "mutual-required")
	}
	return out
}
