package scenarios

import "testing"

func TestParsePick(t *testing.T) {
	s := mustParse(t, `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				pick: weighted
				requests:
					- {url: /read, weight: 7}
					- {url: /write, weight: 2.5}
					- {url: /other}
		`)
	g := s.Groups[0]
	if g.Pick != PickWeighted || *g.Requests[0].Weight != 7 || *g.Requests[1].Weight != 2.5 || g.Requests[2].Weight != nil {
		t.Errorf("pick %q, weights %v %v %v", g.Pick, g.Requests[0].Weight, g.Requests[1].Weight, g.Requests[2].Weight)
	}
	tests := []struct{ name, src, want string }{
		{"unknown pick", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				pick: weigthed
				requests: [{url: /x, weight: 1}]
		`, `s.yaml:4:11: groups[0].pick: unknown pick "weigthed" (did you mean weighted?)`},
		{"zero weight", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				pick: weighted
				requests: [{url: /x, weight: 1}, {url: /y, weight: 0}]
		`, `s.yaml:5:56: groups[0].requests[1].weight: must be a number > 0, got 0`},
		{"negative weight", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				pick: weighted
				requests:
					- url: /x
						weight: -3
		`, `s.yaml:7:17: groups[0].requests[0].weight: must be a number > 0, got -3`},
		{"weight without pick", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, weight: 2}]
		`, `s.yaml:4:34: groups[0].requests[0].weight: weight needs pick: weighted on the group (otherwise every request runs, in order)`},
		{"weight is text", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				pick: weighted
				requests: [{url: /x, weight: "70%"}]
		`, `s.yaml:5:34: groups[0].requests[0].weight: want a number, got the string "70%"`},
		{"weighted websocket only", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				pick: weighted
				websocket: {url: /ws}
		`, `s.yaml:4:11: groups[0].pick: pick: weighted needs requests to pick from`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", yml(tc.src))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}
