package http

import (
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Toggle is an on/off setting whose zero value means "use the default", so a
// zero Config is a safe, documented configuration.
type Toggle int8

const (
	// Default keeps the setting's documented default.
	Default Toggle = iota
	// On enables the setting.
	On
	// Off disables the setting.
	Off
)

func (t Toggle) enabled(def bool) bool {
	switch t {
	case On:
		return true
	case Off:
		return false
	}
	return def
}

// Default bounds. They are per message and per connection; see Config.
const (
	DefaultMaxLineBytes   = 8 << 10
	DefaultMaxHeaderBytes = 16 << 10
	DefaultMaxHeaders     = 100
	DefaultMaxPending     = 32
	DefaultMaxDecoded     = 10 << 20
	DefaultMaxDecoders    = 64
	maxNotes              = 16
)

// Config bounds one connection parser. Zero fields take their defaults, so
// Config{} is the default configuration.
type Config struct {
	// MaxLineBytes bounds any single line: the request or status line, a header
	// or trailer line, a chunk-size line (default 8 KiB).
	MaxLineBytes int
	// MaxHeaderBytes bounds the start line plus header block of one message,
	// and separately its chunked trailer block (default 16 KiB).
	MaxHeaderBytes int
	// MaxHeaders bounds the header (and trailer) fields of one message
	// (default 100). Going over any of these three bounds adds a note to the
	// transaction and makes Data return an error: the stream is not parsed
	// further.
	MaxHeaders int
	// MaxPending bounds the requests waiting for their response on one
	// connection (pipelining, default 32). When a new request would go over
	// it, the oldest one is emitted with ResponseMissing and a note.
	MaxPending int
	// BodyCapture is how many leading bytes of each body (after removing the
	// chunked transfer coding, before content decoding) are kept in
	// Request.Body / Response.Body. Default 0: bodies are only counted.
	BodyCapture int
	// DecodeBodies decodes gzip and deflate Content-Encoding (also stacked,
	// up to MaxCodings deep) to count the decoded size (default Off: an
	// open decoder holds about DecoderFootprint bytes, so decoding is for
	// when something needs the decoded bytes). Decoding is streaming and
	// bounded by MaxDecoded. An encoded body that is not decoded says so
	// with a note.
	DecodeBodies Toggle
	// MaxDecoded caps the decoded bytes counted per body (default 10 MiB);
	// beyond it decoding stops and a note says so (zip bomb guard).
	MaxDecoded int64
	// RedactSecrets replaces the values of Authorization,
	// Proxy-Authorization, Cookie and Set-Cookie by a fingerprint (default
	// On). See Request.Authorization for the format.
	RedactSecrets Toggle
	// MaxDecoders bounds the decoding layers open at once on one Budget
	// account, i.e. per worker (default 64: 4 MiB), so that decoders never
	// take the room of flows and streams; past it, or when the budget
	// refuses, a body is counted without decoding. Needs Budget.
	MaxDecoders int
	// Files, when set, receives each body as a file (a multipart body as
	// one file per part that has a file name or type), after the chunked
	// transfer coding and the content codings are removed: a body handed
	// to a file is content-decoded whatever DecodeBodies says (bounded by
	// MaxDecoded and MaxDecoders likewise). Nil: no work for files at all.
	Files parsers.FileOpener
	// Budget is the calling worker's memory account (nil: unlimited).
	// Content decoders reserve DecoderFootprint each in its Decoders pool
	// (refused: the body is counted, not decoded, and the transaction has
	// DecoderLimited), bytes held after a CONNECT draw on its Parsers pool.
	Budget *budget.Account
	// Pool recycles per-connection state across the Conns of one
	// goroutine (nil: allocated per connection).
	Pool *Pool
}

// resolved is Config with defaults applied.
type resolved struct {
	maxLine, maxHeader, maxHeaders, maxPending, capture int
	decode, redact                                      bool
	maxDecoded                                          int64
	maxDecoders                                         int
	budget                                              *budget.Account
	files                                               parsers.FileOpener
	pool                                                *Pool
}

func (c Config) resolve() resolved {
	r := resolved{
		maxLine:     c.MaxLineBytes,
		maxHeader:   c.MaxHeaderBytes,
		maxHeaders:  c.MaxHeaders,
		maxPending:  c.MaxPending,
		capture:     c.BodyCapture,
		decode:      c.DecodeBodies.enabled(false),
		redact:      c.RedactSecrets.enabled(true),
		maxDecoded:  c.MaxDecoded,
		budget:      c.Budget,
		maxDecoders: c.MaxDecoders,
		files:       c.Files,
		pool:        c.Pool,
	}
	if r.maxDecoders <= 0 {
		r.maxDecoders = DefaultMaxDecoders
	}
	if r.maxLine <= 0 {
		r.maxLine = DefaultMaxLineBytes
	}
	if r.maxHeader <= 0 {
		r.maxHeader = DefaultMaxHeaderBytes
	}
	if r.maxLine > r.maxHeader {
		r.maxLine = r.maxHeader
	}
	if r.maxHeaders <= 0 {
		r.maxHeaders = DefaultMaxHeaders
	}
	if r.maxPending <= 0 {
		r.maxPending = DefaultMaxPending
	}
	if r.maxPending < 2 {
		r.maxPending = 2
	}
	if r.capture < 0 {
		r.capture = 0
	}
	if r.maxDecoded <= 0 {
		r.maxDecoded = DefaultMaxDecoded
	}
	return r
}
