package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decoder walks goccy/go-yaml's AST by hand rather than unmarshalling into
// structs, so every value keeps its line and column, unknown keys are
// caught with a suggestion, and the first problem in document order wins.
type decoder struct {
	file    string
	anchors map[string]ast.Node
	// pos holds where each field path was written, so errors found later
	// (Validate, on the built model) still point into the file.
	pos map[string]position
	// text holds where each rune of a one-line template's text is written,
	// so an error inside it can point at the column it names.
	text map[string]textAt
	// aliases counts alias expansions: nested <<: merges of aliases grow
	// exponentially (and an anchor may merge itself), so stop early.
	aliases int
}

// maxAliases bounds alias expansions per file; real scenarios use a few.
const maxAliases = 10000

type position struct{ line, col int }

// entry is one key: value of a mapping, merge keys already expanded.
type entry struct {
	key   string
	kpos  position
	knode ast.Node // the key as written (quoted or not)
	val   ast.Node
}

func (d *decoder) errAt(p position, field, format string, args ...any) *Error {
	return &Error{File: d.file, Line: p.line, Col: p.col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) errNode(n ast.Node, field, format string, args ...any) *Error {
	return d.errAt(posOf(n), field, format, args...)
}

// posOf is where a node starts as a reader sees it: a block mapping's
// token is its first ':' so use its first key instead.
func posOf(n ast.Node) position {
	if n == nil {
		return position{}
	}
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		n = m.Values[0].Key
	}
	if mv, ok := n.(*ast.MappingValueNode); ok {
		n = mv.Key
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return position{}
	}
	return position{tk.Position.Line, tk.Position.Column}
}

func tokenPos(tk *token.Token) position {
	if tk == nil || tk.Position == nil {
		return position{1, 1}
	}
	return position{tk.Position.Line, tk.Position.Column}
}

// collectAnchors records every &anchor in the document so *aliases can be
// resolved where they are used.
func (d *decoder) collectAnchors(root ast.Node) {
	ast.Walk(anchorVisitor(d.anchors), root)
}

type anchorVisitor map[string]ast.Node

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		v[a.Name.GetToken().Value] = a.Value
	}
	return v
}

// resolve looks through anchors, aliases and tags to the value itself.
// The loop is bounded: an alias chain longer than that is a cycle.
func (d *decoder) resolve(n ast.Node, field string) (ast.Node, error) {
	for range 64 {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		case *ast.AliasNode:
			if d.aliases++; d.aliases > maxAliases {
				return nil, d.errNode(x, field, "more than %d alias expansions (an alias that includes itself?)", maxAliases)
			}
			name := ""
			if x.Value != nil {
				name = x.Value.GetToken().Value
			}
			target, ok := d.anchors[name]
			if !ok {
				return nil, d.errNode(x, field, "unknown alias *%s", name)
			}
			n = target
		default:
			return n, nil
		}
	}
	return nil, d.errNode(n, field, "alias refers to itself")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func kindName(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + strings.ToLower(n.Type().String())
}

