package http

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// discardFile takes a file's bytes and keeps nothing.
type discardFile struct{}

func (discardFile) Write([]byte) bool                { return true }
func (discardFile) Gap(int64)                        {}
func (discardFile) Close(parsers.FileEnd, time.Time) {}

// discardOpener opens every file into a discardFile and keeps no info.
type discardOpener struct{}

func (discardOpener) OpenFile(*parsers.FileInfo) parsers.FileSink { return discardFile{} }

// Declaring a body to the files layer costs the parser no allocation: a
// keep-alive transaction whose body is opened as a file allocates as much
// as one whose body is not.
func TestOpeningAFileAllocatesNothing(t *testing.T) {
	req := []byte("GET /a.bin HTTP/1.1\r\nHost: a.example\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello")
	perTx := func(files parsers.FileOpener) float64 {
		c := NewConn(Config{Pool: new(Pool), Files: files}, func(*Transaction) {})
		return testing.AllocsPerRun(100, func() {
			_ = c.Data(parsers.ToServer, req, t0)
			_ = c.Data(parsers.ToClient, resp, t0)
		})
	}
	without, with := perTx(nil), perTx(discardOpener{})
	if with != without {
		t.Errorf("%v allocations a transaction with its body opened as a file, %v without", with, without)
	}
}
