package wordpress

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium of its own (own profile, own cookies).
// Every step is screenshotted into the artifacts directory, so a failure
// leaves the trail of what the browser showed.
type browser struct {
	ctx   context.Context
	name  string
	shots string
	n     int
}

func newBrowser(t *testing.T, chromium, name, shots string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium puts its singleton socket in $TMPDIR, outside the
		// profile; a test's own directory keeps /tmp as it was.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.Flag("lang", "en-US"),
		// The site's name to mamori; every other host (the post's embeds,
		// Gravatar) fails at once instead of waiting on DNS where CI has
		// no Internet.
		chromedp.Flag("host-resolver-rules", "MAP "+siteHost+" 127.0.0.1, MAP * ~NOTFOUND"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; no timeout on it (a timeout on
	// this context would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	return &browser{ctx: ctx, name: name, shots: shots}
}

// do runs the actions with a generous time limit, screenshots the page
// and fails the test on an error.
func (b *browser) do(t *testing.T, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	err := chromedp.Do(ctx, actions...)
	b.shot(step)
	if err != nil {
		t.Fatalf("%s: %s: %v (screenshots in %s)", b.name, step, err, b.shots)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func (b *browser) shot(step string) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	b.n++
	if err == nil {
		_ = os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%s-%02d-%s.png", b.name, b.n, unsafeName.ReplaceAllString(step, "_"))), png, 0o644)
	}
}

// eval runs JavaScript in the page (awaiting a promise) and decodes its
// value.
func eval[T any](t *testing.T, b *browser, step, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	b.shot(step)
	if err != nil {
		t.Fatalf("%s: %s: %v (screenshots in %s)", b.name, step, err, b.shots)
	}
	return v
}

// waitJS waits until the expression is truthy. It evaluates again and
// again rather than with Poll, because a navigation (a form's submit, a
// redirect) destroys the page's context under a running poll.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	check := chromedp.Evaluate[bool]("!!(" + expr + ")")
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		var last error
		for {
			ok, err := check(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if err != nil {
				last = err
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), last)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// bodyText is the page's visible text.
func bodyText(t *testing.T, b *browser, step string) string {
	t.Helper()
	return eval[string](t, b, step, `document.body.innerText`)
}

// cookies are the browser's cookies for the site.
func (b *browser) cookies(t *testing.T, site string) []*network.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{site + "/wp-admin/", site + "/"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Cookies
}

// navigate loads a page and waits for it to be complete. The page being
// left may hold an unsaved-changes prompt (the theme editor, the block
// editor): a headless browser would wait on it for ever, so the handlers
// go first, as an editor's "Leave" would.
func navigate(u string) chromedp.Action[chromedp.Void] {
	leave := chromedp.Evaluate[chromedp.Void](`window.onbeforeunload = null; if (window.jQuery) { jQuery(window).off("beforeunload"); }
		window.addEventListener("beforeunload", e => e.stopImmediatePropagation(), true);`)
	return chromedp.Steps(func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, _ = leave(ctx, t) // a blank page has nothing to leave
		return chromedp.Void{}, nil
	}, chromedp.Navigate(u), waitJS(`document.readyState === "complete"`))
}

// sealedSessionCookies reports the browser's WordPress session cookies and
// whether each is sealed by mamori ("m1." envelope).
func sealedSessionCookies(cs []*network.Cookie) (session map[string]bool) {
	session = map[string]bool{}
	for _, c := range cs {
		if strings.HasPrefix(c.Name, "wordpress_logged_in_") || strings.HasPrefix(c.Name, "wordpress_sec_") ||
			(strings.HasPrefix(c.Name, "wordpress_") && !strings.HasPrefix(c.Name, "wordpress_test_cookie")) {
			session[c.Name] = strings.HasPrefix(c.Value, "m1.")
		}
	}
	return session
}
