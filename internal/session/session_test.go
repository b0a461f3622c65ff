package session

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/state"
)

var testKey = bytes.Repeat([]byte{7}, KeySize)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newMTGuard(t testing.TB, c Config, store state.Store) (*Guard, *clock) {
	t.Helper()
	p, err := profile.Get("movabletype", profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(c, Options{Profile: p, Keys: [][]byte{testKey}, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	g.Now = clk.now
	return g, clk
}

var melody = Client{IP: "192.0.2.10", UserAgent: "Firefox/140"}

// login makes the guard seal an upstream's mt_user and returns the
// sealed cookie value the browser would get.
func login(t testing.TB, g *Guard, c Client) (string, http.Header) {
	t.Helper()
	h := http.Header{}
	h.Add("Set-Cookie", "mt_user=melody::0123456789abcdef::0; Path=/cgi-bin/mt/; HttpOnly")
	h.Add("Set-Cookie", "mt_blog_user=key:'v'; Path=/")
	issued := g.Outbound(h, nil, c, Response{User: "melody"})
	if len(issued) != 2 || issued[0].Ref == "" {
		t.Fatalf("issued = %+v", issued)
	}
	ck, err := http.ParseSetCookie(h.Values("Set-Cookie")[0])
	if err != nil {
		t.Fatal(err)
	}
	return ck.Value, h
}

func TestOutboundHardensAndSeals(t *testing.T) {
	g, _ := newMTGuard(t, Config{}, nil)
	h := http.Header{}
	h.Add("Set-Cookie", "mt_user=melody::0123456789abcdef::0; Path=/cgi-bin/mt/")
	h.Add("Set-Cookie", "mt_blog_user=key:'v'; Path=/")
	h.Add("Set-Cookie", "theme=dark; Path=/")
	h.Add("Set-Cookie", "mt_commenter=; Path=/; Max-Age=0")
	g.Outbound(h, nil, melody, Response{HTTPS: true})
	lines := h.Values("Set-Cookie")
	tests := []struct {
		line      int
		contains  []string
		excludes  []string
		sealedVal bool
	}{
		{0, []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/cgi-bin/mt/", "mt_user=m1."}, []string{"melody"}, true},
		{1, []string{"Secure", "SameSite=Lax", "mt_blog_user="}, []string{"HttpOnly", "m1."}, false},
		{2, []string{"theme=dark; Path=/"}, []string{"Secure", "SameSite"}, false},
		{3, []string{"mt_commenter=", "Max-Age=0", "HttpOnly"}, []string{"m1."}, false},
	}
	for _, tt := range tests {
		for _, s := range tt.contains {
			if !strings.Contains(lines[tt.line], s) {
				t.Errorf("Set-Cookie %q lacks %q", lines[tt.line], s)
			}
		}
		for _, s := range tt.excludes {
			if strings.Contains(lines[tt.line], s) {
				t.Errorf("Set-Cookie %q holds %q", lines[tt.line], s)
			}
		}
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("a response setting an authenticated cookie got Cache-Control %q", h.Get("Cache-Control"))
	}
}

func TestInboundDecisions(t *testing.T) {
	ctx := context.Background()
	other, _ := NewSealer([][]byte{bytes.Repeat([]byte{9}, KeySize)})
	tests := []struct {
		name       string
		client     Client
		advance    time.Duration
		cookie     func(sealed string) string
		revoke     bool
		wantReason string
		wantValue  string // what the upstream gets for mt_user ("" = removed)
	}{
		{name: "valid_sealed_cookie_is_opened", client: melody, cookie: func(s string) string { return "mt_user=" + s },
			wantValue: "melody::0123456789abcdef::0"},
		{name: "same_prefix_other_host_passes", client: Client{IP: "192.0.2.200", UserAgent: "Firefox/140"},
			cookie: func(s string) string { return "mt_user=" + s }, wantValue: "melody::0123456789abcdef::0"},
		{name: "planted_plain_cookie_is_fixation", client: melody,
			cookie: func(string) string { return "mt_user=attacker::deadbeef::0" }, wantReason: ReasonForged},
		{name: "tampered_envelope_is_forged", client: melody,
			cookie: func(s string) string { return "mt_user=" + s[:len(s)-2] + "AA" }, wantReason: ReasonForged},
		{name: "envelope_of_another_cookie_is_forged", client: melody,
			cookie: func(s string) string { return "mt_commenter=" + s }, wantReason: ReasonForged},
		{name: "envelope_of_another_key_is_forged", client: melody,
			cookie: func(string) string {
				return "mt_user=" + other.Seal("mt_user", &Envelope{Value: "x", Issued: time.Now(), Seen: time.Now()})
			}, wantReason: ReasonForged},
		{name: "other_ip_prefix_is_hijack", client: Client{IP: "198.51.100.10", UserAgent: "Firefox/140"},
			cookie: func(s string) string { return "mt_user=" + s }, wantReason: ReasonBinding},
		{name: "idle_too_long", client: melody, advance: 4*time.Hour + time.Second,
			cookie: func(s string) string { return "mt_user=" + s }, wantReason: ReasonIdle},
		{name: "revoked_at_logout", client: melody, revoke: true,
			cookie: func(s string) string { return "mt_user=" + s }, wantReason: ReasonRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, clk := newMTGuard(t, Config{}, state.NewMemory())
			sealed, _ := login(t, g, melody)
			if tt.revoke {
				h := http.Header{"Cookie": {"mt_user=" + sealed}}
				if err := g.Revoke(ctx, g.Inbound(ctx, h, melody)); err != nil {
					t.Fatal(err)
				}
			}
			clk.t = clk.t.Add(tt.advance)
			h := http.Header{"Cookie": {"theme=dark; " + tt.cookie(sealed) + "; x=1"}}
			req := g.Inbound(ctx, h, tt.client)
			got := ""
			for _, p := range ParseCookieHeader(h.Values("Cookie")) {
				if p.Name == "mt_user" {
					got = p.Value
				}
			}
			if got != tt.wantValue {
				t.Errorf("upstream gets mt_user=%q, want %q", got, tt.wantValue)
			}
			if !strings.Contains(h.Get("Cookie"), "theme=dark") || !strings.Contains(h.Get("Cookie"), "x=1") {
				t.Errorf("other cookies lost: %q", h.Get("Cookie"))
			}
			reason := ""
			if len(req.Findings) > 0 {
				reason = req.Findings[0].Reason
			}
			if reason != tt.wantReason {
				t.Errorf("finding %q, want %q", reason, tt.wantReason)
			}
			if tt.wantReason == "" && (!req.Authenticated || req.User != "melody") {
				t.Errorf("valid session: authenticated=%v user=%q", req.Authenticated, req.User)
			}
		})
	}
}

func TestAbsoluteTimeoutOutlivesRefreshes(t *testing.T) {
	ctx := context.Background()
	g, clk := newMTGuard(t, Config{IdleTimeout: Duration(time.Hour), AbsoluteTimeout: Duration(3 * time.Hour)}, nil)
	sealed, _ := login(t, g, melody)
	// Active every 20 minutes: refreshed, never idle, until 3 h have passed.
	for elapsed := 20 * time.Minute; ; elapsed += 20 * time.Minute {
		clk.t = clk.t.Add(20 * time.Minute)
		h := http.Header{"Cookie": {"mt_user=" + sealed}}
		req := g.Inbound(ctx, h, melody)
		if elapsed >= 3*time.Hour {
			if len(req.Findings) != 1 || req.Findings[0].Reason != ReasonExpired {
				t.Fatalf("after %v: findings %+v, want expired", elapsed, req.Findings)
			}
			return
		}
		if len(req.Findings) != 0 {
			t.Fatalf("after %v: findings %+v", elapsed, req.Findings)
		}
		out := http.Header{}
		g.Outbound(out, req, melody, Response{})
		if lines := out.Values("Set-Cookie"); len(lines) == 1 {
			ck, _ := http.ParseSetCookie(lines[0])
			if ck.Path != "/cgi-bin/mt/" || !ck.HttpOnly {
				t.Fatalf("refreshed cookie lost its attributes: %q", lines[0])
			}
			sealed = ck.Value
		} else {
			t.Fatalf("after %v: no refresh (%v)", elapsed, lines)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	p, _ := profile.Get("movabletype", profile.Options{})
	before, _ := New(Config{}, Options{Profile: p, Keys: [][]byte{oldKey}})
	rotated, _ := New(Config{}, Options{Profile: p, Keys: [][]byte{newKey, oldKey}})
	retired, _ := New(Config{}, Options{Profile: p, Keys: [][]byte{newKey}})
	sealed, _ := login(t, before, melody)
	for _, tt := range []struct {
		name string
		g    *Guard
		ok   bool
	}{{"old_key_second_opens", rotated, true}, {"retired_key_does_not", retired, false}} {
		h := http.Header{"Cookie": {"mt_user=" + sealed}}
		req := tt.g.Inbound(ctx, h, melody)
		if (len(req.Findings) == 0) != tt.ok {
			t.Errorf("%s: findings %+v", tt.name, req.Findings)
		}
	}
}

func TestBindingOptions(t *testing.T) {
	ctx := context.Background()
	zero := 0
	tests := []struct {
		name   string
		bind   *Binding
		from   Client
		replay Client
		ok     bool
	}{
		{"user_agent_bound_refuses_other_agent", &Binding{UserAgent: UAFull}, melody, Client{IP: melody.IP, UserAgent: "curl/8"}, false},
		{"default_family_refuses_other_agent", nil, melody, Client{IP: melody.IP, UserAgent: "curl/8"}, false},
		{"ip_only_accepts_other_agent", &Binding{UserAgent: UAOff}, melody, Client{IP: melody.IP, UserAgent: "curl/8"}, true},
		{"ipv6_same_64_passes", nil, Client{IP: "2001:db8:1:2::10"}, Client{IP: "2001:db8:1:2:ffff::1"}, true},
		{"ipv6_other_64_refused", nil, Client{IP: "2001:db8:1:2::10"}, Client{IP: "2001:db8:1:3::10"}, false},
		{"mapped_v4_is_v4", nil, Client{IP: "::ffff:192.0.2.1"}, Client{IP: "192.0.2.99"}, true},
		{"off_accepts_anywhere", &Binding{Off: true}, melody, Client{IP: "203.0.113.5"}, true},
		{"prefix_zero_ignores_ip", &Binding{IPv4Prefix: &zero}, melody, Client{IP: "203.0.113.5", UserAgent: melody.UserAgent}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := newMTGuard(t, Config{Bind: tt.bind}, nil)
			sealed, _ := login(t, g, tt.from)
			req := g.Inbound(ctx, http.Header{"Cookie": {"mt_user=" + sealed}}, tt.replay)
			if (len(req.Findings) == 0) != tt.ok {
				t.Errorf("findings %+v, want ok=%v", req.Findings, tt.ok)
			}
		})
	}
}

// failingStore is a Store whose backend is down, as Redis killed mid-run
// (the real thing is tested in internal/state and tests/e2e).
type failingStore struct{ *state.Memory }

func (*failingStore) Marked(context.Context, string) (bool, error) {
	return false, state.ErrUnavailable
}

func TestStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	for _, open := range []bool{false, true} {
		p, _ := profile.Get("movabletype", profile.Options{})
		g, _ := New(Config{}, Options{Profile: p, Keys: [][]byte{testKey}, Store: &failingStore{state.NewMemory()}, FailOpen: open})
		sealed, _ := login(t, g, melody)
		h := http.Header{"Cookie": {"mt_user=" + sealed}}
		req := g.Inbound(ctx, h, melody)
		if len(req.Findings) != 1 || req.Findings[0].Reason != ReasonStoreUnavailable || !errors.Is(req.Findings[0].Err, state.ErrUnavailable) {
			t.Fatalf("open=%v: findings %+v", open, req.Findings)
		}
		if kept := h.Get("Cookie") != ""; kept != open {
			t.Errorf("open=%v: cookie kept=%v", open, kept)
		}
	}
}

func TestLogoutResponse(t *testing.T) {
	g, _ := newMTGuard(t, Config{}, nil)
	h := http.Header{"Cache-Control": {"public, max-age=600"}}
	g.Outbound(h, &Request{Authenticated: true}, melody, Response{Logout: true})
	if h.Get("Clear-Site-Data") != `"cookies", "storage"` || h.Get("Cache-Control") != "no-store" {
		t.Errorf("logout headers: %v", h)
	}
	kept := http.Header{"Cache-Control": {"no-store, private"}}
	g.Outbound(kept, nil, melody, Response{Private: true})
	if kept.Get("Cache-Control") != "no-store, private" {
		t.Errorf("a stricter upstream Cache-Control was replaced: %q", kept.Get("Cache-Control"))
	}
	public := http.Header{"Cache-Control": {"max-age=60"}}
	g.Outbound(public, nil, melody, Response{})
	if public.Get("Cache-Control") != "max-age=60" {
		t.Errorf("anonymous public page lost its caching: %q", public.Get("Cache-Control"))
	}
}

func TestConfigValidate(t *testing.T) {
	bad := 33
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"bad_samesite", Config{SameSite: "loose"}, "samesite"},
		{"bad_mode", Config{Cookies: []CookieRule{{Name: "a", Mode: "encrypt"}}}, "mode"},
		{"bad_glob", Config{Cookies: []CookieRule{{Name: "a["}}}, "glob"},
		{"bad_prefix", Config{Bind: &Binding{IPv4Prefix: &bad}}, "prefix"},
		{"idle_over_absolute", Config{IdleTimeout: Duration(time.Hour), AbsoluteTimeout: Duration(time.Minute)}, "longer"},
		{"bad_failure", Config{StoreFailure: "maybe"}, "open or closed"},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want mention of %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewSealer([][]byte{[]byte("short")}); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestCookieHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"a=1; b=2"}, "a=1; b=2"},
		{[]string{"a=1;b=2;;  c"}, "a=1; b=2; c"},
		{[]string{"a=1", "b=\"x y\""}, "a=1; b=\"x y\""},
		{[]string{"a==b=c"}, "a==b=c"},
	}
	for _, tt := range tests {
		if got := FormatCookieHeader(ParseCookieHeader(tt.in)); got != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, got, tt.want)
		}
	}
}
