package schemas

import "time"

// Email is ECS `email.*`: one message of an SMTP transaction.
type Email struct {
	From    EmailAddresses `json:"from,omitzero" expr:"from"`
	To      EmailAddresses `json:"to,omitzero" expr:"to"`
	Cc      EmailAddresses `json:"cc,omitzero" expr:"cc"`
	ReplyTo EmailAddresses `json:"reply_to,omitzero" expr:"reply_to"`
	// A brief summary of the topic of the message (RFC 2047 words decoded). Example: Invoice 2026-117
	Subject string `json:"subject,omitempty" expr:"subject" es:"keyword,text"`
	// Identifier from the Message-ID header, angle brackets included. Example: <81ce15$8r2j59@mail01.example.com>
	MessageID string `json:"message_id,omitempty" expr:"message_id" es:"wildcard"`
	// The date and time the message was composed (its Date header). Example: 2026-11-24T10:00:00Z
	OriginationTimestamp time.Time `json:"origination_timestamp,omitzero" expr:"origination_timestamp"`
	// The name of the application that was used to draft and send the message (X-Mailer, or User-Agent). Example: Spambot v2.5
	XMailer string `json:"x_mailer,omitempty" expr:"x_mailer"`
	// The MIME media type of the message (its top-level Content-Type). Example: multipart/mixed
	ContentType string `json:"content_type,omitempty" expr:"content_type"`
	// The direction of the message from the home network's point of view: inbound, outbound or internal. Example: outbound
	Direction string `json:"direction,omitempty" expr:"direction"`
	// The attachments of the message: MIME parts with a file name or an attachment disposition.
	Attachments []EmailAttachment `json:"attachments,omitempty" expr:"attachments" es:"nested"`
}

// EmailAddresses is the address list of one email header.
type EmailAddresses struct {
	// The addresses (addr-spec) of the header, display names and comments removed. Example: alice@example.com
	Address []string `json:"address,omitempty" expr:"address"`
}

// EmailAttachment is one entry of email.attachments.
type EmailAttachment struct {
	File EmailFile `json:"file,omitzero" expr:"file"`
}

// EmailFile describes an attachment's file.
type EmailFile struct {
	// Name of the attachment file, RFC 2231 and RFC 2047 decoded. Example: invoice.pdf.exe
	Name string `json:"name,omitempty" expr:"name"`
	// Attachment file extension, excluding the leading dot. Example: exe
	Extension string `json:"extension,omitempty" expr:"extension"`
	// The declared MIME media type of the attachment (its Content-Type). Example: application/pdf
	MimeType string `json:"mime_type,omitempty" expr:"mime_type"`
	// Attachment file size in bytes, after its transfer encoding (base64, quoted-printable) is decoded. Example: 68
	Size int64 `json:"size,omitempty" expr:"size"`
}
