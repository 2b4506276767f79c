// Package elasticsearch is the Elasticsearch output. Write sends one batch
// as one _bulk request and reads the per-item results in order, so the
// Runner learns exactly which records to retry (429, 5xx) and which to
// dead-letter (mapping errors and other 4xx) instead of looping on them.
//
// It also owns the index template and ILM policy that `sensor setup
// elasticsearch` installs (Setup); the template's mappings are generated
// from the schemas structs (Mappings).
package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("elasticsearch", func(sc outputs.SinkConfig) (outputs.Sink, error) {
		var c Config
		if err := sc.DecodeOptions(&c); err != nil {
			return nil, err
		}
		return New(c)
	}, Config{})
}

// Sink writes records with the _bulk API. It implements outputs.Sink;
// Write and Close are not called concurrently.
type Sink struct {
	cfg    Config
	client *es.Client
	action string // "create" (data streams) or "index"

	names   map[nameKey][]byte // target → its action line, reused
	body    bytes.Buffer
	respBuf bytes.Buffer
	sent    []int
}

type nameKey struct {
	dataset string
	day     int64 // days since the epoch (index mode only)
}

var _ outputs.Sink = (*Sink)(nil)

// New checks cfg and returns an unconnected sink.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	if _, err := cfg.TLS.Config("tls."); err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, action: "create", names: map[nameKey][]byte{}}
	if cfg.Mode == ModeIndex {
		s.action = "index"
	}
	return s, nil
}

// NewClient builds a go-elasticsearch client from cfg (also what `sensor
// setup elasticsearch` uses to call Setup).
func NewClient(cfg Config) (*es.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	tlsCfg, err := cfg.TLS.Config("tls.")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.ResponseHeaderTimeout = cfg.Timeout
	tr.MaxIdleConnsPerHost = 4
	return es.NewClient(es.Config{
		Addresses:           cfg.Hosts,
		Username:            cfg.Username,
		Password:            cfg.Password.Value(),
		APIKey:              cfg.APIKey.Value(),
		Transport:           tr,
		CompressRequestBody: *cfg.Compression,
		PoolCompressor:      *cfg.Compression,
		MaxRetries:          len(cfg.Hosts), // move to the next node on a network error; the Runner does the rest
		Header:              http.Header{"User-Agent": []string{"packetsleuth"}},
	})
}

// Index returns the target of a record: a data stream or a dated index.
func (s *Sink) Index(dataset string, t time.Time) string {
	return s.indexName(dataset, t)
}

func (s *Sink) indexName(dataset string, t time.Time) string {
	r := strings.NewReplacer("{dataset}", strings.ToLower(strings.TrimPrefix(dataset, "packetsleuth.")), "{date}", t.UTC().Format("2006.01.02"))
	return r.Replace(s.cfg.Index)
}

// actionLine returns the cached `{"create":{"_index":"..."}}\n` for r, or
// nil when r's dataset makes an invalid index name.
func (s *Sink) actionLine(r *schemas.Record) []byte {
	k := nameKey{dataset: r.Dataset}
	if s.cfg.Mode == ModeIndex {
		k.day = r.Time.Unix() / 86400
		if r.Time.Unix() < 0 {
			k.day = (r.Time.Unix() - 86399) / 86400
		}
	}
	if line, ok := s.names[k]; ok {
		return line
	}
	name := s.indexName(r.Dataset, r.Time)
	var line []byte
	if validIndex(name) {
		line = fmt.Appendf(nil, `{%q:{"_index":%q}}`+"\n", s.action, name)
	}
	if len(s.names) > 4096 { // many days of many datasets: start over
		clear(s.names)
	}
	s.names[k] = line
	return line
}

