package schemas

// User is ECS `user.*`: the account an authentication named (NTLM,
// Kerberos, a share's session).
type User struct {
	// Short name or login of the user. Example: alice
	Name string `json:"name,omitempty" expr:"name"`
	// Name of the directory the user is a member of (a Windows domain or Kerberos realm). Example: CONTOSO
	Domain string `json:"domain,omitempty" expr:"domain"`
}

// File is ECS `file.*`: the file an event is about (an SMB open, a file
// transferred: packetsleuth.file).
type File struct {
	// Name of the file including the extension, without the directory. Example: PSEXESVC.exe
	Name string `json:"name,omitempty" expr:"name"`
	// Full path to the file, including the file name (for SMB: \\server\share\path). Example: \\dc1\ADMIN$\PSEXESVC.exe
	Path string `json:"path,omitempty" expr:"path"`
	// Directory where the file is located (for SMB: \\server\share\dir). Example: \\dc1\ADMIN$
	Directory string `json:"directory,omitempty" expr:"directory"`
	// File extension, excluding the leading dot, as sent. Example: exe
	Extension string `json:"extension,omitempty" expr:"extension"`
	// File size in bytes (the end of file when it was opened). Example: 381816
	Size int64 `json:"size,omitempty" expr:"size"`
	// File type: file, dir or symlink (named pipes are file, with packetsleuth.smb.pipe set). Example: file
	Type string `json:"type,omitempty" expr:"type"`
	// Media type found from a transferred file's first bytes (magic), not from what the transfer declared (that is packetsleuth.file.declared_mime_type). Example: application/vnd.microsoft.portable-executable
	MimeType string   `json:"mime_type,omitempty" expr:"mime_type"`
	Hash     FileHash `json:"hash,omitzero" expr:"hash"`
}
