package report

import (
	"net"
	"os"
	"strings"
	"sync"
)

// onThisMachine says whether a node's instance (host:port) is brink's own
// machine: a loopback address, localhost, this host's name or one of its
// addresses. Unknown or unparsable: not this machine.
func onThisMachine(instance string) bool {
	host := instance
	if h, _, err := net.SplitHostPort(instance); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		_, addrs := ownNames()
		return addrs[ip.String()]
	}
	names, _ := ownNames()
	return names[host]
}

// ownNames are this machine's host names and interface addresses, read
// once.
var ownNames = sync.OnceValues(func() (names, addrs map[string]bool) {
	names, addrs = map[string]bool{}, map[string]bool{}
	if h, err := os.Hostname(); err == nil && h != "" {
		h = strings.ToLower(h)
		names[h] = true
		if short, _, ok := strings.Cut(h, "."); ok {
			names[short] = true
		}
	}
	if as, err := net.InterfaceAddrs(); err == nil {
		for _, a := range as {
			if n, ok := a.(*net.IPNet); ok {
				addrs[n.IP.String()] = true
			}
		}
	}
	return names, addrs
})
