package files

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"
)

// Real leading bytes of the types the layer judges, built by the code that
// writes such files (archive/zip, compress/gzip) or from their format
// specifications (PE, ELF, Mach-O, OLE2 headers).

func zipFile(t testing.TB, name, body string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipFile(t testing.TB, body string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(body))
	w.Close()
	return b.Bytes()
}

// peFile is a DOS stub pointing at a "PE\0\0" header, as every Windows
// executable starts.
func peFile() []byte {
	b := make([]byte, 512)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00\x64\x86")
	return b
}

// elfFile is the 64-byte ELF header of an x86-64 executable.
func elfFile() []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(b[16:], 2) // ET_EXEC
	binary.LittleEndian.PutUint16(b[18:], 0x3e)
	return b
}

// machoFile is the header of a 64-bit x86-64 Mach-O executable.
func machoFile() []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b, 0xfeedfacf)
	binary.LittleEndian.PutUint32(b[4:], 0x01000007)
	binary.LittleEndian.PutUint32(b[12:], 2) // MH_EXECUTE
	return b
}

// oleFile is the header of a compound document (.doc, .xls, .msi).
func oleFile() []byte {
	b := make([]byte, 512)
	copy(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
	return b
}
