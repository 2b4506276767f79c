package outputs

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// Redaction: one helper keeps credentials out of logs, errors, /metrics
// and the status page. Redact removes the user-info of URLs
// (scheme://user:password@), key=value secrets (password=..., token=...,
// Authorization headers), and the value of every Secret the process has
// read from its config, flags or environment (Secret.UnmarshalText
// remembers them). RedactHandler applies it to every log record.

// credentialRE finds user-info in URLs, key=value secrets (DSNs, query
// strings) and Authorization header values.
var credentialRE = regexp.MustCompile(`(?i)(://)[^/@\s"']*@|((?:password|passwd|pwd|token|secret|apikey|api_key|access_token|sasl_password)=)[^\s&;,"']+|(authorization:\s*[a-z]+\s+)[^\s"',]+`)

// minSecretLen: shorter configured values are not searched for (they
// would blot out ordinary words).
const minSecretLen = 6

// maxSecrets bounds the remembered values.
const maxSecrets = 1024

var known struct {
	mu     sync.RWMutex
	values []string
}

// rememberSecret adds v to the values Redact removes.
func rememberSecret(v string) {
	if len(v) < minSecretLen {
		return
	}
	known.mu.Lock()
	defer known.mu.Unlock()
	for _, k := range known.values {
		if k == v {
			return
		}
	}
	if len(known.values) < maxSecrets {
		known.values = append(known.values, v)
	}
}

// Redact returns msg without credentials (see above). It is cheap when
// there is nothing to remove.
func Redact(msg string) string {
	known.mu.RLock()
	for _, v := range known.values {
		if strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, redacted)
		}
	}
	known.mu.RUnlock()
	if !strings.Contains(msg, "://") && !strings.Contains(msg, "=") && !strings.Contains(strings.ToLower(msg), "authorization") {
		return msg
	}
	return credentialRE.ReplaceAllStringFunc(msg, func(m string) string {
		if strings.HasPrefix(m, "://") {
			return "://" + redacted + "@"
		}
		if i := strings.IndexByte(m, '='); i >= 0 {
			return m[:i+1] + redacted
		}
		// Authorization: SCHEME value
		f := strings.Fields(m)
		return strings.Join(f[:len(f)-1], " ") + " " + redacted
	})
}

// RedactHandler wraps h so that the message and every string or error
// attribute of a record pass through Redact.
func RedactHandler(h slog.Handler) slog.Handler { return redactHandler{h} }

type redactHandler struct{ h slog.Handler }

func (r redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactHandler{r.h.WithAttrs(red)}
}

func (r redactHandler) WithGroup(name string) slog.Handler { return redactHandler{r.h.WithGroup(name)} }

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = redactAttr(x)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, Redact(err.Error()))
		}
		if s, ok := v.Any().(interface{ String() string }); ok {
			return slog.String(a.Key, Redact(s.String()))
		}
		return slog.Any(a.Key, v.Any()) // numbers, times and the like
	}
	return slog.Attr{Key: a.Key, Value: v}
}
