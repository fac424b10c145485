// Command brink finds the breakpoint of a running system: it ramps load
// in-process, watches the servers through Prometheus, and shows — live, in a
// terminal — the moment a node gives out and the load at that moment.
//
// main is the entry point only: the commands are package cli.
package main

import (
	"os"

	"github.com/brink-load/brink/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	cli.Version = version
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
