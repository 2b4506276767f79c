// Package splunk sends events to a Splunk HTTP Event Collector (HEC):
// batches of JSON envelopes, concatenated, POSTed to
// /services/collector/event with "Authorization: Splunk <token>".
//
//	outputs:
//	  - type: splunk
//	    url: https://splunk.example.org:8088
//	    token: env:PS_SPLUNK_TOKEN     # or file:/path, or the token itself
//	    index: netsec
//	    sourcetype: packetsleuth:{dataset}   # default _json
//	    ca: /etc/packetsleuth/splunk-ca.pem
//
// Each envelope is
//
//	{"time":1700000000.123456,"host":"...","source":"...","sourcetype":"...","index":"...","event":<ECS JSON>}
//
// HEC answers are mapped to the runner's contract: 200 is delivered; busy
// or unhealthy (503, code 9/18/19), 429, 5xx and network errors are retried;
// bad data (400 with code 5, 6, 12, 13 or 15) rejects the event named by
// invalid-event-number (HEC indexed the ones before it, the ones after are
// retried) or, without that number, the whole request; token and channel
// errors (401/403, code 1-4, 7, 10, 11) are retried, since they need a fix on
// the Splunk side rather than losing data; 413 halves the request. Indexer
// acknowledgement is not polled: a 200 counts as delivered.
package splunk

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("splunk", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o Options
		if err := cfg.DecodeOptions(&o); err != nil {
			return nil, err
		}
		return New(o)
	}, Options{})
}

// Options are the Splunk output's own keys.
type Options struct {
	URL                string           `yaml:"url"`   // HEC base URL; /services/collector/event is added when it has no path
	Token              outputs.Secret   `yaml:"token"` // HEC token (env:NAME and file:PATH read it from there)
	Index              string           `yaml:"index"`
	Sourcetype         string           `yaml:"sourcetype"` // default _json; {dataset} is replaced by the short dataset
	Source             string           `yaml:"source"`     // default packetsleuth
	Host               string           `yaml:"host"`       // default the machine's name
	CA                 string           `yaml:"ca"`
	Cert               string           `yaml:"cert"`
	Key                string           `yaml:"key"`
	InsecureSkipVerify bool             `yaml:"insecure_skip_verify"`
	Gzip               bool             `yaml:"gzip"`              // gzip request bodies
	MaxRequestBytes    outputs.ByteSize `yaml:"max_request_bytes"` // default 800KiB (HEC's max_content_length is 1MB by default)
}

// Sink is a Splunk HEC sink. Use New.
type Sink struct {
	opts    Options
	url     string
	client  *http.Client
	channel string
	maxReq  int
	prefix  []byte // `,"host":...,"source":...` then sourcetype parts
	stParts [2]string
	hasDS   bool
	stJSON  map[string][]byte // quoted sourcetype by dataset (bounded)
	suffix  []byte            // `,"index":...,"event":`
	body    []byte
	zbuf    bytes.Buffer
	zw      *gzip.Writer
	tls     *tls.Config
}

// New checks o and returns a Sink.
func New(o Options) (*Sink, error) {
	var errs []error
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("outputs.splunk: url: %q is not an http(s) URL", o.URL))
	} else if u.Path == "" || u.Path == "/" {
		u.Path = "/services/collector/event"
	}
	if o.Token.Value() == "" {
		errs = append(errs, errors.New("outputs.splunk: token: must not be empty"))
	}
	if o.Sourcetype == "" {
		o.Sourcetype = "_json"
	}
	if o.Source == "" {
		o.Source = "packetsleuth"
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 800 << 10
	}
	tc, err := outputs.ClientTLS{CA: o.CA, Cert: o.Cert, Key: o.Key, InsecureSkipVerify: o.InsecureSkipVerify}.Config("outputs.splunk: ")
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Sink{opts: o, url: u.String(), channel: uuid.NewString(), maxReq: int(o.MaxRequestBytes), tls: tc}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.Proxy = nil
	s.client = &http.Client{Transport: tr}
	s.prefix = append(s.prefix, `,"host":`...)
	s.prefix = appendString(s.prefix, o.Host)
	s.prefix = append(s.prefix, `,"source":`...)
	s.prefix = appendString(s.prefix, o.Source)
	s.prefix = append(s.prefix, `,"sourcetype":`...)
	before, after, found := strings.Cut(o.Sourcetype, "{dataset}")
	s.stParts, s.hasDS = [2]string{before, after}, found
	if o.Index != "" {
		s.suffix = append(s.suffix, `,"index":`...)
		s.suffix = appendString(s.suffix, o.Index)
	}
	s.suffix = append(s.suffix, `,"event":`...)
	if o.Gzip {
		s.zw = gzip.NewWriter(&s.zbuf)
	}
	return s, nil
}

func appendString(b []byte, v string) []byte {
	q, _ := json.Marshal(v)
	return append(b, q...)
}

// Connect does nothing: HTTP connects per request (with keep-alive).
func (s *Sink) Connect(ctx context.Context) error { return nil }

