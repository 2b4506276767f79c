package pipeline

import (
	"testing"
)

// A replay of several captures read through a buffer (gzip: no frames
// held, so a file's end does not wait for the workers) starts the next
// file while the workers still run the last batches of the one before:
// the name a worker reports a fault of a batch with must not be the
// feeder's, which the next file's Feed sets meanwhile (go test -race).
func TestReplayNextFileWhileWorkersRun(t *testing.T) {
	_, gz := writeMix(t, 4<<20, 3)
	paths := []string{gz, gz, gz, gz}
	out, st := replay(t, Config{Workers: 2}, paths...)
	if st.Files != len(paths) || len(out.events) == 0 {
		t.Fatalf("%d files, %d events", st.Files, len(out.events))
	}
}
