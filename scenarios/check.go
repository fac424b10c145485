package scenarios

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// check reads a request's check block. Its status key fills two fields
// (codes and classes), so it is read here rather than by its type.
func (d *decoder) check(n ast.Node, field string) (*Check, error) {
	c := &Check{}
	cv := reflect.ValueOf(c).Elem()
	es, err := d.fields(n, field, yamlKeys(cv.Type()))
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		if e.key == "status" {
			c.Status, c.StatusClass, err = d.statuses(e.val, f)
		} else {
			err = d.value(e.val, f, fieldByKey(cv, e.key))
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// statuses reads one status or a list of them: a code (200) or a class
// ("2xx").
func (d *decoder) statuses(n ast.Node, field string) (codes, classes []int, err error) {
	r, err := d.resolve(n, field)
	if err != nil {
		return nil, nil, err
	}
	items := []ast.Node{n}
	sub := func(int) string { return field }
	if seq, isList := r.(*ast.SequenceNode); isList {
		items = seq.Values
		sub = func(i int) string { return index(field, i) }
	}
	for i, it := range items {
		f := sub(i)
		d.mark(it, f)
		ir, err := d.resolve(it, f)
		if err != nil {
			return nil, nil, err
		}
		if _, isText := ir.(*ast.StringNode); isText {
			s := strings.ToLower(strings.TrimSpace(ir.GetToken().Value))
			if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1:] == "xx" {
				classes = append(classes, int(s[0]-'0'))
				continue
			}
			if code, err := strconv.Atoi(s); err == nil && code >= 100 && code <= 599 {
				codes = append(codes, code)
				continue
			}
			return nil, nil, d.errNode(it, f, "want a status code like 200 or a class like 2xx, got %s", describe(ir))
		}
		code, err := d.integer(it, f)
		if err != nil {
			return nil, nil, d.errNode(it, f, "want a status code like 200 or a class like 2xx, got %s", describe(ir))
		}
		if code < 100 || code > 599 {
			return nil, nil, d.errNode(it, f, "%d is not an HTTP status code", code)
		}
		codes = append(codes, code)
	}
	return codes, classes, nil
}

// headerChecks reads {Name: value}: a string is the value the header must
// have; true means present, false absent.
func (d *decoder) headerChecks(n ast.Node, field string) ([]HeaderCheck, error) {
	return collect(d, n, field, func(e entry, f string) (HeaderCheck, error) {
		d.pos[f+".name"] = e.kpos
		r, err := d.resolve(e.val, f)
		if err != nil {
			return HeaderCheck{}, err
		}
		hc := HeaderCheck{Name: e.key}
		if b, isBool := r.(*ast.BoolNode); isBool {
			hc.Absent = !b.Value
			return hc, nil
		}
		s, err := d.str(e.val, f)
		if err != nil {
			return hc, d.errNode(e.val, f, "want the header's value, or true (present) or false (absent), got %s", kindName(r))
		}
		hc.Value = &s
		return hc, nil
	})
}

// jsonChecks reads {"$.path": value}: the path compiled, the value a
// scalar (string, number, true/false or null).
func (d *decoder) jsonChecks(n ast.Node, field string) ([]JSONCheck, error) {
	return collect(d, n, field, func(e entry, f string) (JSONCheck, error) {
		p, err := d.jsonPathKey(e, f)
		if err != nil {
			return JSONCheck{}, err
		}
		r, err := d.resolve(e.val, f)
		if err != nil {
			return JSONCheck{}, err
		}
		jc := JSONCheck{Path: p}
		switch x := r.(type) {
		case *ast.NullNode:
		case *ast.BoolNode:
			jc.Value = x.Value
		case *ast.IntegerNode, *ast.FloatNode:
			jc.Value, err = d.num(e.val, f)
		case *ast.StringNode, *ast.LiteralNode:
			jc.Value, err = d.str(e.val, f)
		default:
			err = d.errNode(e.val, f, "want the value the path must hold (a string, number, true/false or null), got %s", kindName(r))
		}
		return jc, err
	})
}

// StatusOK says whether status passes the check's status rule: a listed
// code or class, or any 2xx/3xx when it lists none.
func (c *Check) StatusOK(status int) bool {
	if len(c.Status) == 0 && len(c.StatusClass) == 0 {
		return status >= 200 && status < 400
	}
	for _, s := range c.Status {
		if s == status {
			return true
		}
	}
	for _, k := range c.StatusClass {
		if status/100 == k {
			return true
		}
	}
	return false
}

// WantStatus says what the status rule accepts: "200 or 2xx", "2xx or 3xx".
func (c *Check) WantStatus() string {
	if len(c.Status) == 0 && len(c.StatusClass) == 0 {
		return "2xx or 3xx"
	}
	var want []string
	for _, s := range c.Status {
		want = append(want, strconv.Itoa(s))
	}
	for _, k := range c.StatusClass {
		want = append(want, strconv.Itoa(k)+"xx")
	}
	return strings.Join(want, " or ")
}

// MaxChecksEach bounds a check's header and json entries each.
const MaxChecksEach = 100

// validate checks a request's check block (field is its path).
func (v *validator) check(c *Check, f string) {
	for k, code := range c.Status {
		if code < 100 || code > 599 {
			field := f + ".status"
			if len(c.Status)+len(c.StatusClass) > 1 {
				field = index(field, k)
			}
			v.add(field, "%d is not an HTTP status code", code)
		}
	}
	for _, k := range c.StatusClass {
		if k < 1 || k > 5 {
			v.add(f+".status", "%dxx is not an HTTP status class", k)
		}
	}
	for _, h := range c.Header {
		if !validHeaderName(h.Name) {
			v.add(f+".header."+h.Name+".name", "%q is not a valid header name", h.Name)
		}
	}
	if c.MaxDuration < 0 {
		v.add(f+".max_duration", "must not be negative")
	}
	// The engine numbers a request's checks in a byte; no real check
	// comes near these.
	if len(c.Header) > MaxChecksEach {
		v.add(f+".header", "%d header checks, at most %d", len(c.Header), MaxChecksEach)
	}
	if len(c.JSON) > MaxChecksEach {
		v.add(f+".json", "%d json checks, at most %d", len(c.JSON), MaxChecksEach)
	}
	for i := range c.JSON {
		j := &c.JSON[i]
		jf := index(f+".json", i)
		if j.Path == nil {
			v.add(jf, "missing path")
			continue
		}
		jf = f + ".json." + j.Path.String()
		switch x := j.Value.(type) {
		case nil, bool, float64, string:
		case int:
			j.Value = float64(x)
		default:
			v.add(jf, "want the value the path must hold (a string, number, true/false or null), got %T", x)
		}
	}
}
