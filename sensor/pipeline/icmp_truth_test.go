package pipeline

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// icmpCaptures are the shared captures with ICMP or ICMPv6 (MANIFEST.md).
var icmpCaptures = []string{
	"cid-icmp.pcap", "cid-icmp6.pcap", "icmp-destunreach-udp.pcap", "icmp6-nd-options.pcap",
	"icmp-vlan-dot1q.pcap", "ipv4-fragmented-icmp.pcap", "icmp-echo-google.pcap", "icmp-echo-and-ssh.pcap",
	"gre-sample.pcap", "mixed-browsing.pcapng", "smtp-auth-login-attachment.pcap", "vxlan.pcap",
}

// icmpRow is one ICMP message as tshark decodes it.
type icmpRow struct {
	v6             bool
	src, dst       string // the message's addresses (innermost, not quoted)
	typ, code      int
	payload        int    // echo: data after identifier and sequence
	quoted         string // error: the quoted packet "proto src:port > dst:port"
	frame          string
	hasEchoPayload bool
}

// tsharkICMP runs tshark over a capture (reassembly on, as the truth tables).
func tsharkICMP(t *testing.T, capture string) []icmpRow {
	t.Helper()
	out, err := exec.Command("tshark", "-r", filepath.Join(sharedPcaps, capture), "-n", "-T", "fields",
		"-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-Y", "icmp || icmpv6",
		"-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
		"-e", "icmp.type", "-e", "icmp.code", "-e", "icmpv6.type", "-e", "icmpv6.code",
		"-e", "data.len", "-e", "icmp.data_time", "-e", "udp.srcport", "-e", "udp.dstport",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "ip.proto", "-e", "ipv6.nxt").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", capture, err)
	}
	var rows []icmpRow
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		c := strings.Split(line, "\t")
		if len(c) < 17 {
			continue
		}
		r := icmpRow{frame: c[0]}
		src, dst, typ, code := c[1], c[2], c[5], c[6]
		if c[7] != "" { // ICMPv6 (possibly inside an IPv4 tunnel: the IPv6 header is the message's)
			r.v6, src, dst, typ, code = true, c[3], c[4], c[7], c[8]
		}
		srcs, dsts := strings.Split(src, ","), strings.Split(dst, ",")
		r.typ, _ = strconv.Atoi(strings.Split(typ, ",")[0])
		r.code, _ = strconv.Atoi(strings.Split(code, ",")[0])
		quoting := isICMPError(r.v6, r.typ)
		n := len(srcs) - 1
		if quoting && n > 0 {
			n-- // the last header is the quoted one
		}
		r.src, r.dst = srcs[n], dsts[n]
		if quoting && len(srcs) > n+1 {
			proto := map[string]string{"17": "udp", "6": "tcp", "1": "icmp", "58": "ipv6-icmp"}
			protos := strings.Split(c[15], ",")
			if r.v6 {
				protos = strings.Split(c[16], ",")
			}
			sp, dp := lastOf(c[11]), lastOf(c[12])
			if sp == "" {
				sp, dp = lastOf(c[13]), lastOf(c[14])
			}
			r.quoted = fmt.Sprintf("%s %s:%s > %s:%s", proto[protos[len(protos)-1]], srcs[n+1], sp, dsts[n+1], dp)
		}
		if l, err := strconv.Atoi(lastOf(c[9])); err == nil {
			r.payload, r.hasEchoPayload = l, true
		}
		if c[10] != "" { // tshark decodes a leading timestamp apart from the data
			r.payload, r.hasEchoPayload = r.payload+8, true
		}
		rows = append(rows, r)
	}
	return rows
}

func lastOf(s string) string { return s[strings.LastIndex(s, ",")+1:] }

func isICMPError(v6 bool, typ int) bool {
	if v6 {
		return typ >= 1 && typ <= 4
	}
	return typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12
}

func isEcho(v6 bool, typ int) bool {
	if v6 {
		return typ == 128 || typ == 129
	}
	return typ == 0 || typ == 8
}

// icmpPair names the request/reply pair of a type, which one flow holds
// both ways (Community ID's pairs), or "" for a one-way type.
func icmpPair(v6 bool, typ int) string {
	pairs := map[int]int{8: 0, 13: 14, 15: 16, 10: 9, 17: 18}
	if v6 {
		pairs = map[int]int{128: 129, 133: 134, 135: 136, 130: 131, 139: 140, 144: 145}
	}
	for a, b := range pairs {
		if typ == a || typ == b {
			return fmt.Sprint("pair ", a, "/", b)
		}
	}
	return ""
}

