package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// checker is a request's check compiled once at New: needles as bytes,
// header names canonical, and one name per check for the failures table,
// so judging a response allocates nothing.
type checker struct {
	c           *scenarios.Check
	contains    []byte
	notContains []byte
	headers     []hdrCheck
	json        []jsonCheck
	maxDur      time.Duration
	// names[i-1] names check i in failure rows ("status", "header
	// X-Id", "body_contains", …); the ids below index it.
	names                                                   []string
	bodyID, notBodyID, maxDurID, firstHeaderID, firstJSONID uint8
}

// jsonCheck is one json check with its wanted value sorted by JSON type.
type jsonCheck struct {
	path *scenarios.JSONPath
	typ  gjson.Type // Null, False, True, Number or String
	num  float64
	str  string
	want string // the wanted value as JSON, for messages
}

type hdrCheck struct {
	name   string // canonical (Content-Type)
	want   []byte // nil: presence only
	absent bool
}

// statusCheck is the id of the status check: every checker has one.
const statusCheck = 1

// newChecker compiles c; nil when the request has no check. New refuses
// more entries than MaxChecksEach, so each id fits its byte.
func newChecker(c *scenarios.Check) *checker {
	if c == nil {
		return nil
	}
	k := &checker{c: c, names: []string{"status"}, maxDur: c.MaxDuration}
	add := func(name string) uint8 {
		k.names = append(k.names, name)
		return uint8(len(k.names))
	}
	for i, h := range c.Header {
		hc := hdrCheck{name: http.CanonicalHeaderKey(h.Name), absent: h.Absent}
		if h.Value != nil {
			hc.want = []byte(*h.Value)
		}
		id := add("header " + hc.name)
		if i == 0 {
			k.firstHeaderID = id
		}
		k.headers = append(k.headers, hc)
	}
	if c.BodyContains != "" {
		k.contains = []byte(c.BodyContains)
		k.bodyID = add("body_contains")
	}
	if c.BodyNotContains != "" {
		k.notContains = []byte(c.BodyNotContains)
		k.notBodyID = add("body_not_contains")
	}
	for i, j := range c.JSON {
		jc := jsonCheck{path: j.Path, typ: gjson.Null}
		switch w := j.Value.(type) {
		case bool:
			jc.typ = gjson.False
			if w {
				jc.typ = gjson.True
			}
		case float64:
			jc.typ, jc.num = gjson.Number, w
		case string:
			jc.typ, jc.str = gjson.String, w
		case int: // a check built in code; Validate turns it into a float64
			jc.typ, jc.num = gjson.Number, float64(w)
		}
		want, _ := json.Marshal(j.Value)
		jc.want = string(want)
		id := add("json " + j.Path.String())
		if i == 0 {
			k.firstJSONID = id
		}
		k.json = append(k.json, jc)
	}
	if c.MaxDuration > 0 {
		k.maxDurID = add("max_duration")
	}
	return k
}

// needsBody is whether judging reads the body: only then is it held.
func (k *checker) needsBody() bool {
	return k != nil && (k.contains != nil || k.notContains != nil || len(k.json) > 0)
}

// name is check id's name for the failures table ("" for none).
func (k *checker) name(id uint8) string {
	if k == nil || id == 0 || int(id) > len(k.names) {
		return ""
	}
	return k.names[id-1]
}

// respHeaders reads a response's headers from whichever client got it.
type respHeaders struct {
	fast *fasthttp.ResponseHeader
	std  http.Header
}

// each calls f on the header's values until f returns true (fasthttp's
// are views into the response, valid until the next request); found is
// whether the header is there at all.
func (h respHeaders) each(name string, f func(v []byte) bool) (found bool) {
	if h.fast != nil {
		for _, v := range h.fast.PeekAll(name) {
			found = true
			if f(v) {
				return true
			}
		}
		return found
	}
	for _, v := range h.std[name] {
		found = true
		if f([]byte(v)) {
			return true
		}
	}
	return found
}

