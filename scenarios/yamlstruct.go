package scenarios

import (
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Blocks are decoded into the model's structs by their `yaml` tags: a key
// names a field, the field's type picks the reader. The readers (in
// yamlnode.go) take AST nodes rather than Go values, so every error keeps
// its line:col, its field path as the user wrote it, and brink's wording.
// goccy/go-yaml (v1.19) parses; its struct decoder does not decode, because
// it cannot keep that: it takes "5" for a number, its errors name Go
// types and no field path ("cannot unmarshal uint64 into Go struct field
// top.Stages of type time.Duration"), an Unmarshaler hook is handed the
// alias's target (the anchor's line, not the line that used it) and no
// path, fields are decoded in struct order rather than the order written,
// and an unknown key gets no "did you mean".

// required lists the keys a block must have, and how to say what it is.
var required = map[reflect.Type]struct {
	keys  []string
	shape string
}{
	reflect.TypeFor[Stage]():         {[]string{"duration", "target"}, "a stage is {duration: 1m, target: 100}"},
	reflect.TypeFor[NodeThreshold](): {[]string{"above"}, "a node threshold is {metric: load1, above: 100}"},
	reflect.TypeFor[Data]():          {[]string{"file"}, "data is {file: users.csv, mode: per-vu}"},
}

// yamlKeys lists a struct type's YAML keys in field order (the order
// "did you mean" prefers on a tie).
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if k := yamlKey(f); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return k
}

// fieldByKey is the field of struct v tagged key; key is one of yamlKeys.
func fieldByKey(v reflect.Value, key string) reflect.Value {
	for i := range v.NumField() {
		if yamlKey(v.Type().Field(i)) == key {
			return v.Field(i)
		}
	}
	panic("scenarios: no field for YAML key " + key)
}

// object decodes a mapping into struct v: unknown keys are refused with a
// suggestion, values are read in the order written, the first problem wins.
func (d *decoder) object(n ast.Node, field string, v reflect.Value) error {
	es, err := d.fields(n, field, yamlKeys(v.Type()))
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		if err := d.entry(e, field, v); err != nil {
			return err
		}
		seen[e.key] = true
	}
	for _, k := range required[v.Type()].keys {
		if !seen[k] {
			return d.errNode(n, field, "missing %s (%s)", k, required[v.Type()].shape)
		}
	}
	return nil
}

// entry reads one key: value of a mapping into its field of struct v.
func (d *decoder) entry(e entry, field string, v reflect.Value) error {
	f := join(field, e.key)
	d.markEntry(e, f)
	return d.value(e.val, f, fieldByKey(v, e.key))
}

