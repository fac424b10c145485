package scenarios

import (
	"reflect"
	"slices"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// A YAML key is a tagged model field, read by its Go type: a field of a
// type decoder.value has no reader for, or a group key with neither a
// field nor sugar, would panic on a user's file. Catch that here.
func TestEveryYAMLKeyHasAReader(t *testing.T) {
	null := ast.Null(token.New("null", "null", &token.Position{Line: 1, Column: 1}))
	read := func(name string, typ reflect.Type) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s (%s): %v", name, typ, r)
			}
		}()
		d := &decoder{file: "t.yaml", anchors: map[string]ast.Node{}, pos: map[string]position{}}
		_ = d.value(null, name, reflect.New(typ).Elem())
	}
	seen := map[reflect.Type]bool{}
	var walk func(st reflect.Type)
	walk = func(st reflect.Type) {
		if seen[st] {
			return
		}
		seen[st] = true
		for f := range st.Fields() {
			if yamlKey(f) == "" {
				continue
			}
			// A list's items are read one by one: check their type too.
			for ft := f.Type; ; ft = ft.Elem() {
				read(st.Name()+"."+f.Name, ft)
				if ft.Kind() != reflect.Slice {
					break
				}
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft)
			}
		}
	}
	walk(reflect.TypeFor[Scenario]())
	for _, k := range yamlKeys(reflect.TypeFor[Group]()) {
		if !slices.Contains(groupKeys, k) {
			t.Errorf("group field %s is missing from groupKeys (it would be refused as unknown)", k)
		}
	}
	sugar := []string{"executor", "start", "start_vus", "start_rate", "vus", "rate", "duration"}
	for _, k := range groupKeys {
		if !slices.Contains(sugar, k) && !slices.Contains(yamlKeys(reflect.TypeFor[Group]()), k) {
			t.Errorf("group key %s has no tagged field and no special case", k)
		}
	}
	for typ, r := range required {
		for _, k := range r.keys {
			if !slices.Contains(yamlKeys(typ), k) {
				t.Errorf("%s requires %s, which is not one of its keys", typ.Name(), k)
			}
		}
	}
}
