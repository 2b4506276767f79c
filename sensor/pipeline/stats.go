package pipeline

import (
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// Stats are the totals of a run.
type Stats struct {
	Files        int
	FilesFailed  int      // files that could not be opened or stopped early
	SourceErrors []string // one message per damaged or unreadable input
	// Clamped counts file records whose captured length exceeded their
	// original length: read whole, as tcpdump does, the original length
	// raised to the captured one.
	Clamped uint64
	// InputBytes is the size of a replay's capture files, InputRead how
	// many of those bytes were read so far (compressed bytes for gzip).
	InputBytes, InputRead int64
	Frames                uint64 // frames read
	Bytes                 uint64 // their length on the wire
	Filtered              uint64 // frames the BPF filter dropped
	Packets               uint64 // frames with an IP flow
	Decode                decode.Stats
	Flows                 flow.Stats
	App                   app.Stats         // protocols detected, parser errors, reassembly
	Events                map[string]uint64 // by event.dataset
	Budget                budget.Stats      // the memory budget (Config.Budget), zero without one
	Hosts                 hosts.Stats       // the DHCP lease table (Config.Hosts), zero without one
	// HostBarriers counts the DHCP packets that made the other workers
	// wait, for the host table's order (hostorder.go); 0 with one worker.
	HostBarriers uint64
	// HeldPeak is, with several workers replaying, the most bytes of
	// uses of state spanning host pairs the sequencer held at once,
	// waiting for the slowest worker (as charged to the budget).
	HeldPeak     int64
	EncodeErrors uint64
	OutputErrors uint64
	Wall         time.Duration
}

// PacketsPerSecond is the frame rate of the run.
func (s *Stats) PacketsPerSecond() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Frames) / s.Wall.Seconds()
}

func (s *Stats) addDecode(d *decode.Stats) {
	for i := range d.Errors {
		s.Decode.Errors[i] += d.Errors[i]
	}
	s.Decode.NotIP += d.NotIP
	s.Decode.Tunnelled += d.Tunnelled
	s.Decode.Fragments += d.Fragments
	s.Decode.Reassembled += d.Reassembled
	s.Decode.FragTimeouts += d.FragTimeouts
	s.Decode.FragLimited += d.FragLimited
	s.Decode.FragOverlaps += d.FragOverlaps
	s.Decode.FragConflict += d.FragConflict
	for lt, n := range d.UnknownLinks {
		if s.Decode.UnknownLinks == nil {
			s.Decode.UnknownLinks = map[layers.LinkType]uint64{}
		}
		s.Decode.UnknownLinks[lt] += n
	}
}

func (s *Stats) addFlows(f flow.Stats) {
	s.Flows.Created += f.Created
	for i := range f.Ended {
		s.Flows.Ended[i] += f.Ended[i]
	}
	s.Flows.Active += f.Active
	s.Flows.Interim += f.Interim
	s.Flows.EvictedMaxFlows += f.EvictedMaxFlows
	s.Flows.EvictedMemory += f.EvictedMemory
	s.Flows.EvictedForShare += f.EvictedForShare
	s.Flows.OverBudget += f.OverBudget
}

func (s *Stats) addEvents(m map[string]uint64) {
	if s.Events == nil {
		s.Events = map[string]uint64{}
	}
	for k, v := range m {
		s.Events[k] += v
	}
}
