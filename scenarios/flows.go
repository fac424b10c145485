package scenarios

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// Flows: a group's per-VU variables. Validate gives each variable a slot
// (data columns first, then extracted names, in the order written) and
// binds every {{.name}} in the group's templates to its slot, so an
// unknown name is a load-time error at the template and the engine only
// indexes a slice.

// flows validates a group's setup, data and variables; it runs after the
// group's requests and websocket are validated (their urls resolved).
func (v *validator) flows(g *Group, f string) {
	var slots []string
	if d := g.Data; d != nil {
		df := f + ".data"
		if d.Mode == "" {
			d.Mode = DataPerVU
		}
		if !slices.Contains(dataModes, d.Mode) {
			names := make([]string, len(dataModes))
			for i, m := range dataModes {
				names[i] = string(m)
			}
			v.add(df+".mode", "unknown mode %q%s", d.Mode, choices(string(d.Mode), names))
		}
		switch {
		case d.File == "":
			v.add(df+".file", "missing file (a CSV with a header row, or a JSON array of objects)")
		case d.Table == nil:
			if err := LoadData(d); err != nil {
				v.add(df+".file", "%s", err)
			}
		}
		if d.Table != nil {
			slots = append(slots, d.Table.Columns...)
			for i, c := range d.Secret {
				if !slices.Contains(d.Table.Columns, c) {
					v.add(index(df+".secret", i), "%s is not a column of the data file%s", c, choices(c, d.Table.Columns))
				}
			}
		}
	}
	columns := len(slots)
	for _, rs := range g.requestLists() {
		for j := range rs.reqs {
			for k := range rs.reqs[j].Extract {
				x := &rs.reqs[j].Extract[k]
				xf := index(f+"."+rs.key, j) + ".extract." + x.Name
				if i := slices.Index(slots, x.Name); i >= 0 && i < columns {
					v.add(xf, "%s is a column of the data file; name the extracted value otherwise", x.Name)
					continue
				}
				if !slices.Contains(slots, x.Name) {
					slots = append(slots, x.Name)
				}
				x.Slot = slices.Index(slots, x.Name)
			}
		}
	}
	g.Vars = slots
	for _, rs := range g.requestLists() {
		for j := range rs.reqs {
			r := &rs.reqs[j]
			rf := index(f+"."+rs.key, j)
			v.bind(r.URL, rf+".url", slots)
			v.bindHeaders(r.Headers, rf+".headers", slots)
			v.bind(r.Body, rf+".body", slots)
		}
	}
	if ws := g.WebSocket; ws != nil {
		wf := f + ".websocket"
		v.bind(ws.URL, wf+".url", slots)
		v.bindHeaders(ws.Headers, wf+".headers", slots)
		v.bind(ws.Send, wf+".send", slots)
		v.bind(ws.ReplyContains, wf+".reply_contains", slots)
	}
	v.usedBeforeExtract(g, f, slots[:columns], slots)
}

