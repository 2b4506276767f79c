// Package deploy holds the dashboards PacketSleuth ships, embedded so the
// sensor can hand them out (e.g. from the web UI) and tests can check them:
//
//   - grafana/packetsleuth.json: a Grafana dashboard over the Prometheus
//     metrics of package metrics (a "datasource" and an "instance"
//     variable; import it through Dashboards > New > Import).
//   - kibana/packetsleuth.ndjson: Kibana saved objects (Stack Management >
//     Saved objects > Import): data views for logs-packetsleuth.* and
//     logs-packetsleuth.alert-*, saved searches for connections, DNS, HTTP,
//     TLS, SMB, NTLM, Kerberos, DCE/RPC, alerts and threat-intel matches,
//     visualizations, an overview dashboard and a Windows one (SMB
//     dialects and shares, NTLM versions, Kerberos ticket ciphers and
//     errors, DCE/RPC operations).
//
// The tests check that every PromQL metric the Grafana panels use is one the
// metrics package exports, and that every field the Kibana objects name is a
// field of schemas.Event.
package deploy

import _ "embed"

// Grafana is the Grafana dashboard JSON.
//
//go:embed grafana/packetsleuth.json
var Grafana []byte

// Kibana is the Kibana saved objects, one JSON object per line.
//
//go:embed kibana/packetsleuth.ndjson
var Kibana []byte
