package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

type metricKind uint8

const (
	trendMetric   metricKind = iota // durations: p(N), avg, med, min, max
	rateMetric                      // fractions of events: rate
	counterMetric                   // counts: count, rate (per second)
)

// thresholdMetrics are the k6 metric names brink measures and may hold
// thresholds on, with the kind that decides which aggregations apply.
var thresholdMetrics = map[string]metricKind{
	"http_req_duration":   trendMetric,
	"iteration_duration":  trendMetric,
	"ws_msg_latency":      trendMetric,
	"ws_connecting":       trendMetric,
	"ws_session_duration": trendMetric,
	"http_req_failed":     rateMetric,
	"ws_failed":           rateMetric,
	"checks":              rateMetric,
	"http_reqs":           counterMetric,
	"dropped_iterations":  counterMetric,
	"ws_sessions":         counterMetric,
	"ws_msgs_sent":        counterMetric,
	"ws_msgs_received":    counterMetric,
}

// wsTagKeys are the tag filters a WebSocket metric takes: the engine
// counts sessions and ws_failed per group, and the rest for the run only.
var wsTagKeys = map[string][]string{
	"ws_failed":   {"group"},
	"ws_sessions": {"group"},
}

// ThresholdMetrics lists the metric names thresholds may use, sorted.
func ThresholdMetrics() []string {
	return slices.Sorted(maps.Keys(thresholdMetrics))
}

// thresholdTagKeys are the tags the engine breaks results down by.
var thresholdTagKeys = []string{"name", "group"}

var aggsByKind = map[metricKind][]string{
	trendMetric:   {"p(N)", "avg", "med", "min", "max"},
	rateMetric:    {"rate"},
	counterMetric: {"count", "rate"},
}

// Target is the metric with its tag filter as written in k6 syntax, e.g.
// "http_req_duration{name:history}".
func (t Threshold) Target() string {
	if t.TagKey == "" {
		return t.Metric
	}
	return t.Metric + "{" + t.TagKey + ":" + t.TagValue + "}"
}

// String is "metric{tag:value}: expr", for summaries and logs.
func (t Threshold) String() string { return t.Target() + ": " + t.Expr }

// Holds reports whether an observed value satisfies the threshold. The
// observed value must be in the threshold's normalised unit (ms, fraction,
// plain number).
func (t Threshold) Holds(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Value
	case "<=":
		return v <= t.Value
	case ">":
		return v > t.Value
	case ">=":
		return v >= t.Value
	}
	return false
}

// ParseThreshold parses one k6 threshold: metric is a metric name with an
// optional tag filter ("http_req_duration{name:history}"), expr is
// "AGG OP VALUE[UNIT]" such as "p(95)<500", "avg<=1.5s", "rate<1%",
// "count>=100". Durations are normalised to milliseconds (a plain number is
// milliseconds, as in k6), rates to a fraction.
func ParseThreshold(metric, expr string) (Threshold, error) {
	t := Threshold{Expr: strings.TrimSpace(expr)}
	name, key, val, err := parseThresholdMetric(metric)
	if err != nil {
		return Threshold{}, err
	}
	t.Metric, t.TagKey, t.TagValue = name, key, val
	kind := thresholdMetrics[name]

	s := t.Expr
	if s == "" {
		return Threshold{}, fmt.Errorf("empty threshold (want e.g. %s)", exampleExpr(kind))
	}
	// Aggregation.
	switch {
	case strings.HasPrefix(s, "p("):
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return Threshold{}, fmt.Errorf("threshold %q: unclosed p(", expr)
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(s[2:end]), 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
			return Threshold{}, fmt.Errorf("threshold %q: percentile must be a number from 0 to 100", expr)
		}
		t.Agg, t.P = "p", p
		s = s[end+1:]
	default:
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		t.Agg = s[:i]
		s = s[i:]
		switch t.Agg {
		case "avg", "min", "max", "rate", "count":
		case "med":
			t.P = 50
		case "":
			return Threshold{}, fmt.Errorf("threshold %q: missing aggregation (want %s)", expr, strings.Join(aggsByKind[kind], ", "))
		default:
			hint := didYouMean(t.Agg, []string{"avg", "med", "min", "max", "rate", "count"})
			if len(t.Agg) > 1 && t.Agg[0] == 'p' && isDigits(t.Agg[1:]) {
				hint = fmt.Sprintf(" (did you mean p(%s)?)", t.Agg[1:])
			}
			return Threshold{}, fmt.Errorf("threshold %q: unknown aggregation %q%s", expr, t.Agg, hint)
		}
	}
	if !aggFits(kind, t.Agg) {
		return Threshold{}, fmt.Errorf("threshold %q: %s takes %s, not %s", expr, name, strings.Join(aggsByKind[kind], ", "), aggName(t.Agg))
	}
	// Operator.
	s = strings.TrimLeft(s, " \t")
	switch {
	case strings.HasPrefix(s, "<="), strings.HasPrefix(s, ">="):
		t.Op, s = s[:2], s[2:]
	case strings.HasPrefix(s, "=="), strings.HasPrefix(s, "!="):
		return Threshold{}, fmt.Errorf("threshold %q: operator %s is not supported (want <, <=, > or >=)", expr, s[:2])
	case strings.HasPrefix(s, "<"), strings.HasPrefix(s, ">"):
		t.Op, s = s[:1], s[1:]
	default:
		return Threshold{}, fmt.Errorf("threshold %q: missing operator after %s (want <, <=, > or >=)", expr, aggName(t.Agg))
	}
	// Value and unit.
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return Threshold{}, fmt.Errorf("threshold %q: missing number after %s", expr, t.Op)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.IsInf(v, 0) {
		return Threshold{}, fmt.Errorf("threshold %q: bad number %q", expr, s[:i])
	}
	unit := strings.TrimSpace(s[i:])
	switch kind {
	case trendMetric:
		switch unit {
		case "", "ms":
		case "us", "µs":
			v /= 1000
		case "s":
			v *= 1000
		case "m":
			v *= 60 * 1000
		default:
			return Threshold{}, fmt.Errorf("threshold %q: unit %q is not a duration unit (want ms or s; a plain number is ms)", expr, unit)
		}
	case rateMetric:
		switch unit {
		case "%":
			v /= 100
		case "":
		default:
			return Threshold{}, fmt.Errorf("threshold %q: a rate is a fraction (0.01) or a percentage (1%%), not %q", expr, unit)
		}
		if v > 1 {
			return Threshold{}, fmt.Errorf("threshold %q: a rate cannot exceed 1 (100%%)", expr)
		}
	case counterMetric:
		if unit != "" {
			return Threshold{}, fmt.Errorf("threshold %q: %s of %s is a plain number, not %q", expr, t.Agg, name, unit)
		}
	}
	t.Value = v
	return t, nil
}

