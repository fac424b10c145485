package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/report"
)

// refresh is how often the console looks for new data: at most 4 frames/s,
// and a frame only when something changed.
const refresh = 250 * time.Millisecond

const flashFor = 3 * time.Second

// windows are the chart spans z cycles through (0 = the whole run).
var windows = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 0}

type mode int

const (
	modeNormal mode = iota
	modeConfirmAbort
	modeConfirmQuit
	modeNote
)

// focus is which panel the arrow keys scroll.
const (
	focusNodes = iota
	focusSide
	focusCount
)

type tickMsg time.Time

// Model is the console's root: it handles global keys, then hands scroll
// keys to the focused panel; each panel renders itself from the shared data.
type Model struct {
	src  source
	opts Options
	st   Styles
	keys KeyMap
	help help.Model
	d    *data

	lat, thr *chart
	nodes    *nodePanel
	side     *sidePanel
	// extra fills the rows a short node table leaves under it (side by
	// side layouts): the hotspots, or the errors while the side panel
	// shows the hotspots.
	extra *sidePanel
	input textinput.Model

	w, h       int
	win        int
	mode       mode
	focus      int
	fullHelp   bool
	flash      string
	flashUntil time.Time

	dirtyData bool   // panels must re-render from data
	frame     string // cached full frame
	dirty     bool   // frame must be recomposed
	marks     []marker
	viewers   string // last seen Options.Viewers, joined
	quitting  bool
	// noVerdict: v hid the end-of-run verdict panel to show nodes and
	// events again.
	noVerdict bool
}

func newModel(src source, opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Who == "" {
		opts.Who = "local"
	}
	if opts.Controller == nil {
		opts.CanControl = false
	}
	m := &Model{src: src, opts: opts, st: NewStyles(opts.Renderer), keys: NewKeyMap(opts.CanControl), d: newData(), win: 1}
	if opts.Remote {
		m.keys.Quit.SetHelp("q", "leave") // an SSH viewer's q stops nothing
	}
	m.lat = newChart(latencyChart, &m.st)
	m.thr = newChart(throughputChart, &m.st)
	m.nodes = newNodePanel(&m.st)
	m.side = newSidePanel(&m.st)
	m.extra = newSidePanel(&m.st)
	m.extra.fixed = true
	m.nodes.focused = true
	m.help = help.New()
	m.help.Styles.ShortKey, m.help.Styles.FullKey = m.st.HelpKey, m.st.HelpKey
	m.help.Styles.ShortDesc, m.help.Styles.FullDesc = m.st.HelpDesc, m.st.HelpDesc
	m.help.Styles.ShortSeparator, m.help.Styles.FullSeparator = m.st.HelpSep, m.st.HelpSep
	m.help.Styles.Ellipsis = m.st.HelpSep
	// Every style comes from this console's renderer: the bubbles defaults
	// use the process's, which is wrong for an SSH viewer's terminal.
	m.input = textinput.New()
	m.input.PromptStyle, m.input.TextStyle = m.st.Prompt, m.st.Value
	m.input.PlaceholderStyle, m.input.CompletionStyle = m.st.Dim, m.st.Dim
	m.input.Cursor.Style, m.input.Cursor.TextStyle = m.st.Cursor, m.st.Dim
	m.input.Prompt = "note: "
	m.input.Placeholder = "what you see or changed"
	m.input.CharLimit = 200
	m.input.Cursor.SetMode(cursor.CursorStatic) // no blink timers; stable frames
	m.poll()
	return m
}

// Init starts the refresh tick.
func (m *Model) Init() tea.Cmd { return m.tick() }

