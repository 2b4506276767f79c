package files

import (
	"archive/zip"
	"crypto/rand"
	"hash/crc32"
	"io"
	"time"
)

// ZipPassword is the customary password of zipped malware samples.
const ZipPassword = "infected"

// WriteZip writes a zip archive holding one file, name, with the content
// of f, stored (not compressed) and encrypted with the traditional PKWARE
// cipher ("ZipCrypto") under password: the customary way samples are
// handed around, which every unzip opens. ZipCrypto is weak; it only keeps
// a sample from being opened, run or quarantined by accident. f is read
// twice (its CRC-32 goes in the header before the data).
func WriteZip(w io.Writer, name string, f io.ReadSeeker, password string, modified time.Time) error {
	crc := crc32.NewIEEE()
	size, err := io.Copy(crc, f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	fh := &zip.FileHeader{Name: name, Method: zip.Store, Flags: 0x1, CRC32: crc.Sum32(),
		CompressedSize64: uint64(size) + 12, UncompressedSize64: uint64(size), Modified: modified}
	fw, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	c := newZipCipher(password)
	// The 12-byte encryption header: random bytes, the last one the high
	// byte of the CRC, which unzip checks the password against.
	var hdr [12]byte
	if _, err := rand.Read(hdr[:11]); err != nil {
		return err
	}
	hdr[11] = byte(fh.CRC32 >> 24)
	c.encrypt(hdr[:])
	if _, err := fw.Write(hdr[:]); err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			c.encrypt(buf[:n])
			if _, werr := fw.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// zipCipher is the traditional PKWARE stream cipher (APPNOTE 6.1).
type zipCipher struct{ k0, k1, k2 uint32 }

func newZipCipher(password string) *zipCipher {
	c := &zipCipher{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		c.update(password[i])
	}
	return c
}

func crcByte(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ crc>>8
}

func (c *zipCipher) update(b byte) {
	c.k0 = crcByte(c.k0, b)
	c.k1 = (c.k1+c.k0&0xff)*134775813 + 1
	c.k2 = crcByte(c.k2, byte(c.k1>>24))
}

// encrypt encrypts p in place.
func (c *zipCipher) encrypt(p []byte) {
	for i, b := range p {
		t := uint16(c.k2 | 2)
		p[i] = b ^ byte((uint32(t)*uint32(t^1))>>8)
		c.update(b)
	}
}
