package outputs

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	var s Secret
	if err := s.UnmarshalText([]byte("configured-s3cret-value")); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"dial http://elastic:pw@10.0.0.1:9200/_bulk: refused":    "dial http://<secret>@10.0.0.1:9200/_bulk: refused",
		`Post "https://u@h/x?token=abc&x=1": EOF`:                `Post "https://<secret>@h/x?token=<secret>&x=1": EOF`,
		"host=db password=hunter2 user=ps":                       "host=db password=<secret> user=ps",
		"sent Authorization: Bearer abc.def to the server":       "sent Authorization: Bearer <secret> to the server",
		"the server echoed configured-s3cret-value back":         "the server echoed <secret> back",
		"nothing to hide at http://10.0.0.1:9200/ (a=b is fine)": "nothing to hide at http://10.0.0.1:9200/ (a=b is fine)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestRedactHandler(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(RedactHandler(slog.NewTextHandler(&b, nil))).With("base", "http://a:wpw1@h")
	u, _ := url.Parse("http://b:wpw2@h/")
	log.WithGroup("g").Warn("retry http://c:wpw3@h", "err", errors.New("dial http://d:wpw4@h"), "url", u,
		"n", 3, slog.Group("sub", "dsn", "postgres://e:wpw5@h/db"))
	out := b.String()
	for _, leak := range []string{"wpw1", "wpw2", "wpw3", "wpw4", "wpw5"} {
		if strings.Contains(out, leak) {
			t.Errorf("%s in %s", leak, out)
		}
	}
	if !strings.Contains(out, "g.n=3") || strings.Count(out, "<secret>@h") != 5 {
		t.Errorf("attributes lost or not redacted: %s", out)
	}
}
