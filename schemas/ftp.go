package schemas

// FTP is one command of an FTP control connection and its reply (dataset
// packetsleuth.ftp), and on the flow event of a data connection, the
// control connection that announced it. ECS user.name carries the user,
// file.* the file a command names (file.path made absolute with cwd when
// known; file.size a transfer's size from "(N bytes)" in its 150 or 226
// reply, or a SIZE reply); the password is never kept.
type FTP struct {
	// The command, upper case. Example: RETR
	Command string `json:"command,omitempty" expr:"command"`
	// Its argument; PASS and ACCT arguments are replaced by <redacted>. Example: index.html
	Arg string `json:"arg,omitempty" expr:"arg"`
	// The command's number in its control connection, from 1: the packetsleuth.file.transaction of the file its data connection carried. Example: 9
	Transaction int64 `json:"transaction,omitempty" expr:"transaction"`
	// The code of the final reply (absent when none came). Example: 226
	ReplyCode int `json:"reply_code,omitempty" expr:"reply_code"`
	// The text of the final reply. Example: Transfer complete.
	ReplyText string `json:"reply_text,omitempty" expr:"reply_text"`
	// The code of a preliminary (1xx) reply before the final one. Example: 150
	PreliminaryCode int `json:"preliminary_code,omitempty" expr:"preliminary_code"`
	// The current directory when the command was sent, as PWD replies and CWDs tell. Example: /pub
	Cwd string `json:"cwd,omitempty" expr:"cwd"`
	// The outcome of USER/PASS: success (230) or failure (530). Example: success
	Login string `json:"login,omitempty" expr:"login"`
	// The user logged in as anonymous (or ftp). Example: true
	Anonymous bool `json:"anonymous,omitempty" expr:"anonymous"`
	// The address the data connection goes to (PORT/EPRT: the client's; PASV/EPSV: the server's). Example: 172.23.0.3
	DataIP string `json:"data_ip,omitempty" expr:"data_ip" es:"ip"`
	// The port the data connection goes to. Example: 44671
	DataPort int `json:"data_port,omitempty" expr:"data_port"`
	// The data connection is passive (PASV/EPSV: the client connects to the server). Example: false
	Passive bool `json:"passive,omitempty" expr:"passive"`
	// On a data connection's flow event, and on the commands that announced one: the network.community_id of the FTP control connection. Example: 1:Vbsu+0kPLsAipQa6djYTBa+BASg=
	ControlCommunityID string `json:"control_community_id,omitempty" expr:"control_community_id"`
}
