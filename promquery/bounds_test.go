package promquery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScrapeIntervalClamped has the targets API report absurd scrape
// intervals: brink's pace and rate window stay within 1s … 5m, and a
// warning says so.
func TestScrapeIntervalClamped(t *testing.T) {
	tests := []struct {
		reported string
		want     time.Duration
		window   string
	}{
		{"1ms", time.Second, "[4s]"},
		{"100y", 5 * time.Minute, "[20m]"},
		{"30s", 30 * time.Second, "[2m]"}, // in bounds: kept, no warning
	}
	for _, tc := range tests {
		t.Run(tc.reported, func(t *testing.T) {
			f := newFakeProm(t, 2)
			f.interval = tc.reported
			src := newProm(t, f, nil)
			p := pollOK(t, src)
			if got := src.Interval(); got != tc.want {
				t.Errorf("interval %s, want %s", got, tc.want)
			}
			clamped := tc.want.String() != tc.reported && tc.reported != "30s"
			warned := strings.Contains(strings.Join(p.Warnings, "\n"), "scrape interval "+tc.reported+" from the targets API is out of bounds")
			if warned != clamped {
				t.Errorf("warnings %q (clamped %v)", p.Warnings, clamped)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, q := range f.seen {
				if strings.Contains(q, "rate(node") && !strings.Contains(q, tc.window) {
					t.Errorf("rate window not %s: %s", tc.window, q)
				}
			}
		})
	}
}

// TestExpositionTooLarge serves node_exporter text past 16 MiB from a real
// listener, with and without Content-Length: the error says too large, not
// truncated.
func TestExpositionTooLarge(t *testing.T) {
	line := "node_filler_total{x=\"" + strings.Repeat("a", 100) + "\"} 1\n"
	body := "node_load1 1\n" + strings.Repeat(line, maxExposition/len(line)+1)
	for _, withLength := range []bool{true, false} {
		t.Run("content-length "+strconv.FormatBool(withLength), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if withLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				w.Write([]byte(body))
			}))
			t.Cleanup(srv.Close)
			src := mustNew(t, Config{Scrape: []string{srv.URL + "/metrics"}, Timeout: 20 * time.Second})
			_, err := src.Poll(context.Background())
			if err == nil || !strings.Contains(err.Error(), "too large") || strings.Contains(err.Error(), "truncated") {
				t.Errorf("err %v, want too large", err)
			}
		})
	}
	// Exactly at the cap is still read.
	exact := "node_load1 1\n" + strings.Repeat("#", maxExposition-len("node_load1 1\n")-1) + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(exact)) }))
	t.Cleanup(srv.Close)
	src, _ := New(Config{Scrape: []string{srv.URL + "/metrics"}, Timeout: 20 * time.Second})
	if p, err := src.Poll(context.Background()); err != nil || p.Samples[0].Load1 != 1 {
		t.Errorf("16 MiB exactly: %+v, %v", p.Samples, err)
	}
}

// TestAPIResponseCapped: a Prometheus answer past the cap is an error that
// says so, not a process that reads it all into memory: for up (the poll
// fails) and for a custom panel (the panel says so), with and without
// Content-Length.
func TestAPIResponseCapped(t *testing.T) {
	defer func(m int64) { maxResponse = m }(maxResponse)
	maxResponse = 1 << 20
	huge := `{"status":"success","data":{"resultType":"vector","result":[` +
		strings.Repeat(`{"metric":{"instance":"x"},"value":[1,"1"]},`, (2<<20)/44) +
		`{"metric":{"instance":"y"},"value":[1,"1"]}]}}`
	small := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a"},"value":[1,"1"]}]}}`
	for _, hugeUp := range []bool{true, false} {
		for _, withLength := range []bool{true, false} {
			t.Run(fmt.Sprintf("huge up %v, content-length %v", hugeUp, withLength), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					r.ParseForm()
					q := r.Form.Get("query")
					body := small
					if strings.Contains(q, "huge_panel") || (hugeUp && strings.Contains(q, "(up{")) {
						body = huge
					}
					if withLength {
						w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					}
					w.Write([]byte(body))
				}))
				t.Cleanup(srv.Close)
				src := mustNew(t, Config{Prometheus: srv.URL, ScrapeInterval: time.Second,
					Panels: []PanelQuery{{Title: "big", Query: "huge_panel"}}})
				p, err := src.Poll(context.Background())
				const want = "response too large: more than 1 MiB"
				if hugeUp {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("err %v, want %s", err, want)
					}
					return
				}
				if err != nil || len(p.Panels) != 1 || !strings.Contains(p.Panels[0].Err, want) || len(p.Samples) != 1 {
					t.Errorf("err %v, panels %+v, %d samples", err, p.Panels, len(p.Samples))
				}
			})
		}
	}
}

// TestPanelSeriesCapped: a panel query matching 600 series keeps the 500
// highest (the ones a threshold cares about), sorted by labels, and says so.
func TestPanelSeriesCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		n := 1
		if r.Form.Get("query") == "many" {
			n = 600
		}
		var b strings.Builder
		b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			v := strconv.Itoa(i)
			if i == 7 {
				v = "NaN"
			}
			fmt.Fprintf(&b, `{"metric":{"instance":"s%d"},"value":[1,"%s"]}`, i, v)
		}
		b.WriteString(`]}}`)
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	src := mustNew(t, Config{Prometheus: srv.URL, ScrapeInterval: time.Second, Panels: []PanelQuery{{Title: "many", Query: "many"}}})
	p, err := src.Poll(context.Background())
	if err != nil || len(p.Panels) != 1 {
		t.Fatal(err, p.Panels)
	}
	ss := p.Panels[0].Series
	low := 1e9
	for _, s := range ss {
		low = min(low, s.Value)
	}
	if len(ss) != MaxPanelSeries || low != 100 || ss[0].Labels > ss[1].Labels {
		t.Errorf("%d series, lowest kept %v, first %q", len(ss), low, ss[0].Labels)
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, `panel "many": more than 500 series, kept the 500 highest`) {
		t.Errorf("warnings %q", p.Warnings)
	}
}
