package scenarios

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
	"github.com/tidwall/gjson"
)

// JSONPath is a JSONPath of the subset brink takes, compiled at load time
// so a response is only scanned, never unmarshalled: the root $, then any
// number of .name, ['name'] / ["name"] and [index] steps, as in
// $.user.id, $.items[0].sku or $['x-token']. Wildcards, filters, slices,
// unions, negative indexes and recursive descent (..) are refused when the
// scenario loads. Evaluation is one pass of github.com/tidwall/gjson over
// the body. An [index] step also finds an object's key of those digits
// (gjson does not tell them apart); an object never has such a key in
// practice, so the subset does not pay a second look for it.
//
// Extraction (extract: {token: {json: "$.access_token"}}) and checks
// (json: {"$.ok": true}) both compile their paths here.
type JSONPath struct {
	src string // as written
	gj  string // the same path in gjson's syntax
}

// JSONPathError is a path that does not compile; Offset is the byte in
// the path where the problem starts, so the scenario loader can point at
// the column in the file.
type JSONPathError struct {
	Path   string
	Offset int
	Msg    string
}

func (e *JSONPathError) Error() string {
	return fmt.Sprintf("JSON path %q: %s", e.Path, e.Msg)
}

// CompileJSONPath parses src; a path outside the subset is a
// *JSONPathError that says what is not supported and where.
func CompileJSONPath(src string) (*JSONPath, error) {
	fail := func(off int, format string, args ...any) error {
		return &JSONPathError{Path: src, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if !strings.HasPrefix(src, "$") {
		return nil, fail(0, "a path starts at the root $, like $.user.id")
	}
	var steps []string
	i := 1
	for i < len(src) {
		switch c := src[i]; c {
		case '.':
			if i+1 < len(src) && src[i+1] == '.' {
				return nil, fail(i, "recursive descent (..) is not supported; write the full path, like $.a.b")
			}
			j := i + 1
			for j < len(src) && nameByte(src[j]) {
				j++
			}
			if j == i+1 {
				if j < len(src) && src[j] == '*' {
					return nil, fail(j, "wildcards (*) are not supported; name one key or [index]")
				}
				return nil, fail(j, "want a key name after '.' (use ['...'] for a key with other characters)")
			}
			steps = append(steps, gjson.Escape(src[i+1:j]))
			i = j
		case '[':
			step, n, err := bracket(src, i, fail)
			if err != nil {
				return nil, err
			}
			steps = append(steps, step)
			i += n
		default:
			return nil, fail(i, "unexpected %q (want .key, ['key'] or [index])", c)
		}
	}
	p := &JSONPath{src: src, gj: strings.Join(steps, ".")}
	if len(steps) == 0 {
		p.gj = "@this" // gjson's name for the whole document
	}
	return p, nil
}

// nameByte is a byte of a key written after '.': letters, digits, '_',
// '-' and any non-ASCII byte (UTF-8 keys).
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c >= 0x80
}

// bracket reads the [ ... ] step at src[i]: a quoted key or an index. It
// returns the step in gjson's syntax and how many bytes it took.
func bracket(src string, i int, fail func(int, string, ...any) error) (string, int, error) {
	j := i + 1
	if j >= len(src) {
		return "", 0, fail(i, "unclosed [")
	}
	switch c := src[j]; {
	case c == '\'' || c == '"':
		var key strings.Builder
		k := j + 1
		for ; k < len(src) && src[k] != c; k++ {
			if src[k] == '\\' && k+1 < len(src) {
				k++
			}
			key.WriteByte(src[k])
		}
		if k >= len(src) {
			return "", 0, fail(j, "unclosed %c", c)
		}
		if k+1 >= len(src) || src[k+1] != ']' {
			return "", 0, fail(k+1, "want ] after the quoted key (unions like ['a','b'] are not supported)")
		}
		if key.Len() == 0 {
			return "", 0, fail(j, "empty key")
		}
		return gjson.Escape(key.String()), k + 2 - i, nil
	case c >= '0' && c <= '9':
		k := j
		for k < len(src) && src[k] >= '0' && src[k] <= '9' {
			k++
		}
		if k >= len(src) || src[k] != ']' {
			if k < len(src) && (src[k] == ':' || src[k] == ',') {
				return "", 0, fail(k, "slices and unions are not supported; name one [index]")
			}
			return "", 0, fail(k, "want ] after the index")
		}
		n, err := strconv.Atoi(src[j:k])
		if err != nil {
			return "", 0, fail(j, "index %s is too large", src[j:k])
		}
		return strconv.Itoa(n), k + 1 - i, nil
	case c == '-':
		return "", 0, fail(j, "negative indexes are not supported; count from the start, like [0]")
	case c == '*':
		return "", 0, fail(j, "wildcards (*) are not supported; name one key or [index]")
	case c == '?' || c == '(':
		return "", 0, fail(j, "filters and expressions are not supported; name one key or [index]")
	case c == ':':
		return "", 0, fail(j, "slices are not supported; name one [index]")
	}
	return "", 0, fail(j, "want a quoted key or an index in [ ], like ['name'] or [0]")
}

// MustJSONPath compiles src or panics; for literals in code and tests.
func MustJSONPath(src string) *JSONPath {
	p, err := CompileJSONPath(src)
	if err != nil {
		panic(err)
	}
	return p
}

// String is the path as written.
func (p *JSONPath) String() string { return p.src }

// Lookup finds the path in body in one pass, without unmarshalling or
// copying: the Result's Raw and Str point into body, so they are valid only
// while body is unchanged (a response buffer is reused by the next
// request). Call Result.String() and keep a copy (strings.Clone) to hold a
// value past that. A missing path, or a body that is not JSON, gives a
// Result whose Exists() is false.
func (p *JSONPath) Lookup(body []byte) gjson.Result {
	if len(body) == 0 {
		return gjson.Result{}
	}
	return gjson.Get(unsafe.String(unsafe.SliceData(body), len(body)), p.gj)
}

// MarshalJSON writes the path as written (a report's copy of the scenario).
func (p *JSONPath) MarshalJSON() ([]byte, error) { return json.Marshal(p.src) }

// UnmarshalJSON recompiles a saved path.
func (p *JSONPath) UnmarshalJSON(b []byte) error { return recompile(b, p, CompileJSONPath) }

// recompile reads what MarshalJSON saved, the source text as a JSON
// string, into *dst by compiling it again.
func recompile[T any](b []byte, dst *T, compile func(src string) (*T, error)) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	c, err := compile(s)
	if err != nil {
		return err
	}
	*dst = *c
	return nil
}

