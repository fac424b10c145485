package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the console's bindings. Control bindings stay matchable for
// read-only viewers (so a press can say "read-only"), but their help text
// says they are locked.
type KeyMap struct {
	Hold     key.Binding
	ScaleUp  key.Binding
	ScaleDn  key.Binding
	Abort    key.Binding
	Note     key.Binding
	Window   key.Binding
	Focus    key.Binding
	Up       key.Binding
	Down     key.Binding
	Hotspots key.Binding
	Errors   key.Binding
	Panels   key.Binding
	Verdict  key.Binding
	Help     key.Binding
	Quit     key.Binding
	Yes      key.Binding
	No       key.Binding
	Submit   key.Binding
	Cancel   key.Binding

	// Help-only bindings that name a pair of keys on one entry.
	scaleHelp, panelsHelp key.Binding
}

// NewKeyMap returns the bindings; canControl false marks control keys
// locked in the help.
func NewKeyMap(canControl bool) KeyMap {
	ctl := func(desc string) string {
		if canControl {
			return desc
		}
		return desc + " (locked)"
	}
	return KeyMap{
		Hold:     key.NewBinding(key.WithKeys(" "), key.WithHelp("space", ctl("hold"))),
		ScaleUp:  key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", ctl("scale +10%"))),
		ScaleDn:  key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", ctl("scale -10%"))),
		Abort:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", ctl("abort"))),
		Note:     key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "note")),
		Window:   key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "window")),
		Focus:    key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "focus")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		Hotspots: key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hotspots")),
		Errors:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "errors")),
		Panels:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "panels")),
		Verdict:  key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verdict")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Yes:      key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:       key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
		Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save note")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),

		scaleHelp:  key.NewBinding(key.WithKeys("+", "-"), key.WithHelp("+/-", ctl("scale"))),
		panelsHelp: key.NewBinding(key.WithKeys("h", "e", "p"), key.WithHelp("h/e/p", "views")),
	}
}

// ShortHelp is the one-line help (help.KeyMap); ? and q come before the
// panel keys so an 80-column line never cuts them.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Hold, k.scaleHelp, k.Abort, k.Note, k.Window, k.Help, k.Quit, k.panelsHelp}
}

// FindHelp is the one-line help during brink find: the search sets the
// load, so hold and scale (refused there) are not offered.
func (k KeyMap) FindHelp() []key.Binding {
	return []key.Binding{k.Abort, k.Note, k.Window, k.Help, k.Quit, k.panelsHelp}
}

// DoneHelp is the one-line help once the run has ended: nothing is left
// to control, and v toggles the verdict.
func (k KeyMap) DoneHelp() []key.Binding {
	return []key.Binding{k.Verdict, k.Note, k.Window, k.Help, k.Quit, k.panelsHelp}
}

// FullHelp is the `?` help (help.KeyMap), one column per group.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Hold, k.ScaleUp, k.ScaleDn, k.Abort},
		{k.Hotspots, k.Errors, k.Panels, k.Window},
		{k.Note, k.Focus, k.Up, k.Down},
		{k.Verdict, k.Help, k.Quit},
	}
}
