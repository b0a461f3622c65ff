package sealkey

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/session"
)

func TestDecode(t *testing.T) {
	key := make([]byte, session.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	std, url := base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)
	short := base64.StdEncoding.EncodeToString(key[:16])
	tests := []struct {
		name    string
		in      []string
		keys    int
		wantErr string
	}{
		{"one_standard", []string{std}, 1, ""},
		{"one_url_safe", []string{url}, 1, ""},
		{"two_while_rotating", []string{std, url}, 2, ""},
		{"none", nil, 0, "want one key, or two while rotating, not 0"},
		{"three", []string{std, std, std}, 0, "not 3"},
		{"too_short", []string{short}, 0, "key 1 is not 32 bytes of base64"},
		{"not_base64", []string{std, "!!"}, 0, "key 2 is not"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := Decode(tc.in, "seal_key")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(keys) != tc.keys || !reflect.DeepEqual(keys[0], key) {
				t.Fatalf("%d keys, %v", len(keys), err)
			}
		})
	}
}

// A key file is created once, mode 0600, and read back unchanged: a
// restart keeps everyone's session.
func TestKeyFileCreatedAndKept(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mamori", "seal.key")
	first, err := Load(nil, file, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if di, err := os.Stat(filepath.Dir(file)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %v (%v), want 0700", di.Mode().Perm(), err)
	}
	again, err := Load(nil, file, false, nil)
	if err != nil || !reflect.DeepEqual(first, again) || len(first) != 1 || len(first[0]) != session.KeySize {
		t.Fatalf("key not kept across starts: %v", err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(nil, file, false, nil); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("a world-readable key file was accepted: %v", err)
	}
}

func TestLoadOptions(t *testing.T) {
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(make([]byte, session.KeySize))
	if _, err := Load([]string{key}, filepath.Join(dir, "k"), false, nil); err == nil || !strings.Contains(err.Error(), "exclusive") {
		t.Errorf("seal_key with key_file: %v", err)
	}
	if keys, err := Load([]string{key}, "", false, nil); err != nil || len(keys) != 1 {
		t.Errorf("inline key: %v", err)
	}
	// A dry run (mamori validate) creates nothing, and says when the file
	// could not be created.
	file := filepath.Join(dir, "sub", "seal.key")
	if keys, err := Load(nil, file, true, func(string) error { return nil }); err != nil || len(keys) != 1 {
		t.Fatalf("dry run: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Errorf("a dry run created %s (%v)", filepath.Dir(file), err)
	}
	denied := errors.New("permission denied")
	if _, err := Load(nil, file, true, func(string) error { return denied }); !errors.Is(err, denied) {
		t.Errorf("dry run, unwritable: %v", err)
	}
}
