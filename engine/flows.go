package engine

// User flows: a VU's variables (its data row and what it extracted), its
// setup requests, and extraction from responses. A VU's variables are a
// []string indexed by slot (scenarios.Group.Vars), so rendering {{.name}}
// appends a string and a request that extracts nothing pays nothing.

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// extractor is one extract: of a request, ready to run.
type extractor struct {
	slot   int
	name   string
	json   *scenarios.JSONPath
	header string
	re     *regexp.Regexp
}

// dataFeed is a group's data file at run time: the rows (shared, never
// copied) and, for round-robin, the next row to hand out.
type dataFeed struct {
	table *scenarios.DataTable
	mode  scenarios.DataMode
	next  atomic.Uint64
}

// flows prepares an endpoint's extractors and the variables it needs.
func (ep *endpoint) flows(r *scenarios.Request) error {
	for _, t := range []*scenarios.Template{r.URL, r.Body} {
		ep.addNeeds(t)
	}
	for i := range r.Headers {
		ep.addNeeds(r.Headers[i].Value)
	}
	for _, x := range r.Extract {
		ex := extractor{slot: x.Slot, name: x.Name, json: x.JSON, header: x.Header}
		if x.Regex != "" {
			re, err := regexp.Compile(x.Regex)
			if err != nil {
				return fmt.Errorf("extract %s: %w", x.Name, err)
			}
			ex.re = re
		}
		if ex.json != nil || ex.re != nil {
			ep.needBody = true
		}
		ep.extracts = append(ep.extracts, ex)
	}
	return nil
}

