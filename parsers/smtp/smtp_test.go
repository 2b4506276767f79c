package smtp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// chunk is a piece of a session: bytes sent in one direction.
type chunk struct {
	d parsers.Dir
	b string
}

func cl(s string) chunk { return chunk{parsers.ToServer, s} }
func sv(s string) chunk { return chunk{parsers.ToClient, s} }

// run feeds the chunks (each cut into pieces of step bytes, 0: whole) and
// returns the transactions emitted, copied, and what Data returned last.
func run(t *testing.T, cfg Config, acct *budget.Account, step int, chunks ...chunk) ([]Transaction, *Conn, error) {
	t.Helper()
	var out []Transaction
	c := NewConn(cfg, acct, func(tx *Transaction) { out = append(out, *tx) })
	var err error
	for _, ch := range chunks {
		b := []byte(ch.b)
		for len(b) > 0 && err == nil {
			n := len(b)
			if step > 0 {
				n = min(step, n)
			}
			err = c.Data(ch.d, b[:n], time.Unix(1, 0))
			b = b[n:]
		}
		if err != nil {
			break
		}
	}
	c.End(time.Unix(2, 0))
	return out, c, err
}

var session = []chunk{
	sv("220-mx.example.org ESMTP\r\n220 no UCE\r\n"), cl("EHLO c.example\r\n"), sv("250-mx\r\n250 PIPELINING\r\n"),
	cl("MAIL FROM:<a@example.com> SIZE=100\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org> NOTIFY=NEVER\r\nDATA\r\n"),
	sv("250 ok\r\n250 ok\r\n550 no such user\r\n354 go\r\n"),
	cl("From: A <a@example.com>\r\nTo: b@example.org,\r\n c@example.org\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=outer-inner\r\n\r\n" +
		"--outer-inner\r\nContent-Type: text/plain\r\n\r\nhi\r\n--outer-inner--\r\n" +
		"--outer\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"a=3Db=\r\nc\r\n.. dot\r\n--outer \r\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC.bin\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\nAw==\r\n--outer--\r\n.\r\n"),
	sv("250 queued\r\n"), cl("QUIT\r\n"), sv("221 bye\r\n"),
}

func TestTransaction(t *testing.T) {
	for _, step := range []int{0, 1, 7} {
		txs, _, err := run(t, Config{}, nil, step, session...)
		if err != nil || len(txs) != 1 {
			t.Fatalf("step %d: %d transactions, %v", step, len(txs), err)
		}
		tx := txs[0]
		got := fmt.Sprintf("%s|%s|%v|%d|%v|%s|%v|%v|%s|%v", tx.Helo, tx.MailFrom, tx.RcptTo, tx.RcptCount, tx.Codes,
			tx.Greeting, tx.Header.From, tx.Header.To, tx.Header.Subject, tx.Delivered)
		want := "c.example|a@example.com|[b@example.org c@example.org]|2|[220 250 250 250 550 354 250 221]|mx.example.org ESMTP|[a@example.com]|[b@example.org c@example.org]|café|true"
		if got != want {
			t.Errorf("step %d:\n got %s\nwant %s", step, got, want)
		}
		// notes.txt: "a=b" soft break "c" CRLF ". dot" (the last line end belongs to the boundary).
		atts := fmt.Sprint(tx.Attachments)
		if want := "[{notes.txt text/plain quoted-printable 11 false} {€.bin  base64 4 false}]"; atts != want {
			t.Errorf("step %d: attachments %s, want %s", step, atts, want)
		}
	}
}

// AUTH: the mechanism and outcome are kept, the exchanged lines never.
func TestAuthSecretsNeverKept(t *testing.T) {
	txs, _, _ := run(t, Config{}, nil, 0,
		sv("220 x\r\n"), cl("EHLO a\r\n"), sv("250 x\r\n"), cl("AUTH LOGIN\r\n"), sv("334 VXNlcm5hbWU6\r\n"),
		cl("dXNlcg==\r\n"), sv("334 UGFzc3dvcmQ6\r\n"), cl("c2VjcmV0LXB3\r\n"), sv("535 5.7.8 failed\r\n"),
		cl("AUTH PLAIN AHVzZXIAcGFzcw==\r\n"), sv("235 ok\r\n"), cl("QUIT\r\n"), sv("221 bye\r\n"))
	if len(txs) != 1 || txs[0].AuthMechanism != "PLAIN" || txs[0].AuthOutcome != AuthSuccess {
		t.Fatalf("%+v", txs)
	}
	dump := fmt.Sprintf("%+v", txs)
	for _, s := range []string{"dXNlcg", "c2VjcmV0", "AHVzZXIAcGFzcw", "secret"} {
		if strings.Contains(dump, s) {
			t.Errorf("secret %q kept: %s", s, dump)
		}
	}
	txs, _, _ = run(t, Config{}, nil, 0, sv("220 x\r\n"), cl("EHLO a\r\n"), sv("250 x\r\n"), cl("AUTH LOGIN\r\n"),
		sv("334 VXNlcm5hbWU6\r\n"), cl("*\r\n"), sv("501 cancelled\r\n"))
	if txs[0].AuthOutcome != AuthFailure {
		t.Errorf("cancelled AUTH: %q", txs[0].AuthOutcome)
	}
}

// After STARTTLS and 220, Data returns ErrStartTLS with the bytes that
// followed on each side; a refused STARTTLS goes on as SMTP.
func TestStartTLS(t *testing.T) {
	hello := "\x16\x03\x01\x00\x05hello"
	c := NewConn(Config{}, nil, func(*Transaction) {})
	ts := time.Unix(1, 0)
	_ = c.Data(parsers.ToClient, []byte("220 x ESMTP\r\n"), ts)
	_ = c.Data(parsers.ToServer, []byte("EHLO a\r\nSTARTTLS\r\n"+hello), ts)
	if err := c.Data(parsers.ToClient, []byte("250 x\r\n220 go ahead\r\n\x16\x03\x03"), ts); err != parsers.ErrStartTLS {
		t.Fatalf("got %v", err)
	}
	if r := c.Switched(); string(r[0]) != hello || string(r[1]) != "\x16\x03\x03" {
		t.Errorf("rest %q", r)
	}
	txs, _, err := run(t, Config{}, nil, 0, sv("220 x\r\n"), cl("EHLO a\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n"),
		sv("250 x\r\n454 TLS not available\r\n250 ok\r\n"))
	if err != nil || len(txs) != 1 || txs[0].MailFrom != "a@b" || txs[0].StartTLS {
		t.Errorf("refused STARTTLS: %v %+v", err, txs)
	}
}

// The message goes on when the 354 was not captured; BDAT chunks are read
// by their size; a message without end is emitted at the end, noted, its
// attachment truncated.
func TestDataVariants(t *testing.T) {
	txs, _, _ := run(t, Config{}, nil, 0, sv("220 x\r\n"), cl("HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
		sv("250 a\r\n250 b\r\n250 c\r\n"), cl("Subject: lost 354\r\n\r\nbody\r\n.\r\n"), sv("250 ok\r\n"))
	if len(txs) != 1 || txs[0].Header.Subject != "lost 354" || !txs[0].Delivered {
		t.Errorf("lost 354: %+v", txs)
	}
	txs, _, _ = run(t, Config{}, nil, 3, sv("220 x\r\n"), cl("EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"),
		sv("250 a\r\n250 b\r\n250 c\r\n"), cl("BDAT 15\r\nSubject: bd\r\n\r\nBDAT 6 LAST\r\nx\r\n.\r\n"), sv("250 a\r\n250 b\r\n"))
	if len(txs) != 1 || txs[0].Header.Subject != "bd" || !txs[0].Delivered || txs[0].DataBytes != 21 {
		t.Errorf("BDAT: %+v", txs)
	}
	txs, _, _ = run(t, Config{}, nil, 0, sv("220 x\r\n"), cl("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\n"), sv("250 a\r\n354 b\r\n"),
		cl("Content-Type: application/zip; name=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n"))
	if len(txs) != 1 || len(txs[0].Attachments) != 1 || txs[0].Attachments[0].Size != 4 || txs[0].Delivered ||
		!strings.Contains(strings.Join(txs[0].Notes, " "), "data_unterminated") {
		t.Errorf("unterminated: %+v", txs)
	}
}

// Boundary tricks: a boundary that is a prefix of another, a delimiter
// line with trailing blanks, a boundary-looking line inside base64 of a
// part of another multipart, and an unknown close delimiter.
func TestBoundaryTricks(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\n" +
		"--ab\r\nnot a delimiter of a\r\n" +
		"--a\t \r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Disposition: attachment; filename=x.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVo=\r\n--c--\r\n" +
		"--a\r\nContent-Disposition: attachment; filename=\"y.txt\"\r\n\r\nline\r\n--a--\r\n" +
		"--a\r\nContent-Disposition: attachment; filename=z.txt\r\n\r\nafter the close delimiter\r\n.\r\n"
	txs, _, _ := run(t, Config{}, nil, 0, sv("220 x\r\n"), cl("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\n"), sv("250 a\r\n354 b\r\n"), cl(msg), sv("250 ok\r\n"))
	// x.exe ends at "--a" (the outer delimiter closes the inner multipart);
	// "--c--" is base64 garbage, skipped; nothing after "--a--" is a part.
	if got := fmt.Sprint(txs[0].Attachments); got != "[{x.exe  base64 2 false} {y.txt   4 false}]" {
		t.Errorf("attachments %s", got)
	}
}

// Hostile sizes: a command line of a megabyte, endless header fields and
// a message of long lines keep the held bytes within their bounds, and the
// budget is given back at the end.
func TestBoundedOnHostileInput(t *testing.T) {
	b := budget.New(1 << 30)
	acct := b.NewAccount()
	huge := strings.Repeat("A", 1<<20)
	fields := strings.Repeat("X-Junk: "+strings.Repeat("j", 100)+"\r\n", 5000)
	folded := "Subject: s\r\n" + strings.Repeat(" "+strings.Repeat("f", 1000)+"\r\n", 100)
	txs, c, _ := run(t, Config{}, acct, 4096, sv("220 x\r\n"), cl("EHLO "+huge+"\r\n"), sv("250 x\r\n"),
		cl("MAIL FROM:<a@b>\r\nDATA\r\n"), sv("250 a\r\n354 b\r\n"), cl(folded+fields+"\r\n"+huge+"\r\n.\r\n"), sv("250 ok\r\n"))
	if len(txs) != 1 || !txs[0].Delivered || len(txs[0].Header.Subject) > maxValue {
		t.Fatalf("%d transactions", len(txs))
	}
	if len(txs[0].Helo) > maxValue {
		t.Errorf("helo of %d bytes kept", len(txs[0].Helo))
	}
	if !strings.Contains(strings.Join(txs[0].Notes, " "), "header_too_long") {
		t.Errorf("notes %v", txs[0].Notes)
	}
	if cap(c.msg.field.B) > maxField || cap(c.lines[0].Held()) > 2*maxLine {
		t.Errorf("held %d / %d bytes", cap(c.msg.field.B), cap(c.lines[0].Held()))
	}
	if used := b.Stats().Used; used != 0 {
		t.Errorf("%d bytes of budget not given back", used)
	}
}

// A refused budget cuts what would be held, says so, and loses nothing else.
func TestBudgetRefused(t *testing.T) {
	acct := budget.New(1).NewAccount()
	txs, _, _ := run(t, Config{}, acct, 1, session...)
	if len(txs) != 1 || !txs[0].MemoryLimited {
		t.Errorf("%+v", txs)
	}
}

// fileSink keeps each attachment's decoded bytes and how it ended.
type fileSink struct {
	files map[string]*bytes.Buffer
	ends  map[string]parsers.FileEnd
}

type fileWriter struct {
	s    *fileSink
	name string
}

func (s *fileSink) OpenFile(info *parsers.FileInfo) parsers.FileSink {
	if info.Part != "attachment" || info.Dir != parsers.ToServer || info.Tx != 1 {
		panic(fmt.Sprintf("file info %+v", info))
	}
	s.files[info.Name] = &bytes.Buffer{}
	return fileWriter{s, info.Name}
}
func (w fileWriter) Write(p []byte) bool                    { w.s.files[w.name].Write(p); return true }
func (w fileWriter) Gap(n int64)                            {}
func (w fileWriter) Close(end parsers.FileEnd, _ time.Time) { w.s.ends[w.name] = end }

// The Files seam receives exactly the decoded bytes of each attachment.
func TestFilesSeam(t *testing.T) {
	sink := &fileSink{files: map[string]*bytes.Buffer{}, ends: map[string]parsers.FileEnd{}}
	txs, _, _ := run(t, Config{Files: sink}, nil, 5, session...)
	if got := sink.files["notes.txt"].String(); got != "a=bc\r\n. dot" {
		t.Errorf("notes.txt %q", got)
	}
	if got := sink.files["€.bin"].Bytes(); !bytes.Equal(got, []byte{0, 1, 2, 3}) {
		t.Errorf("€.bin %v", got)
	}
	if txs[0].Attachments[1].Size != 4 || sink.ends["€.bin"] != parsers.FileComplete {
		t.Errorf("size %d, end %v", txs[0].Attachments[1].Size, sink.ends["€.bin"])
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		server, client string
		want           parsers.Verdict
	}{
		{"220 mx ready\r\n", "EHLO a\r\n", parsers.Yes},
		{"220 mx ready\r\n", "helo a\r\n", parsers.Yes},
		{"220 mx ESMTP\r\n", "NOOP\r\n", parsers.Yes},
		{"220 FTP ready\r\n", "USER bob\r\n", parsers.No},
		{"220 mx ready\r\n", "EHLO a", parsers.More},
		{"220 mx", "EHLO a\r\n", parsers.More},
		{"22", "", parsers.More},
		{"", "EH", parsers.More},
		{"250 mx\r\n", "EHLO a\r\n", parsers.No},
		{"220 mx\r\n", "\x16\x03\x01", parsers.No},
	} {
		if got := Sniff([]byte(c.server), []byte(c.client)); got != c.want {
			t.Errorf("Sniff(%q, %q) = %v, want %v", c.server, c.client, got, c.want)
		}
	}
}
