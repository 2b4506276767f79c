package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Extraction: files written to disk as they arrive, kept under their
// SHA-256 (one copy however often a file crosses) with a JSON sidecar, and
// dropped oldest first past a total size. Stored files are mode 0600:
// readable by the sensor's user only, never executable.

// When values of StoreConfig.
const (
	WhenAll    = "all"    // every file of a kept type
	WhenAlerts = "alerts" // files whose event raised an alert
)

// Defaults of StoreConfig.
const (
	DefaultStoreBytes    = 1 << 30
	DefaultStoreFileSize = 64 << 20
)

// StoreConfig is files.store.
type StoreConfig struct {
	Dir string
	// MaxBytes bounds the files kept (default 1 GiB); past it the oldest
	// are removed.
	MaxBytes int64
	// MaxFileBytes: a larger file is not stored (default 64 MiB).
	MaxFileBytes int64
	// Types kept: media types ("application/pdf"), type prefixes
	// ("image/"), or the executable classes pe, elf, macho, script (and
	// "executable" for all four); empty: every type.
	Types []string
	// When is WhenAll, WhenAlerts, or empty with Rules: the files whose
	// event raised an alert of one of these rule ids.
	When  string
	Rules []string
}

// StoreStats counts what the store did.
type StoreStats struct {
	Stored, Deduplicated, Discarded, Evicted, Errors uint64
	Bytes                                            int64 // kept now
}

// Sidecar is the metadata kept beside a stored file, as <sha256>.json.
type Sidecar struct {
	SHA256      string    `json:"sha256"`
	SHA1        string    `json:"sha1,omitempty"`
	MD5         string    `json:"md5,omitempty"`
	Size        int64     `json:"size"`
	Name        string    `json:"name,omitempty"`
	MimeType    string    `json:"mime_type,omitempty"`
	Declared    string    `json:"declared_mime_type,omitempty"`
	Executable  string    `json:"executable,omitempty"`
	Protocol    string    `json:"protocol,omitempty"`
	Direction   string    `json:"direction,omitempty"`
	CommunityID string    `json:"community_id,omitempty"`
	Source      string    `json:"source_ip,omitempty"`
	Destination string    `json:"destination_ip,omitempty"`
	URL         string    `json:"url,omitempty"`
	Rules       []string  `json:"rules,omitempty"` // alerts the file's event raised
	Seen        time.Time `json:"seen"`            // packet time of the transfer
	Stored      time.Time `json:"stored"`          // wall time it was written
}

// Store is the extraction directory; it is shared by the workers.
type Store struct {
	cfg      StoreConfig
	readOnly bool // OpenStoreReader: another process writes the directory

	mu    sync.Mutex
	order []string         // sha256 of the kept files, oldest first
	sizes map[string]int64 // by sha256
	stats StoreStats
}

const tmpDir = "incoming"

// OpenStore opens (creating it, mode 0700) the store directory, indexes
// the files already there, oldest first, and removes partial files left
// by an earlier run.
func OpenStore(cfg StoreConfig) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("files.store.dir is empty")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultStoreBytes
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultStoreFileSize
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, tmpDir), 0o700); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, sizes: map[string]int64{}}
	if olds, err := filepath.Glob(filepath.Join(cfg.Dir, tmpDir, "*")); err == nil {
		for _, p := range olds {
			os.Remove(p)
		}
	}
	ks, err := scan(cfg.Dir)
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		s.order = append(s.order, k.sum)
		s.sizes[k.sum] = k.size
		s.stats.Bytes += k.size
	}
	s.mu.Lock()
	s.evict()
	s.mu.Unlock()
	return s, nil
}

// OpenStoreReader opens the store directory dir that another process
// (sensor run) writes, to list and read its files (sensor serve): it
// creates, removes and evicts nothing, and lists what is there at each
// call.
func OpenStoreReader(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("files.store.dir is empty")
	}
	if _, err := scan(dir); err != nil {
		return nil, err
	}
	return &Store{cfg: StoreConfig{Dir: dir}, readOnly: true, sizes: map[string]int64{}}, nil
}

// kept is a file of the store directory.
type kept struct {
	sum  string
	size int64
	mod  time.Time
}