// jsonPath compiles a scalar value as a JSON path; an error points at the
// column of the problem within the path.
func (d *decoder) jsonPath(n ast.Node, field string) (*JSONPath, error) {
	s, err := d.str(n, field)
	if err != nil {
		return nil, err
	}
	r, _ := d.resolve(n, field)
	return d.jsonPathAt(r, posOf(n), field, s)
}

// jsonPathKey compiles a mapping key as a JSON path, as in
// json: {"$.ok": true}.
func (d *decoder) jsonPathKey(e entry, field string) (*JSONPath, error) {
	return d.jsonPathAt(e.knode, e.kpos, field, e.key)
}

// jsonPathAt compiles src written at p; n is its node, to see whether the
// text was quoted (the path then starts one column later).
func (d *decoder) jsonPathAt(n ast.Node, p position, field, src string) (*JSONPath, error) {
	jp, err := CompileJSONPath(src)
	if err == nil {
		return jp, nil
	}
	pe, ok := err.(*JSONPathError)
	if !ok {
		return nil, d.errAt(p, field, "%s", err)
	}
	// Count the offset in the text as written; escapes inside a quoted
	// string may shift it, which only costs a column.
	if n != nil {
		if tk := n.GetToken(); tk != nil && (tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType) {
			p.col++
		}
	}
	if !strings.Contains(src, "\n") {
		p.col += len([]rune(src[:pe.Offset]))
	}
	return nil, d.errAt(p, field, "%s", err)
}