// list decodes a sequence into slice v, each item by its element type.
func (d *decoder) list(n ast.Node, field string, v reflect.Value) error {
	items, err := d.seq(n, field)
	if err != nil {
		return err
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		f := index(field, i)
		d.mark(item, f)
		if err := d.value(item, f, out.Index(i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

// value reads node n into v by v's type: the hook goccy/go-yaml's
// Unmarshaler interfaces would be, but with the field path and the node
// as written (an alias, not its target), which those hooks are not given.
func (d *decoder) value(n ast.Node, field string, v reflect.Value) (err error) {
	switch p := v.Addr().Interface().(type) {
	case *string:
		*p, err = d.str(n, field)
	case *bool:
		*p, err = d.boolean(n, field)
	case **bool:
		var b bool
		b, err = d.boolean(n, field)
		*p = &b
	case *DataMode:
		var m string
		m, err = d.str(n, field)
		*p = DataMode(m)
	case *[]Extract:
		*p, err = d.extracts(n, field)
	case *int:
		*p, err = d.integer(n, field)
	case *float64:
		*p, err = d.num(n, field)
	case **float64:
		var x float64
		x, err = d.num(n, field)
		*p = &x
	case *time.Duration:
		*p, err = d.duration(n, field)
	case *int64: // the model's int64 fields are byte sizes
		*p, err = d.size(n, field)
	case *Think:
		*p, err = d.think(n, field)
	case **Template:
		*p, err = d.template(n, field)
	case *[]string:
		err = d.strings(n, field, p)
	case **Check:
		*p, err = d.check(n, field)
	case *[]HeaderCheck:
		*p, err = d.headerChecks(n, field)
	case *[]JSONCheck:
		*p, err = d.jsonChecks(n, field)
	case *[]Header:
		*p, err = d.headers(n, field)
	case *map[string]string:
		*p, err = d.names(n, field)
	case *[]Role:
		*p, err = d.roles(n, field)
	case *[]Threshold:
		*p, err = d.thresholds(n, field)
	case *Group:
		err = d.group(n, field, p)
	default:
		switch v.Kind() {
		case reflect.Struct:
			return d.object(n, field, v)
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			return d.object(n, field, v.Elem())
		case reflect.Slice:
			return d.list(n, field, v)
		}
		panic("scenarios: no YAML reader for " + v.Type().String())
	}
	return err
}

// think reads a pause, fixed ("1s") or a range ("1s-3s").
func (d *decoder) think(n ast.Node, field string) (Think, error) {
	s, err := d.str(n, field)
	if err != nil {
		return Think{}, err
	}
	t, err := ParseThink(s)
	if err != nil {
		return Think{}, d.errNode(n, field, "%s", err)
	}
	return t, nil
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
	return d.list(r, field, reflect.ValueOf(out).Elem())
}

// entries reads a mapping keyed by names (headers, checks, extracts), in
// YAML order: each gets an entry and its field path, already marked for
// Validate's positions; the first error ends the read.
func (d *decoder) entries(n ast.Node, field string, each func(e entry, f string) error) error {
	es, err := d.mapping(n, field)
	if err != nil {
		return err
	}
	for _, e := range es {
		f := join(field, e.key)
		d.markEntry(e, f)
		if err := each(e, f); err != nil {
			return err
		}
	}
	return nil
}

// collect reads a mapping keyed by names into one T per entry, in YAML
// order (an empty mapping is an empty list, not nil).
func collect[T any](d *decoder, n ast.Node, field string, read func(e entry, f string) (T, error)) ([]T, error) {
	out := []T{}
	err := d.entries(n, field, func(e entry, f string) error {
		v, err := read(e, f)
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pairs reads a mapping of names to values, in YAML order, each value by
// read.
func pairs[T any](d *decoder, n ast.Node, field string, read func(ast.Node, string) (T, error), each func(e entry, f string, v T)) error {
	return d.entries(n, field, func(e entry, f string) error {
		v, err := read(e.val, f)
		if err == nil {
			each(e, f, v)
		}
		return err
	})
}

// headers reads {Name: template}; a bad name is found by Validate, which
// points at the key.
func (d *decoder) headers(n ast.Node, field string) ([]Header, error) {
	out := []Header{}
	err := pairs(d, n, field, d.template, func(e entry, f string, v *Template) {
		d.pos[f+".name"] = e.kpos
		out = append(out, Header{Name: e.key, Value: v})
	})
	return out, err
}

func (d *decoder) names(n ast.Node, field string) (map[string]string, error) {
	m := map[string]string{}
	err := pairs(d, n, field, d.str, func(e entry, _ string, v string) { m[e.key] = v })
	return m, err
}

func (d *decoder) roles(n ast.Node, field string) ([]Role, error) {
	var out []Role
	err := pairs(d, n, field, d.str, func(e entry, _ string, v string) { out = append(out, Role{Name: e.key, Pattern: v}) })
	return out, err
}

// extractKeys are the sources of one extract:, exactly one per variable.
var extractKeys = []string{"json", "header", "regex"}

// extracts reads {name: {json: "$.path"} | {header: Name} | {regex: 're'}}
// in YAML order; a bad regex or JSON path points into the value.
func (d *decoder) extracts(n ast.Node, field string) ([]Extract, error) {
	return collect(d, n, field, func(e entry, f string) (Extract, error) {
		if !varName(e.key) {
			return Extract{}, d.errAt(e.kpos, f, "a variable name is letters, digits and _ (it is used as {{.name}})")
		}
		srcs, err := d.fields(e.val, f, extractKeys)
		if err != nil {
			return Extract{}, err
		}
		if len(srcs) != 1 {
			return Extract{}, d.errAt(e.kpos, f, "want exactly one of json, header or regex, like {json: \"$.id\"}")
		}
		x := Extract{Name: e.key}
		src := srcs[0]
		sf := join(f, src.key)
		d.markEntry(src, sf)
		switch src.key {
		case "json":
			x.JSON, err = d.jsonPath(src.val, sf)
		case "header":
			x.Header, err = d.str(src.val, sf)
			if err == nil && !validHeaderName(x.Header) {
				err = d.errNode(src.val, sf, "%q is not a valid header name", x.Header)
			}
		case "regex":
			x.Regex, err = d.str(src.val, sf)
			if err == nil {
				var re *regexp.Regexp
				if re, err = regexp.Compile(x.Regex); err != nil {
					err = d.errNode(src.val, sf, "%s", err)
				} else if re.NumSubexp() > 1 {
					err = d.errNode(src.val, sf, "at most one group ( ) (its match is the value)")
				}
			}
		}
		return x, err
	})
}
