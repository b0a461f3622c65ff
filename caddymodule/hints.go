package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"golang.org/x/sys/unix"
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

// Validating is set by `mamori validate`: the configuration is loaded and
// checked, but mamori's log writers open nothing — no empty log file is
// created, no shipper connects. A file that could not be written is still
// an error, as it would be at start.
var Validating bool

// openWriter opens o, or, while validating, checks that its file could be
// written and returns a writer that discards.
func openWriter(o caddy.WriterOpener) (io.WriteCloser, error) {
	if !Validating {
		return o.OpenWriter()
	}
	if fw, ok := o.(*logging.FileWriter); ok {
		if err := checkWritable(fw.Filename); err != nil {
			return nil, err
		}
	}
	return discardWriter{}, nil
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) Close() error                { return nil }

// checkWritable reports whether file could be opened for appending: the
// file itself if it exists, else the nearest existing directory above it
// (where the missing ones would be made).
func checkWritable(file string) error {
	path := file
	for {
		err := unix.Access(path, unix.W_OK)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "open", Path: file, Err: err}
		}
		parent := filepath.Dir(path)
		if parent == path {
			return nil
		}
		path = parent
	}
}
