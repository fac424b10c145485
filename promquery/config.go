package promquery

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
)

// DefaultMatch is the selector used when none is given: node_exporter's
// usual job name.
const DefaultMatch = measure.DefaultNodeMatch

// Role names the nodes whose name matches Pattern (anchored regexp).
type Role struct {
	Name    string
	Pattern string
}

// PanelQuery is a custom PromQL query polled beside the node metrics.
type PanelQuery struct {
	Title string
	Query string
	Unit  string
	Above *float64 // optional threshold, read by report
}

// HTTPOptions are the command-line equivalents of the most used fields of
// Prometheus's http-client YAML; they override the file's fields when set.
type HTTPOptions struct {
	BasicAuthUser         string
	BasicAuthPasswordFile string
	AuthType              string // authorization type, default Bearer
	CredentialsFile       string // authorization credentials_file
	CAFile                string
	CertFile              string
	KeyFile               string
	InsecureSkipVerify    bool
	ProxyURL              string
}

// Config says where node metrics come from and how nodes are named.
type Config struct {
	// Prometheus is the base URL of a Prometheus server (HTTP API).
	Prometheus string
	// Scrape lists node_exporter /metrics URLs, used when there is no
	// Prometheus.
	Scrape []string
	// PromConfigFile is a file in Prometheus's http-client YAML (basic_auth,
	// authorization, tls_config, proxy_url); relative paths in it are
	// relative to the file.
	PromConfigFile string
	HTTP           HTTPOptions

	// Match selects node_exporter series, e.g. {job="node"} (the default).
	Match string
	// NameLabel is the label naming a node (default instance).
	NameLabel string
	// Names maps an instance (host:port) to a readable name; it wins over
	// NameLabel. For direct scrape the full URL is a key too.
	Names map[string]string
	// RoleLabel is a label holding the node's role; it wins over Roles.
	RoleLabel string
	// Roles are tried in order: the first anchored regexp matching the name
	// wins.
	Roles  []Role
	Panels []PanelQuery

	// Interval between polls; 0 means the scrape interval read from
	// Prometheus's targets API, or 1s for direct scrape.
	Interval time.Duration
	// ScrapeInterval overrides the scrape interval the rate window (4×) is
	// derived from; 0 means read it from the targets API, else Interval.
	ScrapeInterval time.Duration
	// Timeout bounds one poll; 0 means the poll interval (at least 1s).
	Timeout time.Duration
	// StaleAfter is how old a value may be before the sample is stale;
	// 0 means 3 scrape intervals.
	StaleAfter time.Duration
}

// naming resolves node names and roles; shared by both sources.
type naming struct {
	nameLabel string
	names     map[string]string
	roleLabel string
	roles     []compiledRole
}

type compiledRole struct {
	name string
	re   *regexp.Regexp
}

func newNaming(c Config) (*naming, error) {
	n := &naming{nameLabel: c.NameLabel, names: c.Names, roleLabel: c.RoleLabel}
	if n.nameLabel == "" {
		n.nameLabel = measure.DefaultNameLabel
	}
	for _, r := range c.Roles {
		re, err := regexp.Compile("^(?:" + r.Pattern + ")$")
		if err != nil {
			return nil, fmt.Errorf("role %q: bad regexp %q: %v", r.Name, r.Pattern, err)
		}
		n.roles = append(n.roles, compiledRole{name: r.Name, re: re})
	}
	return n, nil
}

// name picks a node's name: the Names map by any key, then the label value,
// then the instance.
func (n *naming) name(instance, label string, keys ...string) string {
	for _, k := range append(keys, instance) {
		if v, ok := n.names[k]; ok && v != "" {
			return v
		}
	}
	if label != "" {
		return label
	}
	return instance
}

// role picks a node's role: the role label's value, else the first regexp
// that matches the name.
func (n *naming) role(name, label string) string {
	if label != "" {
		return label
	}
	for _, r := range n.roles {
		if r.re.MatchString(name) {
			return r.name
		}
	}
	return ""
}

// matcherRE is one PromQL label matcher and the comma after it.
var matcherRE = regexp.MustCompile(`^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`" + `)\s*(?:,|$)`)

// matchers turns a selector such as {job="node"} (or job="node") into the
// matcher list to splice into each metric selector. It accepts label
// matchers only, so a typo fails in one line before any query goes out
// rather than as a PromQL parse error in every poll.
func matchers(sel string) (string, error) {
	s := strings.TrimSpace(sel)
	if s == "" {
		s = DefaultMatch
	}
	if strings.HasPrefix(s, "{") {
		if !strings.HasSuffix(s, "}") {
			return "", fmt.Errorf("selector %s: missing closing }", sel)
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	for rest := s; strings.TrimSpace(rest) != ""; {
		m := matcherRE.FindString(rest)
		if m == "" {
			return "", fmt.Errorf("selector %s: want label matchers only, like {job=\"node\"}", sel)
		}
		rest = rest[len(m):]
	}
	return strings.TrimSuffix(strings.TrimSpace(s), ","), nil
}

// validate checks what can be checked without the network.
func (c Config) validate() error {
	switch {
	case c.Prometheus == "" && len(c.Scrape) == 0:
		return errors.New("need a Prometheus URL or node_exporter URLs to scrape")
	case c.Prometheus != "" && len(c.Scrape) > 0:
		return errors.New("give either a Prometheus URL or scrape URLs, not both")
	}
	urls := c.Scrape
	if c.Prometheus != "" {
		urls = []string{c.Prometheus}
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bad URL %q: want http://host:port", RedactURL(raw))
		}
	}
	return nil
}