func (m *Model) tick() tea.Cmd {
	return tea.Tick(refresh, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// poll copies what changed from the recorder; it holds the read lock only
// for the copy. A slow console simply skips to the newest state.
func (m *Model) poll() {
	changed := false
	m.src.View(func(v *report.View) { changed = m.d.ingest(v) })
	if changed {
		m.dirtyData, m.dirty = true, true
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.input.Width = max(10, msg.Width-len(m.input.Prompt)-30)
		m.dirtyData, m.dirty = true, true
		return m, nil
	case tickMsg:
		m.poll()
		if m.opts.Viewers != nil { // someone joined or left: the header changes
			if vs := strings.Join(m.opts.Viewers(), ", "); vs != m.viewers {
				m.viewers, m.dirty = vs, true
			}
		}
		if m.flash != "" && !m.opts.Now().Before(m.flashUntil) {
			m.flash, m.dirty = "", true
		}
		return m, m.tick()
	case tea.KeyMsg:
		cmd := m.key(msg)
		m.dirty = true
		return m, cmd
	}
	return m, nil
}

// toggleSide shows or hides a side view; once the run has ended, the view
// asked for replaces the verdict.
func (m *Model) toggleSide(v sideMode) {
	m.side.toggle(v)
	m.noVerdict = m.noVerdict || m.d.final != nil
	m.dirtyData = true
}

func (m *Model) setFlash(s string) {
	m.flash, m.flashUntil = s, m.opts.Now().Add(flashFor)
}

// running is true while load may still be generated.
func (m *Model) running() bool { return !m.d.done }

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	switch m.mode {
	case modeNote:
		switch {
		case key.Matches(msg, k.Submit):
			text := strings.TrimSpace(m.input.Value())
			m.mode = modeNormal
			m.input.Blur()
			m.input.Reset()
			if text == "" {
				return nil
			}
			if err := recordNote(m.src, m.opts.Who, text, m.opts.Now()); err != nil {
				m.setFlash("note not saved: " + err.Error())
			} else {
				m.setFlash("note saved")
				// A fleet run's agents log it too (without blocking the console).
				if n, ok := m.opts.Controller.(interface{ Note(who, text string) }); ok {
					n.Note(m.opts.Who, text)
				}
			}
			m.poll()
			return nil
		case key.Matches(msg, k.Cancel), msg.Type == tea.KeyCtrlC:
			m.mode = modeNormal
			m.input.Blur()
			m.input.Reset()
			return nil
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return cmd
	case modeConfirmAbort:
		m.mode = modeNormal
		if key.Matches(msg, k.Yes) {
			m.opts.Controller.Abort(m.opts.Who)
			recordControl(m.src, m.opts.Who, "abort", m.opts.Now())
			m.setFlash("aborting: ramping down")
		}
		return nil
	case modeConfirmQuit:
		m.mode = modeNormal
		if key.Matches(msg, k.Yes) || msg.Type == tea.KeyCtrlC {
			return m.quit()
		}
		return nil
	}

	switch {
	case key.Matches(msg, k.Quit):
		// Asked while the load runs: for the local console quitting stops
		// it; an SSH viewer is told it only leaves.
		if (m.opts.CanControl || m.opts.Remote) && m.running() {
			m.mode = modeConfirmQuit
			return nil
		}
		return m.quit()
	case key.Matches(msg, k.Help):
		m.fullHelp = !m.fullHelp
		m.dirtyData = true // the layout changes height
	case key.Matches(msg, k.Note):
		m.mode = modeNote
		return m.input.Focus()
	case key.Matches(msg, k.Window):
		m.win = (m.win + 1) % len(windows)
		m.dirtyData = true
		m.setFlash("window " + fmtWindow(windows[m.win]))
	case key.Matches(msg, k.Focus):
		m.focus = (m.focus + 1) % focusCount
		m.nodes.focused, m.side.focused = m.focus == focusNodes, m.focus == focusSide
		m.dirtyData = true
	case key.Matches(msg, k.Up), key.Matches(msg, k.Down):
		by := 1
		if key.Matches(msg, k.Up) {
			by = -1
		}
		if m.focus == focusNodes {
			m.nodes.scroll(by)
		} else {
			m.side.scroll(by)
		}
		m.dirtyData = true
	case key.Matches(msg, k.Hotspots):
		m.toggleSide(sideHotspots)
	case key.Matches(msg, k.Errors):
		m.toggleSide(sideErrors)
	case key.Matches(msg, k.Panels):
		m.toggleSide(sidePanels)
	case key.Matches(msg, k.Verdict):
		if m.d.final == nil {
			m.setFlash("the verdict shows when the run ends")
		}
		m.noVerdict = !m.noVerdict
	case key.Matches(msg, k.Hold), key.Matches(msg, k.ScaleUp), key.Matches(msg, k.ScaleDn), key.Matches(msg, k.Abort):
		return m.control(msg)
	}
	return nil
}

// control runs hold/resume, scale and abort for a console that may.
func (m *Model) control(msg tea.KeyMsg) tea.Cmd {
	if !m.opts.CanControl {
		m.setFlash("read-only: " + m.opts.Who + " can watch and add notes, not control the load")
		return nil
	}
	if !m.running() {
		m.setFlash("the run has ended")
		return nil
	}
	c, k, now := m.opts.Controller, m.keys, m.opts.Now()
	var action string
	switch {
	case key.Matches(msg, k.Hold):
		if c.Held() {
			c.Resume()
			action = "resume"
		} else {
			c.Hold()
			action = "hold"
		}
	case key.Matches(msg, k.ScaleUp):
		c.Scale(1.1)
		action = "scale +10%"
	case key.Matches(msg, k.ScaleDn):
		c.Scale(1 / 1.1)
		action = "scale -10%"
	case key.Matches(msg, k.Abort):
		m.mode = modeConfirmAbort
		return nil
	}
	recordControl(m.src, m.opts.Who, action, now)
	m.setFlash(action)
	return nil
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	return tea.Quit
}

// View composes the frame from cached panel strings; panels re-render only
// when data, size, window or focus changed.
func (m *Model) View() string {
	if m.quitting {
		if m.opts.ReportPath != "" {
			return "report: " + m.opts.ReportPath + "\n"
		}
		return ""
	}
	if m.w == 0 || m.h == 0 {
		return "brink: starting…"
	}
	if !m.dirty && m.frame != "" {
		return m.frame
	}
	m.frame = m.compose()
	m.dirty = false
	return m.frame
}

func (m *Model) compose() string {
	helpView := m.bottom()
	helpLines := strings.Count(helpView, "\n") + 1
	l := computeLayout(m.w, m.h, layoutState{Nodes: len(m.d.nodes), HelpLines: helpLines})
	if l.TooSmall {
		msg := fmt.Sprintf("terminal too small: %d×%d, need %d×%d", m.w, m.h, minWidth, minHeight)
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, msg)
	}
	win := windows[m.win]
	if m.dirtyData {
		m.lat.SetSize(l.Latency.W, l.Latency.H)
		m.thr.SetSize(l.Throughput.W, l.Throughput.H)
		nodesH, extraH := l.Nodes.H, 0
		if need := len(m.d.nodes) + 2; l.SideBySide && l.Nodes.H-need >= 6 {
			nodesH, extraH = need+1, l.Nodes.H-need-1 // one blank row between
		}
		m.nodes.SetSize(l.Nodes.W, nodesH)
		m.extra.SetSize(l.Nodes.W, extraH, false)
		m.extra.mode = sideHotspots
		if m.side.mode == sideHotspots {
			m.extra.mode = sideErrors
		}
		m.side.SetSize(l.Side.W, l.Side.H, l.SideBySide)
		m.marks = markers(m.d.events, m.marks)
		m.lat.render(m.d, win, m.marks)
		m.thr.render(m.d, win, m.marks)
		m.nodes.render(m.d)
		m.side.render(m.d)
		m.extra.render(m.d)
		m.dirtyData = false
	}
	// Panels render exactly their rect's size, so joining needs no measuring.
	header := fit(headerView(&m.st, m.d, &m.opts, win, m.w), m.w, l.Header.H)
	var charts string
	if l.Stacked {
		charts = m.lat.View() + "\n" + m.thr.View()
	} else {
		charts = joinH(m.lat.View(), m.thr.View())
	}
	var bottom string
	switch {
	case m.d.final != nil && !m.noVerdict:
		h := l.Nodes.H
		if !l.SideBySide {
			h += l.Side.H
		}
		bottom = verdictView(&m.st, m.d.final, m.d.find, m.opts.ReportPath, m.w, h)
	case l.SideBySide:
		left := m.nodes.View()
		if x := m.extra.View(); x != "" {
			left += "\n" + x
		}
		bottom = joinH(left, m.side.View())
	default:
		bottom = m.nodes.View() + "\n" + m.side.View()
	}
	return header + "\n" + charts + "\n" + bottom + "\n" + fit(helpView, m.w, l.Help.H)
}

// bottom is the help line, or the prompt of a confirmation or the note
// input; a flash message goes first.
func (m *Model) bottom() string {
	st := &m.st
	switch m.mode {
	case modeConfirmAbort:
		return st.Prompt.Render("Abort the run? The load ramps down gracefully and the report is written.  y / n")
	case modeConfirmQuit:
		switch {
		case m.opts.Remote && m.opts.CanControl:
			return st.Prompt.Render("Leave? You disconnect; the load goes on (to stop it: a, abort).  y / n")
		case m.opts.Remote:
			return st.Prompt.Render("Leave? You disconnect; the load goes on (owner or controllers stop it).  y / n")
		}
		return st.Prompt.Render("Quit? The load is still running: it will be stopped and the report written.  y / n")
	case modeNote:
		return m.input.View() + st.HelpDesc.Render("   enter save · esc cancel")
	}
	keys := m.keys
	if m.d.held {
		keys.Hold.SetHelp("space", "resume")
		if !m.opts.CanControl {
			keys.Hold.SetHelp("space", "resume (locked)")
		}
	}
	if m.fullHelp {
		return m.help.FullHelpView(keys.FullHelp())
	}
	short := keys.ShortHelp()
	if m.d.find != "" {
		short = keys.FindHelp()
	}
	if m.d.final != nil {
		short = keys.DoneHelp()
	}
	line := m.help.ShortHelpView(short)
	if m.flash != "" {
		line = st.Flash.Render(m.flash) + "   " + line
	}
	return line
}
