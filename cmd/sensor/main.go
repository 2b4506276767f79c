// Command sensor is PacketSleuth's command line: it parses flags and the
// config file and wires the packages together; the work happens in them.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

const usage = `PacketSleuth network security sensor

Usage:
  sensor run [flags] [-i IFACE...]    capture live on interfaces, write ECS events
  sensor replay [flags] FILE|DIR...   read captures, write ECS events, print a summary
  sensor carve --community-id ID -w OUT.pcap FILE|DIR...   write one connection's packets (or --bpf EXPR) from captures
  sensor config check [--config F]    check a sensor.yaml, print ok or every error
  sensor rules validate|test|list|fields [PATH...]   check, test or list detection rules
  sensor setup elasticsearch --output elasticsearch:hosts=URL   install the index template and ILM policy
  sensor report [--store PATH|--dsn DSN] [--since 24h] [--format table|csv|json|html]   traffic report from the history
  sensor export --dataset flow|dns|http|tls|alert|--from FILE.ndjson [--format csv|json|ndjson]   export events
  sensor hunt [--rules PATH] [--store PATH|--dsn DSN|--from FILE.ndjson] [--since T]   run rules over recorded events (retro-hunt)
  sensor serve [--store PATH|--dsn DSN] [--listen ADDR]   web UI, REST API and /metrics over the history
  sensor collect --config collector.yaml   consume the sensors' Kafka topics into the central stores
  sensor fleet publish --config F [--rules PATH] [--intel PATH]   publish rules and intel to every sensor
  sensor top [--url URL] [--token T]  live terminal view of a sensor's connections and talkers
  sensor spool inspect|drain [--config F]   show what output spools hold, or deliver them without new input
  sensor version                      print the version

Run "sensor COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "config":
		return cmdConfig(args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	case "carve":
		return cmdCarve(args[1:], stdout, stderr)
	case "setup":
		return cmdSetup(args[1:], stdout, stderr)
	case "rules":
		return cmdRules(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "export":
		return cmdExport(args[1:], stdout, stderr)
	case "hunt":
		return cmdHunt(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "collect":
		return cmdCollect(args[1:], stdout, stderr)
	case "fleet":
		return cmdFleet(args[1:], stdout, stderr)
	case "top":
		return cmdTop(args[1:], stdout, stderr)
	case "spool":
		return cmdSpool(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "sensor", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sensor: unknown command %q\n\n%s", args[0], usage)
	return 2
}
