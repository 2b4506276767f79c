package ssh

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
)

// KexInit holds the algorithm name-lists of an SSH_MSG_KEXINIT (RFC 4253
// §7.1), each as sent: comma-separated names.
type KexInit struct {
	Kex, HostKey                       string
	EncC2S, EncS2C, MACC2S, MACS2C     string
	CompC2S, CompS2C, LangC2S, LangS2C string
	FirstKexFollows                    bool
}

var errKexInit = errors.New("ssh: malformed KEXINIT")

// parseKexInit reads the payload of a KEXINIT after its message code:
// a 16-byte cookie, ten name-lists, a boolean and a reserved uint32.
func parseKexInit(p []byte, k *KexInit) error {
	if len(p) < 16 {
		return errKexInit
	}
	p = p[16:]
	for _, dst := range [...]*string{&k.Kex, &k.HostKey, &k.EncC2S, &k.EncS2C, &k.MACC2S, &k.MACS2C, &k.CompC2S, &k.CompS2C, &k.LangC2S, &k.LangS2C} {
		if len(p) < 4 {
			return errKexInit
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return errKexInit
		}
		*dst, p = string(p[4:4+n]), p[4+n:]
	}
	if len(p) < 5 {
		return errKexInit
	}
	k.FirstKexFollows = p[0] != 0
	return nil
}

// hasshAlgorithms is the string HASSH hashes (Salesforce's definition):
// kex;encryption;mac;compression, the client-to-server lists for the
// client's KEXINIT, the server-to-client lists for the server's.
func hasshAlgorithms(k *KexInit, server bool) string {
	if server {
		return k.Kex + ";" + k.EncS2C + ";" + k.MACS2C + ";" + k.CompS2C
	}
	return k.Kex + ";" + k.EncC2S + ";" + k.MACC2S + ";" + k.CompC2S
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// negotiate is RFC 4253 §7.1's choice: the first algorithm of the client's
// list that the server's list also names; "" when they share none.
func negotiate(client, server string) string {
	for c := range strings.SplitSeq(client, ",") {
		if c == "" {
			continue
		}
		for s := range strings.SplitSeq(server, ",") {
			if s == c {
				return c
			}
		}
	}
	return ""
}
