package ftp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

type chunk struct {
	d parsers.Dir
	b string
}

func cl(s string) chunk { return chunk{parsers.ToServer, s} }
func sv(s string) chunk { return chunk{parsers.ToClient, s} }

// run feeds the chunks cut into pieces of step bytes (0: whole) and
// returns the commands emitted and Data's last error.
func run(acct *budget.Account, step int, chunks ...chunk) ([]Command, *Conn, error) {
	var out []Command
	c := NewConn(acct, func(cmd *Command) { out = append(out, *cmd) })
	var err error
	for _, ch := range chunks {
		b := []byte(ch.b)
		for len(b) > 0 && err == nil {
			n := len(b)
			if step > 0 {
				n = min(n, step)
			}
			err = c.Data(ch.d, b[:n], time.Unix(1, 0))
			b = b[n:]
		}
	}
	c.End(time.Unix(2, 0))
	return out, c, err
}

var session = []chunk{
	sv("220-Welcome\r\n  to the server\r\n220 FTP ready\r\n"),
	cl("USER anonymous\r\n"), sv("331 Guest login ok\r\n"),
	cl("PASS guest@example.com\r\n"), sv("230-Banner line\r\nnot a reply line\r\n230 Guest login ok\r\n"),
	cl("PWD\r\n"), sv("257 \"/pub\" is current directory.\r\n"),
	cl("CWD incoming\r\n"), sv("250 CWD ok\r\n"),
	cl("EPSV\r\n"), sv("229 Entering Extended Passive Mode (|||50123|)\r\n"),
	cl("STOR evil.exe\r\n"), sv("150 Ok to send data.\r\n"), sv("226 Transfer complete (1234 bytes).\r\n"),
	cl("PORT 10,0,0,5,195,80\r\n"), sv("200 PORT ok\r\n"),
	cl("RETR /etc/motd\r\n"), sv("150 Opening BINARY mode data connection for motd (77 bytes).\r\n226 Done\r\n"),
	cl("EPRT |2|2001:db8::5|4000|\r\n"), sv("200 ok\r\n"),
	cl("PASV\r\n"), sv("227 Entering Passive Mode (192,0,2,7,4,1).\r\n"),
	cl("QUIT\r\n"), sv("221 Goodbye\r\n"),
}

