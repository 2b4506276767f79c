package pipeline

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// collector is an Output that keeps every event, decoded back from its JSON,
// so tests check exactly what a sink would receive.
type collector struct {
	mu     sync.Mutex
	events []map[string]any
	raw    [][]byte
}

func (c *collector) Write(recs []schemas.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r.JSON, &m); err != nil {
			return err
		}
		c.events = append(c.events, m)
		c.raw = append(c.raw, append([]byte(nil), r.JSON...))
	}
	return nil
}

// field reads a dotted path from a decoded event.
func field(ev map[string]any, path string) any {
	var cur any = ev
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[path[start:i]]
			start = i + 1
		}
	}
	return cur
}

func str(ev map[string]any, path string) string {
	s, _ := field(ev, path).(string)
	return s
}

func num(ev map[string]any, path string) int64 {
	f, _ := field(ev, path).(float64)
	return int64(f)
}

func replay(t *testing.T, cfg Config, paths ...string) (*collector, Stats) {
	t.Helper()
	out := &collector{}
	cfg.Output = out
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Replay(t.Context(), paths)
	if err != nil {
		t.Fatalf("replay %v: %v", paths, err)
	}
	return out, st
}

func flowSeed(seed uint16) flow.Config {
	c := flow.DefaultConfig
	c.CommunityIDSeed = seed
	return c
}

// dataset returns the events of one event.dataset.
func (c *collector) dataset(ds string) []map[string]any {
	var out []map[string]any
	for _, ev := range c.events {
		if str(ev, "event.dataset") == ds {
			out = append(out, ev)
		}
	}
	return out
}
