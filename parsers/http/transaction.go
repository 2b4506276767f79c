package http

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
)

// Header is one header field as sent (name case kept, value without
// surrounding whitespace). Secret values are redacted, see Config.
type Header struct {
	Name, Value string
}

// Notes attached to transactions. They are constant strings, so rules can
// match them exactly.
const (
	NoteCLAndTE             = "both Content-Length and Transfer-Encoding"
	NoteInvalidCL           = "invalid Content-Length"
	NoteDuplicateCL         = "duplicate Content-Length"
	NoteConflictingCL       = "conflicting Content-Length"
	NoteTENotChunked        = "Transfer-Encoding without final chunked"
	NoteGap                 = "gap"
	NoteResync              = "resynchronised after gap"
	NoteLineTooLong         = "line too long"
	NoteHeaderTooLarge      = "header block too large"
	NoteTooManyHeaders      = "too many headers"
	NoteInvalidStartLine    = "invalid start line"
	NoteInvalidChunk        = "invalid chunk size"
	NoteChunkNoCRLF         = "missing CRLF after chunk data"
	NoteMalformedHeader     = "malformed header line"
	NoteObsFold             = "obsolete header line folding"
	NoteInterim1xx          = "interim 1xx response"
	NoteTooManyPending      = "too many pending requests"
	NoteNoRequest           = "response without request"
	NoteEndInHeaders        = "connection ended in header block"
	NoteEndInBody           = "connection ended in body"
	NoteDecodeLimit         = "decoded size limit reached"
	NoteDecodeError         = "content decoding error"
	NoteDecodeSkipped       = "content encoding not decoded"
	NoteDecodeUnsupported   = "unsupported or too deeply stacked content encoding"
	NoteDecoderLimit        = "decoder limit reached: body counted, not decoded"
	NoteDecodeTyped         = "content decoded only for its file type: body counted, not decoded"
	NoteBadBasicAuth        = "invalid basic credentials"
	NoteDuplicateHost       = "duplicate Host"
	NoteDataBeforeConnectOK = "client data before CONNECT response"
)

// Request is the request half of a transaction. Strings may be kept after the
// emit callback returns; slices (Headers, Body) may not.
type Request struct {
	Method  string // as sent, e.g. "GET"
	URI     string // request-target as sent (everything between the method and the last " HTTP/")
	Version string // "1.1", "1.0"
	Host    string // Host header as sent (may carry a port, e.g. "[::1]:8000")

	UserAgent   string
	Referer     string
	ContentType string // full Content-Type value
	MimeType    string // Content-Type without parameters, lower case

	// ContentLength is the Content-Length header value, -1 if absent or
	// invalid.
	ContentLength    int64
	TransferEncoding string // Transfer-Encoding header as sent
	ContentEncoding  string // Content-Encoding header as sent
	Upgrade          string // Upgrade header (protocols the client asks for)

	// Authorization is the Authorization (or, if absent,
	// Proxy-Authorization) value. With RedactSecrets (default) the
	// credentials are replaced by "<redacted sha256:XXXXXXXXXXXXXXXX>" (the
	// first 16 hex digits of the SHA-256 of the whole original value), after
	// the scheme if there is one: "Basic <redacted sha256:0123456789abcdef>".
	Authorization string
	AuthScheme    string // "Basic", "Bearer", ... as sent
	AuthUser      string // user name of Basic credentials (never the password)
	// AuthMech is "ntlm" or "kerberos" for an NTLM/Negotiate Authorization
	// whose token decodes; NTLM is then its NTLMSSP message (names and
	// flags only: the parser never keeps responses or keys).
	AuthMech string
	NTLM     ntlm.Message
	Cookie   string // Cookie value, redacted like Authorization (without scheme)

	HeaderBytes   int   // start line + header block, with the blank line
	BodyWireBytes int64 // body bytes on the wire (with chunk framing and trailers)
	BodyBytes     int64 // body payload seen, after removing the chunked transfer coding (gaps count only in BodyWireBytes)
	// BodyDecodedBytes is the size after content decoding (gzip, deflate,
	// stacked up to MaxCodings): == BodyBytes when not encoded, -1 when
	// encoded and not decoded (decoding off, unsupported coding, no budget
	// for a decoder: a note says which), capped at Config.MaxDecoded, and
	// the count so far when decoding stopped early (gap, error, truncation).
	BodyDecodedBytes int64
	Headers          []Header
	Body             []byte // first Config.BodyCapture bytes of the body (transfer-decoded)

	Start, End time.Time // packet time of the first and last byte
}

// Response is the response half of a transaction. Strings may be kept after
// the emit callback returns; slices (Headers, Body) may not.
type Response struct {
	StatusCode int
	Reason     string
	Version    string // "1.1"

	ContentType      string
	MimeType         string
	ContentLength    int64 // -1 if absent or invalid
	TransferEncoding string
	ContentEncoding  string
	Location         string
	// ContentDisposition and ContentRange are the headers as sent (the
	// files layer takes the file name and the range of a 206 from them).
	ContentDisposition string
	ContentRange       string
	Upgrade            string // Upgrade header of a 101 response
	// NTLM is the CHALLENGE of an NTLM/Negotiate WWW-Authenticate or
	// Proxy-Authenticate header (the server's names), Type 0 if none.
	NTLM ntlm.Message

	HeaderBytes      int
	BodyWireBytes    int64
	BodyBytes        int64
	BodyDecodedBytes int64
	Headers          []Header
	Body             []byte

	Start, End time.Time
}

// Transaction is one request/response pair, or a request without response,
// or a response without request.
//
// Ownership: the *Transaction passed to the emit callback, and its slices
// (Notes, Request.Headers, Response.Headers, Request.Body, Response.Body),
// are reused by the parser after the callback returns; copy what you keep.
// String fields are immutable and may be kept.
type Transaction struct {
	Request  Request
	Response Response
	// Seq numbers the transactions of a connection from 1, in the order
	// their requests began (a response without request takes the next
	// number); the files of a transaction carry it too.
	Seq uint64

	RequestMissing  bool // a response was seen but no request (lost or not captured)
	ResponseMissing bool // no response: connection ended, bound hit, or parser stopped
	// RequestTruncated / ResponseTruncated: the message was cut short by a
	// gap, a bound or the end of the connection.
	RequestTruncated  bool
	ResponseTruncated bool

	Continue100     bool   // an interim "100 Continue" preceded the final response
	Upgraded        bool   // 101 Switching Protocols: parsing stopped
	UpgradeProtocol string // with Upgraded: the 101's Upgrade header (else the request's), e.g. "websocket"
	Tunnel          bool   // CONNECT answered 2xx: the connection is a tunnel, parsing stopped
	// DecoderLimited: a body was counted without decoding because the
	// memory budget had no room for its decoder (with NoteDecoderLimit).
	DecoderLimited bool

	Notes []string // anomalies, see the Note* constants
}

func (t *Transaction) addNote(n string) {
	for _, x := range t.Notes {
		if x == n {
			return
		}
	}
	if len(t.Notes) < maxNotes {
		t.Notes = append(t.Notes, n)
	}
}

// reset clears t for reuse, keeping slice capacity.
func (t *Transaction) reset() {
	notes := t.Notes[:0]
	rh, rb := t.Request.Headers[:0], t.Request.Body[:0]
	sh, sb := t.Response.Headers[:0], t.Response.Body[:0]
	*t = Transaction{Notes: notes}
	t.Request.Headers, t.Request.Body = rh, rb
	t.Response.Headers, t.Response.Body = sh, sb
	t.Request.ContentLength, t.Response.ContentLength = -1, -1
}
