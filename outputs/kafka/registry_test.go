package kafka

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
)

func TestRegisteredFromYAML(t *testing.T) {
	t.Setenv("PS_TEST_KAFKA_PASSWORD_FROM_ENV", "from-env-secret")
	var sc outputs.SinkConfig
	doc := `
type: kafka
batch_size: 200
brokers: [127.0.0.1:19092]
topic: siem-{dataset}
compression: zstd
sasl: {mechanism: SCRAM-SHA-512, username: ps, password: "env:PS_TEST_KAFKA_PASSWORD_FROM_ENV"}
`
	if err := yaml.Unmarshal([]byte(doc), &sc); err != nil {
		t.Fatal(err)
	}
	sink, err := outputs.NewSink(sc)
	if err != nil {
		t.Fatal(err)
	}
	s := sink.(*Sink)
	if s.cfg.SASL.Password.Value() != "from-env-secret" || s.cfg.Compression != "zstd" || s.Topic("packetsleuth.dns") != "siem-dns" || s.mech == nil {
		t.Errorf("decoded %+v", s.cfg)
	}
	sc.SetOption("compresion", "gzip")
	if _, err := outputs.NewSink(sc); err == nil || !strings.Contains(err.Error(), `"compresion"`) {
		t.Errorf("unknown key: %v", err)
	}
}
