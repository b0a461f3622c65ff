package detect

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// Uploads of server-side scripts (issue 11). CRS PL1 refuses a file
// named *.php (933110) but not one whose script extension is hidden
// behind a NUL, a semicolon or trailing characters ("cmd.php%00.png",
// "shell.asp;.jpg", "x.php::$DATA", "x.php.jpg" for Apache's
// multi-extension handlers), nor a server configuration file that makes
// images run as scripts (.htaccess, .user.ini), nor a PHP script under an
// image's name ("cmd.png" holding "<?php system(...)"). Coraza keeps each
// uploaded file in a temporary file (FILES_TMPNAMES) while the request is
// judged; @mamoriScriptUpload reads it.

// uploadNameSignature reads the file names of multipart uploads (FILES,
// URL-decoded: %00 becomes a NUL).
const uploadNameSignature = `\.(?:php\d*|phtml|pht|phar|phps|pgif|shtml?|asp|aspx|asa|cer|ashx|asmx|jsp|jspx|cgi|pl|py)(?:[\x00;:\s/\\]|\.+\s*$)` +
	`|\.(?:php\d*|phtml|pht|phar)\.` +
	`|(?:^|[/\\])\.(?:htaccess|htpasswd|user\.ini)\s*$`

const (
	uploadNameID    = signatureBase + 33901 // PHP family (933): excluded with 933xxx
	uploadContentID = signatureBase + 33902
)

// maxUploadScan bounds how much of one uploaded file is read.
const maxUploadScan = 32 << 20

// writeUploadRules writes the two upload rules.
func writeUploadRules(b *strings.Builder) {
	fmt.Fprintf(b, "SecRule FILES \"@rx %s\" \"id:%d,phase:2,block,capture,t:none,t:urlDecodeUni,t:lowercase,"+
		"msg:'Upload of a server-side script: script extension hidden in the file name, or a server configuration file (mamori)',"+
		"logdata:'Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}: %%{MATCHED_VAR}',"+
		"tag:'attack-injection-php',tag:'mamori-detect',tag:'paranoia-level/1',severity:'CRITICAL',"+
		"setvar:'tx.inbound_anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n", escapeQuotes(uploadNameSignature), uploadNameID)
	fmt.Fprintf(b, "SecRule FILES_TMPNAMES \"@mamoriScriptUpload\" \"id:%d,phase:2,block,t:none,"+
		"msg:'Upload of a server-side script: a file that starts as a PHP script, or an image carrying PHP code (mamori)',"+
		"logdata:'%%{MATCHED_VAR_NAME}',"+
		"tag:'attack-injection-php',tag:'mamori-detect',tag:'paranoia-level/1',severity:'CRITICAL',"+
		"setvar:'tx.inbound_anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n", uploadContentID)
}

// scriptUpload is @mamoriScriptUpload: its value is the path of Coraza's
// temporary copy of an uploaded file.
type scriptUpload struct{}

func (scriptUpload) Evaluate(_ plugintypes.TransactionState, path string) bool {
	// Only Coraza's own temporary files (os.CreateTemp(dir, "crzmp*")) are
	// read, whatever the rule is pointed at.
	if !strings.HasPrefix(filepath.Base(path), "crzmp") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxUploadScan))
	if err != nil {
		return false
	}
	return ScriptContent(b)
}

// ScriptContent reports an uploaded file that is a server-side script
// whatever its name: it starts (after a byte-order mark and white space)
// with a PHP open tag, or a JSP page directive; or it is an image (by its
// magic bytes: GIF, PNG, JPEG, BMP, WebP, TIFF, ICO) that holds a PHP open
// tag anywhere (the "GIF89a; <?php" polyglot, code in EXIF). Archives
// (a WordPress plugin's zip stores "<?php // Silence is golden." as is),
// XML exports and text that merely contain PHP are not judged: only a
// file that a PHP or JSP handler would run as it is, or an image that
// carries code, is refused. "<?php" must be followed by white space or
// the end: six fixed bytes, which random image data practically never
// holds.
func ScriptContent(b []byte) bool {
	s := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	s = bytes.TrimLeft(s, " \t\r\n")
	if phpTagAt(s, 0) || hasPrefixFold(s, "<?=") || hasPrefixFold(s, "<%@ page") || hasPrefixFold(s, "<%@page") {
		return true
	}
	if !imageMagic(b) {
		return false
	}
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("<?"))
		if j < 0 {
			return false
		}
		if phpTagAt(b, i+j) {
			return true
		}
		i += j + 2
	}
}

// phpTagAt reports "<?php" (any case) at b[i:], followed by white space
// or the end of b.
func phpTagAt(b []byte, i int) bool {
	if !hasPrefixFold(b[i:], "<?php") {
		return false
	}
	if i+5 == len(b) {
		return true
	}
	switch b[i+5] {
	case ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// imageMagic reports the magic bytes of the image formats a CMS accepts.
func imageMagic(b []byte) bool {
	for _, m := range []string{"GIF87a", "GIF89a", "\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "BM", "II*\x00", "MM\x00*", "\x00\x00\x01\x00"} {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
}
