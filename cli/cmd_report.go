package cli

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/brink-load/brink/htmlreport"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/termtext"
)

// runReport prints one report again (`brink report FILE`) or compares two
// (`brink report A B`, the "verify" step after a change). A file that is
// not a report, or one from a newer brink, is exit code 2.
func runReport(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var htmlOut, csvDir string
	fs.StringVar(&htmlOut, "html", "", "also write the report (or the comparison of two) as one self-contained HTML page to `FILE`")
	fs.StringVar(&csvDir, "csv", "", "also write the timeline and tables as CSV files into `DIR` (one report only)")
	return func() int {
		if fs.NArg() < 1 || fs.NArg() > 2 {
			fs.Usage()
			return exitUsage
		}
		if csvDir != "" && fs.NArg() == 2 {
			fmt.Fprintln(stderr, "brink report: --csv writes one report's tables: give it one FILE")
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
		} else {
			termtext.PrintClean(stdout, func(w io.Writer) { report.Compare(w, reps[0], reps[1]) })
		}
		return writeReportFiles(fs.Args(), reps, htmlOut, csvDir, stderr)
	}
}

// writeReportFiles writes the --html page and the --csv files, and says
// on stderr each file it wrote, only once it is in place. A failed write is
// exit code 1, one line naming the file.
func writeReportFiles(names []string, reps []*report.Report, htmlOut, csvDir string, stderr io.Writer) int {
	code := exitOK
	if htmlOut != "" {
		labels := make([]string, len(names))
		for i, n := range names {
			labels[i] = filepath.Base(n)
		}
		if err := htmlreport.WriteFile(htmlOut, labels, reps...); err != nil {
			fmt.Fprintf(stderr, "brink report: html: %v\n", err)
			code = exitFailure
		} else {
			fmt.Fprintf(stderr, "brink report: wrote %s\n", htmlOut)
		}
	}
	if csvDir != "" {
		wrote, err := report.WriteCSV(csvDir, reps[0])
		for _, p := range wrote {
			fmt.Fprintf(stderr, "brink report: wrote %s\n", p)
		}
		if err != nil {
			fmt.Fprintf(stderr, "brink report: csv: %v\n", err)
			code = exitFailure
		}
	}
	return code
}
