package caddymodule

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// Issue 15: `seal_key {env.MAMORI_SEAL_KEY}` (README, Caddyfile.example,
// docs/sessions.md) is evaluated, not decoded as written; several
// instances share a key through the environment. An unset variable is an
// error naming it, never an empty key.
func TestGlobalOptionPlaceholders(t *testing.T) {
	key := "c2Vzc2lvbi10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE="
	t.Setenv("MAMORI_TEST_SEAL_KEY", key)
	t.Setenv("MAMORI_TEST_STATE", "memory")
	t.Setenv("MAMORI_TEST_UNSET_KEY", "")
	v, err := parseGlobal("mamori {\n\tstate {env.MAMORI_TEST_STATE}\n\tseal_key {env.MAMORI_TEST_SEAL_KEY}\n}")
	if err != nil {
		t.Fatalf("placeholder refused at parse: %v", err)
	}
	var a App
	if err := json.Unmarshal(v.(httpcaddyfile.App).Value, &a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := a.Provision(ctx); err != nil {
		t.Fatalf("provision with the key in the environment: %v", err)
	}
	want, _ := base64.StdEncoding.DecodeString(key)
	if len(a.keys) != 1 || !bytes.Equal(a.keys[0], want) || a.store != memoryStore {
		t.Fatalf("keys %d, store %T: the placeholders were not evaluated", len(a.keys), a.store)
	}
	for _, tc := range []struct{ name, key, want string }{
		{"empty_variable", "{env.MAMORI_TEST_UNSET_KEY}", "MAMORI_TEST_UNSET_KEY"},
		{"not_a_key", "{env.MAMORI_TEST_STATE}", "not 32 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &App{SealKeys: []string{tc.key}}
			err := b.Provision(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// Issue 15: `mamori validate` (Validating) creates no key file; a run does.
func TestValidateCreatesNoKeyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mamori", "seal.key")
	Validating = true
	keys, err := (&App{KeyFile: file}).loadKeys()
	Validating = false
	if err != nil || len(keys) != 1 {
		t.Fatalf("validating: %d keys, %v", len(keys), err)
	}
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Fatalf("validating created %s (%v)", filepath.Dir(file), err)
	}
	if _, err := (&App{KeyFile: file}).loadKeys(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("a run did not create the key file: %v", err)
	}
}
