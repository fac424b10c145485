package scenarios

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
)

// secondsPerDay turns daily requests into an average rate.
const secondsPerDay = 86400

// PlanInput is a team's capacity question: how many users a day, how busy,
// how peaky, with what margin and response-time goal.
type PlanInput struct {
	DailyUsers      float64       // daily active users
	RequestsPerUser float64       // requests per user per day
	PeakFactor      float64       // peak rate ÷ average rate (≥ 1)
	Margin          float64       // safety margin as a fraction: 0.3 is 30 %
	P95             time.Duration // response-time goal (95th percentile)
	Think           Think         // a user's pause between requests (fixed or a range)
}

// Plan is the capacity arithmetic, every step kept so it can be shown.
type Plan struct {
	Input         PlanInput
	DailyRequests float64 // users × requests per user
	AverageRPS    float64 // ÷ 86 400
	PeakRPS       float64 // × peak factor
	TargetRPS     float64 // × (1 + margin)
	// VUsExact is Little's law: TargetRPS × (P95 + mean Think), the users
	// in the system at once; VUs rounds it up.
	VUsExact float64
	VUs      int
	// The generated scenario is open-model (one request per arrival, at
	// TargetRPS), so the generator needs only the requests in flight:
	// PreAllocatedVUs covers the target at twice the goal latency, MaxVUs
	// twice the target at planVUHeadroom × the goal latency.
	PreAllocatedVUs int
	MaxVUs          int
}

// planVUHeadroom is how much slower than its p95 goal the server may get at
// the 2× stage before the scenario runs out of VUs and drops arrivals
// (which then show in the verdict as dropped iterations).
const planVUHeadroom = 5

// maxPlanVUs bounds the result so a typo (a billion users) fails clearly
// instead of producing a scenario no machine can run.
const maxPlanVUs = 10_000_000

// NewPlan does the arithmetic. Errors are one line naming the input.
func NewPlan(in PlanInput) (*Plan, error) {
	switch {
	case !(in.DailyUsers > 0) || math.IsInf(in.DailyUsers, 0):
		return nil, fmt.Errorf("daily users must be a number > 0, got %v", in.DailyUsers)
	case !(in.RequestsPerUser > 0) || math.IsInf(in.RequestsPerUser, 0):
		return nil, fmt.Errorf("requests per user must be a number > 0, got %v", in.RequestsPerUser)
	case !(in.PeakFactor >= 1) || math.IsInf(in.PeakFactor, 0):
		return nil, fmt.Errorf("peak factor must be ≥ 1 (peak ÷ average rate), got %v", in.PeakFactor)
	case !(in.Margin >= 0) || in.Margin > 10:
		return nil, fmt.Errorf("margin must be between 0%% and 1000%%, got %v", in.Margin)
	case in.P95 <= 0:
		return nil, fmt.Errorf("p95 goal must be > 0, got %s", in.P95)
	case in.Think.Min < 0 || in.Think.Max < in.Think.Min:
		return nil, fmt.Errorf("think time must be ≥ 0 (MIN-MAX for a range), got %s", in.Think)
	}
	p := &Plan{Input: in}
	p.DailyRequests = in.DailyUsers * in.RequestsPerUser
	p.AverageRPS = p.DailyRequests / secondsPerDay
	p.PeakRPS = p.AverageRPS * in.PeakFactor
	p.TargetRPS = p.PeakRPS * (1 + in.Margin)
	p.VUsExact = p.TargetRPS * (in.P95 + in.Think.mean()).Seconds()
	// Round up, but not 520.0000000001 to 521: float noise is not a user.
	vus := math.Ceil(p.VUsExact - 1e-9)
	if vus > maxPlanVUs {
		return nil, fmt.Errorf("plan needs %.0f VUs (over %d): check daily users and requests per user", vus, maxPlanVUs)
	}
	p.VUs = max(int(vus), 1)
	p.PreAllocatedVUs = VUsInFlight(p.TargetRPS, 2*in.P95)
	p.MaxVUs = max(VUsInFlight(2*p.TargetRPS, planVUHeadroom*in.P95), p.PreAllocatedVUs, 10)
	return p, nil
}

// mean is the average pause of a uniform think range.
func (t Think) mean() time.Duration { return (t.Min + t.Max) / 2 }

// planThink writes a think time for the plan's formulas: "2 s", or
// "mean 2 s of 1 s-3 s" for a range.
func planThink(t Think) string {
	if t.Min == t.Max {
		return formatSeconds(t.Min)
	}
	return "mean " + formatSeconds(t.mean()) + " of " + t.String()
}

