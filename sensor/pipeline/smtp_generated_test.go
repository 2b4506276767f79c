package pipeline

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// smtpEventOf replays frames and returns the one SMTP event, without the
// fields that hash, and the whole output.
func smtpEventOf(t *testing.T, name string, frames []pcapgen.Frame) (map[string]any, string) {
	t.Helper()
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, frames))
	evs := out.dataset("packetsleuth.smtp")
	if len(evs) != 1 {
		t.Fatalf("%s: %d SMTP events", name, len(evs))
	}
	var all strings.Builder
	for _, r := range out.raw {
		all.Write(r)
	}
	ev := evs[0]
	delete(ev["event"].(map[string]any), "id")
	return ev, all.String()
}

// SMTP is recognised by content on port 2525; the pipelined session gives
// its envelope, decoded headers, the attachment's RFC 2231 name, type and
// decoded size, the AUTH mechanism and outcome — and never the secret.
func TestGeneratedSMTPOnAnyPort(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50025"), netip.MustParseAddrPort("203.0.113.25:2525")
	ev, all := smtpEventOf(t, "smtp-2525.pcap", pcapgen.Frames(pcapgen.SMTPSession(client, server, pcapgen.Epoch), pcapgen.Ethernet))
	for name, want := range map[string]string{
		"network.protocol":                 "smtp",
		"packetsleuth.smtp.helo":           "client.example.com",
		"packetsleuth.smtp.mail_from":      "joerg@example.com",
		"packetsleuth.smtp.rcpt_to":        `["bob@example.org","carol@example.org"]`,
		"packetsleuth.smtp.auth_mechanism": "PLAIN",
		"packetsleuth.smtp.auth_outcome":   "success",
		"packetsleuth.smtp.status_codes":   `["220","250","235","250","250","250","354","250","221"]`,
		"email.from.address":               `["joerg@example.com"]`,
		"email.to.address":                 `["bob@example.org","carol@example.org"]`,
		"email.cc.address":                 `["dave@example.net"]`,
		"email.subject":                    "Rechnung für November",
		"email.message_id":                 "<gen.1@example.com>",
		"email.origination_timestamp":      "2026-11-24T10:00:00Z",
		"email.x_mailer":                   "pcapgen 1.0",
		"email.attachments":                `[{"file":{"extension":"exe","mime_type":"application/octet-stream","name":"invoice.pdf.exe","size":16}}]`,
		"packetsleuth.smtp.received":       `["from a.example.com by mx.example.org"]`,
	} {
		got := field(ev, name)
		s, ok := got.(string)
		if !ok {
			b, _ := json.Marshal(got)
			s = string(b)
		}
		if s != want {
			t.Errorf("%s = %s, want %s", name, s, want)
		}
	}
	for _, secret := range []string{"AGpvZXJnAHMzY3JldA", "s3cret"} {
		if strings.Contains(all, secret) {
			t.Errorf("the AUTH secret %q is in the output", secret)
		}
	}
}

// However an evader cuts the segments (one byte each, reordered,
// overlapping with the same bytes), the SMTP event is the same.
func TestGeneratedSMTPResegmented(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50026"), netip.MustParseAddrPort("192.0.2.25:25")
	frames := pcapgen.Frames(pcapgen.SMTPSession(client, server, pcapgen.Epoch), pcapgen.Ethernet)
	enc := func(ev map[string]any) string {
		delete(ev, "@timestamp")
		b, _ := json.Marshal(ev)
		return string(b)
	}
	ev, _ := smtpEventOf(t, "smtp.pcap", frames)
	want := enc(ev)
	for _, s := range pcapgen.Segmentations {
		hostile, err := pcapgen.Resegment(frames, layers.LinkTypeEthernet, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := smtpEventOf(t, s.String()+"-smtp.pcap", hostile)
		if got := enc(ev); got != want {
			t.Errorf("%s:\n got %s\nwant %s", s, got, want)
		}
	}
}
