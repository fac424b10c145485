package promquery

import (
	"context"
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
			p, err := src.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
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
			src, err := New(Config{Scrape: []string{srv.URL + "/metrics"}, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Poll(context.Background())
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