// PlanStep is one line of the arithmetic: what, how, how much.
type PlanStep struct {
	Name    string
	Formula string
	Value   float64
	Unit    string
}

// Steps lists the arithmetic in order, each with its formula in words and
// numbers.
func (p *Plan) Steps() []PlanStep {
	in := p.Input
	return []PlanStep{
		{"daily requests", FormatNumber(in.DailyUsers) + " users × " + FormatNumber(in.RequestsPerUser) + " requests", p.DailyRequests, "requests/day"},
		{"average rate", FormatNumber(p.DailyRequests) + " ÷ 86 400 s", p.AverageRPS, "req/s"},
		{"peak rate", FormatNumber(p.AverageRPS) + " × peak factor " + FormatNumber(in.PeakFactor), p.PeakRPS, "req/s"},
		{"target rate", FormatNumber(p.PeakRPS) + " × (1 + margin " + FormatNumber(in.Margin*100) + " %)", p.TargetRPS, "req/s"},
		{"VUs (Little's law)", FormatNumber(p.TargetRPS) + " req/s × (p95 " + formatSeconds(in.P95) + " + think " + planThink(in.Think) + ")", p.VUsExact, "users in flight"},
		{"VUs, rounded up", "ceil(" + FormatNumber(p.VUsExact) + ")", float64(p.VUs), "VUs"},
		{"generator VUs", FormatNumber(p.TargetRPS) + " req/s × p95 " + formatSeconds(in.P95) + " × 2, up to 2× the rate at " + strconv.Itoa(planVUHeadroom) + "× the p95",
			float64(p.PreAllocatedVUs), "VUs pre-allocated, max " + strconv.Itoa(p.MaxVUs)},
	}
}

// BreakpointStages ramps the arrival rate (req/s) to half the target, to
// the target, holds it, then climbs to twice the target so the breakpoint
// is found past the plan.
func (p *Plan) BreakpointStages() []Stage {
	r := planRate(p.TargetRPS)
	return []Stage{
		{Duration: 2 * time.Minute, Target: planRate(r / 2)},
		{Duration: 3 * time.Minute, Target: r},
		{Duration: 2 * time.Minute, Target: r},
		{Duration: 5 * time.Minute, Target: planRate(2 * r)},
	}
}

// planRate rounds a rate to what a scenario file shows (0.01/s), never to
// zero.
func planRate(r float64) float64 {
	return max(math.Round(r*100)/100, 0.01)
}

