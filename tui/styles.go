package tui

import "github.com/charmbracelet/lipgloss"

// Styles is every style the console uses, built once per program from the
// program's renderer (an SSH session has its own colour profile). Colour
// always comes with a shape or a word: the styles here only reinforce.
type Styles struct {
	Title    lipgloss.Style // panel titles
	Focused  lipgloss.Style // the focused panel's title
	Dim      lipgloss.Style // secondary text, stale rows
	Label    lipgloss.Style // header labels
	Value    lipgloss.Style // header values
	OK       lipgloss.Style
	Warn     lipgloss.Style
	Over     lipgloss.Style
	Stale    lipgloss.Style
	Flash    lipgloss.Style
	Prompt   lipgloss.Style // confirmations and the note input
	Axis     lipgloss.Style // chart axes and labels
	P50      lipgloss.Style
	P95      lipgloss.Style
	P99      lipgloss.Style
	SLO      lipgloss.Style
	RPS      lipgloss.Style
	Errors   lipgloss.Style
	VUs      lipgloss.Style
	Marker   lipgloss.Style // the crossing marker rune and its label
	MarkerBg lipgloss.Style // background of the marker column
	Spark    lipgloss.Style
	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style
	Cursor   lipgloss.Style // the note input's cursor
}

// NewStyles builds the styles on r (nil means lipgloss's default renderer).
func NewStyles(r *lipgloss.Renderer) Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	n := r.NewStyle
	c := func(light, dark string) lipgloss.AdaptiveColor {
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	return Styles{
		Title:    n().Bold(true),
		Focused:  n().Bold(true).Underline(true).Foreground(c("#005FAF", "#5FAFFF")),
		Dim:      n().Foreground(c("#8A8A8A", "#6C6C6C")),
		Label:    n().Foreground(c("#6C6C6C", "#9E9E9E")),
		Value:    n().Bold(true),
		OK:       n().Foreground(c("#008700", "#5FD75F")),
		Warn:     n().Foreground(c("#AF8700", "#FFD75F")),
		Over:     n().Bold(true).Foreground(c("#D70000", "#FF5F5F")),
		Stale:    n().Foreground(c("#8A8A8A", "#6C6C6C")).Italic(true),
		Flash:    n().Bold(true).Foreground(c("#AF5F00", "#FFAF5F")),
		Prompt:   n().Bold(true).Foreground(c("#AF0087", "#FF87D7")),
		Axis:     n().Foreground(c("#8A8A8A", "#767676")),
		P50:      n().Foreground(c("#5F8700", "#87D787")),
		P95:      n().Foreground(c("#005FD7", "#5FAFFF")),
		P99:      n().Foreground(c("#8700AF", "#D787FF")),
		SLO:      n().Foreground(c("#D70000", "#FF5F5F")),
		RPS:      n().Foreground(c("#005FD7", "#5FAFFF")),
		Errors:   n().Foreground(c("#D70000", "#FF5F5F")),
		VUs:      n().Foreground(c("#5F8700", "#87D787")),
		Marker:   n().Bold(true).Foreground(c("#D70000", "#FF8787")),
		MarkerBg: n().Background(c("#FFD7D7", "#3A1C1C")),
		Spark:    n().Foreground(c("#005F87", "#5F87AF")),
		HelpKey:  n().Foreground(c("#626262", "#909090")).Bold(true),
		HelpDesc: n().Foreground(c("#8A8A8A", "#6C6C6C")),
		HelpSep:  n().Foreground(c("#BCBCBC", "#4E4E4E")),
		Cursor:   n().Reverse(true),
	}
}
