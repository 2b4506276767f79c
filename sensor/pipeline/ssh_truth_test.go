package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sshEvents replays a capture and keys its packetsleuth.ssh events by the
// two endpoints, in either order ("ip:port ip:port", sorted).
func sshEvents(t *testing.T, capture string) map[string]map[string]any {
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
	evs := map[string]map[string]any{}
	for _, ev := range out.dataset("packetsleuth.ssh") {
		src := fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port"))
		dst := fmt.Sprintf("%s:%d", str(ev, "destination.ip"), num(ev, "destination.port"))
		evs[pairKey(src, dst)] = ev
	}
	return evs
}

func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}

// last is the innermost value of a multi-valued tshark cell (the inner
// header of a tunnelled packet).
func last(cell string) string {
	return cell[strings.LastIndexByte(cell, ',')+1:]
}

// Every SSH column tshark fills on the shared captures — the version line
// of each side, HASSH and HASSHServer and the strings they hash — agrees
// with the sensor's packetsleuth.ssh event for the connection. tshark
// names roles by port and the sensor by the key exchange, so each row is
// compared with the side of the event that sent it: the version line and
// the hash of that side's KEXINIT. (In ssh-reverse-dropbear.pcap tshark
// takes dropbear, the TCP client, for the SSH client; it hashes its
// client-to-server lists, which equal the server-to-client ones the sensor's
// HASSHServer hashes, so the cells agree.)
//
// Not compared: ssh.message_code (the sensor reports what the messages
// carry, not their codes) and rows of sessions tshark does not see (it
// dissects port 22 only; the sensor also reports the sessions on ports
// 41644 and 2200 of ssh-auth-success-fail.pcap, checked against Zeek below).
func TestSSHAgreesWithTshark(t *testing.T) {
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*.ssh.tsv"))
	if len(truths) == 0 {
		t.Fatal("no SSH truth tables")
	}
	total, agree := 0, 0
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".ssh.tsv")
		evs := sshEvents(t, capture)
		for _, row := range readTSV(t, truthPath) {
			from := last(row["ip.src"]) + ":" + last(row["tcp.srcport"])
			to := last(row["ip.dst"]) + ":" + last(row["tcp.dstport"])
			ev := evs[pairKey(from, to)]
			side := "packetsleuth.ssh.server."
			if ev != nil && fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port")) == from {
				side = "packetsleuth.ssh.client."
			}
			for col, field := range map[string]string{
				"ssh.protocol":                   "version_string",
				"ssh.kex.hassh":                  "hassh",
				"ssh.kex.hasshserver":            "hassh",
				"ssh.kex.hassh_algorithms":       "hassh_string",
				"ssh.kex.hasshserver_algorithms": "hassh_string",
			} {
				want := row[col]
				if want == "" {
					continue
				}
				total++
				got := ""
				if ev != nil {
					got = str(ev, side+field)
				}
				if got == want {
					agree++
					continue
				}
				t.Errorf("%s frame %s %s: tshark %q, sensor %s%s %q", capture, row["frame.number"], col, want, side, field, got)
			}
		}
	}
	t.Logf("SSH: %d of %d tshark cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
	if total < 50 {
		t.Errorf("only %d cells compared", total)
	}
}

// The authentication outcome, attempts, version lines and negotiated
// algorithms of every session in Zeek's ssh.log baselines equal the
// sensor's. Zeek's "-" (no outcome) is the sensor's "unknown" or nothing;
// Zeek writes a cipher/MAC/compression that differs per direction as "To
// server: x, to client: y", compared in that form.
func TestSSHAgreesWithZeek(t *testing.T) {
	needShared(t)
	logs, _ := filepath.Glob(filepath.Join(sharedPcaps, "baselines", "zeek", "*.ssh.log"))
	if len(logs) == 0 {
		t.Fatal("no Zeek ssh.log baselines")
	}
	total, agree := 0, 0
	for _, logPath := range logs {
		capture := strings.TrimSuffix(filepath.Base(logPath), ".ssh.log")
		evs := sshEvents(t, capture)
		for _, row := range readZeekLog(t, logPath) {
			key := pairKey(row["id.orig_h"]+":"+row["id.orig_p"], row["id.resp_h"]+":"+row["id.resp_p"])
			ev := evs[key]
			if ev == nil {
				t.Errorf("%s %s: no SSH event", capture, key)
				total += 10
				continue
			}
			auth := map[string]string{"success": "T", "failure": "F"}[str(ev, "packetsleuth.ssh.auth_result")]
			if auth == "" {
				auth = "-"
			}
			got := map[string]string{
				"version":         fmt.Sprint(num(ev, "packetsleuth.ssh.version")),
				"auth_success":    auth,
				"auth_attempts":   fmt.Sprint(num(ev, "packetsleuth.ssh.auth_attempts")),
				"client":          str(ev, "packetsleuth.ssh.client.version_string"),
				"server":          str(ev, "packetsleuth.ssh.server.version_string"),
				"cipher_alg":      bidir(ev, "cipher_algorithm"),
				"mac_alg":         bidir(ev, "mac_algorithm"),
				"compression_alg": bidir(ev, "compression_algorithm"),
				"kex_alg":         orDash(str(ev, "packetsleuth.ssh.kex_algorithm")),
				"host_key_alg":    orDash(str(ev, "packetsleuth.ssh.host_key_algorithm")),
			}
			for col, g := range got {
				total++
				if g == row[col] {
					agree++
					continue
				}
				t.Errorf("%s %s %s: zeek %q, sensor %q", capture, key, col, row[col], g)
			}
		}
	}
	t.Logf("SSH vs Zeek: %d of %d cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
}

func bidir(ev map[string]any, name string) string {
	c2s, s2c := str(ev, "packetsleuth.ssh."+name), str(ev, "packetsleuth.ssh."+name+"_to_client")
	if c2s != s2c {
		return fmt.Sprintf("To server: %s, to client: %s", c2s, s2c)
	}
	return orDash(c2s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readZeekLog reads a Zeek TSV log by its #fields header.
func readZeekLog(t *testing.T, path string) []map[string]string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	var rows []map[string]string
	for _, line := range strings.Split(string(raw), "\n") {
		if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(f, "\t")
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(line, "\t") {
			if i < len(fields) {
				row[fields[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}
