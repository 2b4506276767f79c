package schemas

// FileHash is ECS `file.hash.*`: digests of the whole file, present only
// for a complete file.
type FileHash struct {
	// MD5 of the whole file. Example: 44d88612fea8a8f36de82e1278abb02f
	MD5 string `json:"md5,omitempty" expr:"md5"`
	// SHA1 of the whole file. Example: 3395856ce81f2b7382dee72602f798b642f14140
	SHA1 string `json:"sha1,omitempty" expr:"sha1"`
	// SHA256 of the whole file. Example: 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f
	SHA256 string `json:"sha256,omitempty" expr:"sha256"`
}

// FileInfo is what ECS has no place for about a file's transfer.
type FileInfo struct {
	// Direction of the file in its connection: download (server to client: HTTP response, FTP RETR, SMB read) or upload (client to server: HTTP request body, e-mail, FTP STOR, SMB write). Example: download
	Direction string `json:"direction,omitempty" expr:"direction"`
	// Number of the transaction the file belongs to in its connection, from 1: the HTTP request/response pair, the SMTP message, the FTP command, the SMB message id. Example: 2
	Transaction int64 `json:"transaction,omitempty" expr:"transaction"`
	// Where in the transaction the file was: request, response, multipart (a part of a multipart body), attachment. Example: response
	Part string `json:"part,omitempty" expr:"part"`
	// How the transfer ended: complete, gap (bytes lost in capture), truncated (cut short: connection closed, protocol error, content decoding error) or size_limit (a decoding or parser limit stopped it). Example: complete
	State string `json:"state,omitempty" expr:"state"`
	// The transfer is complete (state complete): its hashes are the file's. Example: true
	Complete bool `json:"complete" expr:"complete"`
	// Bytes of the file lost in capture gaps. Example: 1448
	MissingBytes int64 `json:"missing_bytes,omitempty" expr:"missing_bytes"`
	// Media type the transfer declared (Content-Type without parameters). Example: application/pdf
	DeclaredMimeType string `json:"declared_mime_type,omitempty" expr:"declared_mime_type"`
	// Size the transfer declared (Content-Length of a body without content coding, an FTP or SMB size), when it did. Example: 73802
	DeclaredSize int64 `json:"declared_size,omitempty" expr:"declared_size"`
	// Executable content by magic: pe, elf, macho, or script (a #! line). Example: pe
	Executable string `json:"executable,omitempty" expr:"executable"`
	// The magic of an executable, archive or document contradicts the declared media type. Example: true
	TypeMismatch bool `json:"type_mismatch,omitempty" expr:"type_mismatch"`
	// The magic of an executable, archive or document contradicts the name's extension. Example: true
	ExtensionMismatch bool `json:"extension_mismatch,omitempty" expr:"extension_mismatch"`
	// A partial transfer (HTTP 206, an SMB read at an offset): the offset of these bytes in the whole file. Example: 1048576
	RangeStart int64 `json:"range_start,omitempty" expr:"range_start"`
	// With a partial transfer: the whole file's size, when declared. Example: 73802
	RangeTotal int64 `json:"range_total,omitempty" expr:"range_total"`
	// Only part of the file crossed (HTTP 206). Example: true
	Partial bool `json:"partial,omitempty" expr:"partial"`
}
