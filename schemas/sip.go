package schemas

// SIP is one SIP message (dataset packetsleuth.sip), over UDP or TCP: ECS
// has no SIP fields. One event per message, requests and responses alike,
// tied together by call_id and cseq. The request URI is url.original, the
// User-Agent header user_agent.original. As on every protocol event,
// source is the flow's client, on a response too.
type SIP struct {
	// request or response. Example: request
	Type string `json:"type,omitempty" expr:"type"`
	// Request method. Example: REGISTER
	Method string `json:"method,omitempty" expr:"method"`
	// Response status code. Example: 401
	StatusCode int `json:"status_code,omitempty" expr:"status_code"`
	// Response reason phrase. Example: Unauthorized
	Reason string `json:"reason,omitempty" expr:"reason"`
	// Address of the From header (inside <...>, without the display name and tag). Example: sip:alice@example.com
	From string `json:"from,omitempty" expr:"from"`
	// Address of the To header. Example: sip:bob@example.com
	To string `json:"to,omitempty" expr:"to"`
	// Address of the first Contact header. Example: sip:alice@192.0.2.10:5060
	Contact string `json:"contact,omitempty" expr:"contact"`
	// Call-ID header. Example: 578222729-4665d775@578222732-4665d772
	CallID string `json:"call_id,omitempty" expr:"call_id"`
	// CSeq header: sequence number and method. Example: 1 REGISTER
	CSeq string `json:"cseq,omitempty" expr:"cseq"`
	// Method of the CSeq header: on a response, the method it answers. Example: REGISTER
	CSeqMethod string `json:"cseq_method,omitempty" expr:"cseq_method"`
	// First Via header. Example: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds
	Via string `json:"via,omitempty" expr:"via"`
	// Server header of a response. Example: Asterisk PBX 18.0
	Server string `json:"server,omitempty" expr:"server"`
	// Content-Type of the body. Example: application/sdp
	ContentType string `json:"content_type,omitempty" expr:"content_type"`
}
