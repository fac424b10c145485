package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/brink-load/brink/termtext"
)

// Load reads and parses a scenario file. Every error is one *Error line.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: termtext.BareErr(err).Error()}
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
	for i := range s.Groups {
		if dt := s.Groups[i].Data; dt != nil && dt.File != "" {
			dt.File = dataPath(file, dt.File)
			if err := LoadData(dt); err != nil {
				f := index("groups", i) + ".data.file"
				return nil, d.errAt(d.pos[f], f, "%s", err)
			}
		}
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

// A YAML key is a model field with a `yaml` tag (model.go); its Go type
// picks the reader (decoder.value). A group's keys are also listed in
// groupKeys, beside the constant-executor sugar that has no field.

// scenarioKeys are the top-level keys, in the model's field order.
var scenarioKeys = yamlKeys(reflect.TypeFor[Scenario]())

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
	sv := reflect.ValueOf(s).Elem()
	for _, e := range es {
		if err := d.entry(e, "", sv); err != nil {
			return err
		}
	}
	if _, ok := d.pos["groups"]; !ok {
		return d.errNode(root, "", "missing groups (a scenario needs at least one group)")
	}
	return nil
}

var groupKeys = []string{"name", "executor", "start", "start_vus", "start_rate", "stages", "think", "max_vus",
	"pre_allocated_vus", "requests", "websocket", "http2", "timeout", "vus", "rate", "duration", "max_body", "pick",
	"setup", "data", "cookies"}

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
	switch exec {
	case constantVUs:
		g.Executor = RampingVUs
	case constantArrivalRate:
		g.Executor = RampingArrivalRate
	default:
		g.Executor = Executor(exec) // Validate names a bad one
	}
	var level, length *entry
	gv := reflect.ValueOf(g).Elem()
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		if err := d.refuse(e, f, exec); err != nil {
			return err
		}
		switch e.key {
		case "executor":
		case "start", "start_vus", "start_rate":
			g.Start, err = d.num(e.val, f)
		case "vus", "rate":
			level = &e
		case "duration":
			length = &e
		default:
			err = d.value(e.val, f, fieldByKey(gv, e.key))
		}
		if err != nil {
			return err
		}
	}
	if exec == constantVUs || exec == constantArrivalRate {
		return d.constant(n, field, exec, level, length, g)
	}
	return nil
}

// refuse says why a group key does not fit the group's executor, or nil.
func (d *decoder) refuse(e entry, f, exec string) error {
	constant := exec == constantVUs || exec == constantArrivalRate
	open := exec == string(RampingArrivalRate) || exec == constantArrivalRate
	switch e.key {
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
	case "stages":
		if constant {
			return d.errAt(e.kpos, f, "%s takes %s and duration, not stages (or use %s)", exec, levelKey(open), rampingOf(open))
		}
	case "vus", "rate", "duration":
		if !constant {
			return d.errAt(e.kpos, f, "%s is for constant-vus or constant-arrival-rate; %s takes stages", e.key, exec)
		}
		if e.key != "duration" && e.key != levelKey(open) {
			return d.errAt(e.kpos, f, "%s takes %s, not %s", exec, levelKey(open), e.key)
		}
	}
	return nil
}

// constant turns constant-vus / constant-arrival-rate sugar into one stage
// at a constant level from t=0.
func (d *decoder) constant(n ast.Node, field, exec string, level, length *entry, g *Group) error {
	open := exec == constantArrivalRate
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
	// Stage errors (negative level) point at the vus/rate key.
	d.pos[join(field, "stages[0].target")] = d.pos[join(field, level.key)]
	d.pos[join(field, "stages[0].duration")] = d.pos[join(field, "duration")]
	d.pos[join(field, "start")] = d.pos[join(field, level.key)]
	g.Start = target
	g.Stages = []Stage{{Duration: dur, Target: target}}
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

// String is a short description for logs: name and file.
func (s *Scenario) String() string {
	if s.File == "" {
		return fmt.Sprintf("scenario %q", s.Name)
	}
	return fmt.Sprintf("scenario %q (%s)", s.Name, strings.TrimPrefix(s.File, "./"))
}
