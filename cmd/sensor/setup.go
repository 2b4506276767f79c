package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/elasticsearch"
)

// cmdSetup is `sensor setup elasticsearch`: it installs the ILM policy and
// the index template generated from the event schema.
func cmdSetup(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "elasticsearch" {
		fmt.Fprintln(stderr, "Usage: sensor setup elasticsearch --output elasticsearch:hosts=URL[;URL],... [--config F]")
		return 2
	}
	fs := flag.NewFlagSet("setup elasticsearch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("output", "", "the Elasticsearch output, as for replay: elasticsearch:hosts=...,username=...,password=env:ES_PASSWORD,mode=...")
	configPath := fs.String("config", "", "sensor.yaml whose first elasticsearch output to use")
	timeout := fs.Duration("timeout", 30*time.Second, "deadline for the requests")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	sc, err := elasticsearchOutput(*out, *configPath)
	if err != nil {
		fmt.Fprintln(stderr, "sensor setup elasticsearch:", outputs.Redact(err.Error()))
		return 2
	}
	var c elasticsearch.Config
	if err = sc.DecodeOptions(&c); err == nil {
		err = c.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "sensor setup elasticsearch:", outputs.Redact(err.Error()))
		return 2
	}
	client, err := elasticsearch.NewClient(c)
	if err != nil {
		fmt.Fprintln(stderr, "sensor setup elasticsearch:", outputs.Redact(err.Error()))
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := elasticsearch.Setup(ctx, client, elasticsearch.SetupOptions{Mode: c.Mode}); err != nil {
		fmt.Fprintln(stderr, "sensor setup elasticsearch:", outputs.Redact(err.Error()))
		return 1
	}
	fmt.Fprintln(stdout, "installed ILM policy and index template packetsleuth")
	return 0
}

func elasticsearchOutput(flagValue, configPath string) (outputs.SinkConfig, error) {
	if flagValue != "" {
		return outputs.ParseFlag(flagValue)
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		return outputs.SinkConfig{}, err
	}
	for _, o := range cfg.Outputs {
		if o.Type == "elasticsearch" {
			return o, nil
		}
	}
	return outputs.SinkConfig{}, fmt.Errorf("no elasticsearch output given (--output or outputs: in --config)")
}
