package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads and parses a scenario file. Every error is one *Error line.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: msg}
	}
	return Parse(path, data)
}

// Parse parses a scenario from YAML; file names it in errors and resolves
// a relative nodes.prom_config. Structural problems (syntax, types, unknown
// keys, unparsable values) are reported in document order; then Validate
// runs and its earliest problem in the file is reported. Either way the
// error is one *Error and nothing else is returned.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{file: file, anchors: map[string]ast.Node{}, pos: map[string]position{}}
	// Editors on Windows start UTF-8 files with a byte-order mark; YAML
	// allows it, and columns count from after it, as the editor shows them.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f, err := parseYAML(data)
	if err != nil {
		return nil, d.yamlError(err)
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, d.errAt(position{1, 1}, "", "empty scenario (want at least name and groups)")
	}
	if len(docs) > 1 {
		return nil, d.errAt(tokenPos(docs[1].Start), "", "one scenario per file (found a second YAML document)")
	}
	d.collectAnchors(docs[0].Body)
	s := &Scenario{File: file}
	if err := d.scenario(docs[0].Body, s); err != nil {
		return nil, err
	}
	if s.Nodes != nil && s.Nodes.PromConfig != "" && !filepath.IsAbs(s.Nodes.PromConfig) && file != "" {
		s.Nodes.PromConfig = filepath.Join(filepath.Dir(file), s.Nodes.PromConfig)
	}
	errs := validate(s)
	if len(errs) == 0 {
		return s, nil
	}
	for _, e := range errs {
		d.locate(e)
	}
	// Validation walks the model, not the file: report what comes first
	// in the file, as a reader fixing errors top-down expects.
	first := slices.MinFunc(errs, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return nil, first
}

// parseYAML is parser.ParseBytes with a recover: the parser is third-party
// code fed user input, and a scenario mistake must never crash brink.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed on this input (%v)", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

func (d *decoder) yamlError(err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := ye.GetMessage()
		// The parser's duplicate-key message names no field: say it the
		// way every other scenario error reads.
		var key string
		var line, col int
		if n, _ := fmt.Sscanf(msg, "mapping key %q already defined at [%d:%d]", &key, &line, &col); n == 3 {
			return d.errAt(tokenPos(ye.GetToken()), key, "defined twice (first at line %d, column %d)", line, col)
		}
		return d.errAt(tokenPos(ye.GetToken()), "", "%s", msg)
	}
	return d.errAt(position{1, 1}, "", "%s", err)
}

var scenarioKeys = []string{"name", "base_url", "groups", "thresholds", "nodes", "abort_on_breakpoint", "window", "sustain", "max_body"}

func (d *decoder) scenario(root ast.Node, s *Scenario) error {
	es, err := d.mapping(root, "")
	if err != nil {
		return err
	}
	// Top-level keys starting with "x-" are ignored, as in Compose files,
	// so shared pieces can be written once under an &anchor.
	es = slices.DeleteFunc(es, func(e entry) bool { return strings.HasPrefix(e.key, "x-") })
	if err := d.known(es, "", scenarioKeys); err != nil {
		return err
	}
	for _, e := range es {
		field := e.key
		d.markEntry(e, field)
		switch e.key {
		case "name":
			s.Name, err = d.str(e.val, field)
		case "base_url":
			s.BaseURL, err = d.str(e.val, field)
		case "groups":
			err = d.groups(e.val, field, s)
		case "thresholds":
			s.Thresholds, err = d.thresholds(e.val, field)
		case "nodes":
			s.Nodes = &Nodes{}
			err = d.nodes(e.val, field, s.Nodes)
		case "abort_on_breakpoint":
			s.AbortOnBreakpoint, err = d.boolean(e.val, field)
		case "window":
			s.Window, err = d.duration(e.val, field)
		case "sustain":
			s.Sustain, err = d.duration(e.val, field)
		case "max_body":
			s.MaxBody, err = d.size(e.val, field)
		}
		if err != nil {
			return err
		}
	}
	if _, ok := d.pos["groups"]; !ok {
		return d.errNode(root, "", "missing groups (a scenario needs at least one group)")
	}
	return nil
}

