package share_test

import (
	"context"
	"fmt"
	"log"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/brink-load/brink/share"
)

// The wiring in a command: one console model per SSH session, over the same
// run. In brink the model is tui.New(rec, tui.Options{Who: v.Who,
// CanControl: v.CanControl, Viewers: v.Watching, Renderer: v.Renderer, …}).
func ExampleStart() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := share.Start(ctx, share.Config{
		Addr:           "127.0.0.1:2222",
		AuthorizedKeys: "~/.ssh/authorized_keys",
		Controllers:    "", // nobody steers from SSH
		Logf:           log.Printf,
		NewModel: func(v share.Viewer, width, height int) tea.Model {
			return newConsole(v.Who, v.CanControl, width, height)
		},
	})
	if err != nil {
		log.Fatal(err) // one line, e.g. "share: authorized keys: stat …: no such file or directory"
	}
	defer srv.Close()
	fmt.Println("watching:", srv.Viewers())
}

// newConsole stands in for tui.New.
func newConsole(who string, canControl bool, width, height int) tea.Model { return nil }
