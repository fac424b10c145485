package proto

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestDecodeRefusesAnotherVersionByName(t *testing.T) {
	m, err := Decode([]byte(`{"v":2,"t":"hello","a":"abc","hello":{"id":"abc"}}`))
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("err = %v, want ErrVersion", err)
	}
	if !strings.Contains(err.Error(), "protocol 2, this brink 1") {
		t.Errorf("error does not say both versions: %v", err)
	}
	if m == nil || m.Agent != "abc" || m.Type != TypeHello {
		t.Errorf("head = %+v, want the sender and type for the refusal", m)
	}
	// The refusal names the agent as it named itself, not by its id.
	m, err = Decode([]byte(`{"v":2,"t":"hello","a":"d98441a05c1fbc22","hello":{"id":"d98441a05c1fbc22","name":"gen-1","host":"vm","brink":"0.2.0","extra":[1]}}`))
	if !errors.Is(err, ErrVersion) || m == nil || m.Hello == nil || m.Hello.Name != "gen-1" || m.Hello.Brink != "0.2.0" {
		t.Errorf("another version's hello: %+v, %v; want its name and brink version", m, err)
	}
	// A hello of another shape still gives the head.
	if m, err := Decode([]byte(`{"v":2,"t":"hello","a":"abc","hello":{"name":7}}`)); !errors.Is(err, ErrVersion) || m == nil || m.Agent != "abc" {
		t.Errorf("another shape: %+v, %v; want the head and ErrVersion", m, err)
	}
	b, err := Encode(&Msg{Type: TypePing})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := Decode(b); err != nil || m.V != Version || m.Type != TypePing {
		t.Fatalf("round trip: %+v %v", m, err)
	}
}

// HistSum adds encoded histograms exactly as the library's Merge of the
// decoded ones does.
func TestHistSumEqualsLibraryMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sig := range []int{2, 3} {
		want := hdrhistogram.New(1, 60_000_000, sig)
		var sum HistSum
		for range 5 {
			h := hdrhistogram.New(1, 60_000_000, sig)
			for range 2000 {
				_ = h.RecordValue(int64(r.ExpFloat64()*5000) + 1)
			}
			_ = h.RecordValue(59_000_000)
			enc, err := EncodeHist(h.Export())
			if err != nil {
				t.Fatal(err)
			}
			lib, err := hdrhistogram.Decode([]byte(enc))
			if err != nil {
				t.Fatal(err)
			}
			if !lib.Equals(h) {
				t.Fatal("library round trip differs")
			}
			want.Merge(h)
			if err := sum.Add(enc); err != nil {
				t.Fatal(err)
			}
		}
		got := hdrhistogram.Import(sum.Snapshot())
		if !got.Equals(want) {
			t.Fatalf("sig %d: sum differs from the library's merge (count %d vs %d, p99 %d vs %d)", sig,
				got.TotalCount(), want.TotalCount(), got.ValueAtQuantile(99), want.ValueAtQuantile(99))
		}
		sum.Reset()
		if sum.Count() != 0 || sum.Snapshot() != nil {
			t.Fatal("Reset left counts")
		}
	}
}

func TestHistSumRefusesMixedLayoutsAndGarbage(t *testing.T) {
	var sum HistSum
	a, _ := EncodeHist(recorded(hdrhistogram.New(1, 60_000_000, 2)))
	b, _ := EncodeHist(recorded(hdrhistogram.New(1, 60_000_000, 3)))
	if err := sum.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := sum.Add(b); err == nil {
		t.Fatal("a second layout was added")
	}
	for _, bad := range []string{"!!", "AAAA", a[:len(a)/2]} {
		if err := sum.Add(bad); err == nil {
			t.Errorf("%q added", bad)
		}
	}
	var wide HistSum
	w, _ := EncodeHist(recorded(hdrhistogram.New(1, 1<<50, 2)))
	if err := wide.Add(w); err == nil {
		t.Error("a layout past 50 days was added")
	}
	if enc, err := EncodeHist(hdrhistogram.New(1, 1000, 2).Export()); err != nil || enc != "" {
		t.Errorf("empty snapshot encodes as %q, %v", enc, err)
	}
}

func recorded(h *hdrhistogram.Histogram) *hdrhistogram.Snapshot {
	_ = h.RecordValue(1234)
	return h.Export()
}
