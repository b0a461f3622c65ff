package waf

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// The password policy reads the form from the WAF's buffer: a second
// reader over it must not take bytes from the upstream's copy.
func TestBufferedRequestBody(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		body string
		ok   bool
	}{
		{name: "small_form_is_buffered", body: "__mode=save&pass=Tokyo-Blue-42", ok: true},
		{name: "empty_body_is_whole", body: "", ok: true},
		{name: "partial_buffer_is_not_offered", cfg: Config{RequestBodyLimit: 16, RequestBodyInMemoryLimit: 16,
			SetupDirectives: "SecRequestBodyLimitAction ProcessPartial"}, body: strings.Repeat("a=b&", 20), ok: false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := defaultEngine(t)
			if c.cfg.RequestBodyLimit != 0 {
				e = engineFor(t, c.cfg)
			}
			tx := e.NewTransaction("body-test")
			defer tx.Close()
			r := httptest.NewRequest("POST", "/cgi-bin/mt/mt.cgi", strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if it, err := tx.ProcessRequest(r, "192.0.2.1", 1234); err != nil || it != nil {
				t.Fatalf("ProcessRequest: %v %+v", err, it)
			}
			br, ok := tx.BufferedRequestBody()
			if ok != c.ok {
				t.Fatalf("buffered %v, want %v", ok, c.ok)
			}
			if ok {
				// Read half of the upstream's copy, all of ours, then the rest.
				half := make([]byte, len(c.body)/2)
				if _, err := io.ReadFull(r.Body, half); err != nil {
					t.Fatal(err)
				}
				ours, _ := io.ReadAll(br)
				rest, _ := io.ReadAll(r.Body)
				if string(ours) != c.body || string(half)+string(rest) != c.body {
					t.Fatalf("ours %q, upstream's %q", ours, string(half)+string(rest))
				}
				return
			}
			got, _ := io.ReadAll(r.Body)
			if string(got) != c.body {
				t.Fatalf("upstream's copy %q, want %q", got, c.body)
			}
		})
	}
}

func TestJSONKeys(t *testing.T) {
	got := jsonKeys(strings.NewReader(`{"a":1,"user":{"profile":{"x":[{"history":"v"},"s",{"y":{}}]},"b":"c"},"k":[1,2]}`))
	want := []string{"a", "user", "profile", "x", "history", "y", "b", "k"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := jsonKeys(strings.NewReader(`[{"a.b":1},{"../../etc/passwd":2}]`)); strings.Join(got, ",") != "a.b,../../etc/passwd" {
		t.Fatalf("got %q", got)
	}
}
