package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/termtext"
)

func init() {
	register(command{name: "report", summary: "print a saved run's summary and verdict, or compare two runs", run: runReport})
}

// runReport prints one report again (`brink report FILE`) or compares two
// (`brink report A B`, the "verify" step after a change). A file that is
// not a report, or one from a newer brink, is exit code 2.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: brink report FILE        print the summary and verdict of a saved run")
		fmt.Fprintln(stderr, "       brink report A B         compare two runs: max stable load, first signal, RPS and p95/p99 at matched load")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return exitUsage
	}
	reps := make([]*report.Report, fs.NArg())
	for i, path := range fs.Args() {
		rep, err := report.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "brink report: %v\n", err)
			return exitUsage
		}
		reps[i] = rep
	}
	if len(reps) == 1 {
		termtext.PrintClean(stdout, func(w io.Writer) { report.PrintSummaryWidth(w, reps[0], run.SummaryWidth(stdout)) })
		return exitOK
	}
	termtext.PrintClean(stdout, func(w io.Writer) { report.Compare(w, reps[0], reps[1]) })
	return exitOK
}
