package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/brink-load/brink/promquery"
)

func init() {
	register(command{name: "nodes", summary: "poll the nodes once and print them: the quickest check that brink sees the fleet", run: runNodes})
}

// runNodes polls once (twice, 1s apart, for direct scrape so rates exist)
// and prints a table. Any failure to see the fleet is one line and exit 2.
func runNodes(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nodes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg    promquery.Config
		scrape string
		names  string
		roles  string
	)
	fs.StringVar(&cfg.Prometheus, "prom", "", "Prometheus base `URL`, e.g. http://127.0.0.1:9090")
	fs.StringVar(&scrape, "scrape", "", "node_exporter metrics `URLs`, comma-separated (instead of --prom)")
	fs.StringVar(&cfg.Match, "match", "", "series `selector` for node_exporter (default {job=\"node\"})")
	fs.StringVar(&cfg.PromConfigFile, "prom-config", "", "Prometheus http-client YAML `file` (basic_auth, authorization, tls_config, proxy_url)")
	fs.StringVar(&cfg.NameLabel, "name-label", "", "`label` that names a node (default instance)")
	fs.StringVar(&cfg.RoleLabel, "role-label", "", "`label` that holds a node's role")
	fs.StringVar(&names, "names", "", "instance=name pairs, comma-separated, e.g. 10.0.0.13:9100=db-3")
	fs.StringVar(&roles, "roles", "", "role=regexp pairs on the node name, tried in order, e.g. db=db-.*,web=web-.*")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "deadline for the poll")
	fs.DurationVar(&cfg.ScrapeInterval, "scrape-interval", 0, "Prometheus scrape `interval` for rate windows (default: read from the targets API)")
	fs.StringVar(&cfg.HTTP.BasicAuthUser, "prom-user", "", "basic auth user")
	fs.StringVar(&cfg.HTTP.BasicAuthPasswordFile, "prom-password-file", "", "basic auth password `file`")
	fs.StringVar(&cfg.HTTP.CredentialsFile, "prom-credentials-file", "", "authorization credentials `file` (Bearer token)")
	fs.StringVar(&cfg.HTTP.CAFile, "prom-ca", "", "TLS CA `file`")
	fs.StringVar(&cfg.HTTP.CertFile, "prom-cert", "", "TLS client certificate `file`")
	fs.StringVar(&cfg.HTTP.KeyFile, "prom-key", "", "TLS client key `file`")
	fs.BoolVar(&cfg.HTTP.InsecureSkipVerify, "prom-insecure", false, "skip TLS certificate verification")
	fs.StringVar(&cfg.HTTP.ProxyURL, "prom-proxy", "", "HTTP proxy `URL`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: brink nodes --prom URL | --scrape URL[,URL…] [--match SEL] [--prom-config FILE] [--name-label L]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "brink nodes: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	for _, u := range strings.Split(scrape, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.Scrape = append(cfg.Scrape, u)
		}
	}
	var err error
	if cfg.Names, err = pairs(names); err != nil {
		fmt.Fprintf(stderr, "brink nodes: --names: %v\n", err)
		return exitUsage
	}
	rs, err := orderedPairs(roles)
	if err != nil {
		fmt.Fprintf(stderr, "brink nodes: --roles: %v\n", err)
		return exitUsage
	}
	for _, r := range rs {
		cfg.Roles = append(cfg.Roles, promquery.Role{Name: r[0], Pattern: r[1]})
	}

	src, err := promquery.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "brink nodes: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	p, err := src.Poll(ctx)
	if err == nil && len(cfg.Scrape) > 0 {
		// Rates need two scrapes; a second apart is what the console uses.
		select {
		case <-ctx.Done():
			return exitFailure
		case <-time.After(time.Second):
		}
		p, err = src.Poll(ctx)
	}
	if err != nil {
		fmt.Fprintf(stderr, "brink nodes: %v\n", err)
		return exitUsage
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(stderr, "brink nodes: warning: %s\n", w)
	}
	if err := promquery.WriteTable(stdout, p); err != nil {
		return exitFailure
	}
	return exitOK
}

// pairs parses k=v,k=v.
func pairs(s string) (map[string]string, error) {
	ps, err := orderedPairs(s)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p[0]] = p[1]
	}
	return m, nil
}

func orderedPairs(s string) ([][2]string, error) {
	var out [][2]string
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("want key=value, got %q", kv)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
