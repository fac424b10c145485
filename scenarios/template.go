package scenarios

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
)

// TemplateContext is what a template may refer to while rendering. Each VU
// owns one, so rendering takes no lock.
type TemplateContext struct {
	VU   int
	Iter int64
	Rand *rand.Rand
	// Vars are the VU's variables by slot (Group.Vars): its data row's
	// columns, then the values it extracted. {{.name}} appends its slot's
	// value; a slot past the end renders as nothing.
	Vars []string
}

type partKind uint8

const (
	partLit partKind = iota
	partVU
	partIter
	partRand
	partUUID
	partVar
)

type part struct {
	kind   partKind
	lit    string // literal text, the resolved value of {{env}}, or a variable's name
	lo, hi int64  // rand bounds, inclusive
	slot   int    // a variable's slot in TemplateContext.Vars (-1 until bound)
	off    int    // where the placeholder starts in the source, for errors
}

// Template is a string with {{vu}}, {{iter}}, {{rand A B}}, {{uuid}},
// {{env "NAME"}} and {{.name}} (a VU variable) placeholders, compiled once at load time so the hot path
// only appends. Its JSON form is the source text: env values are resolved
// into the compiled parts but never serialised, so reports never hold them.
type Template struct {
	src    string
	parts  []part
	static bool
	secret bool // contains {{env}}: never log the rendered value
}

// CompileTemplate parses src. Errors name the offending placeholder.
func CompileTemplate(src string) (*Template, error) {
	t := &Template{src: src, static: true}
	rest := src
	done := 0 // bytes of src before rest
	for {
		i := strings.Index(rest, "{{")
		// In "{{{vu}}}" the placeholder is the innermost pair: the extra
		// brace is text (a JSON object or a path segment around it).
		for i >= 0 && i+2 < len(rest) && rest[i+2] == '{' {
			i++
		}
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{kind: partLit, lit: rest})
			}
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{kind: partLit, lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, &VarError{Offset: done + i, msg: fmt.Sprintf("unclosed {{ in %q", src)}
		}
		expr := strings.TrimSpace(rest[i+2 : i+j])
		p, err := compilePart(expr)
		if err != nil {
			return nil, &VarError{Offset: done + i, msg: err.Error()}
		}
		p.off = done + i
		rest = rest[i+j+2:]
		done += i + j + 2
		if p.kind == partLit {
			t.secret = true // only {{env}} compiles to a literal
		} else {
			t.static = false
		}
		t.parts = append(t.parts, p)
	}
	t.parts = mergeLiterals(t.parts)
	return t, nil
}

// mergeLiterals joins neighbouring literal parts ({{env}} values and the
// text around them) so rendering appends fewer pieces.
func mergeLiterals(ps []part) []part {
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 && p.kind == partLit && out[n-1].kind == partLit {
			out[n-1].lit += p.lit
			continue
		}
		out = append(out, p)
	}
	return out
}

func compilePart(expr string) (part, error) {
	f := strings.Fields(expr)
	if len(f) == 0 {
		return part{}, fmt.Errorf("empty {{}}")
	}
	if name, ok := strings.CutPrefix(f[0], "."); ok {
		if len(f) != 1 || !varName(name) {
			return part{}, fmt.Errorf("{{%s}}: want {{.name}}, a data column or extracted variable (letters, digits, _)", expr)
		}
		return part{kind: partVar, lit: name, slot: -1}, nil
	}
	switch f[0] {
	case "vu":
		if len(f) == 1 {
			return part{kind: partVU}, nil
		}
	case "iter":
		if len(f) == 1 {
			return part{kind: partIter}, nil
		}
	case "uuid":
		if len(f) == 1 {
			return part{kind: partUUID}, nil
		}
	case "rand":
		if len(f) != 3 {
			return part{}, fmt.Errorf("{{%s}}: want {{rand A B}}", expr)
		}
		lo, err1 := strconv.ParseInt(f[1], 10, 64)
		hi, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || hi < lo {
			return part{}, fmt.Errorf("{{%s}}: A and B must be integers with A <= B", expr)
		}
		return part{kind: partRand, lo: lo, hi: hi}, nil
	case "env":
		if len(f) == 2 {
			name, err := strconv.Unquote(f[1])
			if err != nil || name == "" {
				return part{}, fmt.Errorf("{{%s}}: want {{env \"NAME\"}}", expr)
			}
			v, ok := os.LookupEnv(name)
			if !ok {
				return part{}, fmt.Errorf("{{%s}}: environment variable %s is not set", expr, name)
			}
			noteEnvSecret(v)
			return part{kind: partLit, lit: v}, nil
		}
		return part{}, fmt.Errorf("{{%s}}: want {{env \"NAME\"}}", expr)
	default:
		return part{}, fmt.Errorf("unknown placeholder {{%s}} (want vu, iter, rand A B, uuid, env \"NAME\" or .name)", expr)
	}
	return part{}, fmt.Errorf("{{%s}} takes no arguments", expr)
}

// varName is a variable's name: a letter or _, then letters, digits, _.
func varName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Vars lists the variables ({{.name}}) the template refers to, in order of
// first use.
func (t *Template) Vars() []string {
	if t == nil {
		return nil
	}
	var names []string
	for _, p := range t.parts {
		if p.kind == partVar && !slices.Contains(names, p.lit) {
			names = append(names, p.lit)
		}
	}
	return names
}

// varOffset is the byte of the source where the first {{.name}} starts.
func (t *Template) varOffset(name string) int {
	for _, p := range t.parts {
		if p.kind == partVar && p.lit == name {
			return p.off
		}
	}
	return 0
}

