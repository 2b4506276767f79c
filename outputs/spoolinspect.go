package outputs

import (
	"os"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// SpoolInfo describes what a spool directory holds (InspectSpool).
type SpoolInfo struct {
	Dir          string
	Segments     int
	Records      int64            // undelivered records
	Bytes        int64            // size of the segment files
	Datasets     map[string]int64 // undelivered records by dataset
	Oldest       time.Time        // event time of the oldest and newest undelivered record
	Newest       time.Time
	CorruptBytes int64 // bytes a Runner would cut off as corrupt when it opens the spool
}

// InspectSpool reads a spool directory without changing it: what is left
// to deliver, and what is corrupt. A Runner opened on the directory (a
// sensor start, or `sensor spool drain`) sends the records.
func InspectSpool(dir string) (SpoolInfo, error) {
	info := SpoolInfo{Dir: dir, Datasets: map[string]int64{}}
	ids, err := segmentIDs(dir)
	if err != nil {
		return info, err
	}
	count := func(r schemas.Record) {
		info.Datasets[r.Dataset]++
		if r.Time.IsZero() {
			return
		}
		if info.Oldest.IsZero() || r.Time.Before(info.Oldest) {
			info.Oldest = r.Time
		}
		if r.Time.After(info.Newest) {
			info.Newest = r.Time
		}
	}
	for _, id := range ids {
		if err := inspectSegment(segmentPath(dir, id), &info, count); err != nil {
			return info, err
		}
	}
	return info, nil
}

func inspectSegment(p string, info *SpoolInfo, count func(schemas.Record)) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	info.Segments++
	info.Bytes += fi.Size()
	ack, ok := readSegmentHeader(f, fi.Size())
	if !ok {
		info.CorruptBytes += fi.Size()
		return nil
	}
	end, n, _ := scanSegment(f, ack, fi.Size(), count)
	info.Records += n
	info.CorruptBytes += fi.Size() - end
	return nil
}