// The ICMP flow events of the shared captures agree with tshark: every
// flow's type and code are its first message's; an echo flow counts its
// requests and replies, and its largest and total payload are tshark's
// data lengths (with the timestamp tshark decodes apart); an error flow
// counts its messages, and the packet its first message quotes (transport,
// addresses, ports) is tshark's decoding of the quote.
func TestICMPAgreesWithTshark(t *testing.T) {
	needShared(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its ICMP decoding is the truth here")
	}
	total, agree := 0, 0
	check := func(capture, what string, want, got any) {
		total++
		if fmt.Sprint(want) == fmt.Sprint(got) {
			agree++
			return
		}
		t.Errorf("%s %s: tshark %v, sensor %v", capture, what, want, got)
	}
	for _, capture := range icmpCaptures {
		rows := tsharkICMP(t, capture)
		out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
		type flowKey struct {
			a, b  string
			class string
		}
		keyOf := func(v6 bool, src, dst string, typ, code int) flowKey {
			if pair := icmpPair(v6, typ); pair != "" {
				a, b := src, dst
				if b < a {
					a, b = b, a
				}
				return flowKey{a, b, pair}
			}
			return flowKey{src, dst, fmt.Sprint(typ, "/", code)}
		}
		events := map[flowKey]map[string]any{}
		for _, ev := range out.dataset("packetsleuth.flow") {
			tr := str(ev, "network.transport")
			if tr != "icmp" && tr != "ipv6-icmp" {
				continue
			}
			k := keyOf(tr == "ipv6-icmp", str(ev, "source.ip"), str(ev, "destination.ip"),
				int(num(ev, "packetsleuth.flow.icmp.type")), int(num(ev, "packetsleuth.flow.icmp.code")))
			events[k] = ev
		}
		grouped := map[flowKey][]icmpRow{}
		var order []flowKey
		for _, r := range rows {
			k := keyOf(r.v6, r.src, r.dst, r.typ, r.code)
			if grouped[k] == nil {
				order = append(order, k)
			}
			grouped[k] = append(grouped[k], r)
		}
		for _, k := range order {
			rs, ev := grouped[k], events[k]
			if ev == nil {
				t.Errorf("%s frame %s: no ICMP flow event for %v", capture, rs[0].frame, k)
				total++
				continue
			}
			x := func(f string) int64 { return num(ev, "packetsleuth.flow.icmp."+f) }
			check(capture, "type/code "+rs[0].frame, fmt.Sprint(rs[0].typ, "/", rs[0].code), fmt.Sprint(x("type"), "/", x("code")))
			switch {
			case isEcho(rs[0].v6, rs[0].typ):
				maxLen, sum := 0, 0
				for _, r := range rs {
					maxLen, sum = max(maxLen, r.payload), sum+r.payload
				}
				check(capture, "echo messages "+rs[0].frame, len(rs), x("echo_messages"))
				check(capture, "echo payload max "+rs[0].frame, maxLen, x("echo_payload_max"))
				check(capture, "echo payload bytes "+rs[0].frame, sum, x("echo_payload_bytes"))
			case isICMPError(rs[0].v6, rs[0].typ):
				check(capture, "quoted messages "+rs[0].frame, len(rs), x("quoted"))
				got := fmt.Sprintf("%s %s:%d > %s:%d", str(ev, "packetsleuth.flow.icmp.original_transport"),
					str(ev, "packetsleuth.flow.icmp.original_source_ip"), x("original_source_port"),
					str(ev, "packetsleuth.flow.icmp.original_destination_ip"), x("original_destination_port"))
				check(capture, "quoted packet "+rs[0].frame, rs[0].quoted, got)
			}
		}
	}
	t.Logf("ICMP: %d of %d tshark values agree", agree, total)
	if total < 40 {
		t.Errorf("only %d values compared", total)
	}
}

// The quoted packet's Community ID is that of its flow where the capture
// has it: gre-sample's port unreachable quotes a DNS answer of a flow the
// sensor reports, and the ICMP event names it.
func TestICMPLinksTheOriginalFlow(t *testing.T) {
	needShared(t)
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, "gre-sample.pcap"))
	var ids, linked []string
	for _, ev := range out.dataset("packetsleuth.flow") {
		ids = append(ids, str(ev, "network.community_id"))
		if id := str(ev, "packetsleuth.flow.icmp.original_community_id"); id != "" {
			linked = append(linked, id)
		}
	}
	if len(linked) == 0 {
		t.Fatal("no ICMP error event names its original flow")
	}
	for _, id := range linked {
		if !slices.Contains(ids, id) {
			t.Errorf("original flow %s is not a flow of the capture", id)
		}
	}
}
