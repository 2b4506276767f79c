package outputs

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// FuzzSpoolRecover opens a spool whose segment holds arbitrary bytes: it
// must never panic, must keep the records before the first bad one, and
// must read back only records whose checksum holds.
func FuzzSpoolRecover(f *testing.F) {
	dir := f.TempDir()
	sp, err := openSpool(dir, 1<<20, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	sp.append([]schemas.Record{
		{Dataset: "packetsleuth.flow", Kind: "event", Key: "1:x", Time: time.Unix(1, 2), JSON: []byte(`{"a":1}`)},
		{Dataset: "packetsleuth.dns", JSON: []byte(`{}`)},
	})
	sp.close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	good, _ := os.ReadFile(segs[0])
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append([]byte(spoolMagic), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte("garbage"))
	work := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(work, "spool")
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o700)
		p := filepath.Join(dir, "00000001099511627776.seg")
		os.WriteFile(p, data, 0o600)
		sp, err := openSpool(dir, 1<<20, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		sp.noSync = true
		defer sp.close()
		pending := sp.pending()
		var got int64
		for sp.unread() > 0 {
			recs, cur, err := sp.read(nil, 100, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			got += int64(len(recs))
			if err := sp.commit(cur); err != nil {
				t.Fatal(err)
			}
		}
		if got != pending {
			t.Fatalf("read %d records, recovery counted %d", got, pending)
		}
		// the spool stays usable
		if _, err := sp.append([]schemas.Record{{JSON: []byte(`{"n":1}`)}}); err != nil {
			t.Fatal(err)
		}
		if sp.pending() != 1 {
			t.Fatalf("pending %d after append", sp.pending())
		}
	})
}
