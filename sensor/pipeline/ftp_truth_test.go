package pipeline

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Every FTP cell tshark fills on the shared captures agrees with the
// sensor's packetsleuth.ftp events of the connection, taken in order:
// each command row is the next event's command and argument (PASS's
// argument is never reported: the event has <redacted>); each reply row
// is that command's final reply (code and text) or its preliminary 1xx
// code; PORT/PASV/EPRT/EPSV addresses and ports are the event's data_ip and
// data_port. And every data connection of those captures (each TCP flow
// not on port 21) is labelled ftp-data and carries the control flow's
// community ID.
//
// Not compared: the 220 greeting (no command asked for it), and the text
// of a multi-line reply, which tshark takes from its first line and the
// sensor from its last (the code is compared).
func TestFTPAgreesWithTshark(t *testing.T) {
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "ftp-*.ftp.tsv"))
	if len(truths) == 0 {
		t.Fatal("no FTP truth tables")
	}
	total, agree := 0, 0
	check := func(capture, frame, col, want, got string) {
		total++
		if want == got {
			agree++
			return
		}
		t.Errorf("%s frame %s %s: tshark %q, sensor %q", capture, frame, col, want, got)
	}
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".ftp.tsv")
		out, _ := replay(t, Config{Workers: 1}, filepath.Join(sharedPcaps, capture))
		evs := out.dataset("packetsleuth.ftp")
		rows := readTSV(t, truthPath)
		i := -1 // the event of the latest command row
		for k, row := range rows {
			frame := row["frame.number"]
			if cmd := row["ftp.request.command"]; cmd != "" {
				i++
				if i >= len(evs) {
					t.Errorf("%s frame %s: no event for %s", capture, frame, cmd)
					total++
					continue
				}
				ev := evs[i]
				check(capture, frame, "ftp.request.command", cmd, str(ev, "packetsleuth.ftp.command"))
				want := row["ftp.request.arg"]
				if strings.EqualFold(cmd, "PASS") && want != "" {
					want = "<redacted>"
				}
				check(capture, frame, "ftp.request.arg", want, str(ev, "packetsleuth.ftp.arg"))
				for col, name := range map[string]string{"ftp.active.cip": "data_ip", "ftp.eprt.ipv6": "data_ip", "ftp.eprt.ip": "data_ip", "ftp.active.port": "data_port", "ftp.eprt.port": "data_port"} {
					if v := row[col]; v != "" {
						check(capture, frame, col, v, ftpCell(ev, "packetsleuth.ftp."+name))
					}
				}
				continue
			}
			code := row["ftp.response.code"]
			if code == "" || i < 0 || i >= len(evs) {
				continue // a continuation line of a multi-line reply, or the greeting
			}
			ev := evs[i]
			if code[0] == '1' {
				check(capture, frame, "ftp.response.code (preliminary)", code, ftpCell(ev, "packetsleuth.ftp.preliminary_code"))
				continue
			}
			check(capture, frame, "ftp.response.code", code, ftpCell(ev, "packetsleuth.ftp.reply_code"))
			multi := k+1 < len(rows) && rows[k+1]["ftp.response.code"] == "" && rows[k+1]["ftp.request.command"] == "" && rows[k+1]["ftp.response.arg"] != ""
			if !multi {
				check(capture, frame, "ftp.response.arg", row["ftp.response.arg"], str(ev, "packetsleuth.ftp.reply_text"))
			}
			for col, name := range map[string]string{"ftp.passive.ip": "data_ip", "ftp.passive.port": "data_port", "ftp.epsv.port": "data_port"} {
				if v := row[col]; v != "" {
					check(capture, frame, col, v, ftpCell(ev, "packetsleuth.ftp."+name))
				}
			}
		}
		if i+1 != len(evs) {
			t.Errorf("%s: %d command rows, %d events", capture, i+1, len(evs))
		}
		// The data connections.
		control := ""
		var data []map[string]any
		for _, ev := range out.dataset("packetsleuth.flow") {
			switch {
			case num(ev, "destination.port") == 21:
				control = str(ev, "network.community_id")
			case str(ev, "network.transport") == "tcp":
				data = append(data, ev)
			}
		}
		for _, ev := range data {
			check(capture, str(ev, "network.community_id"), "data connection protocol", "ftp-data", str(ev, "network.protocol"))
			check(capture, str(ev, "network.community_id"), "control_community_id", control, str(ev, "packetsleuth.ftp.control_community_id"))
		}
		if len(data) == 0 {
			t.Errorf("%s: no data connection", capture)
		}
	}
	t.Logf("FTP: %d of %d tshark cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
	if total < 200 {
		t.Errorf("only %d cells compared", total)
	}
}

// ftpCell is a field as tshark prints it: numbers without a decimal point.
func ftpCell(ev map[string]any, name string) string {
	switch v := field(ev, name).(type) {
	case float64:
		return fmt.Sprint(int64(v))
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}
