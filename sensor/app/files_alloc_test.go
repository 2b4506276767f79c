package app

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// A flow's first file costs the files layer's own allocations and no
// more: the flow's opener is in its state, and it reports the file's end
// itself, without a callback made for it.
func TestFlowsFirstFileAllocatesOnlyTheFile(t *testing.T) {
	a := New(Config{Files: &files.Config{NoHashes: true}}, nil, func(*schemas.Event) {}, nil)
	const runs = 100
	states := make([]state, runs+1) // AllocsPerRun runs once more first
	next := 0
	info := parsers.FileInfo{Size: -1}
	flows := testing.AllocsPerRun(runs, func() {
		st := &states[next]
		next++
		st.a = a
		st.fileOpener("http").OpenFile(&info)
	})
	alone := testing.AllocsPerRun(runs, func() { a.files.Open(&info, nil) })
	if flows != alone {
		t.Errorf("a flow's first file: %v allocations, the files layer's alone %v", flows, alone)
	}
}
