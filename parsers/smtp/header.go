package smtp

import (
	"bytes"
	"cmp"
	"mime"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

// wordDecoder decodes RFC 2047 encoded words in UTF-8, ISO-8859-1 and
// US-ASCII; words in other charsets are left as written.
var wordDecoder = &mime.WordDecoder{}

func decodeWords(v []byte) string {
	s := string(v)
	if !strings.Contains(s, "=?") {
		return clip(s)
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return clip(d)
	}
	return clip(s)
}

// contentType reads a Content-Type value: the media type (lower case), its
// boundary and name parameters.
func contentType(v []byte) (typ, boundary, name string) {
	typ, params := mediaType(v)
	return typ, clip(params["boundary"]), clip(decodeWords([]byte(params["name"])))
}

// disposition reads a Content-Disposition value: its type and file name
// (RFC 2231 continuations and charsets, then RFC 2047 words, which many
// mailers use instead).
func disposition(v []byte) (typ, filename string) {
	typ, params := mediaType(v)
	return typ, decodeWords([]byte(params["filename"]))
}

// piece is one RFC 2231 continuation of a parameter: its number and value.
type piece struct {
	i int
	s string
}

// mediaType parses "type; a=b; …" with mime.ParseMediaType (which joins
// RFC 2231 continuations), and falls back on a lenient reading of the
// parameters when the value is malformed (a hostile or sloppy mailer).
func mediaType(v []byte) (string, map[string]string) {
	typ, params, err := mime.ParseMediaType(string(v))
	if err == nil {
		return typ, params
	}
	parts := strings.Split(string(v), ";")
	typ = strings.ToLower(strings.TrimSpace(parts[0]))
	params = map[string]string{}
	cont := map[string][]piece{} // name*N pieces
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if base, n, found := strings.Cut(k, "*"); found {
			i, _ := strconv.Atoi(strings.TrimSuffix(n, "*"))
			cont[base] = append(cont[base], piece{i, val})
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	for k, ps := range cont {
		if _, ok := params[k]; !ok {
			// Joined in the order of their numbers, as mail clients do,
			// not as written: "name*1=exe; name*0=evil." is evil.exe.
			slices.SortStableFunc(ps, func(a, b piece) int { return cmp.Compare(a.i, b.i) })
			var b strings.Builder
			for _, p := range ps {
				b.WriteString(p.s)
			}
			params[k] = b.String()
		}
	}
	return typ, params
}

// addresses reads the addr-specs of an address header (RFC 5322 §3.4:
// display names, comments, groups), RFC 2047 words decoded; on a value
// net/mail rejects, every <addr> or bare word with an '@' is taken.
func addresses(v []byte) []string {
	list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(string(v))
	var out []string
	if err == nil {
		for _, a := range list {
			if len(out) == maxAddrs {
				break
			}
			out = append(out, clip(a.Address))
		}
		return out
	}
	for len(v) > 0 && len(out) < maxAddrs {
		var tok []byte
		if i := bytes.IndexByte(v, '<'); i >= 0 {
			if j := bytes.IndexByte(v[i:], '>'); j > 0 {
				before := v[:i]
				tok, v = v[i+1:i+j], v[i+j+1:]
				out = appendBare(out, before)
				if bytes.IndexByte(tok, '@') > 0 {
					out = append(out, clip(string(bytes.TrimSpace(tok))))
				}
				continue
			}
		}
		out = appendBare(out, v)
		break
	}
	return out
}

// appendBare adds the words of b that look like addresses, outside
// quotes and comments.
func appendBare(out []string, b []byte) []string {
	for _, w := range bytes.FieldsFunc(b, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == ':' }) {
		if i := bytes.IndexByte(w, '@'); i > 0 && i < len(w)-1 && !bytes.ContainsAny(w, `"()`) && len(out) < maxAddrs {
			out = append(out, clip(string(w)))
		}
	}
	return out
}
