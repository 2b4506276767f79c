package parsers

import "time"

// Files carried by a protocol (HTTP bodies and multipart parts, MIME
// attachments, FTP data connections, SMB reads and writes) reach the
// sensor's files layer through these types: the parser opens one FileSink
// per file with what the transfer declares about it, writes the file's
// bytes as they arrive (after transfer and content decoding), and closes it
// with how it ended. The files layer types the bytes, hashes them, applies
// its limits and reports one packetsleuth.file event per file; a parser
// never buffers a file for it.

// FileInfo is what a transfer declares about one file, before its bytes.
// The sink copies what it keeps: the parser may reuse the struct.
type FileInfo struct {
	// Dir is the direction of the file's bytes in the connection:
	// ToClient is a download (HTTP response, FTP RETR, SMB read), ToServer
	// an upload (HTTP request body, SMTP message, FTP STOR, SMB write).
	Dir Dir
	// Tx is the 1-based number of the transaction the file belongs to in
	// its connection: the HTTP request/response pair, the SMTP message,
	// the FTP command, the SMB message id. 0 if there is no such thing.
	Tx uint64
	// Name is the declared file name, as sent (Content-Disposition
	// filename, MIME attachment name, FTP or SMB path); "" if none.
	Name string
	// MimeType is the declared type (Content-Type without parameters,
	// lower case); "" if none. The files layer finds the real type from
	// the bytes and keeps this one beside it.
	MimeType string
	// Size is the declared size of the bytes that will be written
	// (Content-Length after decoding if known, FTP "150 ... (N bytes)",
	// SMB length); -1 if unknown.
	Size int64
	// Part says where in the transaction the file is, when there are
	// several: "request", "response", "multipart", "attachment", …
	Part string
	// Host and URI say where the file was fetched from or sent to, as the
	// protocol names it: the HTTP request's Host and request-target; an
	// SMB server and share path; "" where the protocol has no such thing.
	Host, URI string
	// Range is set when only part of the file is transferred (HTTP 206,
	// an SMB read at an offset): the bytes written are those at
	// Range.Start of a file of Range.Total bytes (-1 if unknown).
	Range *FileRange
	// Time is the packet time the file's transfer started.
	Time time.Time
}

// FileRange locates the bytes of a partial transfer in the whole file.
type FileRange struct {
	Start, Total int64
}

// FileEnd is how a file's transfer ended.
type FileEnd uint8

const (
	// FileComplete: every byte the transfer declared (or, without a
	// declaration, every byte until its framing ended) was written.
	FileComplete FileEnd = iota
	// FileGap: bytes were lost in capture (Gap was called); what was
	// written is not the file, its hashes are not the file's.
	FileGap
	// FileTruncated: the transfer ended early (connection closed or
	// reset, protocol error, parser bound, content decoding error).
	FileTruncated
	// FileSizeLimit: the parser stopped writing at one of its own size
	// limits (e.g. the decoded size cap against decompression bombs).
	FileSizeLimit
)

var fileEndNames = [...]string{"complete", "gap", "truncated", "size_limit"}

// String returns "complete", "gap", "truncated" or "size_limit".
func (e FileEnd) String() string {
	if int(e) < len(fileEndNames) {
		return fileEndNames[e]
	}
	return "unknown"
}

// FileSink receives the bytes of one file. Write and Gap may be called any
// number of times, then Close exactly once; a sink takes no call after
// Close. p is only valid during the call.
type FileSink interface {
	// Write takes the next bytes of the file. It never fails: the sink
	// applies its own limits and reports them in its event. It returns
	// false once the sink wants no more bytes (past its size limit, or
	// typed with nothing to hash: TypedSink): the parser may then stop
	// producing them (e.g. stop decompressing) and only Close the sink
	// when the transfer ends.
	Write(p []byte) (more bool)
	// Gap reports n bytes of the file that were never seen, at this
	// point of the file.
	Gap(n int64)
	// Close ends the file: end is FileComplete unless the parser knows
	// otherwise (a gap reported through Gap is remembered by the sink).
	Close(end FileEnd, ts time.Time)
}

// TypedSink is a FileSink that may need only a file's first bytes: once
// it has the file's type and nothing to hash or store, a parser producing
// the bytes at a cost (content decoding) may stop there and say so.
type TypedSink interface {
	FileSink
	// TypedOnly says whether the sink needs no more of the file's bytes.
	TypedOnly() bool
	// Unsized tells the sink its parser stopped producing the bytes
	// before the file's end: the size it counted is not the file's.
	Unsized()
}

// FileOpener opens a sink per file of one connection. It returns nil when
// nobody wants the file: the parser then skips the bytes. A parser whose
// FileOpener is nil does no work for files at all (no content decoding
// that only files would need). info is the parser's, valid only during
// the call: an opener copies what it keeps.
type FileOpener interface {
	OpenFile(info *FileInfo) FileSink
}
