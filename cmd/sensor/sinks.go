package main

// Every output type the binary offers registers itself with the outputs
// registry; linking them here makes them available to replay, run and
// config check alike.
import (
	_ "github.com/packetsleuth/packetsleuth/outputs/elasticsearch"
	_ "github.com/packetsleuth/packetsleuth/outputs/file"
	_ "github.com/packetsleuth/packetsleuth/outputs/kafka"
	_ "github.com/packetsleuth/packetsleuth/outputs/notify"
	_ "github.com/packetsleuth/packetsleuth/outputs/splunk"
	_ "github.com/packetsleuth/packetsleuth/outputs/syslog"
	_ "github.com/packetsleuth/packetsleuth/store"
)
