package schemas

// SMTP is what an SMTP session or mail transaction showed beyond ECS
// email.* (dataset packetsleuth.smtp). AUTH secrets are never read.
type SMTP struct {
	// The argument of the client's HELO or EHLO. Example: mail.example.com
	Helo string `json:"helo,omitempty" expr:"helo"`
	// The text of the server's 220 greeting. Example: mx.example.com ESMTP Postfix
	Greeting string `json:"greeting,omitempty" expr:"greeting"`
	// The reverse path of MAIL FROM, without angle brackets. Example: alice@example.com
	MailFrom string `json:"mail_from,omitempty" expr:"mail_from"`
	// The forward path of every RCPT TO, in order (at most 1024 kept). Example: bob@example.org
	RcptTo []string `json:"rcpt_to,omitempty" expr:"rcpt_to"`
	// How many RCPT TO commands the transaction had. Example: 3
	RcptCount int `json:"rcpt_count,omitempty" expr:"rcpt_count"`
	// The AUTH mechanism the client chose (never the credentials). Example: LOGIN
	AuthMechanism string `json:"auth_mechanism,omitempty" expr:"auth_mechanism"`
	// The outcome of AUTH: success (235) or failure. Example: success
	AuthOutcome string `json:"auth_outcome,omitempty" expr:"auth_outcome"`
	// The server accepted STARTTLS: the rest of the connection is TLS (its handshake is a packetsleuth.tls event). Example: true
	TLSStarted bool `json:"tls_started,omitempty" expr:"tls_started"`
	// The reply codes of the transaction's commands, in order (of the session's, for a session without transaction). Example: ["250", "250", "354", "250"]
	StatusCodes []string `json:"status_codes,omitempty" expr:"status_codes"`
	// The text of the last reply. Example: 2.0.0 Ok: queued as 4F1A2
	LastReply string `json:"last_reply,omitempty" expr:"last_reply"`
	// The Received headers, newest first (the path the message took). Example: from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.org
	Received []string `json:"received,omitempty" expr:"received"`
	// The Date header as written. Example: Tue, 24 Nov 2026 10:00:00 +0100
	Date string `json:"date,omitempty" expr:"date"`
	// The client sent a message (DATA accepted, or BDAT). Example: true
	Data bool `json:"data,omitempty" expr:"data"`
	// The server accepted the message (2xx after its end). Example: true
	Delivered bool `json:"delivered,omitempty" expr:"delivered"`
	// Bytes of the message as sent, after dot-unstuffing. Example: 4096
	DataBytes int64 `json:"data_bytes,omitempty" expr:"data_bytes"`
}
