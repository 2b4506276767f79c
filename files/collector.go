package files

import "github.com/packetsleuth/packetsleuth/parsers"

// Collector is a parsers.FileOpener that hands every file to Tracker and
// keeps the results, in the order the files close: for reading a
// transfer's files without events (tests, tools).
type Collector struct {
	Tracker *Tracker
	Results []Result
}

// OpenFile implements parsers.FileOpener.
func (c *Collector) OpenFile(info *parsers.FileInfo) parsers.FileSink {
	return c.Tracker.Open(info, c)
}

// FileDone implements Reporter.
func (c *Collector) FileDone(r *Result) { c.Results = append(c.Results, *r) }
