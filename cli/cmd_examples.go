package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/brink-load/brink/scenarios"
)

func cmdExamples(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && (args[0] == "-h" || args[0] == "--help"):
		fmt.Fprintln(stdout, "Usage: brink examples [NAME]\n\nWithout NAME, lists the example scenarios shipped inside brink; with NAME, prints it.\n'brink run example:NAME' runs one directly.")
		return exitOK
	case len(args) == 0:
		for _, n := range scenarios.Examples() {
			fmt.Fprintln(stdout, n)
		}
		return exitOK
	case len(args) == 1:
		data, err := scenarios.Example(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "brink examples: %v\n", err)
			return exitUsage
		}
		stdout.Write(data)
		return exitOK
	}
	fmt.Fprintln(stderr, "brink examples: want at most one NAME")
	return exitUsage
}

// loadScenario reads a scenario file, or an embedded example named
// example:NAME.
func loadScenario(arg string) (*scenarios.Scenario, error) {
	if name, ok := strings.CutPrefix(arg, "example:"); ok {
		data, err := scenarios.Example(name)
		if err != nil {
			return nil, err
		}
		return scenarios.Parse("example:"+name, data)
	}
	return scenarios.Load(arg)
}
