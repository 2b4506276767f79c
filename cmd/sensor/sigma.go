package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/rules/sigma"
)

const importSigmaUsage = `Usage: sensor rules import-sigma [--out FILE] FILE|DIR...

Converts Sigma rules of network log sources (dns, proxy, webserver,
firewall, network_connection; zeek conn, dns, http, dce_rpc, kerberos, rdp,
x509) into one PacketSleuth rule file (stdout, or --out), checks that it
loads, and lists on stderr every rule it could not convert and why.
Correlation rules (event_count, value_count) become threshold rules over
the rule they name, which must come earlier in the same file.
Experimental, deprecated and unsupported Sigma rules are converted
disabled. Keep the Sigma authors' attribution when you share the result.
`

// cmdImportSigma is `sensor rules import-sigma`.
func cmdImportSigma(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("sensor rules import-sigma", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, importSigmaUsage); fset.PrintDefaults() }
	out := fset.String("out", "-", "rule file to write, - for stdout")
	paths, err := parseInterspersed(fset, args)
	if err != nil || len(paths) == 0 {
		fset.Usage()
		return 2
	}
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
				files = append(files, name)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "sensor rules import-sigma:", err)
			return 1
		}
	}
	sort.Strings(files)
	var converted []*sigma.Rule
	failed := 0
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			total++
			failed++
			fmt.Fprintf(stderr, "not converted: %s: %v\n", f, err)
			continue
		}
		for _, res := range sigma.ConvertFile(b) {
			total++
			if res.Err != nil {
				failed++
				name := f
				if res.Title != "" {
					name += " (" + res.Title + ")"
				}
				fmt.Fprintf(stderr, "not converted: %s: %v\n", name, res.Err)
				continue
			}
			converted = append(converted, res.Rule)
		}
	}
	doc, err := yaml.Marshal(map[string]any{"ruleset": "sigma", "rules": converted})
	if err != nil {
		fmt.Fprintln(stderr, "sensor rules import-sigma:", err)
		return 1
	}
	doc = append([]byte("# Converted from Sigma rules by `sensor rules import-sigma`; each rule\n# keeps its Sigma id, author and references (SigmaHQ rules: DRL 1.1).\n"), doc...)
	tmp, err := os.CreateTemp("", "sigma-*.yaml")
	if err != nil {
		fmt.Fprintln(stderr, "sensor rules import-sigma:", err)
		return 1
	}
	defer os.Remove(tmp.Name())
	tmp.Write(doc)
	tmp.Close()
	if _, errs := rules.LoadFiles(rules.Options{}, tmp.Name()); len(errs) > 0 {
		rules.WriteErrors(stderr, errs)
		fmt.Fprintln(stderr, "sensor rules import-sigma: the converted rules do not load (a bug: please report it)")
		return 1
	}
	if *out == "-" {
		stdout.Write(doc)
	} else if err := os.WriteFile(*out, doc, 0o644); err != nil {
		fmt.Fprintln(stderr, "sensor rules import-sigma:", err)
		return 1
	}
	fmt.Fprintf(stderr, "%d of %d Sigma rules converted, %d not converted\n", len(converted), total, failed)
	return 0
}
