package promexport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Listen binds addr for /metrics before any load starts, so a bad or
// taken address is refused up front. A bare port (9464) listens on
// loopback only, as --share does.
func Listen(addr string) (net.Listener, error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		addr = net.JoinHostPort("127.0.0.1", addr)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("want HOST:PORT or PORT: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return ln, nil
}

// Handler serves the exporter's registry: /metrics (and / for a quick look).
func (e *Exporter) Handler() http.Handler {
	h := promhttp.HandlerFor(e.Gatherer(), promhttp.HandlerOpts{
		// A broken metric must not cost the scrape: serve the rest.
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
	// A scrape that starts after Finish reads the final state: once it is
	// served, FinalRead says so.
	counted := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		e.mu.RLock()
		final := e.final
		e.mu.RUnlock()
		h.ServeHTTP(w, req)
		if req.Method != http.MethodGet {
			return
		}
		e.scraped.Store(true)
		if final {
			e.readOnce.Do(func() { close(e.finalRead) })
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/metrics", counted)
	mux.Handle("/{$}", counted)
	return mux
}

// Serve serves /metrics on ln until ctx ends, then closes it (in-flight
// scrapes get a second to finish).
func (e *Exporter) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 5 * time.Second}
	stopped, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
		case <-stopped: // Serve failed on its own
		}
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	close(stopped)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
