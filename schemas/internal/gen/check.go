package main

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkECS holds every field to ECS (ecs_flat.yml of the release
// schemas.ECSVersion): a field outside packetsleuth.* must be an ECS field
// of the same type; one inside must not be (a later ECS release that adds
// it means moving it).
func checkECS(m *model, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var ecs map[string]struct {
		Type string `yaml:"type"`
	}
	if err := yaml.Unmarshal(raw, &ecs); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	var errs []string
	var walk func(fs []*field)
	walk = func(fs []*field) {
		for _, f := range fs {
			def, inECS := ecs[f.path]
			switch {
			case strings.HasPrefix(f.path, "packetsleuth."):
				if inECS {
					errs = append(errs, fmt.Sprintf("%s is an ECS field (%s): move it out of packetsleuth.*", f.path, def.Type))
				}
			case !inECS && f.leaf():
				errs = append(errs, fmt.Sprintf("%s (%s) is not an ECS %s field: put it under packetsleuth.*", f.path, f.goPath, version(path)))
			case inECS && def.Type != f.esType:
				errs = append(errs, fmt.Sprintf("%s (%s) is a %s, ECS says %s", f.path, f.goPath, f.esType, def.Type))
			}
			if !f.leaf() {
				walk(f.children)
			}
		}
	}
	walk(m.root)
	if errs != nil {
		return fmt.Errorf("fields that break ECS:\n%s", strings.Join(errs, "\n"))
	}
	return nil
}

// version reads the VERSION file beside ecs_flat.yml, for messages.
func version(path string) string {
	v, err := os.ReadFile(strings.TrimSuffix(path, "ecs_flat.yml") + "VERSION")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(v))
}
