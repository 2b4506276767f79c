package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/packetsleuth/packetsleuth/collector"
	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/outputs"
)

const collectHelp = `Usage: sensor collect --config collector.yaml

Reads the events the sensors publish to Kafka, as a consumer group (start
several collectors with one group_id to share the partitions), and writes
them to the stores of the config (store: PostgreSQL/SQLite, elasticsearch).
Offsets are committed only once every store holds a batch, and the stores
drop what is delivered twice by event.id: each event is stored once, across
crashes and rebalances. See collector.yaml.example.

Flags:
`

func cmdCollect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, collectHelp); fs.PrintDefaults() }
	path := fs.String("config", "", "collector.yaml (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	log := slog.New(outputs.RedactHandler(slog.NewTextHandler(stderr, nil)))
	cfg, err := collector.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "sensor collect:", outputs.Redact(err.Error()))
		return 1
	}
	reg := prometheus.NewRegistry()
	c, err := collector.New(cfg, collector.NewMetrics(reg), log)
	if err != nil {
		fmt.Fprintln(stderr, "sensor collect:", outputs.Redact(err.Error()))
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	if cfg.Metrics != "" {
		ln, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			fmt.Fprintln(stderr, "sensor collect: metrics:", err)
			return 1
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler(reg))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer srv.Close()
		log.Info("metrics", "addr", ln.Addr().String())
	}
	log.Info("collecting", "brokers", cfg.Kafka.Brokers, "group", cfg.Kafka.GroupID, "topics", len(cfg.Kafka.Topics), "outputs", len(cfg.Outputs))
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "sensor collect:", outputs.Redact(err.Error()))
		return 1
	}
	fmt.Fprintln(stdout, "sensor collect: stopped")
	return 0
}
