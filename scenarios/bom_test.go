package scenarios

import (
	"strings"
	"testing"
)

// A UTF-8 byte-order mark (Windows editors write one) is not part of the
// first key, and line:col still point where the editor shows them.
func TestParseAcceptsBOM(t *testing.T) {
	src := "\xef\xbb\xbfname: bom\nbase_url: http://127.0.0.1:8080\ngroups:\n  - stages: [{duration: 1s, target: 1}]\n    requests: [{url: /}]\n"
	s, err := Parse("bom.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse with a BOM: %v", err)
	}
	if s.Name != "bom" {
		t.Errorf("name %q, want bom", s.Name)
	}
	_, err = Parse("bom.yaml", []byte("\xef\xbb\xbfnmae: x\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bom.yaml:1:1: nmae: unknown key") {
		t.Errorf("error after a BOM = %v, want bom.yaml:1:1: nmae: unknown key…", err)
	}
}
