package outputs

import "fmt"

// Summary says what became of every record an output was given: each one
// is in exactly one of Sent, SpoolRecords, DeadLettered, Dropped and Lost,
// so these add up to Offered plus Resumed.
type Summary struct {
	Name         string
	Offered      uint64 // records given to the output (Enqueue, Fanout.Write) that its route passed
	Filtered     uint64 // records its route left out (not in Offered)
	Resumed      uint64 // records found in the spool at start
	Sent         uint64 // delivered
	SpoolRecords int64  // left in the spool; a new Runner on SpoolDir (or `sensor spool drain`) sends them
	SpoolBytes   int64  // size of the spool files
	SpoolDir     string // where they are ("" without a spool)
	DeadLettered uint64 // rejected for good by the far end
	Dropped      uint64 // discarded by policy: on_full: drop, spool over spool_max_bytes
	Lost         uint64 // discarded by a failure: spool write error, shutdown with no spool to keep them

	Resent       uint64 // of Sent: sent twice after a reconnect (syslog)
	PossiblyLost uint64 // of Sent: not known to have arrived (syslog)
	Duplicates   uint64 // of Sent: already held by the far end, not kept twice (store)
}

// Clean reports whether everything was delivered (and is known to have
// arrived), dead-lettered or dropped by policy.
func (s Summary) Clean() bool { return s.SpoolRecords == 0 && s.Lost == 0 && s.PossiblyLost == 0 }

func (s Summary) String() string {
	resumed := ""
	if s.Resumed > 0 {
		resumed = fmt.Sprintf(" (+%d resumed from the spool)", s.Resumed)
	}
	if s.Filtered > 0 {
		resumed += fmt.Sprintf(" (%d more left out by its datasets/min_severity/rules)", s.Filtered)
	}
	out := fmt.Sprintf("%s: %d records%s: %d delivered, %d spooled, %d dead-lettered, %d dropped, %d lost",
		s.Name, s.Offered, resumed, s.Sent, s.SpoolRecords, s.DeadLettered, s.Dropped, s.Lost)
	if s.SpoolRecords > 0 {
		out += fmt.Sprintf(" (spool %s, %d bytes: sent at the next start)", s.SpoolDir, s.SpoolBytes)
	}
	if s.PossiblyLost > 0 {
		out += fmt.Sprintf("; of the delivered, %d possibly lost (written to a connection that broke before they were known to be read)", s.PossiblyLost)
	}
	if s.Resent > 0 {
		out += fmt.Sprintf("; %d sent again after a reconnect (possible duplicates)", s.Resent)
	}
	if s.Duplicates > 0 {
		out += fmt.Sprintf("; of the delivered, %d already stored (same event.id), not written again", s.Duplicates)
	}
	return out
}
