package engine

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// The jar keeps what a browser tab would: host-only and domain cookies,
// paths, Secure, deletion by Max-Age and by a past Expires.
func TestCookieJar(t *testing.T) {
	j := &cookieJar{}
	resp := &fasthttp.Response{}
	for _, sc := range []string{
		"session=s1; Path=/; HttpOnly",
		"api=a1; Path=/api",
		"wide=w1; Domain=.example.com; Path=/",
		"sec=x1; Secure",
		"other=o1; Domain=evil.test",
		"old=gone; Path=/",
	} {
		resp.Header.Add("Set-Cookie", sc)
	}
	j.setFast(resp, "shop.example.com", []byte("/login?next=/"))
	resp.Reset()
	resp.Header.Add("Set-Cookie", "old=; Max-Age=0; Path=/")
	j.setFast(resp, "shop.example.com", []byte("/"))

	sent := func(host, path string, secure bool) string {
		req := &fasthttp.Request{}
		j.addFast(req, host, []byte(path), secure)
		var names []string
		for k, v := range req.Header.Cookies() {
			names = append(names, string(k)+"="+string(v))
		}
		return strings.Join(names, " ")
	}
	for _, c := range []struct {
		host, path string
		secure     bool
		want       string
	}{
		{"shop.example.com", "/orders/1", false, "session=s1 wide=w1"},
		{"shop.example.com", "/api/x?y=1", false, "session=s1 api=a1 wide=w1"},
		{"shop.example.com", "/apix", false, "session=s1 wide=w1"},
		{"shop.example.com", "/login", true, "session=s1 wide=w1 sec=x1"},
		{"cdn.example.com", "/", false, "wide=w1"},
		{"evil.test", "/", false, ""},
	} {
		if got := sent(c.host, c.path, c.secure); got != c.want {
			t.Errorf("%s%s secure=%v: sent %q, want %q", c.host, c.path, c.secure, got, c.want)
		}
	}
	// The same jar serves net/http and the WebSocket handshake.
	u, _ := url.Parse("ws://shop.example.com/ws")
	var got []string
	for _, c := range j.Cookies(u) {
		got = append(got, c.Name)
	}
	if strings.Join(got, " ") != "session wide" {
		t.Errorf("handshake cookies %v", got)
	}
	j.SetCookies(u, []*http.Cookie{{Name: "session", Value: "s2", Path: "/"}, {Name: "wide", Domain: "example.com", Path: "/", MaxAge: -1}})
	if got := sent("shop.example.com", "/", false); got != "session=s2" {
		t.Errorf("after the handshake's cookies: %q", got)
	}
}
