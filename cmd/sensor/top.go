package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/web"
	"github.com/packetsleuth/packetsleuth/web/top"
)

// cmdTop is `sensor top`: flags in, the view lives in web/top.
func cmdTop(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("top", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, top.Help); fs.PrintDefaults() }
	var o top.Options
	fs.StringVar(&o.URL, "url", "http://"+web.DefaultListen, "base URL of the sensor's web server")
	token := fs.String("token", "", "bearer token (env:NAME, file:PATH or literal; default $"+web.EnvToken+")")
	fs.StringVar(&o.CA, "ca", "", "CA certificate (PEM) that signed the server's certificate, for https")
	fs.DurationVar(&o.Interval, "interval", 2*time.Second, "refresh interval")
	fs.IntVar(&o.Count, "count", 1, "snapshots to print when standard output is not a terminal")
	fs.StringVar(&o.Sort, "sort", "bytes", "sort column: "+strings.Join(top.Sorts, ", "))
	fs.BoolVar(&o.Reverse, "reverse", false, "reverse the sort order")
	fs.StringVar(&o.Filter, "filter", "", `initial filter, e.g. "ip=10.0.0.5 port=53 proto=udp"`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Token = os.Getenv(web.EnvToken)
	if *token != "" {
		var s outputs.Secret
		if err := s.UnmarshalText([]byte(*token)); err != nil {
			fmt.Fprintln(stderr, "sensor top: --token:", err)
			return 2
		}
		o.Token = s.Value()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return top.Run(ctx, o, stdout, stderr)
}
