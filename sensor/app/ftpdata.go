package app

import (
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	pftp "github.com/packetsleuth/packetsleuth/parsers/ftp"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// An FTP data connection's bytes go to the files layer, named by the data
// command that uses it (RETR, STOR, STOU, APPE; a listing is not a file):
// the command sent after the PORT/EPRT or PASV/EPSV that announced it. The
// control connection tells the shared Expectations of each data command
// as it is read, under the data endpoint announced last (ftpTransfer), and
// the data connection claims it by that endpoint at its first byte, which
// the server or the client sends only after the command. With several workers the two
// connections may be read by different workers, and the data connection's
// first byte before the command: the file then has no name, and its
// direction comes from which end is the control connection's server (best
// effort, like the ftp-data label itself; exact with one worker).

// ftpTransfer records a data command of st's control connection.
func (st *state) ftpTransfer(c *pftp.Command) {
	t := FTPTransfer{Command: c.Command, File: c.File, Tx: c.Tx, Size: c.Size}
	if !c.Channel.Set || c.Channel.Addr.Port() == 0 {
		return // no data connection announced: nothing will carry it
	}
	if !st.a.cfg.Expect.SetFTPTransfer(st.dataEndpoint(c.Channel), t, c.Time) {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, c.Time, "memory budget spent: the FTP transfer will not name its data connection's file")
	}
}

// ftpDataConn is the stream parser of an FTP data connection: the bytes
// of the direction that sends first are the file's.
type ftpDataConn struct {
	st      *state
	link    FTPLink
	opened  bool
	dir     parsers.Dir // the direction the file's bytes travel
	sink    parsers.FileSink
	size    int64 // declared, -1 unknown
	written int64
	missing int64
}

func (c *ftpDataConn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	c.open(d, ts)
	if c.sink != nil && d == c.dir {
		c.written += int64(len(b))
		c.sink.Write(b)
	}
	return nil
}

func (c *ftpDataConn) Gap(d parsers.Dir, n int, ts time.Time) {
	c.open(d, ts)
	if c.sink != nil && d == c.dir {
		c.missing += int64(n)
		c.sink.Gap(int64(n))
	}
}

// End closes the file: complete when its sender ended it with a FIN and
// it has the size the control connection declared, if it did; truncated
// otherwise (a reset, a timeout, fewer bytes). The command's final reply
// (226, 426) comes on the control connection after the data connection
// closed, so it is not waited for: it is on the command's ftp event, which
// has the file event's transaction and control connection.
func (c *ftpDataConn) End(ts time.Time) {
	if c.sink == nil {
		return
	}
	end := parsers.FileComplete
	switch {
	case !c.st.stream.Stats(c.dir).FIN, c.st.f.WasReset(), c.size >= 0 && c.written+c.missing < c.size:
		end = parsers.FileTruncated
	}
	c.sink.Close(end, ts)
	c.sink = nil
}

// open opens the file at the connection's first byte, sent in direction d.
func (c *ftpDataConn) open(d parsers.Dir, ts time.Time) {
	if c.opened {
		return
	}
	c.opened, c.dir, c.size = true, d, -1
	info := parsers.FileInfo{Size: -1, Time: ts, Part: "data"}
	t, ok := c.st.a.cfg.Expect.ClaimFTPTransfer(c.link.At, ts)
	switch {
	case !ok:
		// The command is unknown: the direction is the server's.
		info.Dir = parsers.ToServer
		if c.sender(d) == c.link.Server {
			info.Dir = parsers.ToClient
		}
	case t.Command == "RETR":
		info.Dir = parsers.ToClient
	case t.Command == "STOR" || t.Command == "STOU" || t.Command == "APPE":
		info.Dir = parsers.ToServer
	default:
		return // a listing
	}
	if ok {
		info.Name, info.Tx, info.Size, c.size = t.File, t.Tx, t.Size, t.Size
	}
	c.sink = c.st.fileOpener("ftp").OpenFile(&info)
}

// sender is the address that sends the data connection's bytes in d.
func (c *ftpDataConn) sender(d parsers.Dir) netip.Addr {
	if d == parsers.ToServer {
		return c.st.f.Orig().IP.Unmap()
	}
	return c.st.f.Resp().IP.Unmap()
}
