package elasticsearch

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
)

func TestRegisteredFromYAML(t *testing.T) {
	t.Setenv("PS_TEST_ES_API_KEY_FROM_ENV", "a2V5OnNlY3JldA==")
	var sc outputs.SinkConfig
	doc := `
type: elasticsearch
hosts: [https://es1:9200, https://es2:9200]
mode: index
api_key: "env:PS_TEST_ES_API_KEY_FROM_ENV"
timeout: 5s
`
	if err := yaml.Unmarshal([]byte(doc), &sc); err != nil {
		t.Fatal(err)
	}
	sink, err := outputs.NewSink(sc)
	if err != nil {
		t.Fatal(err)
	}
	s := sink.(*Sink)
	if s.cfg.APIKey.Value() != "a2V5OnNlY3JldA==" || s.action != "index" || s.cfg.Index != DefaultIndex || s.cfg.Timeout.Seconds() != 5 {
		t.Errorf("decoded %+v", s.cfg)
	}
	sc.SetOption("mode", "stream")
	if _, err := outputs.NewSink(sc); err == nil || !strings.HasPrefix(err.Error(), "mode:") {
		t.Errorf("bad mode: %v", err)
	}
}
