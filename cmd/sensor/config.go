package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"go.yaml.in/yaml/v3"
)

// Config is sensor.yaml. Every key is documented in sensor.yaml.example;
// unknown keys are errors naming the file and line.
type Config struct {
	Workers         int                  `yaml:"workers"`
	BPF             string               `yaml:"bpf"`
	CommunityIDSeed uint16               `yaml:"community_id_seed"`
	Flow            flow.Config          `yaml:"flow"`
	Enrich          enrich.Config        `yaml:"enrich"`
	Outputs         []outputs.SinkConfig `yaml:"outputs"`
}

// loadConfig reads a config file strictly. An empty path gives the defaults.
func loadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if c.Workers < 0 {
		return c, fmt.Errorf("%s: workers: must not be negative", path)
	}
	return c, nil
}
