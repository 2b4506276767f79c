package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/rules"
)

const goodRule = `rules:
  - id: PS-FLEET-%s
    name: fleet test rule
    description: Flows to port 4444.
    condition: event.dataset == "packetsleuth.flow" and destination.port == 4444
    severity: low
`

func ruleSet(id string) Bundle {
	return Bundle{
		Rules: map[string][]byte{"fleet.yaml": []byte(strings.Replace(goodRule, "%s", id, 1))},
		Intel: map[string][]byte{"bad-ips.txt": []byte("203.0.113.66\n")},
	}
}

// check loads a staged set as a sensor does.
func check(rulesDir, intelDir string) error {
	if _, errs := rules.LoadFiles(rules.Options{}, rulesDir); len(errs) > 0 {
		return errors.Join(errs...)
	}
	sh, err := enrich.Open(enrich.Config{Intel: []string{intelDir}}, nil)
	if err != nil {
		return err
	}
	sh.Close()
	return nil
}

func TestVersionIsTheContent(t *testing.T) {
	a, b := ruleSet("1"), ruleSet("1")
	b.Intel["more.txt"] = []byte("198.51.100.1\n")
	delete(b.Intel, "more.txt")
	if a.Version() != b.Version() || a.Version() == ruleSet("2").Version() {
		t.Error("the version does not follow the content")
	}
	// a file moved from rules to intel is another set
	if (Bundle{Rules: map[string][]byte{"x.yaml": nil}}).Version() == (Bundle{Intel: map[string][]byte{"x.yaml": nil}}).Version() {
		t.Error("rules and intel files of one name give one version")
	}
	data, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil || back.Version() != a.Version() {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{`{"rules":{"../x.yaml":""}}`, `{"intel":{".hidden":""}}`, `{"rules":{"x.txt":""}}`, `{"rules":{"a/b.yaml":""}}`, `not json`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// A set that fails its check leaves the set in force, on disk and by
// version, and nothing of itself.
func TestInstallKeepsTheLastGoodSet(t *testing.T) {
	d := Dir(t.TempDir())
	if err := d.Ensure(); err != nil {
		t.Fatal(err)
	}
	empty := d.Current()
	if empty != (Bundle{}).Version() {
		t.Fatalf("a new directory holds %q, want the empty set", empty)
	}
	good := ruleSet("1")
	v, err := d.Install(good, check)
	if err != nil || v != good.Version() || d.Current() != v {
		t.Fatalf("install: %v %s %s", err, v, d.Current())
	}
	bad := ruleSet("2")
	bad.Rules["broken.yaml"] = []byte("rules:\n  - id: X\n    condition: no such field ==\n")
	if _, err := d.Install(bad, check); err == nil {
		t.Fatal("a rule that does not compile was installed")
	}
	badIntel := ruleSet("3")
	badIntel.Intel["feed.csv"] = []byte("indicator,type\n")
	badIntel.Intel["feed.csv"] = append(badIntel.Intel["feed.csv"], []byte("not an indicator at all,ip\n")...)
	if _, err := d.Install(badIntel, check); err == nil {
		t.Fatal("an intel list that does not parse was installed")
	}
	if d.Current() != v {
		t.Fatalf("the set in force changed to %s", d.Current())
	}
	if b, err := os.ReadFile(filepath.Join(d.RulesPath(), "fleet.yaml")); err != nil || !strings.Contains(string(b), "PS-FLEET-1") {
		t.Fatalf("the rules in force: %v %s", err, b)
	}
	ents, _ := os.ReadDir(filepath.Join(string(d), "sets"))
	if len(ents) != 2 { // the good set and the empty one before it
		t.Errorf("%d set directories left, want 2", len(ents))
	}
}

func runID() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// With the real Kafka service: a published set is put in force and
// reported; a bad set (one that does not compile, one that is no set)
// is refused and said so while the last good one stays; a syncer whose
// broker is unreachable starts with the last good set from its directory.
func TestSyncerFollowsTheTopic(t *testing.T) {
	broker := os.Getenv("PS_TEST_KAFKA")
	if broker == "" {
		t.Skip("PS_TEST_KAFKA is not set: eval \"$(../../shared/services/start-kafka.sh)\"")
	}
	cfg := Config{Brokers: []string{broker}, Topic: "ps-fleet-config-" + runID(), Dir: t.TempDir()}
	changed := make(chan struct{}, 10)
	s, err := NewSyncer(cfg, check, func() { changed <- struct{}{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	waitStatus := func(what string, ok func(Status) bool) Status {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st := s.Status()
			if ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %+v", what, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	pub := func(b Bundle) string {
		v, err := Publish(ctx, cfg, b)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v1 := pub(ruleSet("1"))
	waitStatus("first set", func(st Status) bool { return st.Version == v1 && st.Error == "" })
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload asked for the new set")
	}

	bad := ruleSet("2")
	bad.Rules["broken.yaml"] = []byte("rules:\n  - id: X\n    condition: no such field ==\n")
	vBad := pub(bad)
	st := waitStatus("bad set", func(st Status) bool { return st.Error != "" })
	if st.Version != v1 || !strings.Contains(st.Error, vBad) {
		t.Errorf("after a bad set: %+v", st)
	}
	t.Logf("refused: %s", st.Error)
	if err := PublishRaw(ctx, cfg, []byte("{not a set")); err != nil {
		t.Fatal(err)
	}
	waitStatus("undecodable set", func(st Status) bool { return strings.Contains(st.Error, "undecodable") && st.Version == v1 })

	v2 := pub(ruleSet("2"))
	waitStatus("second set", func(st Status) bool { return st.Version == v2 && st.Error == "" })
	cancel()

	// a restart with the broker unreachable runs the last good set
	cfg.Brokers = []string{"127.0.0.1:1"}
	s2, err := NewSyncer(cfg, check, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go s2.Run(ctx2)
	time.Sleep(300 * time.Millisecond)
	cancel2()
	if st := s2.Status(); st.Version != v2 {
		t.Errorf("restarted without its broker: %+v, want %s", st, v2)
	}
	if _, errs := rules.LoadFiles(rules.Options{}, s2.Dir().RulesPath()); len(errs) > 0 {
		t.Errorf("the set in force does not load: %v", errs)
	}
}

// Decode takes what the topic holds: anything. It never panics, and what
// it accepts has plain names and encodes back to the same version.
func FuzzDecode(f *testing.F) {
	good, _ := ruleSet("1").Encode()
	f.Add(good)
	f.Add([]byte(`{"rules":{"../x.yaml":"eA=="}}`))
	f.Add([]byte(`{"intel":{"a.txt":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		if b.check() != nil {
			t.Fatal("accepted names it refuses")
		}
		again, err := b.Encode()
		if err != nil {
			return // larger encoded than on the wire (base64 of raw bytes)
		}
		back, err := Decode(again)
		if err != nil || back.Version() != b.Version() {
			t.Fatalf("round trip: %v", err)
		}
	})
}
