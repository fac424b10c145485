package share

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	gossh "golang.org/x/crypto/ssh"
)

// frameMsg asks a bench console to draw frame n.
type frameMsg int

// frameModel redraws every one of its 200×60 cells on each frame, the worst
// case for the renderer's line diff.
type frameModel struct {
	frames <-chan int
	n      int
}

func waitFrame(ch <-chan int) tea.Cmd {
	return func() tea.Msg {
		n, ok := <-ch
		if !ok {
			return tea.Quit()
		}
		return frameMsg(n)
	}
}

func (m *frameModel) Init() tea.Cmd { return waitFrame(m.frames) }

func (m *frameModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if f, ok := msg.(frameMsg); ok {
		m.n = int(f)
		return m, waitFrame(m.frames)
	}
	return m, nil
}

func (m *frameModel) View() string {
	var b strings.Builder
	for row := range 60 {
		line := fmt.Sprintf("frame %08d row %02d ", m.n, row)
		b.WriteString(line)
		b.WriteString(strings.Repeat(string(rune('a'+(m.n+row)%26)), 200-len(line)))
		if row < 59 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// tailBuffer keeps the last bytes a client received.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 64<<10 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-32<<10:]...)
	}
	t.mu.Unlock()
	return len(p), nil
}

func (t *tailBuffer) has(s string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Contains(t.buf, []byte(s))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFrameToFiveViewers measures one 200×60 full-screen frame drawn by
// five SSH viewers' programs and received by their clients. ns/op is
// latency (bounded below by Bubble Tea's 60 fps renderer tick); cpu-ns/op is
// the process's CPU for the frame, clients' decryption included.
func BenchmarkFrameToFiveViewers(b *testing.B) {
	const viewers = 5
	dir := b.TempDir()
	alice := newKey(b)
	keys := filepath.Join(dir, "authorized_keys")
	writeKeys(b, keys, alice)

	var mu sync.Mutex
	var chans []chan int
	srv, err := Start(context.Background(), Config{
		Addr: "127.0.0.1:0", AuthorizedKeys: keys, HostKeyPath: filepath.Join(dir, "host"),
		MaxViewers: viewers, Logf: func(string, ...any) {},
		NewModel: func(Viewer, int, int) tea.Model {
			ch := make(chan int, 1)
			mu.Lock()
			chans = append(chans, ch)
			mu.Unlock()
			return &frameModel{frames: ch, n: -1}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()

	var outs []*tailBuffer
	for i := range viewers {
		c := mustDial(b, srv.Addr(), fmt.Sprintf("v%d", i), alice)
		sess, out := benchShell(b, c, "xterm-256color", 60, 200)
		defer sess.Close()
		outs = append(outs, out)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		mu.Lock()
		n := len(chans)
		mu.Unlock()
		if n == viewers {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d consoles started", n, viewers)
		}
		time.Sleep(5 * time.Millisecond)
	}

	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		for _, ch := range chans {
			ch <- i
		}
		// The last row is drawn last: once it is there, the frame is.
		want := fmt.Sprintf("frame %08d row 59", i)
		deadline := time.Now().Add(waitLimit)
		for _, out := range outs {
			for !out.has(want) {
				if time.Now().After(deadline) {
					b.Fatalf("frame %d not received; tail %q", i, out.buf[max(0, len(out.buf)-600):])
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSessionSetup measures a viewer attaching: TCP connect, SSH
// handshake with an ed25519 key, PTY, shell, first frame received, hang-up.
func BenchmarkSessionSetup(b *testing.B) {
	dir := b.TempDir()
	alice := newKey(b)
	keys := filepath.Join(dir, "authorized_keys")
	writeKeys(b, keys, alice)
	srv, err := Start(context.Background(), Config{
		Addr: "127.0.0.1:0", AuthorizedKeys: keys, HostKeyPath: filepath.Join(dir, "host"),
		Logf:     func(string, ...any) {},
		NewModel: func(v Viewer, w, h int) tea.Model { return &standIn{v: v, w: w, h: h} },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		c, err := gossh.Dial("tcp", srv.Addr(), &gossh.ClientConfig{
			User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(alice.signer)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: waitLimit,
		})
		if err != nil {
			b.Fatal(err)
		}
		_, out := benchShell(b, c, "xterm", 24, 80)
		deadline := time.Now().Add(waitLimit)
		for !out.has("BRINK TEST CONSOLE") {
			if time.Now().After(deadline) {
				b.Fatal("no first frame")
			}
			time.Sleep(100 * time.Microsecond)
		}
		c.Close()
	}
}

// benchShell opens a shell session with a PTY of term, h×w on c; out
// collects its screen output.
func benchShell(b *testing.B, c *gossh.Client, term string, h, w int) (*gossh.Session, *tailBuffer) {
	b.Helper()
	sess, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	out := &tailBuffer{}
	sess.Stdout = out
	if err := sess.RequestPty(term, h, w, nil); err != nil {
		b.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		b.Fatal(err)
	}
	return sess, out
}
