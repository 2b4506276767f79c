// Command gen writes what follows from the event structs of package
// schemas, their tags and doc comments: the JSON encoder
// (schemas/encode_gen.go), the field table the rule loader and
// `sensor rules fields` read (schemas/fields_gen.go), the Elasticsearch
// mappings (outputs/elasticsearch/mappings.json) and the field reference
// (docs/fields.md). It checks every field against ECS when the official
// definitions are beside the repository (../shared/ecs/ecs_flat.yml).
//
// It runs from schemas/ as `go generate ./schemas`, built with the tag
// schemagen so that it compiles even when encode_gen.go no longer does.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", "..", "the repository's root")
	ecs := flag.String("ecs", "", "ECS field definitions (default: ../shared/ecs/ecs_flat.yml beside the root)")
	flag.Parse()
	if *ecs == "" {
		*ecs = defaultECS(*root)
	}
	if err := run(*root, *ecs); err != nil {
		fmt.Fprintln(os.Stderr, "schemas/internal/gen:", err)
		os.Exit(1)
	}
}

func defaultECS(root string) string {
	return filepath.Join(root, "..", "shared", "ecs", "ecs_flat.yml")
}

func run(root, ecsPath string) error {
	m, err := load(filepath.Join(root, "schemas"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(ecsPath); err != nil {
		fmt.Fprintf(os.Stderr, "schemas/internal/gen: no ECS check (%s is absent)\n", ecsPath)
	} else if err := checkECS(m, ecsPath); err != nil {
		return err
	}
	files, err := generate(m)
	if err != nil {
		return err
	}
	for name, b := range files {
		path := filepath.Join(root, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generate returns every generated file, by path from the repository root.
func generate(m *model) (map[string][]byte, error) {
	enc, err := genEncoder(m)
	if err != nil {
		return nil, err
	}
	table, err := genFieldTable(m)
	if err != nil {
		return nil, err
	}
	mappings, err := genMappings(m)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"schemas/encode_gen.go":               enc,
		"schemas/fields_gen.go":               table,
		"outputs/elasticsearch/mappings.json": mappings,
		"docs/fields.md":                      genDocs(m),
	}, nil
}
