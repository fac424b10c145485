package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/scenarios"
)

// nodeFlags are the node-source flags, the same on every command that
// reads node metrics (run, probe, demo, nodes): they override or add the
// scenario's nodes section; the auth and TLS ones have no scenario key
// (the scenario's prom_config file is their home there).
type nodeFlags struct {
	prom, scrape, match, promConfig string
	nameLabel, roleLabel            string
	names, roles                    string // k=v,k=v; parsed by apply
	scrapeInterval                  time.Duration
	http                            promquery.HTTPOptions
}

// addNodeFlags registers the node-source flags; one function for every
// command, so a flag that exists on one exists on all.
func addNodeFlags(fs *flag.FlagSet, n *nodeFlags) {
	fs.StringVar(&n.prom, "prom", "", "watch nodes through this Prometheus base `URL`, e.g. http://127.0.0.1:9090 (overrides the scenario's nodes.prometheus)")
	fs.StringVar(&n.scrape, "scrape", "", "watch nodes by scraping these node_exporter metrics `URLs` (comma-separated) instead of Prometheus")
	fs.StringVar(&n.match, "match", "", `series `+"`selector`"+` for node metrics (default {job="node"})`)
	fs.StringVar(&n.promConfig, "prom-config", "", "Prometheus http-client YAML `file` (basic_auth, authorization, tls_config, proxy_url)")
	fs.StringVar(&n.nameLabel, "name-label", "", "`label` that names a node (default instance)")
	fs.StringVar(&n.roleLabel, "role-label", "", "`label` that holds a node's role")
	fs.StringVar(&n.names, "names", "", "instance=name pairs, comma-separated, e.g. 10.0.0.13:9100=db-3")
	fs.StringVar(&n.roles, "roles", "", "role=regexp pairs on the node name, tried in order, e.g. db=db-.*,web=web-.*")
	fs.DurationVar(&n.scrapeInterval, "scrape-interval", 0, "Prometheus scrape `interval` for rate windows (default: read from the targets API)")
	fs.StringVar(&n.http.BasicAuthUser, "prom-user", "", "basic auth `user` for Prometheus or the node_exporters")
	fs.StringVar(&n.http.BasicAuthPasswordFile, "prom-password-file", "", "basic auth password `file`")
	fs.StringVar(&n.http.CredentialsFile, "prom-credentials-file", "", "authorization credentials `file` (Bearer token)")
	fs.StringVar(&n.http.CAFile, "prom-ca", "", "TLS CA `file`")
	fs.StringVar(&n.http.CertFile, "prom-cert", "", "TLS client certificate `file`")
	fs.StringVar(&n.http.KeyFile, "prom-key", "", "TLS client key `file`")
	fs.BoolVar(&n.http.InsecureSkipVerify, "prom-insecure", false, "skip TLS certificate verification of the node source")
	fs.StringVar(&n.http.ProxyURL, "prom-proxy", "", "HTTP proxy `URL` for the node source")
}

// apply writes the flags into sc's nodes section, creating it when a flag
// names a source. A scenario changed here is validated again, so a bad
// --roles regexp or --name-label fails like the same key in the file.
func (n *nodeFlags) apply(sc *scenarios.Scenario) error {
	names, err := pairs(n.names)
	if err != nil {
		return fmt.Errorf("--names: %w", err)
	}
	roles, err := orderedPairs(n.roles)
	if err != nil {
		return fmt.Errorf("--roles: %w", err)
	}
	if n.prom == "" && n.scrape == "" && n.match == "" && n.promConfig == "" && n.nameLabel == "" &&
		n.roleLabel == "" && names == nil && roles == nil {
		return nil
	}
	if sc.Nodes == nil {
		sc.Nodes = &scenarios.Nodes{Match: scenarios.DefaultMatch, NameLabel: scenarios.DefaultName}
	}
	nd := sc.Nodes
	if n.prom != "" {
		nd.Prometheus, nd.Scrape = n.prom, nil
	}
	if n.scrape != "" {
		nd.Prometheus = ""
		nd.Scrape = splitList(n.scrape)
	}
	if n.match != "" {
		nd.Match = n.match
	}
	if n.promConfig != "" {
		nd.PromConfig = n.promConfig
	}
	if n.nameLabel != "" {
		nd.NameLabel = n.nameLabel
	}
	if n.roleLabel != "" {
		nd.RoleLabel = n.roleLabel
	}
	if names != nil {
		nd.Names = names
	}
	if roles != nil {
		nd.Roles = nd.Roles[:0:0]
		for _, r := range roles {
			nd.Roles = append(nd.Roles, scenarios.Role{Name: r[0], Pattern: r[1]})
		}
	}
	if len(sc.Groups) == 0 {
		return nil // brink nodes: no scenario to validate
	}
	return scenarios.Validate(sc)
}

// config is the node source for sc's nodes section plus the flags that
// have no scenario key.
func (n *nodeFlags) config(nd *scenarios.Nodes) promquery.Config {
	c := run.NodeSourceConfig(nd)
	c.HTTP = n.http
	c.ScrapeInterval = n.scrapeInterval
	return c
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
