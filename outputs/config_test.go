package outputs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

type fakeOpts struct {
	Address string         `yaml:"address"`
	Port    int            `yaml:"port"`
	Token   outputs.Secret `yaml:"token"`
	Size    outputs.ByteSize
}

const sampleYAML = `
outputs:
  - type: fake
    name: siem
    queue_size: 500
    batch_bytes: 2MiB
    flush_interval: 250ms
    on_full: drop
    address: example.org
    port: 514
  - type: fake
    adress: typo.example.org
`

func TestSinkConfigYAML(t *testing.T) {
	var doc struct {
		Outputs []outputs.SinkConfig `yaml:"outputs"`
	}
	if err := yaml.Unmarshal([]byte(sampleYAML), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Outputs[0]
	if c.Type != "fake" || c.Name != "siem" || c.QueueSize != 500 || c.BatchBytes != 2<<20 ||
		c.FlushInterval != 250*time.Millisecond || c.OnFull != outputs.PolicyDrop {
		t.Errorf("runner keys: %+v", c)
	}
	var o fakeOpts
	if err := c.DecodeOptions(&o); err != nil {
		t.Fatal(err)
	}
	if o.Address != "example.org" || o.Port != 514 {
		t.Errorf("options %+v", o)
	}
	err := doc.Outputs[1].DecodeOptions(&o)
	if err == nil || !strings.Contains(err.Error(), `line 12:5: unknown key "adress"`) || !strings.Contains(err.Error(), "address") ||
		!strings.Contains(err.Error(), "outputs.fake") {
		t.Errorf("unknown key error: %v", err)
	}
}

func TestSinkConfigValidate(t *testing.T) {
	for _, c := range []outputs.SinkConfig{
		{Type: "x", OnFull: "sometimes"},
		{Type: "x", OnFull: outputs.PolicySpool},
		{Type: "x", QueueSize: -1},
		{},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (outputs.SinkConfig{Type: "x"}).Validate(); err != nil {
		t.Error(err)
	}
	d := outputs.SinkConfig{Type: "x", BatchSize: 50000}.WithDefaults()
	if d.Name != "x" || d.BatchSize != d.QueueSize || d.OnFull != outputs.PolicyBlock {
		t.Errorf("defaults %+v", d)
	}
}

func TestParseFlag(t *testing.T) {
	c, err := outputs.ParseFlag("fake:address=127.0.0.1:514,queue_size=42,port=7,size=1KiB")
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != "fake" || c.QueueSize != 42 {
		t.Errorf("%+v", c)
	}
	var o fakeOpts
	if err := c.DecodeOptions(&o); err != nil {
		t.Fatal(err)
	}
	if o.Address != "127.0.0.1:514" || o.Port != 7 || o.Size != 1024 {
		t.Errorf("options %+v", o)
	}
	for _, bad := range []string{"", ":x=1", "fake:novalue", "fake:queue_size=many"} {
		if _, err := outputs.ParseFlag(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	c, _ = outputs.ParseFlag("fake:bogus=1")
	if err := c.DecodeOptions(&o); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("flag with an unknown key: %v", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Setenv("PS_TEST_SECRET_X", "hunter2")
	var o fakeOpts
	c, _ := outputs.ParseFlag("fake:token=env:PS_TEST_SECRET_X")
	if err := c.DecodeOptions(&o); err != nil {
		t.Fatal(err)
	}
	if o.Token.Value() != "hunter2" {
		t.Fatalf("token %q", o.Token.Value())
	}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "token", o.Token)
	j, _ := json.Marshal(o)
	y, _ := yaml.Marshal(o)
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v %#v %s %v", o, o, o.Token, o.Token), string(j), string(y), logs.String()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "secret") {
			t.Errorf("secret leaked or not redacted: %s", s)
		}
	}
	c, _ = outputs.ParseFlag("fake:token=env:PS_TEST_SECRET_UNSET_Y")
	if err := c.DecodeOptions(&o); err == nil {
		t.Error("unset env secret: no error")
	}
}

// fakeSinks are the sinks the "fake" type made, by name; the type is
// registered once per process (go test -count=N runs the test N times).
var (
	fakeSinks    map[string]*outputstest.Sink
	registerFake sync.Once
)

func TestRegistryAndOpen(t *testing.T) {
	fakeSinks = map[string]*outputstest.Sink{}
	sinks := fakeSinks
	registerFake.Do(func() {
		outputs.Register("fake", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
			var o fakeOpts
			if err := cfg.DecodeOptions(&o); err != nil {
				return nil, err
			}
			s := outputstest.New()
			fakeSinks[cfg.WithDefaults().Name] = s
			return s, nil
		})
	})
	if _, err := outputs.NewSink(outputs.SinkConfig{Type: "nosuch"}); err == nil || !strings.Contains(err.Error(), "known: ") || !strings.Contains(err.Error(), "fake") {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := outputs.Open([]outputs.SinkConfig{{Type: "fake"}, {Type: "fake"}}); err == nil {
		t.Error("two outputs with the same name: no error")
	}
	bad, _ := outputs.ParseFlag("fake:adress=x")
	if _, err := outputs.Open([]outputs.SinkConfig{{Type: "fake", Name: "a"}, bad}); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("bad options: %v", err)
	}
	f, err := outputs.Open([]outputs.SinkConfig{{Type: "fake", Name: "a"}, {Type: "fake", Name: "b", FlushInterval: time.Millisecond}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]schemas.Record{outputstest.Record("d", "x", 1, t0)})
	if _, err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sinks["a"].Len() != 1 || sinks["b"].Len() != 1 || len(f.Runners()) != 2 {
		t.Errorf("fan-out: a %d b %d", sinks["a"].Len(), sinks["b"].Len())
	}
}
