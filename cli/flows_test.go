package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brink-load/brink/demo/demotest"
)

// `brink run` of the login-order example against the demo: it passes, and
// no token the demo handed out and no password of the data file is in the
// console output, the log (stderr) or the saved report, whose copy of the
// scenario keeps the templates.
func TestRunLoginOrderKeepsTokensSecret(t *testing.T) {
	s, src := demotest.LoginOrder(t.Context(), t, "3s")
	dir := t.TempDir()
	file := filepath.Join(dir, "login-order.yaml")
	csv := "user,password\nuser1,pw-user1\nuser2,pw-user2\nuser3,pw-user3\nuser4,pw-user4\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "r.json")
	var out, errb bytes.Buffer
	if code := runMain([]string{"run", "--headless", "--progress", "1s", "--report", rep, file}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	saved, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	tokens := s.IssuedTokens()
	if len(tokens) != 4 {
		t.Fatalf("%d logins, want 4", len(tokens))
	}
	// Nor is a password from the data file (a secret column by its name).
	for _, tok := range append(tokens, "pw-user1", "pw-user2", "pw-user3", "pw-user4") {
		for name, text := range map[string]string{"stdout": out.String(), "stderr": errb.String(), "report": string(saved)} {
			if strings.Contains(text, tok) {
				t.Errorf("a token is in the %s", name)
			}
		}
	}
	r := readReport(t, rep)
	// The copy keeps the flow as written, the token's header too: its
	// value is a placeholder, not the token.
	for _, want := range []string{`"value": "Bearer {{.token}}"`, `\"password\": \"{{.password}}\"`, `"json": "$.access_token"`, `"setup": [`} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("the report's scenario has no %s", want)
		}
	}
	if r.Summary.Errors != 0 {
		t.Errorf("report: %d errors", r.Summary.Errors)
	}
}