// mapping returns a mapping's entries in YAML order, with <<: merges
// expanded (explicit keys win over merged ones, as YAML specifies).
func (d *decoder) mapping(n ast.Node, field string) ([]entry, error) {
	n, err := d.resolve(n, field)
	if err != nil {
		return nil, err
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		if _, isNull := n.(*ast.NullNode); isNull {
			return nil, nil // "key:" with nothing after it: an empty mapping
		}
		return nil, d.errNode(n, field, "want a mapping, got %s", kindName(n))
	}
	var merged, own []entry
	for _, mv := range m.Values {
		if mv.Key.IsMergeKey() {
			src, err := d.resolve(mv.Value, field)
			if err != nil {
				return nil, err
			}
			srcs := []ast.Node{src}
			if seq, ok := src.(*ast.SequenceNode); ok {
				srcs = seq.Values
			}
			for _, s := range srcs {
				es, err := d.mapping(s, field)
				if err != nil {
					return nil, err
				}
				merged = append(merged, es...)
			}
			continue
		}
		k, err := d.resolve(mv.Key, field)
		if err != nil {
			return nil, err
		}
		key, ok := text(k, true)
		if !ok {
			return nil, d.errNode(mv.Key, field, "a key must be a plain word, got %s", kindName(k))
		}
		own = append(own, entry{key: key, kpos: posOf(mv.Key), knode: k, val: mv.Value})
	}
	if len(merged) == 0 {
		return own, nil
	}
	out := own
	for _, e := range merged {
		dup := false
		for _, o := range out {
			if o.key == e.key {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out, nil
}

// fields is mapping plus the strict key check: an unknown key is an error
// that suggests the nearest allowed key.
func (d *decoder) fields(n ast.Node, field string, allowed []string) ([]entry, error) {
	es, err := d.mapping(n, field)
	if err != nil {
		return nil, err
	}
	return es, d.known(es, field, allowed)
}

func (d *decoder) known(es []entry, field string, allowed []string) error {
	for _, e := range es {
		if !slices.Contains(allowed, e.key) {
			return d.errAt(e.kpos, join(field, e.key), "unknown key%s", didYouMean(e.key, allowed))
		}
	}
	return nil
}

func (d *decoder) seq(n ast.Node, field string) ([]ast.Node, error) {
	n, err := d.resolve(n, field)
	if err != nil {
		return nil, err
	}
	switch s := n.(type) {
	case *ast.SequenceNode:
		return s.Values, nil
	case *ast.NullNode:
		return nil, nil
	}
	return nil, d.errNode(n, field, "want a list, got %s", kindName(n))
}

// str reads a scalar as text. Numbers and booleans are accepted as their
// written form ("name: 2024" is a fine name); lists and mappings are not.
func (d *decoder) str(n ast.Node, field string) (string, error) {
	d.mark(n, field)
	r, err := d.resolve(n, field)
	if err != nil {
		return "", err
	}
	if l, ok := r.(*ast.LiteralNode); ok {
		if l.Value == nil {
			return "", nil
		}
		return l.Value.Value, nil
	}
	if s, ok := text(r, true); ok {
		return s, nil
	}
	return "", d.errNode(n, field, "want a string, got %s", kindName(r))
}

// text is a scalar as written: a string's value, a number's token or, with
// bools, a boolean's; ok is false for anything else.
func text(r ast.Node, bools bool) (string, bool) {
	switch x := r.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.IntegerNode, *ast.FloatNode:
		return x.GetToken().Value, true
	case *ast.BoolNode:
		return x.GetToken().Value, bools
	}
	return "", false
}

// num reads a finite number; strings are not numbers, so "100" is an error.
func (d *decoder) num(n ast.Node, field string) (float64, error) {
	d.mark(n, field)
	r, err := d.resolve(n, field)
	if err != nil {
		return 0, err
	}
	switch x := r.(type) {
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			return float64(v), nil
		case uint64:
			return float64(v), nil
		}
	case *ast.FloatNode:
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			break
		}
		return x.Value, nil
	}
	return 0, d.errNode(n, field, "want a number, got %s", describe(r))
}

// integer reads a whole number that fits an int.
func (d *decoder) integer(n ast.Node, field string) (int, error) {
	v, err := d.num(n, field)
	if err != nil {
		return 0, err
	}
	if v != math.Trunc(v) || v > math.MaxInt32 || v < math.MinInt32 {
		return 0, d.errNode(n, field, "want a whole number, got %v", v)
	}
	return int(v), nil
}

func (d *decoder) boolean(n ast.Node, field string) (bool, error) {
	d.mark(n, field)
	r, err := d.resolve(n, field)
	if err != nil {
		return false, err
	}
	if b, ok := r.(*ast.BoolNode); ok {
		return b.Value, nil
	}
	return false, d.errNode(n, field, "want true or false, got %s", describe(r))
}

// duration reads a k6 duration; a bare 0 is allowed, other bare numbers
// are errors because their unit is ambiguous.
func (d *decoder) duration(n ast.Node, field string) (time.Duration, error) {
	return withUnit(d, n, field, "a duration like 90s", ParseDuration)
}

// size reads a byte count: a whole number of bytes or a string with a
// unit, as ParseSize takes.
func (d *decoder) size(n ast.Node, field string) (int64, error) {
	return withUnit(d, n, field, "a size like 4MiB", ParseSize)
}

// withUnit reads a scalar written with a unit ("90s", "4MiB") through
// parse; a bare number goes to parse as written, which judges it.
func withUnit[T any](d *decoder, n ast.Node, field, like string, parse func(string) (T, error)) (T, error) {
	var zero T
	d.mark(n, field)
	r, err := d.resolve(n, field)
	if err != nil {
		return zero, err
	}
	s, ok := text(r, false)
	if !ok {
		return zero, d.errNode(n, field, "want %s, got %s", like, kindName(r))
	}
	v, err := parse(s)
	if err != nil {
		return zero, d.errNode(n, field, "%s", err)
	}
	return v, nil
}

// template compiles a scalar into a Template at load time.
func (d *decoder) template(n ast.Node, field string) (*Template, error) {
	if r, err := d.resolve(n, field); err == nil {
		if _, isMap := r.(*ast.MappingNode); isMap {
			// body: {"a": {{vu}}} reads as a YAML mapping.
			return nil, d.errNode(n, field, "want a string, got a mapping (quote JSON and {{templates}}: '...')")
		}
	}
	s, err := d.str(n, field)
	if err != nil {
		return nil, err
	}
	d.markText(n, field, s)
	t, err := CompileTemplate(s)
	if err != nil {
		e := d.errNode(n, field, "%s", err)
		// At the placeholder, counted from the text's end as locate does.
		var ve *VarError
		if at, ok := d.text[field]; ok && errors.As(err, &ve) {
			e.Line, e.Col = at.line, at.col(utf8.RuneCountInString(s[ve.Offset:]))
		}
		return nil, e
	}
	return t, nil
}

