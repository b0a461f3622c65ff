// Package browser opens mamori's block page in a real browser (headless
// Chromium, driven with chromedp): for Accept-Language ja and en it renders
// that language and the incident ID (the X-Request-Id, and the ID of the
// event logged), loads nothing but the page itself, and the browser reports
// no console message, exception or CSP violation. Screenshots are kept in
// $MAMORI_BROWSER_OUT, or in a new temporary directory named in the log.
package browser

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mamori-waf/mamori/tests/harness"
)

const siteCaddyfile = `{
	admin off
	log default {
		output stderr
		level ERROR
		exclude mamori.events
	}
	log events {
		output file {DIR}/events.log
		include mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori
	reverse_proxy {UPSTREAM}
}
`

// chromium is Debian's (tests/setup.sh installs it), or $CHROMIUM.
func chromium(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: run tests/setup.sh (Debian package chromium) or set $CHROMIUM")
	return ""
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("MAMORI_BROWSER_OUT")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "mamori-browser-"); err != nil {
			t.Fatal(err)
		}
		// Kept only for a failure to look at; set MAMORI_BROWSER_OUT to keep them always.
		t.Cleanup(func() {
			if !t.Failed() {
				os.RemoveAll(dir)
			}
		})
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// seen is what the browser reported while a page loaded.
type seen struct {
	mu       sync.Mutex
	requests []string // every URL requested
	problems []string // console messages, exceptions, log entries, issues
	// blockLogged is the browser's log of the page's own 403, which shows
	// that the log listener works.
	blockLogged []string
	status      int64  // the document's status
	id          string // the document's X-Request-Id
}

func (s *seen) add(list *[]string, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*list = append(*list, v)
}

