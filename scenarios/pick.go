package scenarios

// Pick values: how an iteration chooses its requests.
const (
	PickSequence = "sequence"
	PickWeighted = "weighted"
)

var picks = []string{PickSequence, PickWeighted}

// pick checks a group's pick and its requests' weights.
func (v *validator) pick(g *Group, f string) {
	weighted := g.Pick == PickWeighted
	switch {
	case g.Pick == "" || weighted || g.Pick == PickSequence:
	default:
		v.add(f+".pick", "unknown pick %q%s", g.Pick, choices(g.Pick, picks))
		return
	}
	if weighted && len(g.Requests) == 0 {
		v.add(f+".pick", "pick: weighted needs requests to pick from")
	}
	for j, r := range g.Requests {
		if r.Weight == nil {
			continue
		}
		wf := index(f+".requests", j) + ".weight"
		switch w := *r.Weight; {
		case !weighted:
			v.add(wf, "weight needs pick: weighted on the group (otherwise every request runs, in order)")
		case !finite(w) || w <= 0:
			v.add(wf, "must be a number > 0, got %v", w)
		case w > maxLevel:
			v.add(wf, "%v is more than a weight needs (at most %g; weights are shares)", w, float64(maxLevel))
		}
	}
}