// usedBeforeExtract makes a {{.name}} that no earlier setup request or
// request of the iteration extracts (and no data column names) a load-time
// error: the first iteration would fail it as extract. With pick:
// weighted any request may run first, and a websocket sees only setup's
// variables (its VU half has its own), so there a variable must come from
// setup or data.
func (v *validator) usedBeforeExtract(g *Group, f string, columns, slots []string) {
	have := slices.Clone(columns)
	check := func(t *Template, tf, why string) {
		for _, name := range t.Vars() {
			if slices.Contains(have, name) || !slices.Contains(slots, name) {
				continue // set by now, or unknown (bind said so)
			}
			by, at := extractor(g, f, name)
			msg := fmt.Sprintf("{{.%s}} is used before it is extracted", name)
			if by != "" {
				msg += fmt.Sprintf(" (by '%s')", by)
			}
			e := &Error{Field: tf, Msg: msg + why, ref: at}
			v.errs = append(v.errs, e)
			inText(e, t, t.varOffset(name))
		}
	}
	checkReq := func(r *Request, rf, why string) {
		check(r.URL, rf+".url", why)
		for _, h := range r.Headers {
			check(h.Value, rf+".headers."+h.Name, why)
		}
		check(r.Body, rf+".body", why)
	}
	extracted := func(r *Request) {
		for _, x := range r.Extract {
			have = append(have, x.Name)
		}
	}
	for j := range g.Setup {
		checkReq(&g.Setup[j], index(f+".setup", j), "")
		extracted(&g.Setup[j])
	}
	fromSetup := slices.Clone(have)
	weighted := g.Pick == PickWeighted
	for j := range g.Requests {
		why := ""
		if weighted {
			why = "; with pick: weighted any request may run first: extract it in setup"
		}
		checkReq(&g.Requests[j], index(f+".requests", j), why)
		if !weighted {
			extracted(&g.Requests[j])
		}
	}
	if ws := g.WebSocket; ws != nil {
		have = fromSetup
		wf := f + ".websocket"
		why := "; a websocket sees only setup's and data's variables"
		check(ws.URL, wf+".url", why)
		for _, h := range ws.Headers {
			check(h.Value, wf+".headers."+h.Name, why)
		}
		check(ws.Send, wf+".send", why)
		check(ws.ReplyContains, wf+".reply_contains", why)
	}
}

// requestList is one of a group's lists of requests and its key in the
// file.
type requestList struct {
	key  string
	reqs []Request
}

// requestLists are a group's requests in the order a VU runs them: setup
// once, then the iteration's requests.
func (g *Group) requestLists() []requestList {
	return []requestList{{"setup", g.Setup}, {"requests", g.Requests}}
}

// extractor names the first request of g that extracts name, and its field.
func extractor(g *Group, f, name string) (by, field string) {
	for _, rs := range g.requestLists() {
		for j := range rs.reqs {
			for _, x := range rs.reqs[j].Extract {
				if x.Name == name {
					return rs.reqs[j].Name, index(f+"."+rs.key, j)
				}
			}
		}
	}
	return "", ""
}

func (v *validator) bind(t *Template, f string, slots []string) {
	err := t.Bind(slots)
	if err == nil {
		return
	}
	v.add(f, "%s", err)
	if ve, ok := err.(*VarError); ok {
		inText(v.errs[len(v.errs)-1], t, ve.Offset)
	}
}

// inText points e at byte off of t's source (where a variable's
// placeholder starts) rather than at the start of the text. Counted from
// the end: a url's source here has its base_url before the text as
// written.
func inText(e *Error, t *Template, off int) {
	e.inText, e.textTail = true, utf8.RuneCountInString(t.Source()[off:])
}

func (v *validator) bindHeaders(hs []Header, f string, slots []string) {
	for _, h := range hs {
		v.bind(h.Value, f+"."+h.Name, slots)
	}
}

// BindFlows gives a group's variables their slots and binds its templates
// to them, as Validate does, loading its data file if it is not loaded. It
// is for a scenario read back from JSON (a fleet agent's), which carries
// neither slots nor the data file's rows; it does nothing to a group that
// uses no variables or is already bound.
func BindFlows(g *Group) error {
	if g.Vars != nil || !usesVars(g) {
		return nil
	}
	v := &validator{}
	v.flows(g, "group "+g.Name)
	if len(v.errs) > 0 {
		return v.errs[0]
	}
	return nil
}

// usesVars reports whether anything in g sets or reads a variable.
func usesVars(g *Group) bool {
	if g.Data != nil {
		return true
	}
	var ts []*Template
	for _, rs := range g.requestLists() {
		for i := range rs.reqs {
			r := &rs.reqs[i]
			if len(r.Extract) > 0 {
				return true
			}
			ts = append(ts, r.URL, r.Body)
			for _, h := range r.Headers {
				ts = append(ts, h.Value)
			}
		}
	}
	if ws := g.WebSocket; ws != nil {
		ts = append(ts, ws.URL, ws.Send, ws.ReplyContains)
		for _, h := range ws.Headers {
			ts = append(ts, h.Value)
		}
	}
	for _, t := range ts {
		if len(t.Vars()) > 0 {
			return true
		}
	}
	return false
}
