package scenarios

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// flowFile writes a scenario (and its data files) into a temporary
// directory and returns the scenario's path.
func flowFile(t *testing.T, scenario string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, yml(scenario), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const flowOK = `
		base_url: http://h
		groups:
			- name: shop
				stages: [{duration: 1s, target: 2}]
				think: 0s
				data: {file: users.csv, mode: round-robin}
				cookies: false
				setup:
					- name: login
						method: POST
						url: /login
						body: '{"user": "{{.user}}", "password": "{{.password}}"}'
						extract:
							token: {json: "$.access_token"}
							csrf: {header: X-CSRF-Token}
				requests:
					- url: /rooms
						headers: {Authorization: "Bearer {{.token}}", X-CSRF-Token: "{{.csrf}}"}
						extract: {room: {regex: 'room-(\d+)'}}
					- url: /rooms/{{.room}}/messages?u={{.user}}
`

func TestFlowParses(t *testing.T) {
	sc, err := Load(flowFile(t, flowOK, map[string]string{"users.csv": "user,password\nann,pw1\nbob,pw2\n"}))
	if err != nil {
		t.Fatal(err)
	}
	g := sc.Groups[0]
	if got := strings.Join(g.Vars, ","); got != "user,password,token,csrf,room" {
		t.Errorf("vars %s", got)
	}
	// The password column (by its name) and every extracted value are
	// secrets; the user column is not.
	if got := fmt.Sprint(g.SecretVars()); got != "[1 2 3 4]" {
		t.Errorf("secret slots %s", got)
	}
	if g.CookiesOn() || g.Data.Mode != DataRoundRobin || len(g.Data.Table.Rows) != 2 || g.Setup[0].Name != "login" {
		t.Errorf("group %+v", g)
	}
	x := g.Setup[0].Extract
	if len(x) != 2 || x[0].JSON.String() != "$.access_token" || x[1].Header != "X-CSRF-Token" || x[0].Slot != 2 || x[1].Slot != 3 {
		t.Errorf("setup extract %+v", x)
	}
	if x := g.Requests[0].Extract; len(x) != 1 || x[0].Regex != `room-(\d+)` || x[0].Slot != 4 {
		t.Errorf("request extract %+v", x)
	}
	c := &TemplateContext{Vars: []string{"ann", "pw1", "tok", "c", "7"}}
	if got := g.Requests[1].URL.Render(c); got != "http://h/rooms/7/messages?u=ann" {
		t.Errorf("url renders %q", got)
	}
	if got := g.Setup[0].Body.Render(c); got != `{"user": "ann", "password": "pw1"}` {
		t.Errorf("body renders %q", got)
	}
	if got := g.Requests[0].URL.Slots(); len(got) != 0 {
		t.Errorf("/rooms needs slots %v", got)
	}
	if got := g.Requests[1].URL.Slots(); len(got) != 2 || got[0] != 4 || got[1] != 0 {
		t.Errorf("slots %v", got)
	}
}

// LiteralSecrets: what a group writes that is a credential by its syntax
// (a url's password and the Basic credentials it is sent as, a credential
// header's value and its parts, parts first); not a template's text, not
// another header's value.
func TestLiteralSecrets(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	g := Group{
		Requests: []Request{{URL: MustTemplate("http://bob:pw%401x@h/a?k=v"), Headers: []Header{
			{Name: "Cookie", Value: MustTemplate("sid=abcd1234; theme=dark")},
			{Name: "authorization", Value: MustTemplate("Basic " + b64("ann:pw-ann1"))},
			{Name: "Proxy-Authorization", Value: MustTemplate("Bearer {{.token}}")},
			{Name: "X-Api-Key", Value: MustTemplate("literal-key")}}}},
		WebSocket: &WebSocket{URL: MustTemplate("ws://u:{{vu}}pass@h/ws"), Headers: []Header{{Name: "Authorization", Value: MustTemplate("Bearer wstoken1")}}},
	}
	want := []string{"pw@1x", b64("bob:pw@1x"), "abcd1234", "dark", "sid=abcd1234; theme=dark",
		b64("ann:pw-ann1"), "pw-ann1", "Basic " + b64("ann:pw-ann1"), "wstoken1", "Bearer wstoken1"}
	if got := g.LiteralSecrets(); !slices.Equal(got, want) {
		t.Errorf("literal secrets\n got %q\nwant %q", got, want)
	}
}

func TestDataJSONArray(t *testing.T) {
	src := strings.Replace(flowOK, "users.csv, mode: round-robin", "users.json", 1)
	sc, err := Load(flowFile(t, src, map[string]string{"users.json": `[{"user": "ann", "password": "pw1", "n": 1}, {"user": "bob", "password": 2, "n": 2}]`}))
	if err != nil {
		t.Fatal(err)
	}
	d := sc.Groups[0].Data
	if d.Mode != DataPerVU || strings.Join(d.Table.Columns, ",") != "n,password,user" || strings.Join(d.Table.Rows[1], ",") != "2,2,bob" {
		t.Errorf("data %+v %v", d, d.Table)
	}
}

func TestFlowErrors(t *testing.T) {
	users := map[string]string{"users.csv": "user,password\nann,pw1\n"}
	tests := []struct {
		name, from, to string
		files          map[string]string
		want           string
	}{
		{"missing column", `"{{.password}}"`, `"{{.passwd}}"`, users,
			`s.yaml:12:51: groups[0].setup[0].body: {{.passwd}}: no data column or extract: names it (did you mean password?)`},
		{"unknown variable", "?u={{.user}}", "?u={{.usr}}&t={{.tokn}}", users,
			`s.yaml:20:42: groups[0].requests[1].url: {{.usr}}: no data column or extract: names it (did you mean user?)`},
		{"unknown variable in a header", `"Bearer {{.token}}"`, `"Bearer {{ .tokn }}"`, users,
			`s.yaml:18:42: groups[0].requests[0].headers.Authorization: {{.tokn}}: no data column or extract: names it (did you mean token?)`},
		{"unknown variable after a multi-byte rune", "url: /login", "url: /lögin?r={{.rooom}}", users,
			`s.yaml:11:23: groups[0].setup[0].url: {{.rooom}}: no data column or extract: names it (did you mean room?)`},
		{"unknown variable in a websocket url", "cookies: false", "cookies: false\n\t\t\t\twebsocket: {url: '/ws?t={{.token}}&r={{.rom}}'}", users,
			`s.yaml:8:42: groups[0].websocket.url: {{.rom}}: no data column or extract: names it (did you mean room?)`},
		{"unknown variable after escapes in double quotes", `body: '{"user": "{{.user}}", "password": "{{.password}}"}'`, `body: "{\"u\": \"{{.usr}}\"}"`, users,
			`s.yaml:12:26: groups[0].setup[0].body: {{.usr}}: no data column or extract: names it (did you mean user?)`},
		{"unknown variable after a doubled single quote", `"Bearer {{.token}}"`, `'it''s {{.tokn}}'`, users,
			`s.yaml:18:41: groups[0].requests[0].headers.Authorization: {{.tokn}}: no data column or extract: names it (did you mean token?)`},
		{"unknown variable in a block scalar", `body: '{"user": "{{.user}}", "password": "{{.password}}"}'`, "body: |\n\t\t\t\t\t\t\t{\"u\": \"{{.usr}}\"}", users,
			`s.yaml:12:15: groups[0].setup[0].body: {{.usr}}: no data column or extract: names it (did you mean user?)`},
		{"csv syntax", "", "", map[string]string{"users.csv": "user,password\nann,\"pw1\nbob\"x,2\n"},
			`s.yaml:6:18: groups[0].data.file: DIR/users.csv:3:4: extraneous or missing " in quoted-field`},
		{"csv bad column", "", "", map[string]string{"users.csv": "user,pass word\nann,pw1\n"},
			`s.yaml:6:18: groups[0].data.file: DIR/users.csv:1:6: column "pass word" is not a variable name (letters, digits and _, used as {{.name}})`},
		{"no data file", "", "", nil,
			`s.yaml:6:18: groups[0].data.file: DIR/users.csv: no such file or directory`},
		{"secret not a column", "mode: round-robin", "mode: round-robin, secret: [user, pasword]", users,
			`s.yaml:6:63: groups[0].data.secret[1]: pasword is not a column of the data file (did you mean password?)`},
		{"bad mode", "round-robin", "roundrobin", users,
			`s.yaml:6:35: groups[0].data.mode: unknown mode "roundrobin" (did you mean round-robin?)`},
		{"two sources", `{json: "$.access_token"}`, `{json: "$.access_token", header: X}`, users,
			`s.yaml:14:11: groups[0].setup[0].extract.token: want exactly one of json, header or regex, like {json: "$.id"}`},
		{"bad json path", `"$.access_token"`, `"$.items[*].id"`, users,
			`s.yaml:14:34: groups[0].setup[0].extract.token.json: JSON path "$.items[*].id": wildcards (*) are not supported; name one key or [index]`},
		{"bad regex", `'room-(\d+)'`, `'room-(\d+'`, users,
			"s.yaml:19:33: groups[0].requests[0].extract.room.regex: error parsing regexp: missing closing ): `room-(\\d+`"},
		{"extract shadows column", "{room: {regex:", "{user: {regex:", users,
			`s.yaml:19:19: groups[0].requests[0].extract.user: user is a column of the data file; name the extracted value otherwise`},
		{"used before extracted", "url: /login", "url: /login?r={{.room}}", users,
			`s.yaml:11:23: groups[0].setup[0].url: {{.room}} is used before it is extracted (by 'GET /rooms' at line 17)`},
		{"used before extracted in request", "- url: /rooms\n", "- url: /rooms?r={{.room}}\n", users,
			`s.yaml:17:23: groups[0].requests[0].url: {{.room}} is used before it is extracted (by 'GET /rooms?r={{.room}}' at line 17)`},
		{"weighted uses a request's extract", "think: 0s", "think: 0s\n\t\t\t\tpick: weighted", users,
			`s.yaml:21:21: groups[0].requests[1].url: {{.room}} is used before it is extracted (by 'GET /rooms' at line 18); with pick: weighted any request may run first: extract it in setup`},
		{"websocket uses a request's extract", "cookies: false", "cookies: false\n\t\t\t\twebsocket: {url: '/ws?t={{.token}}&r={{.room}}'}", users,
			`s.yaml:8:42: groups[0].websocket.url: {{.room}} is used before it is extracted (by 'GET /rooms' at line 18); a websocket sees only setup's and data's variables`},
		{"cookies not bool", "cookies: false", "cookies: off", users,
			`s.yaml:7:14: groups[0].cookies: want true or false, got the string "off"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := flowFile(t, strings.Replace(flowOK, tc.from, tc.to, 1), tc.files)
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.ReplaceAll(strings.TrimPrefix(err.Error(), p), filepath.Dir(p), "DIR")
			if want := strings.TrimPrefix(tc.want, "s.yaml"); got != want {
				t.Errorf("error\n got %s\nwant %s", got, want)
			}
		})
	}
}
