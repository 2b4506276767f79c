package schemas

// HTTP is ECS `http.*`, one per request/response pair.
type HTTP struct {
	Version  string       `json:"version,omitempty" expr:"version"`
	Request  HTTPRequest  `json:"request,omitzero" expr:"request"`
	Response HTTPResponse `json:"response,omitzero" expr:"response"`
}

// HTTPRequest is ECS `http.request.*`.
type HTTPRequest struct {
	Method   string   `json:"method,omitempty" expr:"method"`
	Bytes    int64    `json:"bytes,omitempty" expr:"bytes"`
	Body     HTTPBody `json:"body,omitzero" expr:"body"`
	MimeType string   `json:"mime_type,omitempty" expr:"mime_type"`
	Referrer string   `json:"referrer,omitempty" expr:"referrer"`
}

// HTTPResponse is ECS `http.response.*`.
type HTTPResponse struct {
	StatusCode int      `json:"status_code,omitempty" expr:"status_code"`
	Bytes      int64    `json:"bytes,omitempty" expr:"bytes"`
	Body       HTTPBody `json:"body,omitzero" expr:"body"`
	MimeType   string   `json:"mime_type,omitempty" expr:"mime_type"`
}

// HTTPBody is ECS `http.*.body`.
type HTTPBody struct {
	Bytes int64 `json:"bytes,omitempty" expr:"bytes"`
}

// URL is ECS `url.*`.
type URL struct {
	Original string `json:"original,omitempty" expr:"original"`
	Scheme   string `json:"scheme,omitempty" expr:"scheme"`
	Domain   string `json:"domain,omitempty" expr:"domain"`
	Port     int    `json:"port,omitempty" expr:"port"`
	Path     string `json:"path,omitempty" expr:"path"`
	Query    string `json:"query,omitempty" expr:"query"`
	Fragment string `json:"fragment,omitempty" expr:"fragment"`
}
