package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/web"
)

const serveHelp = `Usage: sensor serve [flags]
       sensor serve hash-password < password.txt

Serves the web UI, the REST API (/api/v1, see web/openapi.yaml), /metrics
and /healthz over the history store, without capturing (live connections
need "sensor run" with web.enabled). With --config, the files its
files.store.dir holds are listed and downloadable (the Files page). Authentication is required unless
--no-auth: a bearer token (--token or PS_WEB_TOKEN) and/or a user with a
bcrypt password hash (--user/--password-hash or PS_WEB_USER and
PS_WEB_PASSWORD_HASH; "sensor serve hash-password" makes the hash).
Secrets may be written env:NAME or file:PATH.

Flags:
`

func cmdServe(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "hash-password" {
		return cmdHashPassword(os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveHelp); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	configPath := fs.String("config", "", "sensor.yaml whose store output names the history (unless --store or --dsn)")
	listen := fs.String("listen", web.DefaultListen, "address to listen on, host:port")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM); with --tls-key serves HTTPS only")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM)")
	token := fs.String("token", "", "API bearer token, >= 16 characters (env:NAME, file:PATH or literal; default $"+web.EnvToken+")")
	viewerToken := fs.String("viewer-token", "", "read-only (viewer) bearer token, >= 16 characters (env:NAME, file:PATH or literal)")
	user := fs.String("user", "", "login user (default $"+web.EnvUser+")")
	hash := fs.String("password-hash", "", "bcrypt hash of the user's password (env:NAME, file:PATH or literal; default $"+web.EnvPasswordHash+")")
	noAuth := fs.Bool("no-auth", false, "serve without authentication (only on a loopback address)")
	metricsPublic := fs.Bool("metrics-public", false, "let /metrics be scraped without credentials")
	var rulePaths listFlag
	fs.Var(&rulePaths, "rules", "rule file or directory to list, repeatable (over the shipped rulesets)")
	noRules := fs.Bool("no-rules", false, "list no rules")
	var pcapIndex, pcapDirs listFlag
	fs.Var(&pcapIndex, "pcap-index", "folder of packet indexes (replay --index) for the pcap download, repeatable (STORE.pcapidx is always looked at)")
	fs.Var(&pcapDirs, "pcap-dir", "folder of captures for the pcap download, repeatable")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	set := web.Settings{Listen: *listen, TLSCert: *tlsCert, TLSKey: *tlsKey,
		Auth: web.Auth{User: *user, Disabled: *noAuth, MetricsPublic: *metricsPublic},
		Pcap: web.PcapSource{IndexDirs: pcapIndex, CaptureDirs: pcapDirs}}
	for _, s := range []struct {
		flag string
		val  string
		dst  *outputs.Secret
	}{{"token", *token, &set.Auth.Token}, {"password-hash", *hash, &set.Auth.PasswordHash}, {"viewer-token", *viewerToken, &set.Auth.ViewerToken}} {
		if s.val == "" {
			continue
		}
		if err := s.dst.UnmarshalText([]byte(s.val)); err != nil {
			fmt.Fprintf(stderr, "sensor serve: --%s: %v\n", s.flag, err)
			return 2
		}
	}
	if !*noAuth {
		set = set.WithDefaults()
	}
	if *noAuth && !web.Loopback(set.Listen) {
		fmt.Fprintln(stderr, "sensor serve: --no-auth is only allowed on a loopback address (e.g. 127.0.0.1:8080)")
		return 2
	}

	var ruleSet *rules.Set
	if !*noRules {
		rs, errs := rules.LoadFiles(rules.Options{Defaults: true}, rulePaths...)
		if len(errs) > 0 {
			rules.WriteErrors(stderr, errs)
			return 2
		}
		ruleSet = rs
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var st *store.Store
	var storeCfg store.Config
	var err error
	var fileStore *files.Store
	if *configPath != "" {
		cfg, cerr := loadConfig(*configPath)
		if cerr != nil {
			fmt.Fprintln(stderr, "sensor serve:", cerr)
			return 2
		}
		// The files sensor run extracted (files.store): listed and
		// downloaded here, never written or evicted.
		if dir := cfg.Files.Store.Dir; dir != "" {
			if fileStore, err = files.OpenStoreReader(dir); err != nil {
				fmt.Fprintln(stderr, "sensor serve: files.store:", err)
				return 2
			}
		}
	}
	if *configPath != "" && *sf.path == "" && *sf.dsn == "" {
		cfg, cerr := loadConfig(*configPath)
		if cerr != nil {
			fmt.Fprintln(stderr, "sensor serve:", cerr)
			return 2
		}
		scfg, ok, cerr := web.StoreConfig(cfg.Outputs)
		if cerr != nil {
			fmt.Fprintln(stderr, "sensor serve: store output:", cerr)
			return 2
		}
		if !ok {
			fmt.Fprintf(stderr, "sensor serve: %s has no output of type store; give --store or --dsn\n", *configPath)
			return 2
		}
		set.Pcap.IndexDirs = append(set.Pcap.IndexDirs, cfg.Web.Pcap.IndexDirs...)
		set.Pcap.CaptureDirs = append(set.Pcap.CaptureDirs, cfg.Web.Pcap.CaptureDirs...)
		st, err = store.Open(ctx, scfg)
		storeCfg = scfg
	} else {
		st, err = sf.open(ctx)
		storeCfg = sf.config()
	}
	if dir := web.StoreIndexDir(storeCfg); dir != "" {
		set.Pcap.IndexDirs = append(set.Pcap.IndexDirs, dir)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sensor serve: store:", err)
		return 2
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	log := slog.New(outputs.RedactHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	srv, err := web.New(set.Apply(web.Config{
		Store: st, Rules: ruleSet, Metrics: metrics.Handler(reg), Version: version, Log: log, Files: fileStore,
	}))
	if err != nil {
		fmt.Fprintln(stderr, "sensor serve:", err)
		return 2
	}
	if _, err := metrics.New(reg, metrics.Sources{Version: version, WebAuth: srv.AuthStats}); err != nil {
		fmt.Fprintln(stderr, "sensor serve: metrics:", err)
		return 2
	}
	if err := srv.Serve(ctx, set.Listen); err != nil {
		fmt.Fprintln(stderr, "sensor serve:", err)
		return 1
	}
	return 0
}

// cmdHashPassword reads one password line and prints its bcrypt hash.
func cmdHashPassword(in io.Reader, stdout, stderr io.Writer) int {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(stderr, "sensor serve hash-password: give the password on standard input")
		return 2
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		fmt.Fprintln(stderr, "sensor serve hash-password: use at least 8 characters")
		return 2
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		fmt.Fprintln(stderr, "sensor serve hash-password:", err)
		return 1
	}
	fmt.Fprintln(stdout, string(h))
	return 0
}