func parseThresholdMetric(metric string) (name, key, val string, err error) {
	m := strings.TrimSpace(metric)
	name = m
	if i := strings.IndexByte(m, '{'); i >= 0 {
		name = strings.TrimSpace(m[:i])
		if !strings.HasSuffix(m, "}") {
			return "", "", "", fmt.Errorf("metric %q: unclosed tag filter (want e.g. %s{name:history})", metric, name)
		}
		filter := m[i+1 : len(m)-1]
		if strings.Contains(filter, ",") {
			return "", "", "", fmt.Errorf("metric %q: only one tag filter is supported", metric)
		}
		k, v, ok := strings.Cut(filter, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return "", "", "", fmt.Errorf("metric %q: tag filter must be {key:value}", metric)
		}
		if !slices.Contains(thresholdTagKeys, k) {
			return "", "", "", fmt.Errorf("metric %q: unknown tag %q%s", metric, k, choices(k, thresholdTagKeys))
		}
		key, val = k, v
	}
	if _, ok := thresholdMetrics[name]; !ok {
		hint := choices(name, ThresholdMetrics())
		if hint == "" { // more metrics than choices lists: name them all anyway
			all := ThresholdMetrics()
			hint = fmt.Sprintf(" (want %s or %s)", strings.Join(all[:len(all)-1], ", "), all[len(all)-1])
		}
		return "", "", "", fmt.Errorf("unknown metric %q%s", name, hint)
	}
	if key != "" && strings.HasPrefix(name, "ws_") && !slices.Contains(wsTagKeys[name], key) {
		// Accepted, it would never see data: a threshold that cannot fail.
		if len(wsTagKeys[name]) == 0 {
			return "", "", "", fmt.Errorf("metric %q: %s takes no tag filter (it is measured for the whole run)", metric, name)
		}
		return "", "", "", fmt.Errorf("metric %q: %s takes only a {group:…} filter", metric, name)
	}
	if name == "dropped_iterations" && key == "name" {
		// Arrivals are dropped before any request is chosen.
		return "", "", "", fmt.Errorf("metric %q: dropped iterations are counted per group, not per request (want dropped_iterations{group:NAME})", metric)
	}
	return name, key, val, nil
}

func aggFits(kind metricKind, agg string) bool {
	for _, a := range aggsByKind[kind] {
		if a == agg || a == "p(N)" && agg == "p" {
			return true
		}
	}
	return false
}

func aggName(agg string) string {
	if agg == "p" {
		return "p(N)"
	}
	return agg
}

func exampleExpr(kind metricKind) string {
	switch kind {
	case rateMetric:
		return "rate<0.01"
	case counterMetric:
		return "count>0"
	}
	return "p(95)<500"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Label is the threshold's metric as written, with its tag filter:
// http_req_duration{name:history}. Everything that names a threshold to
// people uses it, so a filter is never dropped from the name.
func (t Threshold) Label() string {
	if t.TagKey == "" {
		return t.Metric
	}
	return t.Metric + "{" + t.TagKey + ":" + t.TagValue + "}"
}