// appendEnvelope appends one HEC event envelope.
func (s *Sink) appendEnvelope(b []byte, r *schemas.Record) []byte {
	b = append(b, `{"time":`...)
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b = strconv.AppendInt(b, t.Unix(), 10)
	us := t.Nanosecond() / 1000
	b = append(b, '.', byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10))
	b = append(b, s.prefix...)
	b = append(b, s.sourcetype(r.Dataset)...)
	b = append(b, s.suffix...)
	b = append(b, r.JSON...)
	return append(b, '}')
}

// sourcetype returns the quoted sourcetype of a dataset.
func (s *Sink) sourcetype(dataset string) []byte {
	if q, ok := s.stJSON[dataset]; ok {
		return q
	}
	st := s.stParts[0]
	if s.hasDS {
		ds := dataset
		if i := strings.LastIndexByte(ds, '.'); i >= 0 {
			ds = ds[i+1:]
		}
		st += ds + s.stParts[1]
	}
	q := appendString(nil, st)
	if s.stJSON == nil || len(s.stJSON) >= 256 {
		s.stJSON = map[string][]byte{}
	}
	s.stJSON[dataset] = q
	return q
}

// Write sends the batch in requests of at most max_request_bytes.
func (s *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	var perm []int
	var permWhy []error
	done := 0
	for done < len(batch) {
		b := s.body[:0]
		n := 0
		for done+n < len(batch) {
			start := len(b)
			b = s.appendEnvelope(b, &batch[done+n])
			if n > 0 && len(b) > s.maxReq {
				b = b[:start]
				break
			}
			n++
		}
		s.body = b
		settled, rej, why, err := s.post(ctx, batch[done:done+n], b)
		for j, k := range rej {
			perm = append(perm, done+k)
			permWhy = append(permWhy, why[j])
		}
		if err != nil {
			if done+settled == 0 {
				return err // nothing delivered: the runner retries the batch
			}
			be := &outputs.BatchError{Permanent: perm}
			for i := done + settled; i < len(batch); i++ {
				be.Failed = append(be.Failed, i)
				be.Reasons = append(be.Reasons, err)
			}
			be.Reasons = append(be.Reasons, permWhy...)
			return be
		}
		done += n
	}
	if len(perm) > 0 {
		return &outputs.BatchError{Permanent: perm, Reasons: permWhy}
	}
	return nil
}

// hecReply is HEC's JSON answer.
type hecReply struct {
	Text               string `json:"text"`
	Code               *int   `json:"code"`
	InvalidEventNumber *int   `json:"invalid-event-number"`
	AckID              *int64 `json:"ackId"`
}

// post sends one request of len(recs) envelopes. Records [0, settled)
// are done: delivered, or rejected for good when listed in rejected (with
// a reason each). A non-nil err means records [settled, len) must be retried.
func (s *Sink) post(ctx context.Context, recs []schemas.Record, body []byte) (settled int, rejected []int, why []error, err error) {
	var rd io.Reader = bytes.NewReader(body)
	if s.zw != nil {
		s.zbuf.Reset()
		s.zw.Reset(&s.zbuf)
		s.zw.Write(body)
		s.zw.Close()
		rd = bytes.NewReader(s.zbuf.Bytes())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Splunk "+s.opts.Token.Value())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.channel)
	if s.zw != nil {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("outputs.splunk: %w", scrub(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var rep hecReply
	json.Unmarshal(raw, &rep)
	code := -1
	if rep.Code != nil {
		code = *rep.Code
	}
	herr := fmt.Errorf("outputs.splunk: HTTP %d: %s (code %d)", resp.StatusCode, strings.TrimSpace(rep.Text), code)
	n := len(recs)
	switch {
	case resp.StatusCode/100 == 2 && (code == 0 || code == -1):
		return n, nil, nil, nil
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		if n == 1 {
			return 1, []int{0}, []error{herr}, nil
		}
		return s.halves(ctx, recs)
	case resp.StatusCode == http.StatusBadRequest && (code == 5 || code == 6 || code == 12 || code == 13 || code == 15):
		if k := rep.InvalidEventNumber; k != nil && *k >= 0 && *k < n {
			// HEC indexed the events before it and none after
			if *k == n-1 {
				return n, []int{*k}, []error{herr}, nil
			}
			return *k + 1, []int{*k}, []error{herr}, fmt.Errorf("%w: events after %d not indexed", herr, *k)
		}
		rejected = make([]int, n)
		why = make([]error, n)
		for i := range rejected {
			rejected[i], why[i] = i, herr
		}
		return n, rejected, why, nil
	default:
		return 0, nil, nil, herr
	}
}

// halves resends recs in two requests after a 413.
func (s *Sink) halves(ctx context.Context, recs []schemas.Record) (int, []int, []error, error) {
	mid := len(recs) / 2
	var rejected []int
	var why []error
	for k, part := range [][]schemas.Record{recs[:mid], recs[mid:]} {
		var b []byte
		for i := range part {
			b = s.appendEnvelope(b, &part[i])
		}
		off := k * mid
		settled, rej, w, err := s.post(ctx, part, b)
		for _, i := range rej {
			rejected = append(rejected, off+i)
		}
		why = append(why, w...)
		if err != nil {
			return off + settled, rejected, why, err
		}
	}
	return len(recs), rejected, why, nil
}

// scrub removes the URL's query (where a token could be) from a client error.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Close releases idle connections.
func (s *Sink) Close(ctx context.Context) error {
	s.client.CloseIdleConnections()
	return nil
}