// Connect creates the client once and checks that the cluster answers (this
// also runs go-elasticsearch's product check and the credentials).
func (s *Sink) Connect(ctx context.Context) error {
	if s.client == nil {
		c, err := NewClient(s.cfg)
		if err != nil {
			return err
		}
		s.client = c
	}
	res, err := s.client.Info(s.client.Info.WithContext(ctx))
	if err != nil {
		return s.transportError("connect", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return s.statusError("connect", res.StatusCode, res.Body)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return nil
}

// maxDocID is the longest _id Elasticsearch takes (bytes).
const maxDocID = 512

// Write sends the batch as one _bulk request, each document with its
// event.id as _id.
func (s *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	if s.client == nil {
		return outputs.ErrNotConnected
	}
	var be outputs.BatchError
	var permReasons []error
	s.body.Reset()
	sent := s.sent[:0] // bulk item j is batch[sent[j]]
	for i := range batch {
		line := s.actionLine(&batch[i])
		if line == nil {
			be.Permanent = append(be.Permanent, i)
			permReasons = append(permReasons, fmt.Errorf("elasticsearch: dataset %q gives no valid index name from %q", batch[i].Dataset, s.cfg.Index))
			continue
		}
		if bytes.IndexByte(batch[i].JSON, '\n') >= 0 {
			be.Permanent = append(be.Permanent, i)
			permReasons = append(permReasons, errors.New("elasticsearch: record JSON contains a newline"))
			continue
		}
		if id := schemas.EventIDOf(batch[i].JSON); len(id) > 0 && len(id) <= maxDocID {
			// the event's id is the document's: a resent record is stored
			// once (create answers 409, index overwrites it)
			s.body.Write(line[:len(line)-len("}}\n")])
			s.body.WriteString(`,"_id":"`)
			s.body.Write(id)
			s.body.WriteString("\"}}\n")
		} else {
			s.body.Write(line)
		}
		s.body.Write(batch[i].JSON)
		s.body.WriteByte('\n')
		sent = append(sent, i)
	}
	s.sent = sent
	if len(sent) > 0 {
		if err := s.bulk(ctx, batch, sent, &be, &permReasons); err != nil {
			return err
		}
	}
	if len(be.Failed) == 0 && len(be.Permanent) == 0 {
		return nil
	}
	be.Reasons = append(be.Reasons, permReasons...)
	return &be
}

// bulkResponse is the part of a _bulk response the sink reads.
type bulkResponse struct {
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
}

type bulkItem struct {
	Status int        `json:"status"`
	Error  *bulkError `json:"error"`
}

type bulkError struct {
	Type     string     `json:"type"`
	Reason   string     `json:"reason"`
	CausedBy *bulkError `json:"caused_by"`
}

func (e *bulkError) String() string {
	if e == nil {
		return "no reason given"
	}
	s := e.Type + ": " + e.Reason
	if e.CausedBy != nil {
		s += " (caused by " + e.CausedBy.String() + ")"
	}
	return s
}

func (s *Sink) bulk(ctx context.Context, batch []schemas.Record, sent []int, be *outputs.BatchError, perm *[]error) error {
	opts := []func(*esapi.BulkRequest){s.client.Bulk.WithContext(ctx), s.client.Bulk.WithFilterPath("errors", "items.*.status", "items.*.error")}
	if s.cfg.Pipeline != "" {
		opts = append(opts, s.client.Bulk.WithPipeline(s.cfg.Pipeline))
	}
	res, err := s.client.Bulk(bytes.NewReader(s.body.Bytes()), opts...)
	if err != nil {
		return s.transportError("bulk", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return s.statusError("bulk", res.StatusCode, res.Body)
	}
	s.respBuf.Reset()
	if _, err := s.respBuf.ReadFrom(res.Body); err != nil {
		return s.transportError("bulk", err)
	}
	var head struct {
		Errors bool `json:"errors"`
	}
	if err := json.Unmarshal(s.respBuf.Bytes(), &head); err != nil {
		return fmt.Errorf("elasticsearch: bulk: unreadable response: %w", err)
	}
	if !head.Errors {
		return nil
	}
	var resp bulkResponse
	if err := json.Unmarshal(s.respBuf.Bytes(), &resp); err != nil {
		return fmt.Errorf("elasticsearch: bulk: unreadable response: %w", err)
	}
	if len(resp.Items) != len(sent) {
		return fmt.Errorf("elasticsearch: bulk: %d items in the response for %d documents", len(resp.Items), len(sent))
	}
	for j, m := range resp.Items {
		var it bulkItem
		var op string
		for k, v := range m {
			op, it = k, v
		}
		i := sent[j]
		switch {
		case it.Status >= 200 && it.Status < 300:
		case it.Status == http.StatusConflict && op == "create":
			// The document exists already (its _id is the event.id): a
			// resend of a delivered record.
		case it.Status == http.StatusTooManyRequests || it.Status >= 500 || it.Status == 0:
			be.Failed = append(be.Failed, i)
			be.Reasons = append(be.Reasons, fmt.Errorf("elasticsearch: %s %s: status %d: %s", op, s.indexName(batch[i].Dataset, batch[i].Time), it.Status, it.Error))
		default:
			be.Permanent = append(be.Permanent, i)
			*perm = append(*perm, fmt.Errorf("elasticsearch: %s %s: status %d: %s", op, s.indexName(batch[i].Dataset, batch[i].Time), it.Status, it.Error))
		}
	}
	return nil
}

// Close releases idle connections.
func (s *Sink) Close(ctx context.Context) error {
	if s.client != nil {
		if tr, ok := s.client.Transport.(interface{ CloseIdleConnections() }); ok {
			tr.CloseIdleConnections()
		}
	}
	return nil
}

// transportError wraps a failed request: a network failure asks the Runner
// to reconnect.
func (s *Sink) transportError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("elasticsearch: %s: %w", op, err)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: elasticsearch %s %s: %v", outputs.ErrNotConnected, op, strings.Join(s.cfg.Hosts, ","), err)
	}
	return fmt.Errorf("elasticsearch: %s %s: %w", op, strings.Join(s.cfg.Hosts, ","), err)
}

// StatusError is a whole request refused by Elasticsearch.
type StatusError struct {
	Op     string
	Status int
	Type   string // error.type, e.g. security_exception
	Reason string // error.reason
}

func (e *StatusError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (check username/password or api_key)"
	case http.StatusForbidden:
		hint = " (the user or API key lacks a privilege: create_doc and auto_configure on the target)"
	case http.StatusTooManyRequests:
		hint = " (the cluster is overloaded; retried later)"
	}
	return "elasticsearch: " + e.Op + ": status " + strconv.Itoa(e.Status) + ": " + e.Type + ": " + e.Reason + hint
}

// Temporary reports statuses worth retrying.
func (e *StatusError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

func (s *Sink) statusError(op string, status int, body io.Reader) error {
	var eb struct {
		Error json.RawMessage `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	se := &StatusError{Op: op, Status: status}
	if json.Unmarshal(b, &eb) == nil && len(eb.Error) > 0 {
		var be bulkError
		if json.Unmarshal(eb.Error, &be) == nil && be.Type != "" {
			se.Type, se.Reason = be.Type, be.Reason
		} else {
			se.Reason = string(eb.Error) // older servers: "error" is a string
		}
	} else {
		se.Reason = strings.TrimSpace(string(b))
	}
	return se
}
