package fleet

import (
	"fmt"
	"testing"
	"time"

	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
)

// Agents' failure rows of one endpoint stay one row per failed check in
// the merged window, counts added, as one generator keeps them.
func TestMergeKeepsFailuresByCheck(t *testing.T) {
	w := newWindow()
	w.reset(0)
	row := func(check string, n int64) measure.Failure {
		return measure.Failure{Group: "g", Endpoint: "order", Kind: measure.ErrCheckFailed, Status: 200, Check: check, Count: n, Message: "check: " + check}
	}
	for i, fs := range [][]measure.Failure{{row("json $.ok", 2), row("max_duration", 1)}, {row("json $.ok", 3)}} {
		tk := measure.Tick{Elapsed: time.Second, Window: time.Second, Failures: fs, Errors: map[measure.ErrorKind]int64{}}
		pt, err := proto.FromTick(&tk, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.add(fmt.Sprint("agent", i), pt); err != nil {
			t.Fatal(err)
		}
	}
	got := w.tick(time.Now()).Failures
	if len(got) != 2 || got[0].Check != "json $.ok" || got[0].Count != 5 || got[1].Check != "max_duration" || got[1].Count != 1 {
		t.Fatalf("merged rows %+v, want json $.ok ×5 and max_duration ×1", got)
	}
}
