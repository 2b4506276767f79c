//go:build schemagen

package schemas

// The generator (schemas/internal/gen) is built with the tag schemagen, so
// that it compiles without encode_gen.go, which may be stale.
func (e *encoder) appendEvent(*Event) {}

type runMemos struct{}