func (d *decoder) groups(n ast.Node, field string, s *Scenario) error {
	items, err := d.seq(n, field)
	if err != nil {
		return err
	}
	for i, item := range items {
		var g Group
		if err := d.group(item, index(field, i), &g); err != nil {
			return err
		}
		s.Groups = append(s.Groups, g)
	}
	return nil
}

var groupKeys = []string{"name", "executor", "start", "start_vus", "start_rate", "stages", "think", "max_vus",
	"pre_allocated_vus", "requests", "websocket", "http2", "timeout", "vus", "rate", "duration", "max_body"}

// Sugar executors, k6's constant-vus and constant-arrival-rate: one stage
// at a constant level, written with vus/rate and duration.
const (
	constantVUs         = "constant-vus"
	constantArrivalRate = "constant-arrival-rate"
)

func (d *decoder) group(n ast.Node, field string, g *Group) error {
	d.mark(n, field)
	es, err := d.fields(n, field, groupKeys)
	if err != nil {
		return err
	}
	// The executor decides which keys make sense, so read it first.
	exec := string(RampingVUs)
	for _, e := range es {
		if e.key == "executor" {
			d.markEntry(e, join(field, e.key))
			if exec, err = d.str(e.val, join(field, e.key)); err != nil {
				return err
			}
		}
	}
	constant := exec == constantVUs || exec == constantArrivalRate
	open := exec == string(RampingArrivalRate) || exec == constantArrivalRate
	switch exec {
	case constantVUs:
		g.Executor = RampingVUs
	case constantArrivalRate:
		g.Executor = RampingArrivalRate
	default:
		g.Executor = Executor(exec) // Validate names a bad one
	}
	var level *entry
	var length *entry
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		switch e.key {
		case "executor":
		case "name":
			g.Name, err = d.str(e.val, f)
		case "start", "start_vus", "start_rate":
			if constant {
				return d.errAt(e.kpos, f, "%s starts at its %s; %s is for %s", exec, levelKey(open), e.key, rampingOf(open))
			}
			if e.key == "start_vus" && open {
				return d.errAt(e.kpos, f, "start_vus is for VU executors; this group is %s (use start or start_rate)", exec)
			}
			if e.key == "start_rate" && !open {
				return d.errAt(e.kpos, f, "start_rate is for arrival-rate executors; this group is %s (use start or start_vus)", exec)
			}
			g.Start, err = d.num(e.val, f)
		case "stages":
			if constant {
				return d.errAt(e.kpos, f, "%s takes %s and duration, not stages (or use %s)", exec, levelKey(open), rampingOf(open))
			}
			g.Stages, err = d.stages(e.val, f)
		case "vus", "rate", "duration":
			if !constant {
				return d.errAt(e.kpos, f, "%s is for constant-vus or constant-arrival-rate; %s takes stages", e.key, exec)
			}
			if e.key == "duration" {
				length = &e
			} else {
				if e.key != levelKey(open) {
					return d.errAt(e.kpos, f, "%s takes %s, not %s", exec, levelKey(open), e.key)
				}
				level = &e
			}
		case "think":
			var s string
			if s, err = d.str(e.val, f); err == nil {
				if g.Think, err = ParseThink(s); err != nil {
					err = d.errNode(e.val, f, "%s", err)
				}
			}
		case "max_vus":
			g.MaxVUs, err = d.integer(e.val, f)
		case "pre_allocated_vus":
			g.PreAllocatedVUs, err = d.integer(e.val, f)
		case "requests":
			g.Requests, err = d.requests(e.val, f)
		case "websocket":
			g.WebSocket = &WebSocket{}
			err = d.websocket(e.val, f, g.WebSocket)
		case "http2":
			g.HTTP2, err = d.boolean(e.val, f)
		case "timeout":
			g.Timeout, err = d.duration(e.val, f)
		case "max_body":
			g.MaxBody, err = d.size(e.val, f)
		}
		if err != nil {
			return err
		}
	}
	if constant {
		if level == nil {
			return d.errNode(n, field, "missing %s (%s needs %s and duration)", levelKey(open), exec, levelKey(open))
		}
		if length == nil {
			return d.errNode(n, field, "missing duration (%s needs %s and duration)", exec, levelKey(open))
		}
		target, err := d.num(level.val, join(field, level.key))
		if err != nil {
			return err
		}
		if target < 0 || !open && target != float64(int64(target)) {
			return d.errNode(level.val, join(field, level.key), "must be a whole number ≥ 0, got %v", target)
		}
		dur, err := d.duration(length.val, join(field, "duration"))
		if err != nil {
			return err
		}
		// Constant from t=0: start at the level and hold it. Stage
		// errors (negative level) point at the vus/rate key.
		d.pos[join(field, "stages[0].target")] = d.pos[join(field, level.key)]
		d.pos[join(field, "stages[0].duration")] = d.pos[join(field, "duration")]
		d.pos[join(field, "start")] = d.pos[join(field, level.key)]
		g.Start = target
		g.Stages = []Stage{{Duration: dur, Target: target}}
	}
	return nil
}

