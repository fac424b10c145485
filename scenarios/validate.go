package scenarios

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// NodeMetricNames are the metric names node thresholds may use: those of
// the node-metric table (measure.NodeMetrics), which promquery computes.
func NodeMetricNames() []string { return slices.Clone(measure.MetricNames) }

// Sanity bounds: past these a scenario is a typo, and sums would overflow.
const (
	maxLevel  = 1e7                  // VUs or iterations/s per group
	maxLength = 365 * 24 * time.Hour // all stages of a group
)

var executors = []string{string(RampingVUs), string(RampingArrivalRate), constantVUs, constantArrivalRate}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate checks a scenario built in code (brink probe) the way Parse
// checks a file, after filling defaults: window 1s, sustain 3s, timeout
// 30s, method GET, request names "METHOD /path", max_vus and
// pre_allocated_vus for arrival-rate groups, max_body 4MiB (groups inherit
// the scenario's), WebSocket every 1s, nodes
// match {job="node"} and name_label instance. Relative request urls are
// joined to BaseURL; relative WebSocket urls become ws:// (wss:// for an
// https base). It returns the first problem as an *Error whose Field names
// the place, e.g. "groups[0].stages[1].target". Calling it twice is safe.
func Validate(s *Scenario) error {
	if errs := validate(s); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// validator collects every problem (in model order) so Parse can report
// the one that comes first in the file.
type validator struct{ errs []*Error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &Error{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func validate(s *Scenario) []*Error {
	v := &validator{}
	if s == nil {
		v.add("", "no scenario")
		return v.errs
	}
	if s.Name == "" {
		s.Name = "scenario"
		if s.File != "" {
			s.Name = strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File))
		}
	}
	var base *url.URL
	if s.BaseURL != "" {
		u, err := url.Parse(s.BaseURL)
		switch {
		case checkHTTPURL(s.BaseURL) != nil:
			v.add("base_url", "%s", checkHTTPURL(s.BaseURL))
		case err != nil:
			v.add("base_url", "bad url %q", s.BaseURL)
		case u.RawQuery != "" || u.Fragment != "":
			v.add("base_url", "base_url takes no query or fragment")
		default:
			base = u
		}
	}
	if s.Window == 0 {
		s.Window = DefaultWindow
	}
	if s.Sustain == 0 {
		s.Sustain = DefaultSustain
	}
	if s.Window < 10*time.Millisecond {
		v.add("window", "must be at least 10ms, got %s", s.Window)
	}
	if s.Sustain < 0 {
		v.add("sustain", "must not be negative")
	}
	if len(s.Groups) == 0 {
		v.add("groups", "at least one group is required")
	}
	if s.MaxBody == 0 {
		s.MaxBody = DefaultMaxBody
	}
	maxBodyOK := v.maxBody("max_body", s.MaxBody)
	groupNames := map[string]bool{}
	for i := range s.Groups {
		g := &s.Groups[i]
		f := index("groups", i)
		if g.Name == "" {
			g.Name = fmt.Sprintf("group%d", i+1)
		}
		if groupNames[g.Name] {
			v.add(f+".name", "duplicate group name %q", g.Name)
		}
		groupNames[g.Name] = true
		if g.MaxBody == 0 && maxBodyOK {
			g.MaxBody = s.MaxBody
		}
		v.maxBody(f+".max_body", g.MaxBody)
		v.group(g, f, s.BaseURL, base)
	}
	v.thresholds(s)
	if s.Nodes != nil {
		v.nodes(s.Nodes)
	}
	return v.errs
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// maxBody checks a max_body value (0 only where it is inherited).
func (v *validator) maxBody(field string, n int64) bool {
	switch {
	case n < 0:
		v.add(field, "must not be negative")
	case n > MaxMaxBody:
		v.add(field, "%s is more than one response may hold in memory (at most %s)", FormatSize(n), FormatSize(MaxMaxBody))
	default:
		return true
	}
	return false
}

func (v *validator) group(g *Group, f, baseRaw string, base *url.URL) {
	closed := g.Executor == RampingVUs
	switch g.Executor {
	case RampingVUs, RampingArrivalRate:
	case "":
		g.Executor, closed = RampingVUs, true
	default:
		v.add(f+".executor", "unknown executor %q%s", g.Executor, choices(string(g.Executor), executors))
		return
	}
	unit := "VUs"
	if !closed {
		unit = "iterations/s"
	}
	checkLevel := func(field string, x float64) {
		switch {
		case !finite(x) || x < 0:
			v.add(field, "must be ≥ 0 (%s), got %v", unit, x)
		case closed && x != math.Trunc(x):
			v.add(field, "must be a whole number of VUs, got %v", x)
		case x > maxLevel:
			v.add(field, "%v %s is more than one generator can run (at most %g)", x, unit, float64(maxLevel))
		}
	}
	checkLevel(f+".start", g.Start)
	if len(g.Stages) == 0 {
		v.add(f+".stages", "at least one stage is required, e.g. [{duration: 1m, target: 100}]")
	}
	var total time.Duration
	peak := g.Start
	for j, st := range g.Stages {
		sf := index(f+".stages", j)
		if st.Duration < 0 {
			v.add(sf+".duration", "must not be negative")
		}
		if st.Duration > maxLength-total {
			v.add(sf+".duration", "stages add up to more than %s", formatDuration(maxLength))
			total = maxLength
			break
		}
		total += max(st.Duration, 0)
		checkLevel(sf+".target", st.Target)
		peak = max(peak, st.Target)
	}
	if len(g.Stages) > 0 && total <= 0 {
		v.add(f+".stages", "stages last 0s; give at least one a duration")
	}
	if g.Think.Min < 0 || g.Think.Max < g.Think.Min {
		v.add(f+".think", "bad think range %s", g.Think)
	}
	if closed {
		if g.MaxVUs != 0 {
			v.add(f+".max_vus", "max_vus is for ramping-arrival-rate (a VU group's stages set its VUs)")
		}
		if g.PreAllocatedVUs != 0 {
			v.add(f+".pre_allocated_vus", "pre_allocated_vus is for ramping-arrival-rate")
		}
	} else {
		if g.Think != (Think{}) {
			v.add(f+".think", "think is for ramping-vus; an arrival-rate group's pace is its rate")
		}
		if g.MaxVUs < 0 {
			v.add(f+".max_vus", "must not be negative")
		}
		if g.PreAllocatedVUs < 0 {
			v.add(f+".pre_allocated_vus", "must not be negative")
		}
		g.PreAllocatedVUs, g.MaxVUs = OpenVUs(peak, g.PreAllocatedVUs, g.MaxVUs)
		if g.PreAllocatedVUs > g.MaxVUs {
			v.add(f+".max_vus", "max_vus %d is below pre_allocated_vus %d", g.MaxVUs, g.PreAllocatedVUs)
		}
		if g.WebSocket != nil {
			v.add(f+".websocket", "websocket needs executor ramping-vus (each VU holds one connection open)")
		}
	}
	if g.Timeout == 0 {
		g.Timeout = DefaultTimeout
	}
	if g.Timeout < 0 {
		v.add(f+".timeout", "must not be negative")
	}
	if len(g.Requests) == 0 && g.WebSocket == nil {
		v.add(f, "group has nothing to do: give it requests or a websocket")
	}
	for j := range g.Requests {
		v.request(&g.Requests[j], index(f+".requests", j), baseRaw, base)
	}
	v.pick(g, f)
	if g.WebSocket != nil {
		v.websocket(g.WebSocket, f+".websocket", baseRaw, base)
	}
	for j := range g.Setup {
		v.request(&g.Setup[j], index(f+".setup", j), baseRaw, base)
	}
	v.flows(g, f)
}

func (v *validator) request(r *Request, f, baseRaw string, base *url.URL) {
	if r.Method == "" {
		r.Method = "GET"
	}
	m := strings.ToUpper(r.Method)
	if !slices.Contains(methods, m) {
		v.add(f+".method", "unknown method %q%s", r.Method, choices(m, methods))
	}
	r.Method = m
	if r.URL == nil || r.URL.Source() == "" {
		v.add(f, "missing url")
		return
	}
	if r.Name == "" {
		r.Name = r.Method + " " + urlPath(r.URL.Source())
	}
	u, err := resolveURL(r.URL, baseRaw, base, false)
	if err != nil {
		v.add(f+".url", "%s", err)
		return
	}
	r.URL = u
	v.headers(r.Headers, f+".headers")
	if r.Check != nil {
		v.check(r.Check, f+".check")
	}
}

func (v *validator) websocket(ws *WebSocket, f, baseRaw string, base *url.URL) {
	if ws.URL == nil || ws.URL.Source() == "" {
		v.add(f, "missing url")
	} else if u, err := resolveURL(ws.URL, baseRaw, base, true); err != nil {
		v.add(f+".url", "%s", err)
	} else {
		ws.URL = u
	}
	v.headers(ws.Headers, f+".headers")
	v.wsHandshake(ws, f)
	if ws.Every < 0 {
		v.add(f+".every", "must not be negative")
	}
	if ws.Send != nil && ws.Every == 0 {
		ws.Every = DefaultEvery
	}
	if ws.ExpectReply && ws.Send == nil {
		v.add(f+".expect_reply", "expect_reply needs send (a reply to what?)")
	}
	switch {
	case ws.ReplyContains == nil:
	case !ws.ExpectReply:
		v.add(f+".reply_contains", "reply_contains needs expect_reply: true (it picks which message is the reply)")
	case ws.ReplyContains.Source() == "":
		v.add(f+".reply_contains", "reply_contains is empty (every message would match)")
	}
}

func (v *validator) headers(hs []Header, f string) {
	for _, h := range hs {
		if !validHeaderName(h.Name) {
			v.add(f+"."+h.Name+".name", "%q is not a valid header name", h.Name)
		}
	}
}

// validHeaderName is RFC 9110's token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func (v *validator) thresholds(s *Scenario) {
	reqNames := map[string]bool{}
	groupNames := map[string]bool{}
	closed := map[string]bool{}
	var names, groups []string
	for _, g := range s.Groups {
		groupNames[g.Name] = true
		closed[g.Name] = g.Executor != RampingArrivalRate // constant-arrival-rate loads as ramping
		groups = append(groups, g.Name)
		for _, r := range g.Requests {
			if !reqNames[r.Name] {
				names = append(names, r.Name)
			}
			reqNames[r.Name] = true
		}
	}
	perTarget := map[string]int{}
	for i := range s.Thresholds {
		t := &s.Thresholds[i]
		f := index("thresholds."+t.Target(), perTarget[t.Target()])
		perTarget[t.Target()]++
		// A threshold built in code may carry only Metric and Expr:
		// parsing again fills the rest and holds both paths to one rule.
		parsed, err := ParseThreshold(t.Target(), t.Expr)
		if err != nil {
			v.add(f, "%s", err)
			continue
		}
		*t = parsed
		switch t.TagKey {
		case "name":
			if !reqNames[t.TagValue] {
				v.add("thresholds."+t.Target(), "no request is named %q%s", t.TagValue, choices(t.TagValue, names))
			}
		case "group":
			if !groupNames[t.TagValue] {
				v.add("thresholds."+t.Target(), "no group is named %q%s", t.TagValue, choices(t.TagValue, groups))
			} else if t.Metric == "dropped_iterations" && closed[t.TagValue] {
				v.add("thresholds."+t.Target(), "group %q is closed-model (VUs): it never drops iterations; only arrival-rate groups do", t.TagValue)
			}
		}
	}
}

func (v *validator) nodes(n *Nodes) {
	const f = "nodes"
	switch {
	case n.Prometheus == "" && len(n.Scrape) == 0:
		v.add(f, "set prometheus (a Prometheus server url) or scrape (node_exporter urls)")
	case n.Prometheus != "" && len(n.Scrape) > 0:
		v.add(f+".scrape", "set prometheus or scrape, not both")
	}
	if n.Prometheus != "" {
		if err := checkHTTPURL(n.Prometheus); err != nil {
			v.add(f+".prometheus", "%s", err)
		}
	}
	for i, s := range n.Scrape {
		if err := checkHTTPURL(s); err != nil {
			hint := ""
			if !strings.Contains(s, "://") {
				hint = fmt.Sprintf(" (e.g. http://%s/metrics)", s)
			}
			v.add(index(f+".scrape", i), "%s%s", err, hint)
		}
	}
	if n.PromConfig != "" {
		// Read now, as the run would at its start: check and run refuse
		// the same files.
		if fi, err := os.Stat(n.PromConfig); err != nil {
			v.add(f+".prom_config", "cannot read %s: %s", n.PromConfig, termtext.BareErr(err))
		} else if fi.IsDir() {
			v.add(f+".prom_config", "%s is a directory, want Prometheus's http-client YAML file", n.PromConfig)
		}
	}
	if n.Match == "" {
		n.Match = DefaultMatch
	}
	if m := strings.TrimSpace(n.Match); !strings.HasPrefix(m, "{") {
		n.Match = "{" + m + "}" // job="node" → {job="node"}
	}
	if err := checkSelector(n.Match); err != nil {
		v.add(f+".match", "%s", err)
	}
	if n.NameLabel == "" {
		n.NameLabel = DefaultName
	}
	if !labelName.MatchString(n.NameLabel) {
		v.add(f+".name_label", "%q is not a Prometheus label name", n.NameLabel)
	}
	if n.RoleLabel != "" && !labelName.MatchString(n.RoleLabel) {
		v.add(f+".role_label", "%q is not a Prometheus label name", n.RoleLabel)
	}
	roles := map[string]bool{}
	var roleNames []string
	n.roleRE = n.roleRE[:0]
	for _, r := range n.Roles {
		rf := f + ".roles." + r.Name
		if roles[r.Name] {
			v.add(rf, "duplicate role %q", r.Name)
		}
		roles[r.Name] = true
		roleNames = append(roleNames, r.Name)
		re, err := r.Regexp()
		if err != nil {
			v.add(rf, "%s", err)
			continue
		}
		n.roleRE = append(n.roleRE, re)
	}
	if len(n.roleRE) != len(n.Roles) {
		n.roleRE = nil
	}
	for i, t := range n.Thresholds {
		tf := index(f+".thresholds", i)
		if !slices.Contains(measure.MetricNames, t.Metric) {
			if t.Metric == "" {
				v.add(tf, "missing metric%s", choices("", measure.MetricNames))
			} else {
				v.add(tf+".metric", "unknown node metric %q%s", t.Metric, choices(t.Metric, measure.MetricNames))
			}
		}
		if !finite(t.Above) {
			v.add(tf+".above", "must be a finite number")
		}
		// With role_label, roles come from the servers' labels and cannot
		// be checked here.
		if t.Role != "" && n.RoleLabel == "" && !roles[t.Role] {
			if len(roles) == 0 {
				v.add(tf+".role", "role %q is not defined (add nodes.roles or nodes.role_label)", t.Role)
			} else {
				v.add(tf+".role", "role %q is not defined in nodes.roles%s", t.Role, choices(t.Role, roleNames))
			}
		}
		if t.Role != "" && t.Node != "" {
			v.add(tf+".node", "give role or node, not both")
		}
	}
	for i, p := range n.Panels {
		pf := index(f+".panels", i)
		if strings.TrimSpace(p.Title) == "" {
			v.add(pf, "missing title")
		}
		if strings.TrimSpace(p.Query) == "" {
			v.add(pf, "missing query (a PromQL expression)")
		}
		if p.Above != nil && !finite(*p.Above) {
			v.add(pf+".above", "must be a finite number")
		}
	}
	if n.Interval < 0 {
		v.add(f+".interval", "must not be negative")
	} else if n.Interval > 0 && n.Interval < 100*time.Millisecond {
		v.add(f+".interval", "must be at least 100ms, got %s", n.Interval)
	}
}

// Regexp compiles the role's pattern anchored to the whole name, so "db"
// does not match "web-db-proxy" by accident.
func (r Role) Regexp() (*regexp.Regexp, error) {
	_, err := regexp.Compile(r.Pattern)
	if err == nil {
		return regexp.Compile("^(?:" + r.Pattern + ")$")
	}
	{
		// regexp's messages say "error parsing regexp: ..."; keep the why.
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return nil, fmt.Errorf("bad regex %q: %s", r.Pattern, msg)
	}
}

// RoleOf returns the role of a node by name: the first role whose pattern
// matches, or "". Validate compiles the patterns once; RoleOf is safe for
// concurrent use after that.
func (n *Nodes) RoleOf(name string) string {
	if n == nil {
		return ""
	}
	if len(n.roleRE) == len(n.Roles) {
		for i, re := range n.roleRE {
			if re.MatchString(name) {
				return n.Roles[i].Name
			}
		}
		return ""
	}
	for _, r := range n.Roles {
		if re, err := r.Regexp(); err == nil && re.MatchString(name) {
			return r.Name
		}
	}
	return ""
}

// matcherRE is one PromQL label matcher and the comma after it (the
// grammar promquery splices into its queries).
var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`" + `)\s*(?:,|$)`)

// checkSelector accepts label matchers only ({job="node", env=~"prod|stage"}),
// with the regular expressions of =~ and !~ compiled, so a bad selector fails
// in one line before the run rather than in every poll.
func checkSelector(sel string) error {
	s := strings.TrimSpace(sel)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return fmt.Errorf("want a label selector like {job=\"node\"}, got %q", sel)
	}
	for rest := s[1 : len(s)-1]; strings.TrimSpace(rest) != ""; {
		m := matcherRE.FindStringSubmatch(rest)
		if m == nil {
			return fmt.Errorf("want a label selector like {job=\"node\"}, got %q", sel)
		}
		rest = rest[len(m[0]):]
		if m[2] != "=~" && m[2] != "!~" {
			continue
		}
		val := m[3]
		if val[0] == '"' {
			if u, err := strconv.Unquote(val); err == nil {
				val = u
			} else {
				val = val[1 : len(val)-1]
			}
		} else {
			val = val[1 : len(val)-1]
		}
		if _, err := regexp.Compile("^(?:" + val + ")$"); err != nil {
			msg := err.Error()
			if i := strings.Index(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			return fmt.Errorf("label %s: bad regex %q: %s", m[1], val, msg)
		}
	}
	return nil
}
