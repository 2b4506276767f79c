package outputs

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Factory builds a Sink from its config. It decodes the sink's own keys
// with cfg.DecodeOptions and validates them; it must not connect yet.
type Factory func(cfg SinkConfig) (Sink, error)

var registry struct {
	sync.RWMutex
	m       map[string]Factory
	options map[string][]any
}

// Register makes a sink type available by name. Sink packages call it from
// init, with the zero values of the structs their own keys decode into
// (for the documentation and its test); registering a name twice panics.
func Register(name string, f Factory, options ...any) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m == nil {
		registry.m, registry.options = map[string]Factory{}, map[string][]any{}
	}
	if _, dup := registry.m[name]; dup {
		panic("outputs: Register called twice for " + name)
	}
	registry.m[name] = f
	registry.options[name] = options
}

// OptionTypes returns the structs the own keys of sink type name decode
// into, as registered.
func OptionTypes(name string) []any {
	registry.RLock()
	defer registry.RUnlock()
	return registry.options[name]
}

// Types lists the registered sink types, sorted.
func Types() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewSink builds the sink named by cfg.Type. An unknown type is an error
// that lists the known ones.
func NewSink(cfg SinkConfig) (Sink, error) {
	registry.RLock()
	f := registry.m[cfg.Type]
	registry.RUnlock()
	if f == nil {
		return nil, cfg.named(fmt.Errorf("outputs: unknown output type %q (known: %s)", cfg.Type, strings.Join(Types(), ", ")))
	}
	s, err := f(cfg)
	return s, cfg.named(err)
}
