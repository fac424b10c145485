package scenarios

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/brink-load/brink/termtext"
)

// Secrets: the one rule for which values brink hides wherever it shows
// text that a target may echo (failure messages and their samples, and so
// the summary, the console and the report). A value is a secret when it
// came from {{env "NAME"}}, from an extract (often a token), or from a
// data column whose name looks like a credential's (termtext.SecretName:
// password, token, api_key, …) or that the data's secret: list names. A
// literal written in the scenario is not: it is in the file already.

// MinSecret is the shortest value hidden: shorter ones (an id like 42)
// would blank unrelated text and hide nothing.
const MinSecret = 4

// SecretColumn reports whether the values of data column name are
// secrets.
func (d *Data) SecretColumn(name string) bool {
	return d != nil && (termtext.SecretName(name) || slices.Contains(d.Secret, name))
}

// SecretVars lists the slots of g.Vars (bound: Validate or BindFlows)
// whose values are secrets: the secret data columns and every extracted
// value.
func (g *Group) SecretVars() []int {
	cols := 0
	if g.Data != nil && g.Data.Table != nil {
		cols = len(g.Data.Table.Columns)
	}
	var out []int
	for i, name := range g.Vars {
		if i >= cols || g.Data.SecretColumn(name) {
			out = append(out, i)
		}
	}
	return out
}

// envSecrets are the values {{env}} placeholders resolved to (MinSecret
// bytes or more): a target that echoes one in an error body must not put
// it in a failure message. Written at load, read on failures.
var (
	envSecretsMu sync.Mutex
	envSecrets   atomic.Pointer[[]string]
)

func noteEnvSecret(v string) {
	if len(v) < MinSecret {
		return
	}
	envSecretsMu.Lock()
	defer envSecretsMu.Unlock()
	var cur []string
	if p := envSecrets.Load(); p != nil {
		cur = *p
	}
	if !slices.Contains(cur, v) {
		next := append(slices.Clip(cur), v)
		envSecrets.Store(&next)
	}
}

// EnvSecrets lists the values {{env}} placeholders resolved to (MinSecret
// bytes or more), to hide wherever outside text is shown. Do not modify it.
func EnvSecrets() []string {
	if p := envSecrets.Load(); p != nil {
		return *p
	}
	return nil
}
