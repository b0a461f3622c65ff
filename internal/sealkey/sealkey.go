// Package sealkey loads the keys that seal session cookies (V8): keys
// given in the configuration, or a key file that is created with a fresh
// random key when missing, so that a restart keeps sessions. A key is
// SIZE bytes of base64; two keys are a rotation (the first seals, both
// open). Plain os and crypto, no Caddy.
package sealkey

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mamori-waf/mamori/internal/session"
)

// Load returns the seal keys: inline (the configuration's seal_key
// values) when given, else the keys in file. A missing file is created
// with a fresh key (mode 0600, its directory 0700) — except in a dry run
// (`mamori validate`), which creates nothing: it checks with writable
// (nil: no check) that the file could be created and returns a
// throwaway key. A key file readable by others is refused.
func Load(inline []string, file string, dryRun bool, writable func(string) error) ([][]byte, error) {
	if len(inline) > 0 {
		if file != "" {
			return nil, errors.New("mamori: seal_key and key_file are exclusive")
		}
		return Decode(inline, "seal_key")
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && dryRun {
		if writable != nil {
			if err := writable(file); err != nil {
				return nil, fmt.Errorf("mamori: key file: %w", err)
			}
		}
		key := make([]byte, session.KeySize)
		_, _ = rand.Read(key)
		return [][]byte{key}, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err := create(file); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("mamori: key file: %w", err)
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("mamori: key file %s is readable by others (mode %v): chmod 600 it", file, fi.Mode().Perm())
	}
	return Decode(strings.Fields(string(b)), "key file "+file)
}

// create writes a fresh key to file, unless another process created it
// first (both then read the same file).
func create(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("mamori: key file: %w", err)
	}
	key := make([]byte, session.KeySize)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mamori: key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mamori: key file: %w", err)
	}
	return nil
}

// Decode decodes one key, or two while rotating, each session.KeySize
// bytes of standard or URL-safe base64; where names their source in
// errors.
func Decode(encoded []string, where string) ([][]byte, error) {
	if len(encoded) == 0 || len(encoded) > 2 {
		return nil, fmt.Errorf("mamori: %s: want one key, or two while rotating, not %d", where, len(encoded))
	}
	var keys [][]byte
	for i, e := range encoded {
		k, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			k, err = base64.RawURLEncoding.DecodeString(e)
		}
		if err != nil || len(k) != session.KeySize {
			return nil, fmt.Errorf("mamori: %s: key %d is not %d bytes of base64 (generate one with: head -c 32 /dev/urandom | base64)", where, i+1, session.KeySize)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
