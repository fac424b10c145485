package scenarios

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func newCtx(vu int, iter int64) *TemplateContext {
	return &TemplateContext{VU: vu, Iter: iter, Rand: rand.New(rand.NewPCG(1, 2))}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestTemplateRender(t *testing.T) {
	t.Setenv("BRINK_TPL_TOKEN", "tok-123")
	tests := []struct {
		src            string
		want           *regexp.Regexp
		static, secret bool
	}{
		{"", regexp.MustCompile(`^$`), true, false},
		{"/api/rooms", regexp.MustCompile(`^/api/rooms$`), true, false},
		{"/u/{{vu}}/i/{{iter}}", regexp.MustCompile(`^/u/7/i/3$`), false, false},
		{"{{ vu }}{{iter}}", regexp.MustCompile(`^73$`), false, false},
		{"/rooms/{{rand 1 50}}/m", regexp.MustCompile(`^/rooms/([1-9]|[1-4][0-9]|50)/m$`), false, false},
		{"{{rand -3 -3}}", regexp.MustCompile(`^-3$`), false, false},
		{"id={{uuid}}", regexp.MustCompile(`^id=[0-9a-f-]{36}$`), false, false},
		{`Bearer {{env "BRINK_TPL_TOKEN"}}`, regexp.MustCompile(`^Bearer tok-123$`), true, true},
		{`{{env "BRINK_TPL_TOKEN"}}/{{vu}}`, regexp.MustCompile(`^tok-123/7$`), false, true},
		{`{"a":1}`, regexp.MustCompile(`^\{"a":1\}$`), true, false},
		{"a{{{vu}}}b", regexp.MustCompile(`^a\{7\}b$`), false, false},
		{"{{{{iter}}}}", regexp.MustCompile(`^\{\{3\}\}$`), false, false},
		{"single { brace }", regexp.MustCompile(`^single \{ brace \}$`), true, false},
	}
	for _, tc := range tests {
		tpl, err := CompileTemplate(tc.src)
		if err != nil {
			t.Errorf("CompileTemplate(%q): %v", tc.src, err)
			continue
		}
		for range 20 {
			if got := tpl.Render(newCtx(7, 3)); !tc.want.MatchString(got) {
				t.Errorf("%q rendered %q, want %s", tc.src, got, tc.want)
				break
			}
		}
		if tpl.Static() != tc.static || tpl.Secret() != tc.secret {
			t.Errorf("%q: static %v secret %v, want %v %v", tc.src, tpl.Static(), tpl.Secret(), tc.static, tc.secret)
		}
		if tpl.Source() != tc.src || tpl.String() != tc.src {
			t.Errorf("%q: Source %q String %q", tc.src, tpl.Source(), tpl.String())
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ src, err string }{
		{"/x/{{vu", `unclosed {{ in "/x/{{vu"`},
		{"{{}}", "empty {{}}"},
		{"{{  }}", "empty {{}}"},
		{"{{rnd 1 2}}", `unknown placeholder {{rnd 1 2}} (want vu, iter, rand A B, uuid, env "NAME" or .name)`},
		{"{{rand 1}}", "{{rand 1}}: want {{rand A B}}"},
		{"{{rand a b}}", "{{rand a b}}: A and B must be integers with A <= B"},
		{"{{rand 5 1}}", "A and B must be integers with A <= B"},
		{"{{vu 1}}", "{{vu 1}} takes no arguments"},
		{"{{uuid v4}}", "{{uuid v4}} takes no arguments"},
		{"{{env NAME}}", `{{env NAME}}: want {{env "NAME"}}`},
		{`{{env ""}}`, `want {{env "NAME"}}`},
		{`{{env "BRINK_TPL_SURELY_UNSET"}}`, "environment variable BRINK_TPL_SURELY_UNSET is not set"},
	}
	for _, tc := range tests {
		_, err := CompileTemplate(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("CompileTemplate(%q) error = %v, want %q", tc.src, err, tc.err)
		}
	}
}

func TestTemplateRandBounds(t *testing.T) {
	// Wide ranges overflowed hi-lo+1 in int64 and always rendered lo.
	for _, tc := range []struct{ lo, hi int64 }{
		{math.MinInt64, math.MaxInt64},
		{-9e18, 9e18},
		{0, math.MaxInt64},
		{1, 2},
	} {
		tpl := MustTemplate("{{rand " + strconv.FormatInt(tc.lo, 10) + " " + strconv.FormatInt(tc.hi, 10) + "}}")
		c := newCtx(0, 0)
		seen := map[int64]bool{}
		for range 64 {
			n, err := strconv.ParseInt(tpl.Render(c), 10, 64)
			if err != nil || n < tc.lo || n > tc.hi {
				t.Fatalf("rand %d %d rendered %d (%v)", tc.lo, tc.hi, n, err)
			}
			seen[n] = true
		}
		if len(seen) < 2 {
			t.Errorf("rand %d %d: always %v", tc.lo, tc.hi, seen)
		}
	}
}

func TestTemplateUUID(t *testing.T) {
	tpl := MustTemplate("{{uuid}}")
	c := newCtx(1, 1)
	seen := map[string]bool{}
	for range 100 {
		u := tpl.Render(c)
		if !uuidRE.MatchString(u) {
			t.Fatalf("%q is not a version 4 UUID", u)
		}
		seen[u] = true
	}
	if len(seen) != 100 {
		t.Errorf("only %d distinct UUIDs of 100", len(seen))
	}
}

func TestTemplateNilContext(t *testing.T) {
	tpl := MustTemplate("{{vu}}-{{iter}}-{{rand 5 5}}-{{uuid}}")
	got := tpl.Render(nil)
	if !strings.HasPrefix(got, "0-0-5-") || !uuidRE.MatchString(got[6:]) {
		t.Errorf("nil context rendered %q", got)
	}
	got = tpl.Render(&TemplateContext{VU: 2})
	if !strings.HasPrefix(got, "2-0-5-") {
		t.Errorf("nil Rand rendered %q", got)
	}
	var none *Template
	if none.Render(nil) != "" || !none.Static() || none.Secret() || none.Source() != "" {
		t.Error("nil template is not empty")
	}
}

func TestTemplateJSONNeverHoldsEnv(t *testing.T) {
	t.Setenv("BRINK_TPL_SECRET", "hunter2")
	r := Request{Name: "login", Method: "POST",
		URL:     MustTemplate("http://h/login"),
		Headers: []Header{{Name: "Authorization", Value: MustTemplate(`Bearer {{env "BRINK_TPL_SECRET"}}`)}},
		Body:    MustTemplate(`{"password":"{{env "BRINK_TPL_SECRET"}}","u":{{vu}}}`),
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") {
		t.Fatalf("env value in JSON: %s", b)
	}
	var back Request
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Body.Source() != r.Body.Source() || back.Body.Render(newCtx(4, 0)) != `{"password":"hunter2","u":4}` {
		t.Errorf("round trip: %q", back.Body.Render(newCtx(4, 0)))
	}
	// Reading a report where the variable is unset keeps the text as is.
	t.Setenv("BRINK_TPL_SECRET", "")
	if err := json.Unmarshal([]byte(`"{{env \"BRINK_TPL_NOT_SET_HERE\"}}"`), back.Body); err != nil {
		t.Fatal(err)
	}
	if got := back.Body.Render(nil); got != `{{env "BRINK_TPL_NOT_SET_HERE"}}` {
		t.Errorf("unset env on read rendered %q", got)
	}
	var null struct{ T *Template }
	if err := json.Unmarshal([]byte(`{"T":null}`), &null); err != nil || null.T != nil {
		t.Errorf("null: %v %v", err, null.T)
	}
}

func TestTemplateAppendAllocs(t *testing.T) {
	tpl := MustTemplate("http://127.0.0.1:8080/rooms/{{rand 1 50}}/m?vu={{vu}}&i={{iter}}&id={{uuid}}")
	c := newCtx(3, 9)
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		buf = tpl.Append(buf[:0], c)
		c.Iter++
	})
	if allocs != 0 {
		t.Errorf("Append allocates %v times per call", allocs)
	}
}

func BenchmarkTemplateAppend(b *testing.B) {
	tpl := MustTemplate("http://127.0.0.1:8080/rooms/{{rand 1 50}}/messages?vu={{vu}}&i={{iter}}")
	c := newCtx(3, 9)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = tpl.Append(buf[:0], c)
		c.Iter++
	}
}