// judge classifies a response by status and the request's check. A failed
// check leaves its id in v.failCheck and what was found in v.failDetail
// (for the failure's message).
func (v *vu) judge(ep *endpoint, status int, body []byte, hdr respHeaders) (kind, checkResult) {
	statusKind := kindNone
	switch {
	case status >= 500:
		statusKind = kind5xx
	case status >= 400:
		statusKind = kind4xx
	}
	k := ep.chk
	if k == nil {
		return statusKind, checkNone
	}
	fail := func(id uint8, detail []byte) (kind, checkResult) {
		v.failCheck, v.failDetail = id, detail
		if statusKind != kindNone && id == statusCheck {
			return statusKind, checkFail
		}
		return kindCheck, checkFail
	}
	if !k.c.StatusOK(status) {
		return fail(statusCheck, nil)
	}
	for i := range k.headers {
		hc := &k.headers[i]
		id := k.firstHeaderID + uint8(i)
		var got []byte
		match := false
		found := hdr.each(hc.name, func(val []byte) bool {
			if got == nil {
				got = val
			}
			match = hc.want == nil || bytes.Equal(val, hc.want)
			return match
		})
		switch {
		case hc.absent && found:
			return fail(id, got)
		case hc.absent:
		case !found:
			return fail(id, nil)
		case !match:
			return fail(id, got)
		}
	}
	if k.contains != nil && !bytes.Contains(body, k.contains) {
		return fail(k.bodyID, nil)
	}
	if k.notContains != nil && bytes.Contains(body, k.notContains) {
		return fail(k.notBodyID, nil)
	}
	for i := range k.json {
		jc := &k.json[i]
		r := jc.path.Lookup(body)
		if !jc.matches(r) {
			var got []byte
			if r.Exists() {
				v.detailBuf = append(v.detailBuf[:0], r.Raw...)
				got = v.detailBuf
			}
			return fail(k.firstJSONID+uint8(i), got)
		}
	}
	return kindNone, checkPass
}

// matches is whether a looked-up value is the wanted one.
func (jc *jsonCheck) matches(r gjson.Result) bool {
	if !r.Exists() || r.Type != jc.typ {
		return false
	}
	switch jc.typ {
	case gjson.Number:
		return r.Num == jc.num
	case gjson.String:
		return r.Str == jc.str
	}
	return true
}

// judgeDuration fails a response that passed its other checks but took
// longer than max_duration (svc: its own time).
func (v *vu) judgeDuration(ep *endpoint, svc time.Duration, k kind, chk checkResult) (kind, checkResult) {
	c := ep.chk
	if c == nil || c.maxDur <= 0 || k != kindNone || svc <= c.maxDur {
		return k, chk
	}
	v.failCheck = c.maxDurID
	v.detailBuf = strconv.AppendInt(v.detailBuf[:0], int64(svc), 10)
	v.failDetail = v.detailBuf
	return kindCheck, checkFail
}

// checkText says which check failed and what was found instead.
func checkText(ep *endpoint, status int, id uint8, got string) string {
	k := ep.chk
	if k == nil {
		return "check failed"
	}
	switch {
	case id == statusCheck || id == 0:
		return fmt.Sprintf("check: status %d, want %s", status, k.c.WantStatus())
	case id == k.bodyID:
		return fmt.Sprintf("check: body does not contain %q", k.c.BodyContains)
	case id == k.notBodyID:
		return fmt.Sprintf("check: body contains %q", k.c.BodyNotContains)
	case k.firstJSONID != 0 && id >= k.firstJSONID && int(id-k.firstJSONID) < len(k.json):
		jc := k.json[id-k.firstJSONID]
		if got == "" {
			return fmt.Sprintf("check: json %s not found, want %s", jc.path, jc.want)
		}
		return fmt.Sprintf("check: json %s is %s, want %s", jc.path, got, jc.want)
	case id == k.maxDurID:
		d, _ := strconv.ParseInt(got, 10, 64)
		return fmt.Sprintf("check: took %s, over max_duration %s", time.Duration(d).Round(time.Microsecond), k.maxDur)
	case k.firstHeaderID != 0 && id >= k.firstHeaderID && int(id-k.firstHeaderID) < len(k.headers):
		hc := k.headers[id-k.firstHeaderID]
		switch {
		case hc.absent:
			return fmt.Sprintf("check: header %s is present (%q), want it absent", hc.name, got)
		case got == "" && hc.want == nil:
			return fmt.Sprintf("check: header %s is missing", hc.name)
		case got == "":
			return fmt.Sprintf("check: header %s is missing or empty, want %q", hc.name, hc.want)
		}
		return fmt.Sprintf("check: header %s is %q, want %q", hc.name, got, hc.want)
	}
	return "check failed: " + k.name(id)
}