// Bind resolves each {{.name}} to its slot in TemplateContext.Vars; an
// unknown name is an error that suggests the nearest known one. The
// template must not be rendering meanwhile (binding is part of loading).
func (t *Template) Bind(slots []string) error {
	if t == nil {
		return nil
	}
	for i := range t.parts {
		p := &t.parts[i]
		if p.kind != partVar {
			continue
		}
		p.slot = slices.Index(slots, p.lit)
		if p.slot < 0 {
			if len(slots) == 0 {
				return &VarError{Offset: p.off, msg: fmt.Sprintf("{{.%s}}: the group has no variables (set them with data: or extract:)", p.lit)}
			}
			return &VarError{Offset: p.off, msg: fmt.Sprintf("{{.%s}}: no data column or extract: names it%s", p.lit, choices(p.lit, slots))}
		}
	}
	return nil
}

// VarError is a placeholder that does not work: a {{.name}} that names no
// variable, or one that does not compile (an unknown function, {{env}} of
// an unset variable, an unclosed {{). Offset is the byte of the
// template's source where its placeholder starts, so a load error points
// at it rather than at the start of the text.
type VarError struct {
	Offset int
	msg    string
}

func (e *VarError) Error() string { return e.msg }

// Slots lists the bound slots the template reads, in order of first use,
// so a caller can check each has a value before rendering.
func (t *Template) Slots() []int {
	if t == nil {
		return nil
	}
	var out []int
	for _, p := range t.parts {
		if p.kind == partVar && p.slot >= 0 && !slices.Contains(out, p.slot) {
			out = append(out, p.slot)
		}
	}
	return out
}

// MustTemplate compiles src or panics; for literals in code and tests.
func MustTemplate(src string) *Template {
	t, err := CompileTemplate(src)
	if err != nil {
		panic(err)
	}
	return t
}

// Source is the text as written (with placeholders, never env values).
func (t *Template) Source() string {
	if t == nil {
		return ""
	}
	return t.src
}

// Static reports whether the template renders the same bytes every time,
// so callers may render it once.
func (t *Template) Static() bool { return t == nil || t.static }

// Secret reports whether the rendered value contains an env value and must
// not be logged.
func (t *Template) Secret() bool { return t != nil && t.secret }

const hexDigits = "0123456789abcdef"

// Append renders the template onto dst. It allocates nothing beyond dst's
// growth. c may be nil (VU and iteration render as 0, random values come
// from the shared generator); a VU passes its own context to avoid sharing.
func (t *Template) Append(dst []byte, c *TemplateContext) []byte {
	if t == nil {
		return dst
	}
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case partLit:
			dst = append(dst, p.lit...)
		case partVU:
			dst = strconv.AppendInt(dst, int64(c.vu()), 10)
		case partVar:
			if c != nil && p.slot >= 0 && p.slot < len(c.Vars) {
				dst = append(dst, c.Vars[p.slot]...)
			}
		case partIter:
			dst = strconv.AppendInt(dst, c.iter(), 10)
		case partRand:
			// The span in uint64: hi-lo+1 overflows int64 for wide ranges
			// (and is 0 for the full int64 range).
			n := p.lo
			if span := uint64(p.hi-p.lo) + 1; span == 0 {
				n = int64(c.uint64())
			} else if span > 1 {
				n += int64(c.uint64n(span))
			}
			dst = strconv.AppendInt(dst, n, 10)
		case partUUID:
			// RFC 4122 version 4 from the VU's own generator.
			a, b := c.uint64(), c.uint64()
			var u [16]byte
			for k := 0; k < 8; k++ {
				u[k] = byte(a >> (8 * k))
				u[8+k] = byte(b >> (8 * k))
			}
			u[6] = u[6]&0x0f | 0x40
			u[8] = u[8]&0x3f | 0x80
			for k, x := range u {
				if k == 4 || k == 6 || k == 8 || k == 10 {
					dst = append(dst, '-')
				}
				dst = append(dst, hexDigits[x>>4], hexDigits[x&0x0f])
			}
		}
	}
	return dst
}

// String is the source text, never the rendered value: a template with
// {{env}} may hold a secret, and String is what logs and %v print.
func (t *Template) String() string { return t.Source() }

// Render renders into a new string; for tests and one-off use, not the hot
// path (use Append with a reused buffer there).
func (t *Template) Render(c *TemplateContext) string { return string(t.Append(nil, c)) }

func (c *TemplateContext) vu() int {
	if c == nil {
		return 0
	}
	return c.VU
}

func (c *TemplateContext) iter() int64 {
	if c == nil {
		return 0
	}
	return c.Iter
}

// uint64 and uint64n use the VU's generator when it has one, else the
// runtime's per-thread one (safe and lock-free, but not reproducible).
func (c *TemplateContext) uint64() uint64 {
	if c == nil || c.Rand == nil {
		return rand.Uint64()
	}
	return c.Rand.Uint64()
}

func (c *TemplateContext) uint64n(n uint64) uint64 {
	if c == nil || c.Rand == nil {
		return rand.Uint64N(n)
	}
	return c.Rand.Uint64N(n)
}

// MarshalJSON writes the source text, so reports never carry env values.
func (t *Template) MarshalJSON() ([]byte, error) { return json.Marshal(t.Source()) }

// UnmarshalJSON recompiles from source text (reading a saved report).
func (t *Template) UnmarshalJSON(b []byte) error {
	return recompile(b, t, func(s string) (*Template, error) {
		c, err := CompileTemplate(s)
		if err != nil {
			// A saved report may refer to env vars that are not set now:
			// keep the source, render placeholders literally.
			return &Template{src: s, parts: []part{{kind: partLit, lit: s}}, static: true}, nil
		}
		return c, nil
	})
}
