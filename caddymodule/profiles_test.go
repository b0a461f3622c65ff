package caddymodule

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestIncludeDigestFollowsFiles (V12): the adapted configuration records
// the include files' contents, so a patch changed in place changes the
// configuration and `mamori reload` applies it.
func TestIncludeDigestFollowsFiles(t *testing.T) {
	dir := t.TempDir()
	adapt := func() string {
		var h Handler
		d := caddyfile.NewTestDispenser("mamori {\n include " + dir + "/*.conf\n}")
		if err := h.UnmarshalCaddyfile(d); err != nil {
			t.Fatal(err)
		}
		return h.WAF.IncludeDigest
	}
	empty := adapt()
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("# v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v1 := adapt()
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("# v2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v2 := adapt()
	if empty != "" || v1 == "" || v1 == v2 || adapt() != v2 {
		t.Errorf("digests: empty %q, v1 %q, v2 %q: want empty, then one per content, stable", empty, v1, v2)
	}
}

func TestParseWatchAndDisablePatch(t *testing.T) {
	tests := []struct {
		name, input, wantErr string
		watch                time.Duration
		disabled             []string
	}{
		{"watch_interval", "mamori {\n watch 2s\n}", "", 2 * time.Second, nil},
		{"watch_off", "mamori {\n watch off\n}", "", 0, nil},
		{"watch_too_short", "mamori {\n watch 1ms\n}", "at least 100ms", 0, nil},
		{"watch_garbage", "mamori {\n watch soon\n}", "not an interval", 0, nil},
		{"disable_patch", "mamori {\n profile movabletype {\n  disable_patch CVE-2015-1592 CVE-2013-2184\n }\n}", "", 0, []string{"CVE-2015-1592", "CVE-2013-2184"}},
		{"disable_unknown_patch", "mamori {\n profile movabletype {\n  disable_patch CVE-2099-1\n }\n}", `no virtual patch "CVE-2099-1"`, 0, nil},
		{"admin_path_with_quote", "mamori {\n profile movabletype {\n  admin_path /cgi\"bin/\n }\n}", "must be a directory path", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Duration(h.Watch) != tc.watch {
				t.Errorf("watch %v, want %v", time.Duration(h.Watch), tc.watch)
			}
			if tc.disabled != nil && !slices.Equal(h.Profile.DisablePatches, tc.disabled) {
				t.Errorf("disabled %v, want %v", h.Profile.DisablePatches, tc.disabled)
			}
		})
	}
}