// TestBlockPageInChromium (V9, A4 on the block page).
func TestBlockPageInChromium(t *testing.T) {
	bin := chromium(t)
	shots := screenshotDir(t)
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, siteCaddyfile, upstream)
	blocked := m.URL + "/?q=" + url.QueryEscape("<script>alert(1)</script>")

	for _, tc := range []struct {
		lang, htmlLang, title, incident string
	}{
		{"ja", "ja", "リクエストはブロックされました", "インシデントID"},
		{"en-US,en;q=0.9", "en", "Request blocked", "Incident ID"},
	} {
		t.Run(tc.htmlLang, func(t *testing.T) {
			alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
				chromedp.ExecPath(bin),
				chromedp.Flag("headless", true),
				chromedp.Flag("no-sandbox", true),
				chromedp.Flag("disable-gpu", true),
				chromedp.Flag("disable-background-networking", true),
				chromedp.Flag("disable-component-update", true),
				chromedp.Flag("disable-sync", true),
				chromedp.Flag("no-first-run", true),
				chromedp.Flag("no-default-browser-check", true),
				chromedp.UserDataDir(t.TempDir()),
				// Chromium puts its singleton socket in $TMPDIR, outside the
				// profile; a test's own directory keeps /tmp as it was.
				chromedp.Env("TMPDIR="+t.TempDir()),
			)
			defer cancelAlloc()
			ctx, cancel := chromedp.NewContext(alloc)
			defer cancel()
			ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
			defer cancelTimeout()

			s := &seen{}
			err := chromedp.Listen(ctx, func(ev any) {
				switch e := ev.(type) {
				case *network.EventRequestWillBeSent:
					s.add(&s.requests, e.Request.URL)
				case *network.EventResponseReceived:
					if e.Type == network.ResourceTypeDocument {
						s.mu.Lock()
						s.status = e.Response.Status
						for k, v := range e.Response.Headers {
							if strings.EqualFold(k, "X-Request-Id") {
								s.id, _ = v.(string)
							}
						}
						s.mu.Unlock()
					}
				case *runtime.EventConsoleAPICalled:
					b, _ := json.Marshal(e.Args)
					s.add(&s.problems, "console."+string(e.Type)+": "+string(b))
				case *runtime.EventExceptionThrown:
					s.add(&s.problems, "exception: "+e.ExceptionDetails.Text)
				case *log.EventEntryAdded:
					// The browser logs the page's own 403: that is the block.
					if e.Entry.Source == log.EntrySourceNetwork && e.Entry.URL == blocked && strings.Contains(e.Entry.Text, "403") {
						s.add(&s.blockLogged, e.Entry.Text)
						return
					}
					s.add(&s.problems, "log "+string(e.Entry.Source)+" "+string(e.Entry.Level)+" "+e.Entry.URL+": "+e.Entry.Text)
				case *audits.EventIssueAdded:
					b, _ := json.Marshal(e.Issue)
					s.add(&s.problems, "issue: "+string(b))
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, enable := range []func() error{
				func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err },
				func() error { _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); return err },
				func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
				func() error { _, err := chromedp.Call(ctx, audits.Enable, cdp.Empty{}); return err },
				func() error {
					_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
						network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": tc.lang}})
					return err
				},
			} {
				if err := enable(); err != nil {
					t.Fatal(err)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(blocked), chromedp.WaitVisible("h1")); err != nil {
				t.Fatal(err)
			}
			htmlLang, err := chromedp.Run(ctx, chromedp.AttributeValue("html", "lang"))
			if err != nil {
				t.Fatal(err)
			}
			h1, err := chromedp.Run(ctx, chromedp.Text("h1"))
			if err != nil {
				t.Fatal(err)
			}
			code, err := chromedp.Run(ctx, chromedp.Text("code"))
			if err != nil {
				t.Fatal(err)
			}
			text, err := chromedp.Run(ctx, chromedp.Text("body"))
			if err != nil {
				t.Fatal(err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			// Let late reports (CSP, console) arrive before judging.
			if err := chromedp.Do(ctx, chromedp.Sleep(time.Second)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(shots, "blockpage-"+tc.htmlLang+".png")
			if err := os.WriteFile(path, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s", path)

			s.mu.Lock()
			defer s.mu.Unlock()
			if s.status != 403 {
				t.Errorf("document status %d, want 403", s.status)
			}
			if htmlLang.Value != tc.htmlLang || h1 != tc.title || !strings.Contains(text, tc.incident) {
				t.Errorf("Accept-Language %s: lang %q, h1 %q, want %q %q; page text:\n%s", tc.lang, htmlLang.Value, h1, tc.htmlLang, tc.title, text)
			}
			if s.id == "" || code != s.id {
				t.Errorf("incident ID on the page %q, X-Request-Id %q", code, s.id)
			}
			if !eventLogged(t, m, s.id) {
				t.Errorf("no event with transaction.id %q in events.log", s.id)
			}
			for _, u := range s.requests {
				if !strings.HasPrefix(u, m.URL+"/") {
					t.Errorf("the block page loaded %s (only %s/... allowed)", u, m.URL)
				}
			}
			if len(s.requests) == 0 {
				t.Error("no request recorded: the network listener saw nothing")
			}
			if len(s.blockLogged) == 0 {
				t.Error("the browser's log did not report the 403: the log listener saw nothing")
			}
			for _, p := range s.problems {
				t.Errorf("browser reported: %s", p)
			}
			before := len(s.problems)
			s.mu.Unlock()

			// Control: an image from elsewhere, added by script, breaks the
			// page's CSP, and the listeners above must report it.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.appendChild(Object.assign(document.createElement("img"), {src: "http://192.0.2.1/x.png"})) !== null`)); err != nil {
				t.Fatal(err)
			}
			reported := false
			for i := 0; i < 100 && !reported; i++ {
				time.Sleep(100 * time.Millisecond)
				s.mu.Lock()
				for _, p := range s.problems[before:] {
					if strings.Contains(p, "Content Security Policy") || strings.Contains(p, "ContentSecurityPolicy") {
						reported = true
					}
				}
				s.mu.Unlock()
			}
			if !reported {
				t.Error("a CSP violation went unreported: the checks above could not have seen one")
			}
			s.mu.Lock()
		})
	}
}

// eventLogged: the events log has the blocked request's event.
func eventLogged(t *testing.T, m *harness.Mamori, id string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, l := range m.ReadLines(t, "events.log") {
			var ev map[string]any
			if json.Unmarshal([]byte(l), &ev) == nil && ev["transaction.id"] == id && id != "" {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
