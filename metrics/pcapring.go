package metrics

import (
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/prometheus/client_golang/prometheus"
)

// ---- packet ring (capture.pcap_ring) ----

var (
	prFrames       = counter("packetsleuth_pcap_ring_frames_total", "Frames written to the packet ring.")
	prBytes        = counter("packetsleuth_pcap_ring_bytes_total", "Frame bytes written to the packet ring.")
	prFiles        = counter("packetsleuth_pcap_ring_files_total", "Packet ring files closed with their index.")
	prRemoved      = counter("packetsleuth_pcap_ring_files_removed_total", "Packet ring files removed, oldest first, for max_bytes or max_age.")
	prRemovedBytes = counter("packetsleuth_pcap_ring_removed_bytes_total", "Bytes of the packet ring files removed (indexes included).")
	prDisk         = gauge("packetsleuth_pcap_ring_disk_bytes", "Bytes the packet ring's files and indexes take now.")
	prNotWritten   = counter("packetsleuth_pcap_ring_frames_not_written_total", "Frames not written to the packet ring, by reason (queue_full, depth, not_alerted, lookback_full, write_error).", "reason")
	prAlertsLost   = counter("packetsleuth_pcap_ring_alert_notices_dropped_total", "Alert notices the packet ring's writer was too far behind for (keep: alerts).")
	prUntracked    = counter("packetsleuth_pcap_ring_untracked_frames_total", "Frames of flows whose ring state the memory budget refused (written without depth, or not held in the look-back).")
	prReindexed    = counter("packetsleuth_pcap_ring_files_reindexed_total", "Packet ring files an earlier run left without their index (it stopped without closing them), indexed at start, by result (indexed, failed).", "result")
)

func pcapRingCollector(get func() pcapring.Stats) prometheus.Collector {
	return &collector{fams: []*family{prFrames, prBytes, prFiles, prRemoved, prRemovedBytes, prDisk, prNotWritten, prAlertsLost, prUntracked, prReindexed}, collect: func(ch chan<- prometheus.Metric) {
		s := get()
		prFrames.emit(ch, float64(s.Frames))
		prBytes.emit(ch, float64(s.Bytes))
		prFiles.emit(ch, float64(s.Files))
		prRemoved.emit(ch, float64(s.FilesRemoved))
		prRemovedBytes.emit(ch, float64(s.BytesRemoved))
		prDisk.emit(ch, float64(s.DiskBytes))
		prNotWritten.emit(ch, float64(s.QueueDrops), "queue_full")
		prNotWritten.emit(ch, float64(s.DepthSkipped), "depth")
		prNotWritten.emit(ch, float64(s.NotKept), "not_alerted")
		prNotWritten.emit(ch, float64(s.LookbackEvicted), "lookback_full")
		prNotWritten.emit(ch, float64(s.WriteErrors), "write_error")
		prAlertsLost.emit(ch, float64(s.AlertsDropped))
		prUntracked.emit(ch, float64(s.Untracked))
		prReindexed.emit(ch, float64(s.Reindexed), "indexed")
		prReindexed.emit(ch, float64(s.ReindexFailed), "failed")
	}}
}
