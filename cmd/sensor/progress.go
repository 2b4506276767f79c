package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// showProgress says whether a replay draws a progress bar on w: only on a
// terminal (a log file or a pipe gets the plain summary alone).
func showProgress(quiet bool, w io.Writer) bool {
	return !quiet && textsafe.IsTerminal(w)
}

// progressWidth is the bar's width in cells.
const progressWidth = 24

// progressLine renders a replay's progress after elapsed: a bar of the
// capture bytes read of their total, the bytes, the packet rate and the
// time left at the rate so far. Without a total (nothing to measure
// against) it shows what was read.
func progressLine(s pipeline.Stats, elapsed time.Duration) string {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Frames) / elapsed.Seconds()
	}
	pps := strings.TrimSpace(strings.ReplaceAll(humanize.SIWithDigits(rate, 1, ""), " ", "")) + " pkt/s"
	if s.InputBytes <= 0 {
		return fmt.Sprintf("%s read, %d frames, %s", humanize.IBytes(uint64(max(s.InputRead, 0))), s.Frames, pps)
	}
	done := min(max(float64(s.InputRead)/float64(s.InputBytes), 0), 1)
	fill := int(done * progressWidth)
	bar := strings.Repeat("#", fill) + strings.Repeat("-", progressWidth-fill)
	eta := "--:--"
	if s.InputRead > 0 && elapsed > 0 {
		left := time.Duration(float64(elapsed) * float64(max(s.InputBytes-s.InputRead, 0)) / float64(s.InputRead))
		eta = clock(left)
	}
	return fmt.Sprintf("[%s] %3.0f%% %s / %s  %s  ETA %s", bar, done*100,
		humanize.IBytes(uint64(s.InputRead)), humanize.IBytes(uint64(s.InputBytes)), pps, eta)
}

// clock writes d as m:ss, or h:mm:ss from an hour.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}
