package app

import (
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/parsers"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// fileOpener hands the files of one flow's parser to the worker's files
// layer; each becomes a packetsleuth.file event of the flow.
type fileOpener struct {
	st    *state
	proto string // network.protocol of the transfer
}

// fileOpener returns the opener of st's files carried by proto, nil when
// the files layer is off.
func (st *state) fileOpener(proto string) parsers.FileOpener {
	if st.a.files == nil {
		return nil
	}
	if st.opener.st == nil {
		st.opener = fileOpener{st: st, proto: proto} // most flows open for one protocol
	}
	if st.opener.proto == proto {
		return &st.opener
	}
	return &fileOpener{st: st, proto: proto}
}

// OpenFile implements parsers.FileOpener.
func (o *fileOpener) OpenFile(info *parsers.FileInfo) parsers.FileSink {
	return o.st.a.files.Open(info, o)
}

// FileDone implements files.Reporter: the file's event.
func (o *fileOpener) FileDone(r *files.Result) { o.st.emitFile(o.proto, r) }

// emitFile maps one file's result to an ECS event.
func (st *state) emitFile(proto string, r *files.Result) {
	a := st.a
	in := &r.Info
	ev := a.newEvent(st, schemas.DatasetFile, in.Time)
	ev.Event.Category, ev.Event.Type = categoryFile, typeInfo
	ev.Event.Start, ev.Event.End = in.Time, r.EndTime
	ev.Event.Duration = r.EndTime.Sub(in.Time)
	ev.Network.Protocol = proto
	f := &ev.File
	f.Name, f.Extension, f.MimeType, f.Size = in.Name, files.Extension(in.Name), r.MimeType, r.Size
	if i := strings.LastIndexAny(in.Name, `\/`); i >= 0 {
		// A path (SMB, FTP, an old browser's upload): ECS keeps it in
		// file.path and the last element in file.name.
		f.Path, f.Name = in.Name, in.Name[i+1:]
	}
	f.Hash = schemas.FileHash{MD5: r.MD5, SHA1: r.SHA1, SHA256: r.SHA256}
	ev.Related.Hash = nonEmpty(&a.scr.hash, r.SHA256, r.SHA1, r.MD5)
	fi := &ev.Sensor.File
	fi.Direction = "upload"
	if in.Dir == parsers.ToClient {
		fi.Direction = "download"
	}
	fi.Transaction, fi.Part = int64(in.Tx), in.Part
	ev.Sensor.FTP.ControlCommunityID = st.ftpControl // an FTP data connection's file
	fi.State, fi.Complete, fi.MissingBytes = r.End.String(), r.End == parsers.FileComplete, r.Missing
	fi.DeclaredMimeType = in.MimeType
	if in.Size >= 0 {
		fi.DeclaredSize = in.Size
	}
	fi.Executable = r.Magic.Executable
	fi.TypeMismatch = r.Magic.ContradictsType(in.MimeType)
	fi.ExtensionMismatch = r.Magic.ContradictsExtension(in.Name)
	if in.Range != nil {
		fi.Partial, fi.RangeStart = true, in.Range.Start
		if in.Range.Total >= 0 {
			fi.RangeTotal = in.Range.Total
		}
	}
	if proto == "http" && in.URI != "" {
		port := st.f.Resp().Port
		if st.tunnel != "" {
			port = st.tunnelPort
		}
		u := phttp.SplitURL(in.URI, in.Host, "http", port)
		ev.URL = schemas.URL{Original: u.Original, Scheme: u.Scheme, Domain: u.Domain, Port: u.Port, Path: u.Path, Query: u.Query, Fragment: u.Fragment}
		if u.Domain != "" {
			ev.Related.Hosts = one(&a.scr.hosts, u.Domain)
		}
	}
	switch {
	case r.Unhashed:
		ev.Sensor.Notes = notesUnhashed
		a.anom.Report(anomaly.FileLimit, st.f, in.Time, "file counted, not typed or hashed: files.max_open or the memory budget")
	case r.OverLimit:
		ev.Sensor.Notes = notesOverLimit
	}
	if r.End == parsers.FileSizeLimit {
		ev.Sensor.Notes = append(ev.Sensor.Notes[:len(ev.Sensor.Notes):len(ev.Sensor.Notes)], noteSizeLimit)
	}
	if r.Unsized { // what was written is not the file's size
		f.Size = 0
		ev.Sensor.Notes = append(ev.Sensor.Notes[:len(ev.Sensor.Notes):len(ev.Sensor.Notes)], noteUnsized)
	}
	var meta *files.Sidecar
	if r.Storable() {
		meta = sidecar(ev, r)
	}
	a.emitGroups(ev, FileEventGroups)
	if meta != nil {
		keep := func(fired []string) error {
			_, err := r.Keep(meta, fired)
			return err
		}
		if a.deferKeep != nil && a.deferKeep(in.Time, keep) {
			return
		}
		var fired []string
		if a.alerts != nil {
			fired = a.alerts()
		}
		if err := keep(fired); err != nil {
			a.anom.Report(anomaly.FileLimit, st.f, in.Time, err.Error())
		}
	}
}

// FileEventGroups are the groups of a file event: those of the flow's
// network fields (newEvent), the file and url objects, and the
// packetsleuth file and ftp (a data connection's control) objects.
const FileEventGroups = flow.EventGroups | schemas.GroupFile | schemas.GroupURL | schemas.GroupSensorFile | schemas.GroupSensorFTP

// sidecar is the metadata stored beside a kept file.
func sidecar(ev *schemas.Event, r *files.Result) *files.Sidecar {
	return &files.Sidecar{
		SHA1: r.SHA1, MD5: r.MD5, Size: r.Size, Name: ev.File.Name, MimeType: r.MimeType,
		Declared: r.Info.MimeType, Executable: r.Magic.Executable, Protocol: ev.Network.Protocol,
		Direction: ev.Sensor.File.Direction, CommunityID: ev.Network.CommunityID,
		Source: ev.Source.IP, Destination: ev.Destination.IP, URL: ev.URL.Original, Seen: r.Info.Time, Stored: time.Now().UTC(),
	}
}

var (
	notesUnhashed  = []string{"file not typed or hashed: files.max_open or the memory budget"}
	notesOverLimit = []string{"file hashing stopped at files.max_file_bytes"}
)

// noteUnsized: the transfer stopped decoding the file once its type was
// read, nothing else needing its bytes (files.hashes: []).
const noteUnsized = "file decoded only for its type: size not known"

// noteSizeLimit: only HTTP has such a limit (a body decoded past
// http.max_decoded) for now.
const noteSizeLimit = "file cut at the protocol's size limit (http.max_decoded: a decompression bomb?)"