func levelKey(open bool) string {
	if open {
		return "rate"
	}
	return "vus"
}

func rampingOf(open bool) string {
	if open {
		return string(RampingArrivalRate)
	}
	return string(RampingVUs)
}

func (d *decoder) stages(n ast.Node, field string) ([]Stage, error) {
	items, err := d.seq(n, field)
	if err != nil {
		return nil, err
	}
	out := make([]Stage, 0, len(items))
	for i, item := range items {
		f := index(field, i)
		d.mark(item, f)
		es, err := d.fields(item, f, []string{"duration", "target"})
		if err != nil {
			return nil, err
		}
		var st Stage
		var haveDur, haveTarget bool
		for _, e := range es {
			ef := join(f, e.key)
			d.markEntry(e, ef)
			switch e.key {
			case "duration":
				st.Duration, err = d.duration(e.val, ef)
				haveDur = true
			case "target":
				st.Target, err = d.num(e.val, ef)
				haveTarget = true
			}
			if err != nil {
				return nil, err
			}
		}
		if !haveDur {
			return nil, d.errNode(item, f, "missing duration (a stage is {duration: 1m, target: 100})")
		}
		if !haveTarget {
			return nil, d.errNode(item, f, "missing target (a stage is {duration: 1m, target: 100})")
		}
		out = append(out, st)
	}
	return out, nil
}

