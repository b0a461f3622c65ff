package wordpress

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// writePNG writes a small picture to upload.
func writePNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for x := 0; x < 96; x++ {
		for y := 0; y < 64; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), 160, 255})
		}
	}
	path := filepath.Join(t.TempDir(), "harbor-plan.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// uploadImage uploads a picture with the media library's browser uploader
// (a multipart form) and sets its alt text on the attachment's edit
// screen; WordPress must then list it with that alt text.
func uploadImage(t *testing.T, b *browser, base string) {
	t.Helper()
	file := writePNG(t)
	b.do(t, "upload image", navigate(base+"/wp-admin/media-new.php?browser-uploader"),
		chromedp.WaitReady(chromedp.ID("async-upload")),
		chromedp.SetUploadFiles(chromedp.ID("async-upload"), []string{file}),
		chromedp.Click(chromedp.ID("html-upload")),
		waitJS(`location.pathname.endsWith("/wp-admin/upload.php") && document.readyState === "complete"`))
	b.do(t, "media library", navigate(base+"/wp-admin/upload.php?mode=list"))
	id := eval[int](t, b, "uploaded", `(() => {
		const row = [...document.querySelectorAll("#the-list tr[id^='post-']")].find(r => r.innerText.includes("harbor-plan"));
		return row ? parseInt(row.id.slice(5), 10) : 0; })()`)
	if id == 0 {
		t.Fatal("the uploaded image is not in the media library")
	}
	alt := "Harbor plan: O'Reilly's \"best plan\" — 港の計画"
	b.do(t, "alt text", navigate(fmt.Sprintf("%s/wp-admin/post.php?post=%d&action=edit", base, id)),
		chromedp.WaitVisible(chromedp.ID("attachment_alt")),
		chromedp.SendKeys(chromedp.ID("attachment_alt"), alt),
		chromedp.Click(chromedp.ID("publish")),
		// WordPress drops ?message= from the address bar (replaceState).
		waitJS(`document.readyState === "complete" && /Media file updated/.test(document.body.innerText)`))
	// Read back on the edit screen WordPress renders from what it stored.
	b.do(t, "alt reload", navigate(fmt.Sprintf("%s/wp-admin/post.php?post=%d&action=edit", base, id)), chromedp.WaitVisible(chromedp.ID("attachment_alt")))
	if got := eval[string](t, b, "alt read back", `document.getElementById("attachment_alt").value`); got != alt {
		t.Errorf("alt text stored %q, want %q", got, alt)
	}
}

// themeEditor saves the theme's style.css in the theme file editor (its
// AJAX save, edit-theme-plugin-file) and checks the file on disk.
func themeEditor(t *testing.T, b *browser, base, root string) {
	t.Helper()
	css := "\n/* mamori e2e: theme editor */\n.site-title a[href*=\"?\"] { content: \"O'Reilly\"; background: url(\"data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>\"); }\n"
	js, _ := json.Marshal(css)
	b.do(t, "theme editor", navigate(base+"/wp-admin/theme-editor.php?file=style.css&theme="+wpTheme),
		waitJS(`document.querySelector(".CodeMirror") && document.querySelector(".CodeMirror").CodeMirror`),
		// WordPress's "Heads up!" warning on the first visit.
		waitJS(`(b => (b && b.offsetParent !== null && b.click(), true))(document.querySelector(".file-editor-warning-dismiss"))`),
		waitJS(`(cm => (cm.setValue(cm.getValue() + `+string(js)+`), true))(document.querySelector(".CodeMirror").CodeMirror)`),
		chromedp.Click(chromedp.ID("submit")),
		waitJS(`/File edited successfully|error|Unable/i.test((document.querySelector("#file-editor-save-notice, .notice") || {innerText: ""}).innerText) || /File edited successfully/.test(document.body.innerText)`))
	if text := bodyText(t, b, "theme editor saved"); !strings.Contains(text, "File edited successfully") {
		t.Errorf("theme editor save: %.1500s", text)
	}
	got, err := os.ReadFile(filepath.Join(root, "wp-content", "themes", wpTheme, "style.css"))
	if err != nil || !strings.Contains(string(got), "mamori e2e: theme editor") {
		t.Errorf("style.css was not saved (%v)", err)
	}
}

// customizerCSS saves Additional CSS in the Customizer (customize_save
// with the changeset as JSON) and checks the visitor's page carries it.
func customizerCSS(t *testing.T, b, visitor *browser, base string) {
	t.Helper()
	css := "/* mamori e2e: additional css */\nbody::before { content: \"select the best plan; O'Reilly\"; }\na[href^=\"https://\"]:not([href*='wpsite']) { text-decoration: underline dotted; }"
	js, _ := json.Marshal(css)
	b.do(t, "customizer", navigate(base+"/wp-admin/customize.php"),
		waitJS(`window.wp && wp.customize && wp.customize.state && wp.customize.state("activated")() && wp.customize("custom_css[`+wpTheme+`]")`),
		waitJS(`(wp.customize("custom_css[`+wpTheme+`]").set(`+string(js)+`), wp.customize.previewer.save(), true)`),
		waitJS(`wp.customize.state("saved")() && !wp.customize.state("processing")()`))
	visitor.do(t, "custom css", navigate(base+"/"))
	got := eval[string](t, visitor, "custom css read", `(document.getElementById("wp-custom-css") || {}).textContent || ""`)
	if !strings.Contains(got, "mamori e2e: additional css") {
		t.Errorf("the Additional CSS is not on the site: %q", got)
	}
}

// buildMenu creates a menu with a custom link in the menu screen, puts it
// in the theme's primary location, and checks the visitor sees the link.
func buildMenu(t *testing.T, b, visitor *browser, base string) {
	t.Helper()
	b.do(t, "new menu", navigate(base+"/wp-admin/nav-menus.php?action=edit&menu=0"),
		chromedp.WaitVisible(chromedp.ID("menu-name")),
		chromedp.SendKeys(chromedp.ID("menu-name"), "Main menu: O'Reilly & 日本語"),
		chromedp.Click(chromedp.ID("save_menu_footer")),
		// Saved: WordPress redirects to the new menu's screen.
		waitJS(`document.readyState === "complete" && /[?&]menu=[1-9]/.test(location.search) && document.getElementById("menu-to-edit") !== null`))
	b.do(t, "menu item",
		waitJS(`(jQuery("#add-custom-links .accordion-section-content").show(), true)`),
		chromedp.SetValue(chromedp.ID("custom-menu-item-url"), "https://example.org/plans?a=1&b=2"),
		chromedp.SetValue(chromedp.ID("custom-menu-item-name"), "Plans & pricing"),
		chromedp.Click(chromedp.ID("submit-customlinkdiv")),
		waitJS(`document.querySelectorAll("#menu-to-edit li.menu-item").length > 0`),
		waitJS(`(document.querySelectorAll("input[name='menu-locations[primary]']").forEach(c => c.checked = true), true)`),
		chromedp.Click(chromedp.ID("save_menu_footer")),
		waitJS(`document.readyState === "complete" && /has been updated/.test(document.body.innerText)`))
	visitor.do(t, "menu on site", navigate(base+"/"))
	if text := bodyText(t, visitor, "menu text"); !strings.Contains(text, "Plans & pricing") {
		t.Errorf("the menu is not on the site:\n%.1500s", text)
	}
}

// profileAndPassword changes the profile and sets a strong new password
// in the profile screen; WordPress keeps the editor logged in.
func profileAndPassword(t *testing.T, b *browser, base string) {
	t.Helper()
	b.do(t, "profile", navigate(base+"/wp-admin/profile.php"),
		chromedp.WaitVisible(chromedp.ID("first_name")),
		chromedp.SendKeys(chromedp.ID("first_name"), "Ren"),
		chromedp.SendKeys(chromedp.ID("description"), "Editor since 2019. Reads O'Reilly books; writes about \"select the best plan\" & 日本語."),
		chromedp.Click(chromedp.CSS("button.wp-generate-pw")),
		chromedp.WaitVisible(chromedp.ID("pass1")),
		// WordPress fills in a generated password once zxcvbn has loaded;
		// replace it, as an editor who has their own would.
		waitJS(`document.getElementById("pass1").value.length > 0`),
		waitJS(`(document.getElementById("pass1").value = "", true)`),
		chromedp.SendKeys(chromedp.ID("pass1"), newPassword),
		waitJS(`!document.getElementById("submit").disabled`),
		chromedp.Click(chromedp.ID("submit")),
		waitJS(`document.readyState === "complete" && /Profile updated/.test(document.body.innerText)`))
	if text := bodyText(t, b, "profile updated"); !strings.Contains(text, "Profile updated") {
		t.Errorf("profile update: %.1500s", text)
	}
}

// weakPasswordRefused: a weak password (confirmed as weak in WordPress's
// own form) is refused by mamori's password policy with its page.
func weakPasswordRefused(t *testing.T, b *browser, base string) {
	t.Helper()
	b.do(t, "weak password", navigate(base+"/wp-admin/profile.php"),
		chromedp.Click(chromedp.CSS("button.wp-generate-pw")),
		chromedp.WaitVisible(chromedp.ID("pass1")),
		// WordPress fills in a generated password once zxcvbn has loaded;
		// replace it, as an editor who has their own would.
		waitJS(`document.getElementById("pass1").value.length > 0`),
		waitJS(`(document.getElementById("pass1").value = "", true)`),
		chromedp.SendKeys(chromedp.ID("pass1"), weakPassword),
		waitJS(`document.querySelector(".pw-weak") && getComputedStyle(document.querySelector(".pw-weak")).display !== "none"`),
		waitJS(`(document.querySelector("input.pw-checkbox").click(), true)`),
		waitJS(`!document.getElementById("submit").disabled`),
		chromedp.Click(chromedp.ID("submit")),
		waitJS(`document.readyState === "complete" && /Password not accepted/.test(document.body.innerText)`))
}
