package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
)

func TestJSONPathLookup(t *testing.T) {
	body := []byte(`{"access_token":"abc.def","user":{"id":42,"name":"Ann","tags":["a","b"]},
		"x-token":"t1","a.b":{"c":true},"items":[{"sku":"S1"},{"sku":"S2"}],"nil":null,"n":1.5}`)
	cases := []struct{ path, want string }{
		{"$.access_token", "abc.def"},
		{"$.user.id", "42"},
		{"$.user.tags[1]", "b"},
		{"$['x-token']", "t1"},
		{`$["a.b"].c`, "true"},
		{"$.items[1].sku", "S2"},
		{"$['items'][0]['sku']", "S1"},
		{"$.n", "1.5"},
		{"$.user.name", "Ann"},
	}
	for _, c := range cases {
		r := MustJSONPath(c.path).Lookup(body)
		if !r.Exists() || r.String() != c.want {
			t.Errorf("%s: got %q (exists %v), want %q", c.path, r.String(), r.Exists(), c.want)
		}
	}
	for _, missing := range []string{"$.nope", "$.user.tags[2]", "$.items[0].price", "$['a'].b"} {
		if r := MustJSONPath(missing).Lookup(body); r.Exists() {
			t.Errorf("%s: found %q in a body without it", missing, r.Raw)
		}
	}
	if r := MustJSONPath("$.nil").Lookup(body); !r.Exists() || r.Type.String() != "Null" {
		t.Errorf("$.nil: got %v", r)
	}
	if r := MustJSONPath("$").Lookup([]byte(`[1,2]`)); r.Raw != "[1,2]" {
		t.Errorf("$: got %q", r.Raw)
	}
	for _, notJSON := range [][]byte{nil, []byte("<html>"), []byte(`{"user":`)} {
		if r := MustJSONPath("$.user.id").Lookup(notJSON); r.Exists() {
			t.Errorf("found %q in %q", r.Raw, notJSON)
		}
	}
	// A key that means something to gjson is only a key here.
	if r := MustJSONPath("$['@this']").Lookup([]byte(`{"a":1}`)); r.Exists() {
		t.Errorf("$['@this'] ran a gjson modifier: %q", r.Raw)
	}
}

func TestJSONPathRefused(t *testing.T) {
	cases := []struct {
		path string
		off  int
		msg  string
	}{
		{"user.id", 0, "starts at the root $"},
		{"$..id", 1, "recursive descent"},
		{"$.items[*]", 8, "wildcards"},
		{"$.*", 2, "wildcards"},
		{"$.items[-1]", 8, "negative indexes"},
		{"$.items[0:2]", 9, "slices"},
		{"$.items[?(@.x)]", 8, "filters"},
		{"$['a','b']", 5, "unions"},
		{"$['a", 2, "unclosed '"},
		{"$.", 2, "want a key name"},
		{"$.a b", 3, "unexpected"},
		{"$[x]", 2, "want a quoted key or an index"},
		{"$.a[", 3, "unclosed ["},
	}
	for _, c := range cases {
		_, err := CompileJSONPath(c.path)
		pe, ok := err.(*JSONPathError)
		if !ok {
			t.Errorf("%s: got %v, want a *JSONPathError", c.path, err)
			continue
		}
		if pe.Offset != c.off || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: got offset %d %q, want offset %d and %q", c.path, pe.Offset, pe.Msg, c.off, c.msg)
		}
	}
}

// The loader's error points at the column of the problem inside the path,
// whether the path is a value or a key, quoted or not.
func TestJSONPathErrorColumn(t *testing.T) {
	src := "a: $.items[*]\nb: {\"$..x\": true}\n"
	f, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := &decoder{file: "s.yaml", anchors: map[string]ast.Node{}, pos: map[string]position{}}
	es, err := d.mapping(f.Docs[0].Body, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.jsonPath(es[0].val, "a")
	if err == nil || !strings.HasPrefix(err.Error(), "s.yaml:1:12: a: JSON path") || !strings.Contains(err.Error(), "wildcards") {
		t.Errorf("value: got %v", err)
	}
	inner, err := d.mapping(es[1].val, "b")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.jsonPathKey(inner[0], "b")
	if err == nil || !strings.HasPrefix(err.Error(), "s.yaml:2:7: b: JSON path") {
		t.Errorf("key: got %v", err)
	}
}

// A report's copy of the scenario holds a path as written, and reads back.
func TestJSONPathJSON(t *testing.T) {
	b, err := json.Marshal(struct{ P *JSONPath }{MustJSONPath("$['x-token']")})
	if err != nil || string(b) != `{"P":"$['x-token']"}` {
		t.Fatalf("got %s, %v", b, err)
	}
	var back struct{ P *JSONPath }
	if err := json.Unmarshal(b, &back); err != nil || fmt.Sprint(back.P) != "$['x-token']" {
		t.Fatalf("got %v, %v", back.P, err)
	}
	if r := back.P.Lookup([]byte(`{"x-token":"t"}`)); r.String() != "t" {
		t.Errorf("read-back path found %q", r.String())
	}
	if err := json.Unmarshal([]byte(`{"P":"$..x"}`), &back); err == nil {
		t.Error("a saved path outside the subset read back")
	}
}

// BenchmarkJSONPathLookup is one extraction's parse: a path near the end
// of a 1 KiB body, found in one scan without unmarshalling.
func BenchmarkJSONPathLookup(b *testing.B) {
	body := []byte(`{"items":[` + strings.Repeat(`{"sku":"S1","qty":2,"price":9.5},`, 28) + `{"sku":"S2"}],"user":{"id":42},"access_token":"eyJhbGciOiJIUzI1NiJ9.abc"}`)
	p := MustJSONPath("$.access_token")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !p.Lookup(body).Exists() {
			b.Fatal("not found")
		}
	}
}