func (d *decoder) requests(n ast.Node, field string) ([]Request, error) {
	items, err := d.seq(n, field)
	if err != nil {
		return nil, err
	}
	out := make([]Request, 0, len(items))
	for i, item := range items {
		f := index(field, i)
		d.mark(item, f)
		es, err := d.fields(item, f, []string{"name", "method", "url", "headers", "body", "check"})
		if err != nil {
			return nil, err
		}
		var r Request
		for _, e := range es {
			ef := join(f, e.key)
			d.markEntry(e, ef)
			switch e.key {
			case "name":
				r.Name, err = d.str(e.val, ef)
			case "method":
				r.Method, err = d.str(e.val, ef)
			case "url":
				r.URL, err = d.template(e.val, ef)
			case "headers":
				r.Headers, err = d.headers(e.val, ef)
			case "body":
				r.Body, err = d.template(e.val, ef)
			case "check":
				r.Check, err = d.check(e.val, ef)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (d *decoder) headers(n ast.Node, field string) ([]Header, error) {
	es, err := d.mapping(n, field)
	if err != nil {
		return nil, err
	}
	out := make([]Header, 0, len(es))
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		d.pos[f+".name"] = e.kpos
		v, err := d.template(e.val, f)
		if err != nil {
			return nil, err
		}
		out = append(out, Header{Name: e.key, Value: v})
	}
	return out, nil
}

func (d *decoder) check(n ast.Node, field string) (*Check, error) {
	es, err := d.fields(n, field, []string{"status", "body_contains"})
	if err != nil {
		return nil, err
	}
	c := &Check{}
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		switch e.key {
		case "status":
			r, err := d.resolve(e.val, f)
			if err != nil {
				return nil, err
			}
			if _, isList := r.(*ast.SequenceNode); isList {
				items, _ := d.seq(r, f)
				for i, it := range items {
					code, err := d.integer(it, index(f, i))
					if err != nil {
						return nil, err
					}
					c.Status = append(c.Status, code)
				}
			} else {
				code, err := d.integer(e.val, f)
				if err != nil {
					return nil, err
				}
				c.Status = []int{code}
			}
		case "body_contains":
			if c.BodyContains, err = d.str(e.val, f); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func (d *decoder) websocket(n ast.Node, field string, ws *WebSocket) error {
	es, err := d.fields(n, field, []string{"url", "headers", "send", "every", "expect_reply", "reply_contains"})
	if err != nil {
		return err
	}
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		switch e.key {
		case "url":
			ws.URL, err = d.template(e.val, f)
		case "headers":
			ws.Headers, err = d.headers(e.val, f)
		case "send":
			ws.Send, err = d.template(e.val, f)
		case "every":
			ws.Every, err = d.duration(e.val, f)
		case "expect_reply":
			ws.ExpectReply, err = d.boolean(e.val, f)
		case "reply_contains":
			ws.ReplyContains, err = d.template(e.val, f)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// thresholds reads {metric: [expr, ...]} (a single string is one expr),
// keeping YAML order so summaries list them as written.
func (d *decoder) thresholds(n ast.Node, field string) ([]Threshold, error) {
	es, err := d.mapping(n, field)
	if err != nil {
		return nil, err
	}
	var out []Threshold
	for _, e := range es {
		name, key, val, err := parseThresholdMetric(e.key)
		if err != nil {
			return nil, d.errAt(e.kpos, join(field, e.key), "%s", err)
		}
		// Paths use the canonical spelling so Validate's errors find
		// their place whatever spacing the file used.
		f := join(field, Threshold{Metric: name, TagKey: key, TagValue: val}.Target())
		d.markEntry(e, f)
		r, err := d.resolve(e.val, f)
		if err != nil {
			return nil, err
		}
		items := []ast.Node{e.val}
		if _, isList := r.(*ast.SequenceNode); isList {
			items, _ = d.seq(r, f)
		}
		for i, it := range items {
			itf := index(f, i)
			if r, err := d.resolve(it, itf); err == nil {
				if _, isMap := r.(*ast.MappingNode); isMap {
					return nil, d.errNode(it, itf, `want an expression like "p(95)<500" (k6's {threshold, abortOnFail} form: use abort_on_breakpoint)`)
				}
			}
			expr, err := d.str(it, itf)
			if err != nil {
				return nil, err
			}
			t, err := ParseThreshold(e.key, expr)
			if err != nil {
				return nil, d.errNode(it, itf, "%s", err)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

var nodesKeys = []string{"prometheus", "scrape", "prom_config", "match", "name_label", "names", "role_label",
	"roles", "thresholds", "panels", "interval"}

func (d *decoder) nodes(n ast.Node, field string, nd *Nodes) error {
	es, err := d.fields(n, field, nodesKeys)
	if err != nil {
		return err
	}
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		switch e.key {
		case "prometheus":
			nd.Prometheus, err = d.str(e.val, f)
		case "scrape":
			err = d.strings(e.val, f, &nd.Scrape)
		case "prom_config":
			nd.PromConfig, err = d.str(e.val, f)
		case "match":
			nd.Match, err = d.str(e.val, f)
		case "name_label":
			nd.NameLabel, err = d.str(e.val, f)
		case "names":
			err = d.names(e.val, f, nd)
		case "role_label":
			nd.RoleLabel, err = d.str(e.val, f)
		case "roles":
			err = d.roles(e.val, f, nd)
		case "thresholds":
			err = d.nodeThresholds(e.val, f, nd)
		case "panels":
			err = d.panels(e.val, f, nd)
		case "interval":
			nd.Interval, err = d.duration(e.val, f)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// strings reads a list of strings; a single string is a list of one.
func (d *decoder) strings(n ast.Node, field string, out *[]string) error {
	r, err := d.resolve(n, field)
	if err != nil {
		return err
	}
	if _, isList := r.(*ast.SequenceNode); !isList {
		s, err := d.str(n, index(field, 0))
		*out = append(*out, s)
		return err
	}
	items, _ := d.seq(r, field)
	for i, it := range items {
		s, err := d.str(it, index(field, i))
		if err != nil {
			return err
		}
		*out = append(*out, s)
	}
	return nil
}

func (d *decoder) names(n ast.Node, field string, nd *Nodes) error {
	es, err := d.mapping(n, field)
	if err != nil {
		return err
	}
	nd.Names = make(map[string]string, len(es))
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		v, err := d.str(e.val, f)
		if err != nil {
			return err
		}
		nd.Names[e.key] = v
	}
	return nil
}

func (d *decoder) roles(n ast.Node, field string, nd *Nodes) error {
	es, err := d.mapping(n, field)
	if err != nil {
		return err
	}
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		v, err := d.str(e.val, f)
		if err != nil {
			return err
		}
		nd.Roles = append(nd.Roles, Role{Name: e.key, Pattern: v})
	}
	return nil
}

func (d *decoder) nodeThresholds(n ast.Node, field string, nd *Nodes) error {
	items, err := d.seq(n, field)
	if err != nil {
		return err
	}
	for i, item := range items {
		f := index(field, i)
		d.mark(item, f)
		es, err := d.fields(item, f, []string{"metric", "above", "role", "node"})
		if err != nil {
			return err
		}
		var t NodeThreshold
		haveAbove := false
		for _, e := range es {
			ef := join(f, e.key)
			d.markEntry(e, ef)
			switch e.key {
			case "metric":
				t.Metric, err = d.str(e.val, ef)
			case "above":
				t.Above, err = d.num(e.val, ef)
				haveAbove = true
			case "role":
				t.Role, err = d.str(e.val, ef)
			case "node":
				t.Node, err = d.str(e.val, ef)
			}
			if err != nil {
				return err
			}
		}
		if !haveAbove {
			return d.errNode(item, f, "missing above (a node threshold is {metric: load1, above: 100})")
		}
		nd.Thresholds = append(nd.Thresholds, t)
	}
	return nil
}

func (d *decoder) panels(n ast.Node, field string, nd *Nodes) error {
	items, err := d.seq(n, field)
	if err != nil {
		return err
	}
	for i, item := range items {
		f := index(field, i)
		d.mark(item, f)
		es, err := d.fields(item, f, []string{"title", "query", "unit", "above"})
		if err != nil {
			return err
		}
		var p Panel
		for _, e := range es {
			ef := join(f, e.key)
			d.markEntry(e, ef)
			switch e.key {
			case "title":
				p.Title, err = d.str(e.val, ef)
			case "query":
				p.Query, err = d.str(e.val, ef)
			case "unit":
				p.Unit, err = d.str(e.val, ef)
			case "above":
				var v float64
				v, err = d.num(e.val, ef)
				p.Above = &v
			}
			if err != nil {
				return err
			}
		}
		nd.Panels = append(nd.Panels, p)
	}
	return nil
}

// String is a short description for logs: name and file.
func (s *Scenario) String() string {
	if s.File == "" {
		return fmt.Sprintf("scenario %q", s.Name)
	}
	return fmt.Sprintf("scenario %q (%s)", s.Name, strings.TrimPrefix(s.File, "./"))
}
