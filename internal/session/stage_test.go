package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
	"github.com/mamori-waf/mamori/internal/state"
)

func stageRequest(method, target, cookie string) *pipeline.Request {
	r := httptest.NewRequest(method, target, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	v := request.New(r, request.CGI)
	return &pipeline.Request{HTTP: r, View: v, ReadBody: func() error { return v.ReadBody(method, "", nil, 1<<20) }}
}

func rules(d pipeline.Decision) string {
	var out []string
	for _, e := range d.Events {
		out = append(out, e.Guard+"/"+e.Verdict+"/"+e.Rule)
	}
	return strings.Join(out, " ")
}

// The session stage returns the Cookie header the upstream gets (sealed
// values opened, disguised and forged cookies dropped) without touching
// the request, one event per dropped cookie, and the access-log field;
// the logout stage revokes what the unseal stage found (V8, B2).
func TestUnsealAndLogoutStages(t *testing.T) {
	ctx := context.Background()
	g, _ := newMTGuard(t, Config{}, state.NewMemory())
	sealed, _ := login(t, g, melody)
	p, _ := profile.Get("movabletype", profile.Options{})

	sent := "mt_user=" + sealed + "; mt%5Fuser=planted; theme=dark"
	req := stageRequest(http.MethodGet, "/cgi-bin/mt/mt.cgi", sent)
	unseal := &UnsealStage{Guard: g, Client: melody}
	d := unseal.Decide(ctx, req)
	if d.Refuses() {
		t.Fatalf("unseal refused: %+v", d)
	}
	if got := d.Rewrite.Get("Cookie"); got != "mt_user=melody::0123456789abcdef::0; theme=dark" {
		t.Errorf("rewritten Cookie %q", got)
	}
	if got := req.HTTP.Header.Get("Cookie"); got != sent {
		t.Errorf("the stage changed the request's Cookie to %q", got)
	}
	if got := rules(d); got != "/blocked/session-disguised" {
		t.Errorf("events %q", got)
	}
	if len(unseal.Presented.Sessions) != 1 || unseal.Presented.User != "melody" {
		t.Errorf("presented %+v", unseal.Presented)
	}

	forged := &UnsealStage{Guard: g, Client: melody}
	d = forged.Decide(ctx, stageRequest(http.MethodGet, "/", "mt_user=melody::0123::0"))
	if got := rules(d); got != "/blocked/session-forged" {
		t.Errorf("forged: events %q", got)
	}
	if got := d.Log["mamori.session.dropped"]; len(got) != 1 || got[0] != "mt_user:forged" {
		t.Errorf("forged: access-log field %q", got)
	}
	if v, ok := d.Rewrite["Cookie"]; !ok || len(v) != 0 {
		t.Errorf("forged: Cookie rewrite %q, want it removed", v)
	}

	// Not a logout: nothing happens.
	notLogout := &LogoutStage{Guard: g, Profile: p, Presented: unseal.Presented}
	if d := notLogout.Decide(ctx, stageRequest(http.MethodGet, "/cgi-bin/mt/mt.cgi?__mode=view", sent)); notLogout.Logout || len(d.Events) != 0 {
		t.Errorf("not a logout: %+v %+v", notLogout, d)
	}
	logout := &LogoutStage{Guard: g, Profile: p, Presented: unseal.Presented}
	d = logout.Decide(ctx, stageRequest(http.MethodGet, "/cgi-bin/mt/mt.cgi?__mode=logout", sent))
	if !logout.Logout || rules(d) != "/allowed/logout" || d.Events[0].Outcome != "success" || d.Events[0].User != "melody" || d.Events[0].SessionRef == "" {
		t.Fatalf("logout: %+v %+v", logout, d)
	}
	again := &UnsealStage{Guard: g, Client: melody}
	if d := again.Decide(ctx, stageRequest(http.MethodGet, "/", "mt_user="+sealed)); rules(d) != "/blocked/session-revoked" {
		t.Errorf("after logout: events %q", rules(d))
	}
}
