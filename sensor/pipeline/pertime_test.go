package pipeline

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// messageRows replays every capture with a truth table of proto (but
// skip) and calls compare with each tshark row and the event of the same
// message, for protocols with one event per message and one message per
// frame: rows and events are paired in time order. It returns the cells
// compared and agreeing.
func messageRows(t *testing.T, proto, dataset string, skip map[string]bool, compare func(capture string, row map[string]string, ev map[string]any) (total, agree int)) (total, agree int) {
	t.Helper()
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*."+proto+".tsv"))
	if len(truths) == 0 {
		t.Fatalf("no %s truth tables", proto)
	}
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), "."+proto+".tsv")
		if skip[capture] {
			continue
		}
		out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
		evs := out.dataset(dataset)
		sort.SliceStable(evs, func(i, j int) bool { return evTime(t, evs[i]) < evTime(t, evs[j]) })
		rows := readTSV(t, truthPath)
		sort.SliceStable(rows, func(i, j int) bool { return rowTime(rows[i]) < rowTime(rows[j]) })
		if len(evs) != len(rows) {
			t.Errorf("%s: %d %s events, tshark %d messages", capture, len(evs), proto, len(rows))
			continue
		}
		for i, row := range rows {
			n, a := compare(capture, row, evs[i])
			total, agree = total+n, agree+a
		}
	}
	t.Logf("%s: %d of %d tshark cells agree (%.2f%%)", proto, agree, total, 100*float64(agree)/float64(total))
	return total, agree
}

// evTime is an event's @timestamp in nanoseconds.
func evTime(t *testing.T, ev map[string]any) int64 {
	ts, err := time.Parse(time.RFC3339Nano, str(ev, "@timestamp"))
	if err != nil {
		t.Fatal(err)
	}
	return ts.UnixNano()
}

// rowTime is a tshark row's frame.time_epoch in nanoseconds.
func rowTime(row map[string]string) int64 {
	sec, frac, _ := strings.Cut(row["frame.time_epoch"], ".")
	frac = (frac + "000000000")[:9]
	return atoi(sec)*1e9 + atoi(frac)
}

// cells compares the non-empty tshark cells of row with what the sensor
// gives for each column.
func cells(t *testing.T, capture string, row map[string]string, got map[string]string) (total, agree int) {
	t.Helper()
	for col, g := range got {
		want := row[col]
		if want == "" {
			continue
		}
		total++
		if g == want {
			agree++
			continue
		}
		t.Errorf("%s frame %s %s: tshark %q, sensor %q", capture, row["frame.number"], col, want, g)
	}
	return total, agree
}
