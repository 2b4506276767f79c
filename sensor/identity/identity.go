// Package identity is who a sensor is in a fleet: its name, site and tags
// from the config, and a UUID kept in a state file so that the sensor keeps
// its agent.id across restarts, upgrades and renames.
package identity

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Config is the `sensor:` section of sensor.yaml.
type Config struct {
	// Name is observer.name and agent.name (default: the hostname).
	Name string `yaml:"name"`
	// Site is observer.geo.name: where the sensor stands.
	Site string `yaml:"site"`
	// Tags are added to every event's tags.
	Tags []string `yaml:"tags"`
	// IDFile keeps the sensor's UUID (agent.id); default DefaultIDFile().
	IDFile string `yaml:"id_file"`
}

// Identity is a loaded sensor identity.
type Identity struct {
	Observer schemas.Observer
	Agent    schemas.Agent
	Tags     []string
}

// DefaultIDFile is where the id is kept when the config names no file:
// $STATE_DIRECTORY (systemd's StateDirectory=) if set, /var/lib/packetsleuth
// for root, else the user's state directory ($XDG_STATE_HOME or
// ~/.local/state).
func DefaultIDFile() (string, error) {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return filepath.Join(strings.Split(d, ":")[0], "sensor-id"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/lib/packetsleuth/sensor-id", nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "packetsleuth", "sensor-id"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("sensor id: no state directory (set sensor.id_file): %w", err)
	}
	return filepath.Join(home, ".local", "state", "packetsleuth", "sensor-id"), nil
}

// Load returns the identity cfg describes for a sensor of this version,
// reading the id file or creating it (0600) with a new UUID.
func Load(cfg Config, version string) (Identity, error) {
	path := cfg.IDFile
	if path == "" {
		var err error
		if path, err = DefaultIDFile(); err != nil {
			return Identity{}, err
		}
	}
	id, err := LoadID(path)
	if err != nil {
		return Identity{}, err
	}
	host, _ := os.Hostname()
	name := cfg.Name
	if name == "" {
		name = host
	}
	return Identity{
		Observer: schemas.Observer{Name: name, Hostname: host, Type: "sensor", Vendor: "PacketSleuth", Product: "PacketSleuth",
			Version: version, Geo: schemas.ObserverGeo{Name: cfg.Site}},
		Agent: schemas.Agent{ID: id, Name: name, Type: "packetsleuth", Version: version},
		Tags:  slices.Clip(slices.Clone(cfg.Tags)),
	}, nil
}

// LoadID reads the UUID in path, or creates the file (and its directory)
// with a new one. Two sensors starting at once with the same file get the
// same id: the file is written aside and linked into place, so only one
// creation wins and the other reads it.
func LoadID(path string) (string, error) {
	if id, err := readID(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return id, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("sensor id: cannot create %s (set sensor.id_file to a writable place): %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".sensor-id-*")
	if err != nil {
		return "", fmt.Errorf("sensor id: cannot write in %s (set sensor.id_file to a writable place): %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(uuid.NewString() + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("sensor id: write %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("sensor id: create %s: %w", path, err)
	}
	return readID(path)
}

// readID reads and checks an id file.
func readID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("sensor id: %w (set sensor.id_file to a writable place)", err)
	}
	s := strings.TrimSpace(string(b))
	u, err := uuid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("sensor id: %s does not hold a UUID (%q): fix or delete it", path, truncate(s, 40))
	}
	return u.String(), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Stamp gives ev the sensor's agent and adds its tags (the observer is set
// where the event is made, with its interface). A nil Identity stamps
// nothing. Tags already on the event (a rule's) are kept; the slices are
// never written to, so an event may share them.
func (id *Identity) Stamp(ev *schemas.Event) {
	if id == nil {
		return
	}
	ev.Agent = id.Agent
	switch {
	case len(id.Tags) == 0:
	case len(ev.Tags) == 0:
		ev.Tags = id.Tags
	default:
		ev.Tags = slices.Concat(ev.Tags, id.Tags)
	}
}