// textAt is where a one-line text is written: its line, and the column
// of each rune as read (escapes and doubled single quotes taken into
// account) and then one past its end.
type textAt struct {
	line int
	cols []int
}

// col is the column of the rune tail runes before the text's end.
func (t textAt) col(tail int) int { return t.cols[max(0, len(t.cols)-1-tail)] }

// markText remembers where each rune of the text s of a one-line scalar n
// is written.
func (d *decoder) markText(n ast.Node, field, s string) {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil || strings.Contains(s, "\n") {
		return
	}
	p := posOf(n)
	raw := s
	switch tk.Type {
	case token.DoubleQuoteType, token.SingleQuoteType:
		p.col++
		if o := strings.TrimLeft(tk.Origin, " \t\r\n"); len(o) >= 2 && o[0] == o[len(o)-1] && (o[0] == '"' || o[0] == '\'') {
			raw = o[1 : len(o)-1]
		}
	case token.StringType:
	default:
		return // an alias, a block scalar: the text is elsewhere
	}
	if d.text == nil {
		d.text = map[string]textAt{}
	}
	if _, seen := d.text[field]; !seen {
		d.text[field] = textAt{line: p.line, cols: writtenCols(raw, tk.Type, p.col, utf8.RuneCountInString(s))}
	}
}

// writtenCols is the column of each of the n runes that raw, a scalar's
// text as written from column start, reads as, then one past its end: in
// double quotes an escape (\", \n, \xNN, \uNNNN, \UNNNNNNNN) is one rune
// of 2 to 10 written, in single quotes a doubled quote is one. If raw
// does not read as n runes that way, one column a rune.
func writtenCols(raw string, quote token.Type, start, n int) []int {
	cols := make([]int, 0, n+1)
	col := start
	for i := 0; i < len(raw); {
		w := 1 // runes written for the next one read
		switch {
		case quote == token.DoubleQuoteType && raw[i] == '\\' && i+1 < len(raw):
			switch raw[i+1] {
			case 'x':
				w = 4
			case 'u':
				w = 6
			case 'U':
				w = 10
			default:
				w = 2
			}
		case quote == token.SingleQuoteType && strings.HasPrefix(raw[i:], "''"):
			w = 2
		}
		cols = append(cols, col)
		col += w
		for ; w > 0 && i < len(raw); w-- {
			_, size := utf8.DecodeRuneInString(raw[i:])
			i += size
		}
	}
	cols = append(cols, col)
	if len(cols) != n+1 {
		cols = cols[:0]
		for k := range n + 1 {
			cols = append(cols, start+k)
		}
	}
	return cols
}

// describe is kindName plus the value for scalars, for "got ..." messages.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", n.GetToken().Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value
	}
	return kindName(n)
}

// markEntry remembers where a key's value was written: at the value for a
// scalar (a bad number points at the number), at the key for a mapping or
// list (a problem with "nodes" points at "nodes:").
func (d *decoder) markEntry(e entry, field string) {
	r, err := d.resolve(e.val, field)
	if err != nil {
		return
	}
	switch r.(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.NullNode:
		if _, seen := d.pos[field]; !seen {
			d.pos[field] = e.kpos
		}
	default:
		d.mark(e.val, field)
	}
}

// mark remembers where field was written.
func (d *decoder) mark(n ast.Node, field string) {
	if _, seen := d.pos[field]; !seen {
		d.pos[field] = posOf(n)
	}
}

// locate fills an Error's position from the nearest written ancestor of its
// field: "groups[0].requests[1].url" falls back to "groups[0].requests[1]".
func (d *decoder) locate(e *Error) {
	e.File = d.file
	if e.ref != "" {
		if p, ok := d.pos[e.ref]; ok {
			if i := strings.LastIndex(e.Msg, "')"); i >= 0 {
				e.Msg = fmt.Sprintf("%s at line %d%s", e.Msg[:i+1], p.line, e.Msg[i+1:])
			}
		}
	}
	if at, ok := d.text[e.Field]; ok && e.inText {
		e.Line, e.Col = at.line, at.col(e.textTail)
		return
	}
	f := e.Field
	for f != "" {
		if p, ok := d.pos[f]; ok {
			e.Line, e.Col = p.line, p.col
			return
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	e.Line, e.Col = 1, 1
}
