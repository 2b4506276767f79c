package pipeline

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// smtpEvents replays a capture and groups its packetsleuth.smtp events by
// connection (the two endpoints, sorted).
func smtpEvents(t *testing.T, capture string) (map[string][]map[string]any, string) {
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
	var raw strings.Builder
	for _, r := range out.raw {
		raw.Write(r)
	}
	evs := map[string][]map[string]any{}
	for _, ev := range out.dataset("packetsleuth.smtp") {
		src := fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port"))
		dst := fmt.Sprintf("%s:%d", str(ev, "destination.ip"), num(ev, "destination.port"))
		evs[pairKey(src, dst)] = append(evs[pairKey(src, dst)], ev)
	}
	return evs, raw.String()
}

// Every SMTP cell tshark fills on the shared captures agrees with the
// sensor's packetsleuth.smtp events of the connection:
//   - a command's parameter holds the HELO/EHLO name, the MAIL FROM or
//     one RCPT TO address of an event; AUTH gives the mechanism, STARTTLS
//     (tshark splits it into "STAR" "TLS") tls_started, DATA data;
//   - every reply code is among the events' status_codes, as often;
//   - imf.from holds the email.from address, imf.to every email.to
//     address (and as many '@' as addresses), subject and Message-ID equal;
//   - a content-disposition file name (RFC 2231 pieces joined) is an
//     attachment's name.
//
// smtp.auth.username (the base64 the client sent) is not compared: it
// must appear nowhere in the sensor's output, which the test checks.
func TestSMTPAgreesWithTshark(t *testing.T) {
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*.smtp.tsv"))
	if len(truths) == 0 {
		t.Fatal("no SMTP truth tables")
	}
	total, agree := 0, 0
	check := func(capture, frame, col, want string, ok bool, got any) {
		total++
		if ok {
			agree++
			return
		}
		t.Errorf("%s frame %s %s: tshark %q, sensor %v", capture, frame, col, want, got)
	}
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".smtp.tsv")
		evs, raw := smtpEvents(t, capture)
		codes := map[string]map[string]int{} // connection → code → count left
		for _, row := range readTSV(t, truthPath) {
			src := hostOf(row, "src") + ":" + last(row["tcp.srcport"])
			dst := hostOf(row, "dst") + ":" + last(row["tcp.dstport"])
			key, frame := pairKey(src, dst), row["frame.number"]
			conn := evs[key]
			if codes[key] == nil {
				codes[key] = map[string]int{}
				for _, ev := range conn {
					for _, c := range strs(ev, "packetsleuth.smtp.status_codes") {
						codes[key][c]++
					}
				}
			}
			if u := row["smtp.auth.username"]; u != "" && strings.Contains(raw, u) {
				t.Errorf("%s frame %s: the AUTH secret %q is in the output", capture, frame, u)
			}
			for _, c := range splitCell(row["smtp.response.code"]) {
				check(capture, frame, "smtp.response.code", c, codes[key][c] > 0, "none left")
				codes[key][c]--
			}
			cmds, param := splitCell(row["smtp.req.command"]), row["smtp.req.parameter"]
			for _, cmd := range cmds {
				cmd = strings.ToUpper(cmd)
				ok, got := smtpCommandAgrees(conn, cmd, param)
				if ok != nil {
					check(capture, frame, "smtp.req "+cmd, param, *ok, got)
				}
			}
			if v := row["imf.from"]; v != "" {
				got := anyEvent(conn, "email.from.address")
				check(capture, frame, "imf.from", v, len(got) == 1 && strings.Contains(v, got[0]), got)
			}
			if v := row["imf.to"]; v != "" {
				got := anyEvent(conn, "email.to.address")
				ok := len(got) == strings.Count(v, "@")
				for _, a := range got {
					ok = ok && strings.Contains(v, a)
				}
				check(capture, frame, "imf.to", v, ok, got)
			}
			for col, field := range map[string]string{"imf.subject": "email.subject", "imf.message_id": "email.message_id"} {
				if v := row[col]; v != "" {
					got := anyEvent(conn, field)
					check(capture, frame, col, v, slices.Contains(got, v), got)
				}
			}
			for _, name := range dispositionNames(row["mime_multipart.header.content-disposition"]) {
				var got []string
				for _, ev := range conn {
					for _, a := range objs(ev, "email.attachments") {
						got = append(got, str(a, "file.name"))
					}
				}
				check(capture, frame, "content-disposition", name, slices.Contains(got, name), got)
			}
		}
	}
	t.Logf("SMTP: %d of %d tshark cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
	if total < 80 {
		t.Errorf("only %d cells compared", total)
	}
}

// smtpCommandAgrees checks one client command against the connection's
// events; nil when the command has nothing to compare (QUIT, NOOP).
func smtpCommandAgrees(conn []map[string]any, cmd, param string) (*bool, any) {
	var ok bool
	var got []string
	switch cmd {
	case "HELO", "EHLO":
		got = anyEvent(conn, "packetsleuth.smtp.helo")
		ok = slices.Contains(got, param) || param == "" && len(conn) > 0
	case "MAIL", "RCPT":
		field := map[string]string{"MAIL": "packetsleuth.smtp.mail_from", "RCPT": "packetsleuth.smtp.rcpt_to"}[cmd]
		got = anyEvent(conn, field)
		for _, a := range got {
			ok = ok || a != "" && strings.Contains(param, a)
		}
	case "AUTH":
		got = anyEvent(conn, "packetsleuth.smtp.auth_mechanism")
		mech, _, _ := strings.Cut(param, " ")
		ok = slices.Contains(got, strings.ToUpper(mech))
	case "STAR":
		got = anyEvent(conn, "packetsleuth.smtp.tls_started")
		ok = slices.Contains(got, "true")
	case "DATA":
		got = anyEvent(conn, "packetsleuth.smtp.data")
		ok = slices.Contains(got, "true")
	default:
		return nil, nil
	}
	return &ok, got
}

// anyEvent lists the values of a field over the connection's events.
func anyEvent(conn []map[string]any, name string) []string {
	var out []string
	for _, ev := range conn {
		switch v := field(ev, name).(type) {
		case string:
			out = append(out, v)
		case bool:
			out = append(out, fmt.Sprint(v))
		case []any:
			for _, x := range v {
				out = append(out, fmt.Sprint(x))
			}
		}
	}
	return out
}

func strs(ev map[string]any, name string) []string { return anyEvent([]map[string]any{ev}, name) }

func objs(ev map[string]any, name string) []map[string]any {
	var out []map[string]any
	if l, ok := field(ev, name).([]any); ok {
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// hostOf is the row's innermost IPv4 or IPv6 address on side ("src", "dst").
func hostOf(row map[string]string, side string) string {
	if v := row["ip."+side]; v != "" {
		return last(v)
	}
	return last(row["ipv6."+side])
}

func splitCell(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// dispositionNames reads the file names of a content-disposition cell
// (one value per MIME part, comma-separated), joining RFC 2231 pieces.
func dispositionNames(cell string) []string {
	var names []string
	for _, v := range splitCell(cell) {
		var name string
		for _, p := range strings.Split(v, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && (k == "filename" || strings.HasPrefix(k, "filename*")) {
				name += strings.Trim(val, `"`)
			}
		}
		if name != "" {
			names = append(names, name)
		}
	}
	return names
}
