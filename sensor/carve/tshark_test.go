package carve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

const sharedPcaps = "../../../shared/pcaps"

func sharedCaptures(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(sharedPcaps); err != nil {
		t.Skip("../shared/pcaps is not beside the repository; the shared capture tests need it")
	}
	var out []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(sharedPcaps, pat))
		out = append(out, m...)
	}
	slices.Sort(out)
	return out
}

// buildIndex indexes a capture as replay --index does: the decoder's
// verdict on every frame, through a Builder.
func buildIndex(t testing.TB, path string) (*pcapindex.Index, map[int64]string) {
	t.Helper()
	src, err := source.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	b := pcapindex.NewBuilder(0, decode.DefragConfig{}, nil)
	frameKey := map[int64]string{} // as tshark prints time and length
	var fr source.Frame
	var p decode.Packet
	for {
		err := src.Next(&fr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Logf("%s: %v (indexed up to there)", path, err)
			break
		}
		ts := "" // tshark prints no time for a record without one
		if !fr.Timestamp.IsZero() {
			ts = fmt.Sprintf("%d.%09d", fr.Timestamp.Unix(), fr.Timestamp.Nanosecond())
		}
		frameKey[fr.Offset] = fmt.Sprintf("%s/%d", ts, fr.WireLen)
		st := dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &p)
		b.Add(st, &p, pcapindex.Ref{Offset: fr.Offset, TS: fr.Timestamp.UnixNano(), Len: fr.WireLen})
	}
	x, err := b.Index(path, src.SyncPoints())
	if err != nil {
		t.Fatal(err)
	}
	return x, frameKey
}

// tsharkFlows is tshark's answer: per Community ID, the frames of the
// flow, the fragments reassembled into them included.
func tsharkFlows(t *testing.T, tshark, path string) map[string][]string {
	t.Helper()
	cmd := exec.Command(tshark, "-2", "-r", path, "-n", "--enable-protocol", "communityid", "-T", "fields",
		"-E", "separator=/t", "-E", "occurrence=l",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "communityid", "-e", "ip.reassembled_in", "-e", "ipv6.reassembled.in")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(out) > 0 {
		t.Logf("%s: tshark read up to damage: %s", filepath.Base(path), strings.TrimSpace(stderr.String()))
	} else if err != nil {
		t.Errorf("tshark %s: %v: %s", path, err, stderr.String()) // not Fatal: called off the test's goroutine
		return nil
	}
	cidOf := map[int]string{}
	into := map[int]int{}
	key := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		n, _ := strconv.Atoi(f[0])
		key[n] = f[1] + "/" + f[2]
		if f[3] != "" {
			cidOf[n] = f[3]
		}
		for _, r := range f[4:] {
			if m, err := strconv.Atoi(r); err == nil && m != n {
				into[n] = m
			}
		}
	}
	flows := map[string][]string{}
	for n, cid := range cidOf {
		if _, frag := into[n]; !frag {
			flows[cid] = append(flows[cid], key[n])
		}
	}
	for n, m := range into {
		if cid, ok := cidOf[m]; ok {
			flows[cid] = append(flows[cid], key[n])
		}
	}
	for _, v := range flows {
		slices.Sort(v)
	}
	return flows
}

// differs lists the flows where the sensor knowingly parts from tshark.
var differs = map[string]string{
	// Fragments that overlap with different bytes and run past the last
	// fragment's end: tshark rebuilds a datagram, the sensor's reassembly
	// (first copy wins, one end) refuses it as malformed, so no flow.
	"ipv4-fragmented-udp.pcap 1:XH/ssrzfRt0Ut3Ex/05P6H6/KOI=": "conflicting fragments past the end",
}

// TestIndexMatchesTshark checks, on every shared capture, that each flow's
// frames in the index are those tshark (two passes, so that a fragment
// knows its datagram) gives for its Community ID, fragments counted with
// the datagram they belong to. Frames are compared by time and length.
func TestIndexMatchesTshark(t *testing.T) {
	captures := sharedCaptures(t)
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	// tshark's start-up dominates: two at a time.
	answers := make([]map[string][]string, len(captures))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, path := range captures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			answers[i] = tsharkFlows(t, tshark, path)
			<-sem
		}()
	}
	wg.Wait()
	flows := 0
	for i, path := range captures {
		want := answers[i]
		x, frameKey := buildIndex(t, path)
		got := map[string][]string{}
		for _, f := range x.Flows {
			offs, err := f.Offsets()
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range offs {
				got[f.CommunityID] = append(got[f.CommunityID], frameKey[o])
			}
			slices.Sort(got[f.CommunityID])
		}
		for cid, w := range want {
			flows++
			if why := differs[filepath.Base(path)+" "+cid]; why != "" {
				if got[cid] != nil {
					t.Errorf("%s: flow %s (%s) now found: %v", filepath.Base(path), cid, why, got[cid])
				}
				continue
			}
			if !slices.Equal(got[cid], w) {
				t.Errorf("%s: flow %s: index has frames %v, tshark %v", filepath.Base(path), cid, got[cid], w)
			}
		}
		for cid, g := range got {
			if want[cid] == nil {
				t.Errorf("%s: flow %s (frames %v) unknown to tshark", filepath.Base(path), cid, g)
			}
		}
	}
	t.Logf("%d captures, %d flows compared", len(captures), flows)
}

// TestCarveScanEqualsIndex carves flows of the shared captures by scanning
// and through their index: the same frames, the index reading less.
func TestCarveScanEqualsIndex(t *testing.T) {
	for _, name := range []string{"ipv4-fragmented-udp.pcap", "dns-ipv6-fragmented.pcap", "http1-browsing.pcap", "pcapng-multi-interface.pcapng", "vxlan.pcap", "icmp-echo-and-ssh.pcap"} {
		path := filepath.Join(sharedPcaps, name)
		if _, err := os.Stat(path); err != nil {
			t.Skip("../shared/pcaps is not beside the repository; the shared capture tests need it")
		}
		x, _ := buildIndex(t, path)
		dir := t.TempDir()
		if err := x.Write(pcapindex.PathFor(dir, path)); err != nil {
			t.Fatal(err)
		}
		for i, f := range x.Flows {
			if i > 20 {
				break
			}
			var scanned, indexed bytes.Buffer
			opt := Options{CommunityID: f.CommunityID, IndexDirs: []string{dir}, Warn: func(s string) { t.Error(s) }}
			sst, err := carveTo(&indexed, []string{path}, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.NoIndex = true
			nst, err := carveTo(&scanned, []string{path}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if sst.Indexed != 1 || nst.Scanned != 1 {
				t.Fatalf("%s: indexed %+v scanned %+v", name, sst, nst)
			}
			if sst.Frames != uint64(f.Packets) || !bytes.Equal(scanned.Bytes(), indexed.Bytes()) {
				t.Errorf("%s %s: index carve %d frames (%d bytes), scan %d (%d bytes), index says %d packets",
					name, f.CommunityID, sst.Frames, indexed.Len(), nst.Frames, scanned.Len(), f.Packets)
			}
		}
	}
}

func carveTo(w io.Writer, paths []string, opt Options) (Stats, error) {
	out := NewWriter(w, false)
	st, err := Carve(context.Background(), paths, opt, out)
	if err == nil {
		err = out.Close()
	}
	return st, err
}
