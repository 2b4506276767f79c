package smb

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// smb1 is one SMB1 message behind its NetBIOS header: Unicode flags2,
// the words and bytes given.
func smb1(cmd byte, resp bool, status uint32, mid uint16, words, data []byte) []byte {
	h := make([]byte, 32)
	copy(h, "\xffSMB")
	h[4] = cmd
	binary.LittleEndian.PutUint32(h[5:], status)
	h[9] = 0x18
	if resp {
		h[9] |= 0x80
	}
	binary.LittleEndian.PutUint16(h[10:], 0xc801)
	binary.LittleEndian.PutUint16(h[30:], mid)
	m := append(h, byte(len(words)/2))
	m = append(m, words...)
	m = binary.LittleEndian.AppendUint16(m, uint16(len(data)))
	m = append(m, data...)
	return append([]byte{0, 0, byte(len(m) >> 8), byte(len(m))}, m...)
}

func words(n int, set map[int]uint16) []byte {
	w := make([]byte, 2*n)
	for off, v := range set {
		binary.LittleEndian.PutUint16(w[off:], v)
	}
	return w
}

// transNmPipe is a TRANSACTION request of function TransactNmPipe on fid
// carrying data (dataOff: where its header says the data is).
func transNmPipe(mid, fid uint16, data []byte, dataOff uint16) []byte {
	return smb1(smb1Trans, false, 0, mid, words(16, map[int]uint16{22: uint16(len(data)), 24: dataOff, 26: 2, 28: transactNmPipe, 30: fid}), data)
}

func transResp(mid uint16, data []byte) []byte {
	return smb1(smb1Trans, true, 0, mid, words(10, map[int]uint16{12: uint16(len(data)), 14: 33 + 20 + 2}), data)
}

// SMB1 named pipes: the name NT_CREATE_ANDX opened, the data of each
// TransactNmPipe both ways, the pipe emitted at its close; a transaction
// on a handle opened before the capture is adopted without a name; a
// data offset that lies gives what is there and counts the rest as
// missing; an error answer carries nothing.
func TestSMB1NamedPipes(t *testing.T) {
	name := append([]byte{0}, pcapgen.UTF16LE(`\srvsvc`)...) // a pad byte aligns the name
	const fid, early = 0x4000, 0x7777
	stream := []pcapgen.SMBChunk{
		fromClient(smb1(smb1NTCreate, false, 0, 1, words(24, map[int]uint16{5: uint16(len(name) - 1)}), name)),
		fromServer(smb1(smb1NTCreate, true, 0, 1, words(34, map[int]uint16{5: fid}), nil)),
		fromClient(transNmPipe(2, fid, []byte("bind"), 33+32+2)),
		fromServer(transResp(2, []byte("bind_ack"))),
		fromClient(transNmPipe(3, fid, []byte("lying"), 500)),
		fromServer(smb1(smb1Trans, true, 0xc0000022, 3, nil, nil)),
		fromClient(transNmPipe(4, early, []byte("request"), 33+32+2)),
		fromClient(smb1(smb1Close, false, 0, 5, words(3, map[int]uint16{0: fid}), nil)),
	}
	var got []string
	c := NewConn(nil, Handler{
		Pipe: func(f *File, d parsers.Dir, data []byte, missing int, _ time.Time) {
			got = append(got, fmt.Sprintf("pipe %q %v %q missing %d", f.Name, d, data, missing))
		},
		File: func(f *File) {
			got = append(got, fmt.Sprintf("file %q smb1=%v pipe=%v adopted=%v %v", f.Name, f.SMB1, f.Pipe, f.Adopted, f.Notes))
		},
	})
	for _, ch := range stream {
		if err := c.Data(dir(ch.FromClient), ch.B, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	c.End(time.Time{})
	want := []string{
		`pipe "\\srvsvc" to_server "bind" missing 0`,
		`pipe "\\srvsvc" to_client "bind_ack" missing 0`,
		`pipe "\\srvsvc" to_server "" missing 5`,
		`pipe "" to_server "request" missing 0`,
		`file "\\srvsvc" smb1=true pipe=true adopted=false []`,
		`file "" smb1=true pipe=true adopted=true [` + noteOpenedElsewhere + ` smb.not_closed]`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// BenchmarkSMB1Pipe: TransactNmPipe round trips of 1 KiB each way on an
// open SMB1 pipe.
func BenchmarkSMB1Pipe(b *testing.B) {
	name := append([]byte{0}, pcapgen.UTF16LE(`\srvsvc`)...)
	c := NewConn(nil, Handler{Pipe: func(*File, parsers.Dir, []byte, int, time.Time) {}})
	_ = c.Data(parsers.ToServer, smb1(smb1NTCreate, false, 0, 1, words(24, map[int]uint16{5: uint16(len(name) - 1)}), name), time.Time{})
	_ = c.Data(parsers.ToClient, smb1(smb1NTCreate, true, 0, 1, words(34, map[int]uint16{5: 0x4000}), nil), time.Time{})
	req, resp := transNmPipe(2, 0x4000, make([]byte, 1024), 33+32+2), transResp(2, make([]byte, 1024))
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Data(parsers.ToServer, req, time.Time{})
		_ = c.Data(parsers.ToClient, resp, time.Time{})
	}
}
