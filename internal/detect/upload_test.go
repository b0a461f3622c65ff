package detect

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestScriptContent(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    bool
	}{
		{"php script", "<?php\nsystem($_GET[cmd]);", true},
		{"php after BOM and blank lines", "\xef\xbb\xbf\n\n<?PHP echo 1;", true},
		{"short echo tag", "<?=`$_GET[0]`?>", true},
		{"jsp page", `<%@ page import="java.io.*" %>`, true},
		{"gif polyglot", "GIF89a\n\n<?php\nsystem($_GET[cmd]);", true},
		{"jpeg with php in exif", "\xff\xd8\xff\xe1\x00\x10Exif\x00\x00<?php eval($_POST[x]); ?>\xff\xd9", true},
		{"png with php", "\x89PNG\r\n\x1a\n\x00\x00tEXt<?php\tphpinfo();", true},
		// Benign: archives store small PHP files as they are, XML exports
		// and text quote PHP, images hold "<?" by chance.
		{"zip of a plugin", "PK\x03\x04\x0a\x00\x00\x00\x00\x00index.php<?php // Silence is golden.", false},
		{"wordpress export", "<?xml version=\"1.0\"?>\n<rss><item><content:encoded><![CDATA[Use <?php echo $x; ?> in templates]]></content:encoded></item></rss>", false},
		{"text quoting php", "How to start: write <?php at the top of the file.", false},
		{"jpeg with <? bytes", "\xff\xd8\xff\xe0<?phpx<?xml<?", false},
		{"plain image", "GIF89a\x01\x00\x01\x00", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		if got := ScriptContent([]byte(tc.content)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The operator reads only Coraza's temporary upload files.
func TestScriptUploadReadsOnlyTempUploads(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]bool{"crzmp123": true, "other": false} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("<?php system($_GET[c]);"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := (scriptUpload{}).Evaluate(nil, p); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if (scriptUpload{}).Evaluate(nil, filepath.Join(dir, "crzmp-missing")) {
		t.Error("a missing file matched")
	}
}

func TestUploadNameSignature(t *testing.T) {
	re := regexp.MustCompile(uploadNameSignature)
	tests := []struct {
		name string
		want bool
	}{
		{"111.php\x00.png", true},
		{"cmd.php;.jpg", true},
		{"shell.asp;.jpg", true},
		{"x.php::$data", true},
		{"shell.php\t.jpg", true},
		{"shell.php.jpg", true},
		{"shell.phtml.", true},
		{".htaccess", true},
		{".user.ini", true},
		{"photo.jpg", false},
		{"php-logo.png", false},
		{"report.phpunit.xml.pdf", false},
		{"my.photos.2024.jpg", false},
		{"script.py.txt", false},
		{"notes.pl", false}, // a plain script name is 933110's, not this rule's
	}
	for _, tc := range tests {
		if got := re.MatchString(strings.ToLower(tc.name)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.name, got, tc.want)
		}
	}
}