// scan lists the kept files of dir, oldest first.
func scan(dir string) ([]kept, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ks []kept
	for _, e := range ents {
		if !e.Type().IsRegular() || !isHex(e.Name(), 64) {
			continue
		}
		if fi, err := e.Info(); err == nil {
			ks = append(ks, kept{e.Name(), fi.Size(), fi.ModTime()})
		}
	}
	slices.SortFunc(ks, func(a, b kept) int { return a.mod.Compare(b.mod) })
	return ks, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Config returns the store's configuration, defaults applied.
func (s *Store) Config() StoreConfig { return s.cfg }

// Stats returns the counters so far.
func (s *Store) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Path is where the file of sha256 is kept (it may be gone).
func (s *Store) Path(sha256 string) string { return filepath.Join(s.cfg.Dir, sha256) }

// Wants says whether a file typed g is of a kept type.
func (s *Store) Wants(g Magic) bool {
	if len(s.cfg.Types) == 0 {
		return true
	}
	for _, t := range s.cfg.Types {
		switch {
		case t == "executable" && g.Executable != "", t == g.Executable && t != "":
			return true
		case strings.HasSuffix(t, "/") && strings.HasPrefix(g.MimeType, t):
			return true
		case g.mime != nil && strings.Contains(t, "/") && (g.mime.Is(t) || under(g.mime, t)):
			return true
		}
	}
	return false
}

// Keep says whether a file whose event raised alerts of rules is kept.
func (s *Store) Keep(rules []string) bool {
	switch s.cfg.When {
	case WhenAll:
		return true
	case WhenAlerts:
		return len(rules) > 0
	}
	for _, r := range rules {
		if slices.Contains(s.cfg.Rules, r) {
			return true
		}
	}
	return false
}

// incoming is a file being written to the store.
type incoming struct {
	f    *os.File
	n    int64
	dead bool // over MaxFileBytes or a write error: not kept
}

func (s *Store) begin() *incoming {
	f, err := os.CreateTemp(filepath.Join(s.cfg.Dir, tmpDir), "f-*") // mode 0600
	if err != nil {
		s.count(&s.stats.Errors)
		return nil
	}
	return &incoming{f: f}
}

func (s *Store) count(c *uint64) {
	s.mu.Lock()
	*c++
	s.mu.Unlock()
}

func (s *Store) write(in *incoming, p []byte) {
	if in.dead {
		return
	}
	in.n += int64(len(p))
	if in.n > s.cfg.MaxFileBytes {
		in.dead = true
		return
	}
	if _, err := in.f.Write(p); err != nil {
		in.dead = true
		s.count(&s.stats.Errors)
	}
}

// discard drops a file that is not kept.
func (s *Store) discard(in *incoming) {
	in.f.Close()
	os.Remove(in.f.Name())
	s.count(&s.stats.Discarded)
}

// commit keeps the file as meta.SHA256 with its sidecar, unless it is
// kept already, and removes the oldest files past MaxBytes.
func (s *Store) commit(in *incoming, meta *Sidecar) error {
	tmp := in.f.Name()
	err := in.f.Close()
	if in.dead || err != nil || !isHex(meta.SHA256, 64) {
		os.Remove(tmp)
		s.count(&s.stats.Discarded)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sizes[meta.SHA256]; ok {
		os.Remove(tmp)
		s.stats.Deduplicated++
		return nil
	}
	dst := s.Path(meta.SHA256)
	side, err := json.MarshalIndent(meta, "", "  ")
	if err == nil {
		err = os.WriteFile(dst+".json.tmp", side, 0o600)
	}
	if err == nil {
		err = os.Rename(dst+".json.tmp", dst+".json")
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		os.Remove(dst + ".json")
		s.stats.Errors++
		return fmt.Errorf("files store: %w", err)
	}
	key := strings.Clone(meta.SHA256) // the Result's hex points into its File: keep 64 bytes, not the File
	s.order = append(s.order, key)
	s.sizes[key] = in.n
	s.stats.Bytes += in.n
	s.stats.Stored++
	s.evict()
	return nil
}

// evict removes the oldest files past MaxBytes; s.mu is held.
func (s *Store) evict() {
	for s.stats.Bytes > s.cfg.MaxBytes && len(s.order) > 0 {
		old := s.order[0]
		s.order = s.order[1:]
		os.Remove(s.Path(old))
		os.Remove(s.Path(old) + ".json")
		s.stats.Bytes -= s.sizes[old]
		delete(s.sizes, old)
		s.stats.Evicted++
	}
}

// List returns the sidecars of the kept files, newest first.
func (s *Store) List() []Sidecar {
	s.mu.Lock()
	order := slices.Clone(s.order)
	s.mu.Unlock()
	if s.readOnly {
		ks, _ := scan(s.cfg.Dir)
		order = order[:0]
		for _, k := range ks {
			order = append(order, k.sum)
		}
	}
	var out []Sidecar
	for i := len(order) - 1; i >= 0; i-- {
		b, err := os.ReadFile(s.Path(order[i]) + ".json")
		if err != nil {
			continue
		}
		var sc Sidecar
		if json.Unmarshal(b, &sc) == nil {
			out = append(out, sc)
		}
	}
	return out
}
