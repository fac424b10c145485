package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/run"
)

// --report naming an existing directory is refused before any load, like an
// unwritable one: one line, exit 2.
func TestReportDirectoryRefusedUpFront(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", "http://127.0.0.1:1/", "--vus", "1", "--duration", "1s", "--headless",
		"--report", dir}, &out, &errb)
	msg := strings.TrimSpace(errb.String())
	if code != exitUsage || !strings.Contains(msg, "--report "+dir+": is a directory") || strings.Contains(msg, "\n") {
		t.Fatalf("exit %d, stderr %q; want exit 2 and one line naming the directory", code, msg)
	}
}

// Report directory and temp directory both full: brink must not claim a
// write that did not happen. It exits 1 and names both places. The disks
// are a real full tmpfs when the test may mount one (root, as in CI), and
// always the stand-in of a report directory that is gone by the end with
// a $TMPDIR that does not exist.
func TestReportNowhereToWriteExits1(t *testing.T) {
	srv := okServer(t, 0)
	t.Run("stand-in", func(t *testing.T) {
		t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "no-such-tmp"))
		dir := filepath.Join(t.TempDir(), "reports")
		os.Mkdir(dir, 0o755)
		rep := filepath.Join(dir, "r.json")
		// Removed once the run has started (the up-front check passed).
		checkNoReport(t, srv.URL, rep, func() { os.RemoveAll(dir) }, "no such file or directory")
	})
	t.Run("full tmpfs", func(t *testing.T) {
		dir := fullTmpfs(t)
		t.Setenv("TMPDIR", dir) // the fallback is on the same disk
		// The disk fills once the run has started, past the up-front check.
		checkNoReport(t, srv.URL, filepath.Join(dir, "r.json"), sync.OnceFunc(func() { fill(t, dir) }), "no space left on device")
	})
}

// A disk already full is refused before any load, like an unwritable
// directory: exit 2, one line.
func TestFullDiskRefusedUpFront(t *testing.T) {
	dir := fullTmpfs(t)
	fill(t, dir)
	var out, errb bytes.Buffer
	rep := filepath.Join(dir, "r.json")
	code := runMain([]string{"probe", "http://127.0.0.1:1/", "--vus", "1", "--duration", "1s", "--headless",
		"--report", rep}, &out, &errb)
	msg := strings.TrimSpace(errb.String())
	if want := "brink: --report " + rep + ": cannot write there: no space left on device"; code != exitUsage || msg != want {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, msg, want)
	}
}

// fullTmpfs mounts a 64 KiB tmpfs for the test, or skips saying why.
func fullTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// fill writes to dir until its disk is full (ENOSPC is the point).
func fill(t *testing.T, dir string) {
	f, err := os.CreateTemp(dir, "fill-*")
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for _, err := f.Write(buf); err == nil; _, err = f.Write(buf) {
	}
}

// checkNoReport runs a short probe whose report cannot be written and
// checks the exit code, the message and that no report claims to exist.
func checkNoReport(t *testing.T, url, rep string, midRun func(), why string) {
	t.Helper()
	var out, errb bytes.Buffer
	run.TickHook = func(measure.Tick) {
		if midRun != nil {
			midRun()
		}
	}
	defer func() { run.TickHook = func(measure.Tick) {} }()
	code := runMain([]string{"probe", url, "--vus", "1", "--duration", "1500ms", "--think", "10ms", "--headless",
		"--report", rep}, &out, &errb)
	stderr := errb.String()
	if code != exitFailure {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "report written to") || strings.Contains(stderr, "instead") {
		t.Errorf("stderr claims a write that did not happen:\n%s", stderr)
	}
	alt := filepath.Join(os.TempDir(), fmt.Sprintf("brink-%d-r.json", os.Getpid()))
	want := fmt.Sprintf("brink: report NOT written: %s: %s; fallback %s: %s", rep, why, alt, why)
	if !strings.Contains(stderr, want+"\n") && !strings.Contains(stderr, want+" (") {
		t.Errorf("stderr lacks the line %q:\n%s", want, stderr)
	}
	for _, p := range []string{rep, alt} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
}

// A report path that cannot be written is refused before any load starts.
func TestUnwritableReportRefusedUpFront(t *testing.T) {
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", "http://127.0.0.1:1/", "--vus", "1", "--duration", "1s", "--headless",
		"--report", "/nonexistent-dir/brink/r.json"}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "--report /nonexistent-dir/brink/r.json") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// The report directory vanishing mid-run (as a full or unmounted disk
// would) must not lose the run: the report lands in the temp dir.
func TestReportDirLostMidRunFallsBack(t *testing.T) {
	srv := okServer(t, 0)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := filepath.Join(t.TempDir(), "reports")
	os.Mkdir(dir, 0o755)
	time.AfterFunc(500*time.Millisecond, func() { os.RemoveAll(dir) })
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", srv.URL, "--vus", "1", "--duration", "2s", "--headless",
		"--report", filepath.Join(dir, "r.json")}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	alt := filepath.Join(tmp, fmt.Sprintf("brink-%d-r.json", os.Getpid()))
	if _, err := report.ReadFile(alt); err != nil {
		t.Fatalf("fallback report: %v; stderr: %s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "written to "+alt) {
		t.Fatalf("stderr does not say where the report went: %s", errb.String())
	}
}
