package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// httpClient builds the client of an HTTP notifier from its ca,
// insecure_skip_verify and timeout keys.
func httpClient(ca string, insecure bool, timeout time.Duration) (*http.Client, error) {
	tc, err := tlsConfig(ca, insecure, "")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	to := timeout
	if to <= 0 {
		to = 15 * time.Second
	}
	return &http.Client{Transport: tr, Timeout: to}, nil
}

// tlsConfig is the client TLS of a notifier: its ca, insecure_skip_verify
// and (e-mail) server_name keys.
func tlsConfig(ca string, insecure bool, serverName string) (*tls.Config, error) {
	return outputs.ClientTLS{CA: ca, ServerName: serverName, InsecureSkipVerify: insecure}.Config("")
}

func checkURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url: not an http(s) URL")
	}
	return u, nil
}

// response is what a POST got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// post sends body as JSON. redact is the URL as it may appear in errors
// (webhook URLs and bot tokens are secrets).
func post(ctx context.Context, c *http.Client, target, redact string, body []byte, hdr map[string]string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("bad request URL " + redact)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PacketSleuth")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact
			return nil, ue
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// classify maps an HTTP status to the delivery contract: 2xx nil; 429 and
// 503 with Retry-After a RetryAfterError; other 4xx but 401, 403, 404, 408
// and 429 PermanentError; the rest a plain (retryable) error.
func classify(kind string, r *response) error {
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	msg := strings.TrimSpace(string(r.body))
	if len(msg) > 200 {
		msg = msg[:200]
	}
	err := fmt.Errorf("%s: HTTP %d: %s", kind, r.status, msg)
	if r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable {
		if d, ok := retryAfter(r.header.Get("Retry-After")); ok {
			return &RetryAfterError{Delay: d, Err: err}
		}
		return err
	}
	if r.status >= 400 && r.status < 500 {
		switch r.status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusRequestTimeout:
			return err // may be fixed on the far side: retry
		}
		return &PermanentError{err}
	}
	return err
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
