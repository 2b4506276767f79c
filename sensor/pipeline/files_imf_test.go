package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSMTPAttachmentsAgreeWithTshark: tshark's --export-objects imf writes
// each whole message (.eml); the files the sensor reports are a message's
// attachments. So the truth is the attachments of tshark's messages, taken
// apart here with Go's net/mail and mime/multipart (RFC 2231 names,
// base64 and quoted-printable decoded): on every shared capture with SMTP,
// the complete attachment files we report have their names, sizes and
// SHA-256, and there are no others. Where tshark's export is wrong
// (imfFromStream), the messages are cut from tshark's follow,tcp,raw
// streams instead.
func TestSMTPAttachmentsAgreeWithTshark(t *testing.T) {
	needShared(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its --export-objects is the truth here")
	}
	captures, _ := filepath.Glob(filepath.Join(sharedPcaps, "smtp-*.pcap*"))
	if len(captures) < 4 {
		t.Fatalf("%d SMTP captures in the shared captures", len(captures))
	}
	total := 0
	for _, c := range captures {
		name := filepath.Base(c)
		dir := t.TempDir()
		if out, err := exec.Command("tshark", "-r", c, "-Q", "--export-objects", "imf,"+dir).CombinedOutput(); err != nil {
			t.Fatalf("tshark: %v: %s", err, out)
		}
		var msgs [][]byte
		if why, ok := imfFromStream[name]; ok {
			t.Logf("%s: messages from tshark's TCP streams: %s", name, why)
			msgs = tsharkSMTPMessages(t, c)
		} else {
			emls, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, eml := range emls {
				b, err := os.ReadFile(eml)
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, b)
			}
		}
		var want []string
		for i, b := range msgs {
			m, err := mail.ReadMessage(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: message %d: %v", name, i+1, err)
			}
			want = append(want, attachments(t, textprotoHeader(m.Header), m.Body)...)
		}
		slices.Sort(want)
		out, _ := replay(t, filesOn, c)
		var got []string
		for _, ev := range out.dataset("packetsleuth.file") {
			if str(ev, "network.protocol") == "smtp" && field(ev, "packetsleuth.file.complete") == true {
				got = append(got, fmt.Sprintf("%s %d %s", str(ev, "file.name"), num(ev, "file.size"), str(ev, "file.hash.sha256")))
			}
		}
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s: attachments of tshark's messages\n%q\nour complete files\n%q", name, want, got)
		}
		t.Logf("%s: %d messages, %d attachments", name, len(msgs), len(want))
		total += len(want)
	}
	if total < 3 {
		t.Errorf("only %d attachments compared", total)
	}
}

type header interface{ Get(string) string }

func textprotoHeader(h mail.Header) header { return h }

// attachments returns "name size sha256" of each MIME part of body (headers
// h) that has a file name, decoded.
func attachments(t *testing.T, h header, body io.Reader) []string {
	t.Helper()
	ct, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(ct, "multipart/") {
		var out []string
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatalf("MIME: %v", err)
			}
			out = append(out, attachments(t, p.Header, p)...)
		}
	}
	_, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	fname := dparams["filename"]
	if fname == "" {
		fname = params["name"]
	}
	if fname == "" {
		return nil
	}
	var r io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", fname, err)
	}
	sum := sha256.Sum256(b)
	return []string{fmt.Sprintf("%s %d %s", fname, len(b), hex.EncodeToString(sum[:]))}
}

// lineJoiner drops the line ends of base64 text.
type lineJoiner struct{ r io.Reader }

func (l *lineJoiner) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	k := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[k] = c
			k++
		}
	}
	return k, err
}

// imfFromStream lists the captures whose messages tshark's IMF export gets
// wrong, and why.
var imfFromStream = map[string]string{
	"smtp-auth-login-attachment.pcap": "its IMF export lays retransmitted and out-of-order DATA segments into the message (NEWS.txt's part three times over, 15,156 bytes)",
}

// tsharkSMTPMessages cuts the messages sent after DATA out of the client
// side of each TCP stream of capture that has a DATA command, as tshark's
// follow,tcp,raw reassembles it (dot-stuffing undone).
func tsharkSMTPMessages(t *testing.T, capture string) [][]byte {
	t.Helper()
	out, err := exec.Command("tshark", "-r", capture, "-Y", "smtp.req.command == \"DATA\"", "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var msgs [][]byte
	for _, stream := range strings.Fields(string(out)) {
		raw, err := exec.Command("tshark", "-r", capture, "-q", "-z", "follow,tcp,raw,"+stream).Output()
		if err != nil {
			t.Fatalf("tshark follow: %v", err)
		}
		var client []byte
		for _, line := range strings.Split(string(raw), "\n") {
			if line == "" || strings.HasPrefix(line, "\t") || strings.ContainsAny(line, ":=") {
				continue // the server's side, the banner lines
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				continue
			}
			client = append(client, b...)
		}
		for {
			_, rest, ok := bytes.Cut(client, []byte("DATA\r\n"))
			if !ok {
				break
			}
			body, after, _ := bytes.Cut(rest, []byte("\r\n.\r\n"))
			msgs = append(msgs, bytes.ReplaceAll(append(body, "\r\n"...), []byte("\r\n.."), []byte("\r\n.")))
			client = after
		}
	}
	return msgs
}
