package app

import (
	"net/netip"
	"path"
	"strings"

	pftp "github.com/packetsleuth/packetsleuth/parsers/ftp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// emitFTP maps an FTP command and its reply to an event of dataset
// packetsleuth.ftp. A data connection the command announced is expected,
// so that its flow is labelled ftp-data and linked to this connection.
func (st *state) emitFTP(c *pftp.Command) {
	ev := st.a.newEvent(st, schemas.DatasetFTP, c.Time)
	ev.Network.Protocol = "ftp"
	x := &ev.Sensor.FTP
	x.Command, x.Arg, x.ReplyCode, x.ReplyText, x.PreliminaryCode = c.Command, c.Arg, c.ReplyCode, c.ReplyText, c.Preliminary
	x.Cwd, x.Login, x.Transaction = c.Cwd, c.Login, int64(c.Tx)
	if c.File != "" {
		ev.Event.Category = categoryFile
		fillFile(&ev.File, c.File)
		if c.Size >= 0 {
			ev.File.Size = c.Size
		}
	}
	if c.User != "" {
		ev.User.Name = c.User
		ev.Related.User = append(ev.Related.User, c.User)
		u := strings.ToLower(c.User)
		x.Anonymous = u == "anonymous" || u == "ftp"
	}
	if c.Login != "" {
		ev.Event.Outcome = c.Login
	}
	if c.Data.Set && c.Data.Addr.Port() != 0 && (c.ReplyCode == 0 || c.ReplyCode < 300) {
		to := st.dataEndpoint(c.Data)
		x.DataIP, x.DataPort, x.Passive = to.Addr().String(), int(to.Port()), c.Data.Passive
		x.ControlCommunityID = ev.Network.CommunityID
		if !st.a.cfg.Expect.AddFTPData(to, ev.Network.CommunityID, st.serverIP().Unmap(), c.Time) {
			st.a.anom.Report(anomaly.MemoryLimit, st.f, c.Time, "memory budget spent: the FTP data connection announced will not be linked")
		}
	}
	ev.Sensor.Notes = c.Notes
	st.a.emit(ev)
}

// dataEndpoint is where the data connection d announced goes: an EPSV
// endpoint has only a port, on the control connection's server.
func (st *state) dataEndpoint(d pftp.DataChannel) netip.AddrPort {
	to := d.Addr
	if !to.Addr().IsValid() {
		to = netip.AddrPortFrom(st.serverIP(), to.Port())
	}
	return netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
}

// serverIP is the address of the control connection's server.
func (st *state) serverIP() netip.Addr {
	if st.flip {
		return st.f.Orig().IP
	}
	return st.f.Resp().IP
}

// ftpData labels f as an FTP data connection when a control connection
// announced it (either end may be the announced one: a flow picked up
// mid-stream can have its sides the other way).
func (a *Analyzer) ftpData(f *flow.Flow) (FTPLink, bool) {
	if f.Key.Proto != decode.ProtoTCP || a.cfg.Expect.none() { // most flows: none is announced
		return FTPLink{}, false
	}
	ts := f.First()
	for _, e := range []flow.Endpoint{f.Resp(), f.Orig()} {
		if l, ok := a.cfg.Expect.ClaimFTPData(netip.AddrPortFrom(e.IP.Unmap(), e.Port), ts); ok {
			return l, true
		}
	}
	return FTPLink{}, false
}

// fillFile sets ECS file.* from an FTP path: path, name, directory (of an
// absolute path) and extension.
func fillFile(f *schemas.File, p string) {
	f.Path, f.Name, f.Extension = p, path.Base(p), extension(p)
	if strings.HasPrefix(p, "/") {
		f.Directory = path.Dir(p)
	}
}