// ScenarioYAML is a ready breakpoint scenario for the plan against target
// (a URL; its path becomes the request's url). It loads with Parse.
func (p *Plan) ScenarioYAML(target string) ([]byte, error) {
	if target == "" {
		target = "http://127.0.0.1:8080/"
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[:port][/path]", target)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	base := u.Scheme + "://" + u.Host
	in := p.Input
	var b strings.Builder
	fmt.Fprintf(&b, "# brink plan: %s daily users × %s requests, peak ×%s, margin %s %%\n",
		FormatNumber(in.DailyUsers), FormatNumber(in.RequestsPerUser), FormatNumber(in.PeakFactor), FormatNumber(in.Margin*100))
	fmt.Fprintf(&b, "# → target %s req/s; %d users at p95 %s + think %s (Little's law).\n",
		FormatNumber(p.TargetRPS), p.VUs, formatSeconds(in.P95), planThink(in.Think))
	b.WriteString("# Open model: one request per arrival at the planned rate, so it sends what was\n")
	b.WriteString("# planned whatever the server's speed (a closed model's rate follows the server's\n")
	b.WriteString("# latency). The users' think time sized the plan; the generator needs only the\n")
	fmt.Fprintf(&b, "# requests in flight: %d VUs, up to %d if the server slows down.\n", p.PreAllocatedVUs, p.MaxVUs)
	b.WriteString("# Ramps to the target, holds it, then climbs to 2× to find the breakpoint.\n")
	b.WriteString("# Add your real requests; add a nodes: section to watch the servers.\n")
	b.WriteString("name: plan-breakpoint\n")
	fmt.Fprintf(&b, "base_url: %s\n", strconv.Quote(base))
	b.WriteString("groups:\n  - name: users\n    executor: ramping-arrival-rate\n")
	fmt.Fprintf(&b, "    pre_allocated_vus: %d\n    max_vus: %d\n    stages:   # target: requests/s\n", p.PreAllocatedVUs, p.MaxVUs)
	notes := []string{"warm up to half the target", "the target", "hold at the target", "past it to 2×: the breakpoint"}
	for i, st := range p.BreakpointStages() {
		fmt.Fprintf(&b, "      - {duration: %s, target: %s}   # %s\n", formatDuration(st.Duration), strconv.FormatFloat(st.Target, 'f', -1, 64), notes[i])
	}
	b.WriteString("    requests:\n")
	fmt.Fprintf(&b, "      - {name: main, method: GET, url: %s}\n", strconv.Quote(path))
	b.WriteString("thresholds:\n")
	fmt.Fprintf(&b, "  http_req_duration: [\"p(95)<%s\"]\n", strconv.FormatFloat(float64(in.P95)/float64(time.Millisecond), 'f', -1, 64))
	b.WriteString("  http_req_failed: [\"rate<1%\"]\n")
	b.WriteString("abort_on_breakpoint: true\n")
	return []byte(b.String()), nil
}

func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// FormatNumber prints a plan figure for people: thousands separated by a
// space (as in "1 840 rps"), at most one decimal below 1 000 and none above (3 decimals
// below 1, so small rates stay visible).
func FormatNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	neg := x < 0
	x = math.Abs(x)
	var s string
	switch {
	case x < 1:
		s = strconv.FormatFloat(x, 'f', 3, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	case x < 1000:
		s = strconv.FormatFloat(x, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
	default:
		s = measure.GroupDigits(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// ParseFraction reads a margin: "30%" or "0.3" (both 0.3). A bare number
// above 1 is refused, because "30" could mean 30 % or 30×.
func ParseFraction(s string) (float64, error) {
	v, pct, ok := parsePercentOr(s, nil)
	switch {
	case pct && !ok:
		return 0, fmt.Errorf("bad percentage %q (want e.g. 30%%)", s)
	case !ok:
		return 0, fmt.Errorf("bad fraction %q (want e.g. 30%% or 0.3)", s)
	case !pct && v > 1:
		return 0, fmt.Errorf("ambiguous %q: write %s%% or %s", s, strings.TrimSpace(s), strconv.FormatFloat(v/100, 'f', -1, 64))
	}
	return v, nil
}

// ParseFactor reads a peak factor: "3", "3x", "x3", "×3" or "300%".
func ParseFactor(s string) (float64, error) {
	v, _, ok := parsePercentOr(s, func(in string) string {
		for _, affix := range []string{"x", "X", "×"} {
			if t, ok := strings.CutSuffix(in, affix); ok {
				return t
			}
			if t, ok := strings.CutPrefix(in, affix); ok {
				return t
			}
		}
		return in
	})
	if !ok {
		return 0, fmt.Errorf("bad factor %q (want e.g. 3, 3x or 300%%)", s)
	}
	return v, nil
}

// parsePercentOr reads s, spaces trimmed, as a finite number: "N%" is N/100
// (pct true), anything else a bare number once bare (when not nil) has cut
// what may stand around it.
func parsePercentOr(s string, bare func(string) string) (v float64, pct, ok bool) {
	in := strings.TrimSpace(s)
	if p, pct := strings.CutSuffix(in, "%"); pct {
		v, ok := parseFinite(p)
		return v / 100, true, ok
	}
	if bare != nil {
		in = bare(in)
	}
	v, ok = parseFinite(in)
	return v, false, ok
}

// ParseCount reads a count people write: "100000", "100_000", "100,000",
// "100k", "1.5M", "2G".
func ParseCount(s string) (float64, error) {
	in := strings.TrimSpace(s)
	in = strings.NewReplacer("_", "", ",", "", " ", "", "\u202f", "", "\u2009", "").Replace(in)
	mult := 1.0
	if in != "" {
		switch in[len(in)-1] {
		case 'k', 'K':
			mult = 1e3
		case 'm', 'M':
			mult = 1e6
		case 'g', 'G', 'b', 'B':
			mult = 1e9
		}
		if mult != 1 {
			in = in[:len(in)-1]
		}
	}
	v, err := strconv.ParseFloat(in, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || strings.ContainsAny(in, "eExXpP") {
		return 0, errors.New("bad number " + strconv.Quote(s) + " (want e.g. 100000, 100_000 or 100k)")
	}
	return v * mult, nil
}

// parseFinite reads a number that is neither NaN nor infinite.
func parseFinite(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v, err == nil && finite(v)
}
