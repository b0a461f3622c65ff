package paths

import (
	"net/http"
	"strings"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

// secretDirs are directory names whose contents are never served:
// version control metadata (the whole source history, credentials in
// config) and per-user secret stores.
var secretDirs = map[string]bool{
	".git": true, ".svn": true, ".hg": true, ".bzr": true, "_darcs": true,
	".ssh": true, ".aws": true, ".idea": true, ".vscode": true,
}

// hiddenFiles are file names never served: environment and server
// configuration, macOS folder metadata, shell history.
var hiddenFiles = map[string]bool{
	".env": true, ".htaccess": true, ".htpasswd": true, ".ds_store": true,
	".user.ini": true, ".bash_history": true, ".gitignore": true, ".gitattributes": true,
	".gitmodules": true, ".hgignore": true, ".npmrc": true, ".dockerenv": true,
	"web.config": true, "composer.lock": true,
}

// backupSuffixes mark editor, backup and database dump files: denied
// everywhere, uploads included (an upload directory holds no dumps).
var backupSuffixes = []string{
	".bak", ".old", ".orig", ".save", ".swp", ".swo", "~",
	".sql", ".sql.gz", ".sql.bz2", ".sql.zip", ".sql.xz", ".dump",
}

// archiveSuffixes mark site archives ("backup.tar.gz", "www.zip"):
// denied except under the upload directories, where editors put archives
// for readers to download. ".gz" alone is not here: sitemap.xml.gz is.
var archiveSuffixes = []string{".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar"}

// toolPages print the server's configuration.
var toolPages = map[string]bool{
	"phpinfo.php": true, "php_info.php": true, "info.php": true, "phpinfo.cgi": true,
	"adminer.php": true, "test.cgi": true, "printenv.cgi": true, "printenv.pl": true,
}

// webShells are the names of well-known web shells (without extension),
// denied with any script extension.
var webShells = map[string]bool{
	"c99": true, "c99shell": true, "c100": true, "r57": true, "r57shell": true,
	"wso": true, "wso2": true, "b374k": true, "weevely": true, "indoxploit": true,
	"filesman": true, "p0wny": true, "p0wny-shell": true, "phpspy": true,
	"alfa": true, "alfashell": true, "madspot": true, "ani-shell": true,
	"safe0ver": true, "cmd": true, "shell": true, "webshell": true,
}

func hasAnySuffix(s string, suffixes []string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// checkBuiltin matches the normalised path against the built-in lists.
// Names are compared lower-cased whatever the case option: a denied name
// in another case is never a legitimate file.
func (g *Guard) checkBuiltin(p string) *Decision {
	lower := strings.ToLower(p)
	dirPath := strings.HasSuffix(lower, "/")
	segs := strings.Split(strings.Trim(lower, "/"), "/")
	for _, s := range segs {
		if secretDirs[s] {
			return &Decision{Rule: "vcs", Reason: "version control or secret directory " + s, Status: http.StatusNotFound}
		}
	}
	if dirPath {
		return nil
	}
	base := segs[len(segs)-1]
	if hiddenFiles[base] || strings.HasPrefix(base, ".env.") {
		return &Decision{Rule: "hidden-file", Reason: "configuration or hidden file " + base, Status: http.StatusNotFound}
	}
	if hasAnySuffix(base, backupSuffixes) || (strings.HasPrefix(base, "#") && strings.HasSuffix(base, "#")) {
		return &Decision{Rule: "backup", Reason: "backup, editor or dump file " + base, Status: http.StatusNotFound}
	}
	if toolPages[base] {
		return &Decision{Rule: "tool-page", Reason: "server information page " + base, Status: http.StatusNotFound}
	}
	name, ext, _ := strings.Cut(base, ".")
	if webShells[name] && request.IsScriptName(base) {
		return &Decision{Rule: "web-shell", Reason: "known web shell name " + base, Status: http.StatusNotFound}
	}
	inUploads := profile.AnyPathMatches(g.uploads, p) || profile.AnyPathMatches(g.uploads, lower)
	if inUploads {
		// Apache's AddHandler runs "x.php.jpg" as PHP: every extension
		// of the name counts, not only the last.
		for e := range strings.SplitSeq(ext, ".") {
			if request.IsScriptName("x." + e) {
				return &Decision{Rule: "upload-script", Reason: "script under an upload directory " + base, Status: http.StatusNotFound}
			}
		}
		return nil
	}
	if hasAnySuffix(base, archiveSuffixes) {
		return &Decision{Rule: "archive", Reason: "site archive outside the upload directories " + base, Status: http.StatusNotFound}
	}
	return nil
}
