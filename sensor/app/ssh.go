package app

import (
	pssh "github.com/packetsleuth/packetsleuth/parsers/ssh"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// emitSSH maps an SSH session to an event of dataset packetsleuth.ssh. The
// parser emits it once the authentication outcome is known, or at the end
// of the connection.
func (st *state) emitSSH(s *pssh.Session) {
	ev := st.a.newEvent(st, schemas.DatasetSSH, st.f.First())
	ev.Network.Protocol = "ssh"
	if s.Reversed {
		// The key exchange showed the TCP originator is the SSH server.
		ev.Source, ev.Destination = ev.Destination, ev.Source
	}
	x := &ev.Sensor.SSH
	x.Version = s.Version
	x.Client = sshSide(&s.Client, s.HASSH, s.HASSHAlgorithms, s.ClientKex.HostKey)
	x.Server = sshSide(&s.Server, s.HASSHServer, s.HASSHServerAlgorithms, s.ServerKex.HostKey)
	x.KexAlgorithm, x.HostKeyAlgorithm = s.Kex, s.HostKey
	x.CipherAlgorithm, x.CipherAlgorithmToClient = s.Cipher, s.CipherS2C
	x.MACAlgorithm, x.MACAlgorithmToClient = s.MAC, s.MACS2C
	x.CompressionAlgorithm, x.CompressionAlgorithmToClient = s.Compression, s.CompressionS2C
	x.Reversed, x.Encrypted = s.Reversed, s.Encrypted
	x.AuthResult, x.AuthAttempts = s.Auth, s.AuthAttempts
	if s.Auth == "" && s.Encrypted && s.Version == 2 {
		x.AuthResult = "unknown"
	}
	if x.AuthResult != "" {
		ev.Event.Outcome = x.AuthResult
	}
	ev.Related.Hash = nonEmpty(&st.a.scr.hash, s.HASSH, s.HASSHServer)
	ev.Sensor.Notes = s.Notes
	if s.MemoryLimited {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), "memory budget spent: SSH packets split across segments not read")
	}
	st.a.emit(ev)
}

func sshSide(b *pssh.Banner, hassh, hasshString, hostKeys string) schemas.SSHSide {
	return schemas.SSHSide{
		VersionString: b.Line, ProtocolVersion: b.Proto, Software: b.Software, Comments: b.Comments,
		HASSH: hassh, HASSHString: hasshString, HostKeyAlgorithms: hostKeys,
	}
}
