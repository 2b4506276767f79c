package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/carve"
)

func cmdCarve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("carve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: sensor carve (--community-id ID | --bpf EXPR) -w OUT.pcap [flags] [FILE|DIR...]

Writes the packets of one connection (its Community ID, as in the events'
network.community_id; IP fragments and both directions included) or of a
BPF filter out of pcap/pcapng captures (gzip too). A capture with a packet
index (sensor replay --index) is read only where the flow's packets are;
one without is scanned. With no FILE, the captures named by the indexes in
--index-dir are used.

Flags:`)
		fs.PrintDefaults()
	}
	cid := fs.String("community-id", "", "Community ID of the flow (1:...)")
	bpf := fs.String("bpf", "", "tcpdump-syntax filter (with --community-id: both must match)")
	from := fs.String("from", "", "first packet time: RFC 3339 or Unix seconds")
	to := fs.String("to", "", "last packet time: RFC 3339 or Unix seconds")
	out := fs.String("w", "", "output file (.pcapng: pcapng, else pcap with nanosecond times; - = stdout)")
	seed := fs.Uint("community-id-seed", 0, "Community ID seed the ID was made with")
	var dirs listFlag
	fs.Var(&dirs, "index-dir", "folder of packet indexes (replay --index), repeatable")
	noIndex := fs.Bool("no-index", false, "scan the captures even where an index exists")
	quiet := fs.Bool("q", false, "no summary")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opt := carve.Options{CommunityID: *cid, BPF: *bpf, IndexDirs: dirs, NoIndex: *noIndex, Budget: budget.New(budget.DefaultLimit())}
	var err error
	switch {
	case *cid == "" && *bpf == "":
		err = errors.New("--community-id or --bpf is needed")
	case *out == "":
		err = errors.New("-w OUT is needed")
	case *seed > 65535:
		err = errors.New("--community-id-seed must be 0..65535")
	case fs.NArg() == 0 && len(dirs) == 0:
		err = errors.New("no capture given (FILE|DIR... or --index-dir)")
	}
	if err == nil {
		opt.Seed = uint16(*seed)
		if opt.From, err = parseInstant("--from", *from); err == nil {
			opt.To, err = parseInstant("--to", *to)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "sensor carve:", err)
		fs.Usage()
		return 2
	}
	opt.Warn = func(msg string) { fmt.Fprintln(stderr, "sensor carve: warning:", msg) }

	var w io.Writer = stdout
	var file *os.File
	if *out != "-" {
		// Captured packets are as private as anything the sensor keeps.
		if file, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			fmt.Fprintln(stderr, "sensor carve:", err)
			return 1
		}
		w = file
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	pw := carve.NewWriter(w, strings.HasSuffix(*out, ".pcapng"))
	st, err := carve.Carve(ctx, fs.Args(), opt, pw)
	if cerr := pw.Close(); err == nil {
		err = cerr
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "sensor carve:", err)
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stderr, "carve: %d frame(s) to %s from %d file(s) (%d by index, %d scanned); read %s of captures, %s of indexes in %s\n",
			st.Frames, *out, st.Files, st.Indexed, st.Scanned, humanize.IBytes(uint64(st.BytesRead)), humanize.IBytes(uint64(st.IndexRead)), time.Since(start).Round(time.Millisecond))
	}
	return 0
}

// parseInstant reads RFC 3339 or Unix seconds with up to nine decimals
// (kept exact: packet times are nanoseconds).
func parseInstant(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err == nil && len(frac) <= 9 {
		var ns int64
		if frac != "" {
			ns, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		if err == nil && ns >= 0 {
			return time.Unix(s, ns).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: want RFC 3339 or Unix seconds, got %q", flagName, v)
}