func TestSession(t *testing.T) {
	for _, step := range []int{0, 1, 5} {
		cmds, _, err := run(nil, step, session...)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cmds {
			got = append(got, fmt.Sprintf("%s %q %d/%d %s %s %d %v/%d %s", c.Command, c.Arg, c.Preliminary, c.ReplyCode, c.Cwd, c.File, c.Size, c.Data.Addr.Addr(), c.Data.Addr.Port(), c.Login))
		}
		want := []string{
			`USER "anonymous" 0/331   -1 invalid IP/0 `,
			`PASS "<redacted>" 0/230   -1 invalid IP/0 success`,
			`PWD "" 0/257   -1 invalid IP/0 `,
			`CWD "incoming" 0/250 /pub  -1 invalid IP/0 `,
			`EPSV "" 0/229 /pub/incoming  -1 invalid IP/50123 `,
			`STOR "evil.exe" 150/226 /pub/incoming /pub/incoming/evil.exe 1234 invalid IP/0 `,
			`PORT "10,0,0,5,195,80" 0/200 /pub/incoming  -1 10.0.0.5/50000 `,
			`RETR "/etc/motd" 150/226 /pub/incoming /etc/motd 77 invalid IP/0 `,
			`EPRT "|2|2001:db8::5|4000|" 0/200 /pub/incoming  -1 2001:db8::5/4000 `,
			`PASV "" 0/227 /pub/incoming  -1 192.0.2.7/1025 `,
			`QUIT "" 0/221 /pub/incoming  -1 invalid IP/0 `,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("step %d:\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if s := fmt.Sprintf("%+v", cmds); strings.Contains(s, "guest@example.com") {
			t.Errorf("step %d: the password is kept", step)
		}
	}
}

// Failed logins, AUTH TLS accepted (the rest is TLS) or refused (the
// client's next bytes are commands).
func TestLoginAndAuthTLS(t *testing.T) {
	cmds, _, _ := run(nil, 0, sv("220 x\r\n"), cl("USER root\r\n"), sv("331 pw\r\n"), cl("PASS toor\r\n"), sv("530 Login incorrect.\r\n"))
	if len(cmds) != 2 || cmds[1].Login != LoginFailure || cmds[1].Arg != Redacted {
		t.Errorf("%+v", cmds)
	}
	c := NewConn(nil, func(*Command) {})
	ts := time.Unix(1, 0)
	_ = c.Data(parsers.ToClient, []byte("220 x\r\n"), ts)
	_ = c.Data(parsers.ToServer, []byte("AUTH TLS\r\n\x16\x03\x01"), ts)
	if err := c.Data(parsers.ToClient, []byte("234 go\r\n"), ts); err != parsers.ErrStartTLS {
		t.Fatalf("got %v", err)
	}
	if r := c.Switched(); string(r[0]) != "\x16\x03\x01" {
		t.Errorf("rest %q", r)
	}
	cmds, _, err := run(nil, 0, sv("220 x\r\n"), cl("AUTH TLS\r\nUSER bob\r\n"), sv("502 no\r\n331 pw\r\n"))
	if err != nil || len(cmds) != 2 || cmds[1].Command != "USER" || cmds[1].ReplyCode != 331 {
		t.Errorf("refused AUTH TLS: %v %+v", err, cmds)
	}
}

// Hostile input: a line of a megabyte, junk instead of replies, commands
// with no reply at all; memory stays bounded and the budget comes back.
func TestHostile(t *testing.T) {
	b := budget.New(1 << 30)
	acct := b.NewAccount()
	huge := strings.Repeat("A", 1<<20)
	cmds, c, _ := run(acct, 4096, sv("220 x\r\n"), cl("USER "+huge+"\r\n"), sv("331 "+huge+"\r\n"))
	if len(cmds) != 1 || len(cmds[0].User) > maxValue || len(cmds[0].ReplyText) > maxValue {
		t.Errorf("%d commands", len(cmds))
	}
	if cap(c.lines[0].Held()) > 2*maxLine {
		t.Errorf("held %d", cap(c.lines[0].Held()))
	}
	if used := b.Stats().Used; used != 0 {
		t.Errorf("%d bytes of budget not given back", used)
	}
	_, _, err := run(nil, 0, sv("220 x\r\n"), cl("USER a\r\n"), sv(strings.Repeat("junk\r\n", 20)))
	if err != ErrNotFTP {
		t.Errorf("junk replies: %v", err)
	}
	var many []chunk
	for range 200 {
		many = append(many, cl("NOOP\r\n"))
	}
	cmds, _, _ = run(nil, 0, append([]chunk{sv("220 x\r\n")}, many...)...)
	if len(cmds) != 200 {
		t.Errorf("%d of 200 unanswered commands emitted", len(cmds))
	}
}

func TestAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"1,2,3,4,0,21":   "1.2.3.4:21",
		"1,2,3,4,256,21": "invalid AddrPort",
		"1,2,3,4,5":      "invalid AddrPort",
	} {
		if got := parsePort(in).String(); got != want {
			t.Errorf("parsePort(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Entering Passive Mode (1,2,3,4,0,21).": "1.2.3.4:21",
		"Entering Passive Mode 1,2,3,4,0,21":    "1.2.3.4:21",
		"=1,2,3,4,0,21":                         "1.2.3.4:21",
	} {
		if got := parsePASV(in).String(); got != want {
			t.Errorf("parsePASV(%q) = %s, want %s", in, got, want)
		}
	}
	if got := parseEPRT("|1|132.235.1.2|6275|"); got != netip.MustParseAddrPort("132.235.1.2:6275") {
		t.Errorf("EPRT %v", got)
	}
	if got := parseEPSV("Entering Extended Passive Mode (!!!6446!)"); got.Port() != 6446 {
		t.Errorf("EPSV %v", got)
	}
	if got := quoted(`"/a ""b""" created`); got != `/a "b"` {
		t.Errorf("quoted %q", got)
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		server, client string
		want           parsers.Verdict
	}{
		{"220 FTP Sandbox Ready.\r\n", "USER bob\r\n", parsers.Yes},
		{"220 x\r\n", "AUTH TLS\r\n", parsers.Yes},
		{"220 ProFTPD\r\n", "NOOP\r\n", parsers.Yes},
		{"220 mail ESMTP\r\n", "EHLO a\r\n", parsers.No},
		{"220 x\r\n", "USER bob", parsers.More},
		{"220 x", "USER bob\r\n", parsers.More},
		{"230 x\r\n", "USER bob\r\n", parsers.No},
	} {
		if got := Sniff([]byte(c.server), []byte(c.client)); got != c.want {
			t.Errorf("Sniff(%q, %q) = %v, want %v", c.server, c.client, got, c.want)
		}
	}
}

// OnData hears of each command that moves bytes over a data connection
// when it is read (the name, the data connection announced last), then at
// its 1xx reply (the size), before its final reply; other commands are not
// announced. Commands are numbered.
func TestOnData(t *testing.T) {
	type call struct {
		tx         uint64
		cmd, file  string
		size       int64
		prelim     int
		replyKnown bool
		channel    string
	}
	var calls []call
	var final []Command
	c := NewConn(nil, func(cmd *Command) { final = append(final, *cmd) })
	c.OnData = func(cmd *Command) {
		calls = append(calls, call{cmd.Tx, cmd.Command, cmd.File, cmd.Size, cmd.Preliminary, cmd.ReplyCode != 0, fmt.Sprintf("%v/%d", cmd.Channel.Addr.Addr(), cmd.Channel.Addr.Port())})
	}
	for _, ch := range session {
		if err := c.Data(ch.d, []byte(ch.b), time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	c.End(time.Unix(2, 0))
	want := []call{
		{6, "STOR", "/pub/incoming/evil.exe", -1, 0, false, "invalid IP/50123"},
		{6, "STOR", "/pub/incoming/evil.exe", -1, 150, false, "invalid IP/50123"},
		{8, "RETR", "/etc/motd", -1, 0, false, "10.0.0.5/50000"},
		{8, "RETR", "/etc/motd", 77, 150, false, "10.0.0.5/50000"},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("OnData calls\n got %v\nwant %v", calls, want)
	}
	for i, cmd := range final {
		if cmd.Tx != uint64(i+1) {
			t.Errorf("command %d (%s) numbered %d", i+1, cmd.Command, cmd.Tx)
		}
	}
}
