package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed examples/*.yaml examples/*.csv
var examplesFS embed.FS

// Examples lists the embedded example scenarios by name (file name without
// .yaml), sorted.
func Examples() []string {
	entries, _ := fs.ReadDir(examplesFS, "examples")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Example returns an embedded example's YAML by name ("chat", "smoke", or
// "smoke.yaml").
func Example(name string) ([]byte, error) {
	n := strings.TrimSuffix(path.Base(name), ".yaml")
	data, err := examplesFS.ReadFile("examples/" + n + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no example named %q%s (have %s)", name, didYouMean(n, Examples()), strings.Join(Examples(), ", "))
	}
	return data, nil
}