func (ep *endpoint) addNeeds(t *scenarios.Template) {
	for _, s := range t.Slots() {
		if !containsInt(ep.needs, s) {
			ep.needs = append(ep.needs, s)
		}
	}
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// newDataFeed is g's data file at run time, loading it when the scenario
// was built in code (Parse has loaded it already).
func newDataFeed(gc *scenarios.Group) (*dataFeed, error) {
	// A scenario from JSON (a fleet agent's) has its variables unbound.
	if err := scenarios.BindFlows(gc); err != nil {
		return nil, err
	}
	if gc.Data == nil {
		return nil, nil
	}
	if gc.Data.Table == nil {
		if err := scenarios.LoadData(gc.Data); err != nil {
			return nil, err
		}
	}
	if len(gc.Data.Table.Rows) == 0 {
		return nil, fmt.Errorf("data %s has no rows", gc.Data.File)
	}
	return &dataFeed{table: gc.Data.Table, mode: gc.Data.Mode}, nil
}

// initVars gives the VU its variable slots and, in per-vu mode, its row.
func (v *vu) initVars() {
	n := len(v.g.cfg.Vars)
	if n == 0 {
		return
	}
	v.tctx.Vars = make([]string, n)
	v.have = make([]bool, n)
	if d := v.g.data; d != nil {
		// A VU's slot in its group picks its row: two VUs running at once
		// never share one (while rows last), and a slot reused after a
		// ramp-down logs in as the same user again.
		v.useRow(v.gslot % len(d.table.Rows))
	}
}

// warnSharedRows says, once at the start, when a per-vu group may run more
// VUs than its data file has rows: VU slot n reads row n mod rows, so two
// VUs then log in as the same user.
func (e *Engine) warnSharedRows(g *group) {
	d := g.data
	if d == nil || d.mode != scenarios.DataPerVU {
		return
	}
	peak := g.sch.Start
	for _, st := range g.sch.Stages {
		peak = max(peak, st.Target)
	}
	if g.open {
		peak = float64(g.cfg.MaxVUs)
		if peak <= 0 {
			peak = float64(g.maxVUs)
		}
	}
	if rows := len(d.table.Rows); int(peak) > rows {
		e.opts.Logf("engine: group %q: up to %d VUs for %d rows of %s (data mode per-vu): VUs past row %d reuse rows from the first", g.cfg.Name, int(peak), rows, dataName(g.cfg.Data.File), rows)
	}
}

// nextRow moves a round-robin or random VU to its next row, at the start
// of an iteration.
func (v *vu) nextRow() {
	d := v.g.data
	if d == nil {
		return
	}
	switch d.mode {
	case scenarios.DataRoundRobin:
		v.useRow(int((d.next.Add(1) - 1) % uint64(len(d.table.Rows))))
	case scenarios.DataRandom:
		v.useRow(v.tctx.Rand.IntN(len(d.table.Rows)))
	}
}

func (v *vu) useRow(i int) {
	row := v.g.data.table.Rows[i]
	for c := range v.g.data.table.Columns {
		if c < len(row) {
			v.tctx.Vars[c] = row[c]
			v.have[c] = true
		}
	}
}

// Backoff between a VU's tries of a failed setup: a broken login is not
// hammered in a tight loop when the group has no think time.
const (
	setupBackoffMin = time.Second
	setupBackoffMax = 30 * time.Second
)

// runSetup runs the group's setup requests, when the VU starts. If one
// fails, the VU runs them again before an iteration once its backoff has
// passed (1s doubling to 30s, reset on success, never past the run's
// planned end): a login refused while the target was starting is tried
// again, a broken one is not hammered.
func (v *vu) runSetup() {
	v.setupDone = true
	for _, ep := range v.g.setupEps {
		if v.e.vuCtx.Err() != nil {
			return
		}
		if k, _ := v.do(ep, time.Time{}); k != kindNone {
			v.setupDone = false
		}
	}
	if v.setupDone {
		v.setupBackoff = 0
		return
	}
	d := max(v.setupBackoff, setupBackoffMin)
	v.setupBackoff = min(2*d, setupBackoffMax)
	// Never past the run's planned end (a hold moves it); at the end the
	// VU's leave or the cut ends the wait anyway.
	if left := v.e.Planned() - v.e.sinceStart(); left > 0 && left < d {
		d = left
	}
	v.setupAt = time.Now().Add(d)
}

// retrySetup runs a failed setup again when its backoff has passed.
func (v *vu) retrySetup() {
	if !time.Now().Before(v.setupAt) {
		v.runSetup()
	}
}

// waitSetup holds a closed VU whose setup failed until its next try is
// due. It returns false when the VU must leave (as think does).
func (v *vu) waitSetup() bool {
	if v.setupDone {
		return true
	}
	return v.pause(time.Until(v.setupAt))
}

// ready reports whether every variable ep needs has a value; if not, the
// request is not sent and fails as extract (never with an empty string).
func (v *vu) ready(ep *endpoint) bool {
	for _, s := range ep.needs {
		if !v.have[s] {
			v.failErr = &missingVarError{name: v.g.cfg.Vars[s]}
			return false
		}
	}
	return true
}

// extractAfter extracts from a response judged k: a failed response
// (status or check) sets nothing and unsets what it would have set, as
// its body is no login's answer.
func (v *vu) extractAfter(ep *endpoint, k kind, chk checkResult, body []byte, fr *fasthttp.Response, hr *http.Response) (kind, checkResult) {
	if k != kindNone {
		for i := range ep.extracts {
			v.have[ep.extracts[i].slot] = false
		}
		return k, chk
	}
	xk, xchk := v.extract(ep, body, fr, hr)
	if xk != kindNone {
		return xk, xchk
	}
	return k, chk
}

// extract runs ep's extractors on a response (a fasthttp one, or a
// net/http one), setting the VU's variables. A value not found unsets its
// variable, so later requests that need it are not sent with a stale or
// empty one, and fails the request as extract.
func (v *vu) extract(ep *endpoint, body []byte, fr *fasthttp.Response, hr *http.Response) (kind, checkResult) {
	k, chk := kindNone, checkNone
	for i := range ep.extracts {
		x := &ep.extracts[i]
		val, ok := "", false
		switch {
		case x.json != nil:
			if r := x.json.Lookup(body); r.Exists() && r.Type != gjson.Null {
				val, ok = strings.Clone(r.String()), true
			}
		case x.re != nil:
			if m := x.re.FindSubmatch(body); m != nil {
				val, ok = string(m[len(m)-1]), true
			}
		case fr != nil:
			if h := fr.Header.Peek(x.header); h != nil {
				val, ok = string(h), true
			}
		case hr != nil:
			if hs := hr.Header.Values(x.header); len(hs) > 0 {
				val, ok = hs[0], true
			}
		}
		v.tctx.Vars[x.slot], v.have[x.slot] = val, ok
		if !ok && k == kindNone {
			k, chk = kindExtract, checkFail
			v.failErr = &extractError{x: x}
		}
	}
	return k, chk
}

// secrets are the VU's values to hide from its failures' messages: those
// of its variables scenarios.Group.SecretVars names (extracted values,
// secret data columns), MinSecret bytes or more, and the group's literal
// credentials (scenarios.Group.LiteralSecrets).
func (v *vu) secrets() []string {
	out := slices.Clone(v.g.literalSecrets)
	for _, s := range v.g.secretVars {
		if v.have[s] && len(v.tctx.Vars[s]) >= scenarios.MinSecret {
			out = append(out, v.tctx.Vars[s])
		}
	}
	return out
}

// hideSecrets replaces in s the VU's secrets and every {{env}} value (a
// target may echo the key it refused).
func hideSecrets(s string, secrets []string) string {
	return redactSecrets(redactSecrets(s, secrets), scenarios.EnvSecrets())
}

// cutSecrets drops the start of any of them left at the end of s, a text
// cut at a length limit (cutPartialSecret).
func cutSecrets(s string, secrets []string) string {
	return cutPartialSecret(cutPartialSecret(s, secrets), scenarios.EnvSecrets())
}

// redactSecrets replaces each secret in s with the one placeholder brink
// uses everywhere (termtext.Redacted).
func redactSecrets(s string, secrets []string) string {
	for _, x := range secrets {
		s = strings.ReplaceAll(s, x, termtext.Redacted)
	}
	return s
}

// cutPartialSecret drops the end of s when it is the start (3 bytes or
// more) of a secret: a sample cut at a length limit must not keep the
// first part of a token.
func cutPartialSecret(s string, secrets []string) string {
	for _, x := range secrets {
		for n := min(len(x)-1, len(s)); n > 2; n-- {
			if strings.HasSuffix(s, x[:n]) {
				s = s[:len(s)-n]
				break
			}
		}
	}
	return s
}

// missingVarError is a request not sent: a variable it needs has no value.
type missingVarError struct{ name string }

func (e *missingVarError) Error() string {
	return "not sent: {{." + e.name + "}} has no value (its extract failed or has not run yet)"
}

// extractError is an extract that found nothing in the response.
type extractError struct{ x *extractor }

func (e *extractError) Error() string {
	switch {
	case e.x.json != nil:
		return "extract " + e.x.name + ": " + e.x.json.String() + " not in the response body"
	case e.x.re != nil:
		return "extract " + e.x.name + ": regex " + e.x.re.String() + " does not match the response body"
	}
	return "extract " + e.x.name + ": no " + e.x.header + " header in the response"
}

// dataName is a data file's name as a log line shows it.
func dataName(file string) string {
	return filepath.Base(strings.TrimPrefix(file, "example:"))
}
