package schemas

// HTTP is ECS `http.*`, one per request/response pair.
type HTTP struct {
	// HTTP version. Example: 1.1
	Version  string       `json:"version,omitempty" expr:"version"`
	Request  HTTPRequest  `json:"request,omitzero" expr:"request"`
	Response HTTPResponse `json:"response,omitzero" expr:"response"`
}

// HTTPRequest is ECS `http.request.*`.
type HTTPRequest struct {
	// HTTP request method. Example: GET
	Method string `json:"method,omitempty" expr:"method"`
	// Total size in bytes of the request (body and headers). Example: 104
	Bytes int64    `json:"bytes,omitempty" expr:"bytes"`
	Body  HTTPBody `json:"body,omitzero" expr:"body"`
	// Mime type of the body of the request. Example: application/json
	MimeType string `json:"mime_type,omitempty" expr:"mime_type"`
	// Referrer for this HTTP request. Example: https://www.example.com/
	Referrer string `json:"referrer,omitempty" expr:"referrer"`
}

// HTTPResponse is ECS `http.response.*`.
type HTTPResponse struct {
	// HTTP response status code. Example: 200
	StatusCode int `json:"status_code,omitempty" expr:"status_code"`
	// Total size in bytes of the response (body and headers). Example: 112
	Bytes int64    `json:"bytes,omitempty" expr:"bytes"`
	Body  HTTPBody `json:"body,omitzero" expr:"body"`
	// Mime type of the body of the response. Example: text/html
	MimeType string `json:"mime_type,omitempty" expr:"mime_type"`
}

// HTTPBody is ECS `http.*.body`.
type HTTPBody struct {
	// Size in bytes of the body. Example: 48
	Bytes int64 `json:"bytes,omitempty" expr:"bytes"`
}

// URL is ECS `url.*`.
type URL struct {
	// Unmodified original url as seen in the event source. Example: /index.html?q=packetsleuth
	Original string `json:"original,omitempty" expr:"original" es:"wildcard,text"`
	// Scheme of the url. Example: http
	Scheme string `json:"scheme,omitempty" expr:"scheme"`
	// Domain of the url. Example: www.example.com
	Domain string `json:"domain,omitempty" expr:"domain"`
	// Port of the request, such as 443. Example: 80
	Port int `json:"port,omitempty" expr:"port"`
	// Path of the request, such as "/search". Example: /index.html
	Path string `json:"path,omitempty" expr:"path" es:"wildcard"`
	// Query string of the request. Example: q=packetsleuth
	Query string `json:"query,omitempty" expr:"query"`
	// Portion of the url after the `#`. Example: top
	Fragment string `json:"fragment,omitempty" expr:"fragment"`
}
