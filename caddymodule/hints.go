package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// hintOutput is where startup hints go: standard error, before Caddy's
// own (long, structured) report of the same failure.
var hintOutput io.Writer = os.Stderr

// logFileHint prints one plain line when the access log cannot be opened
// for lack of a directory or of permission — what a first run as a
// non-root user meets on /var/log/mamori — naming the directory and the
// ways out. Other errors need no hint.
func logFileHint(err error) {
	var pe *fs.PathError
	if !errors.As(err, &pe) || !(errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)) {
		return
	}
	dir := filepath.Dir(pe.Path)
	if errors.Is(err, fs.ErrPermission) && pe.Op == "mkdir" {
		dir = pe.Path
	}
	fmt.Fprintf(hintOutput, "mamori: cannot write its access log in %s (%v): run as a user who may, set %s to a directory you can write (%s=$HOME/mamori-logs), or set `access_log <file>` or `access_log off` in the mamori block\n",
		dir, pe.Err, LogDirEnv, LogDirEnv)
}
