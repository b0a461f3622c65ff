package session

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a seal key.
const KeySize = 32

// envelopePrefix starts every sealed value: the format's version, so a
// later format can be told apart.
const envelopePrefix = "m1."

// MaxEnvelopeLength bounds what Open decodes: browsers keep cookies up
// to 4096 bytes, anything longer is not one of ours.
const MaxEnvelopeLength = 4096

// Envelope is what a sealed cookie carries besides the upstream's value.
type Envelope struct {
	// Value is the upstream's original cookie value.
	Value string
	// Issued is when the proxy first sealed this session (absolute timeout).
	Issued time.Time
	// Seen is the last time the envelope was refreshed (idle timeout).
	Seen time.Time
	// Expires is the cookie's own expiry (zero for a browser-session
	// cookie), kept so that a refreshed cookie keeps it.
	Expires time.Time
	// Binding is the client binding's hash (all zero when binding is off).
	Binding [16]byte
	// User is the account name learned at login ("" if unknown).
	User string
	// Path and Domain are the cookie's attributes, for refreshes.
	Path, Domain string
}

// Sealer seals and opens envelopes with XChaCha20-Poly1305 (a 24-byte
// random nonce per seal: no nonce bookkeeping across instances). The first
// key seals; every key opens, so keys rotate by listing the new key first
// and the old one second until the old cookies have expired.
type Sealer struct {
	aeads []cipher.AEAD
}

// NewSealer derives one cipher per key. Keys must be KeySize bytes.
func NewSealer(keys [][]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("session: no seal key")
	}
	s := &Sealer{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("session: seal key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		// A key of its own for cookies: the operator's key may serve other
		// purposes later without one use weakening another.
		sub, err := hkdf.Key(sha256.New, k, nil, "mamori session cookie v1", chacha20poly1305.KeySize)
		if err != nil {
			return nil, err
		}
		aead, err := chacha20poly1305.NewX(sub)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// ErrNotSealed is returned for a value that is not an envelope sealed by
// one of the keys for this cookie name: forged, planted, tampered with,
// sealed for another cookie, or sealed with a retired key.
var ErrNotSealed = errors.New("not a sealed value")

// Seal returns the cookie value holding e, bound to the cookie's name.
func (s *Sealer) Seal(name string, e *Envelope) string {
	plain := encodeEnvelope(e)
	aead := s.aeads[0]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go ≥ 1.24)
	buf = aead.Seal(buf, buf, plain, additionalData(name))
	return envelopePrefix + base64.RawURLEncoding.EncodeToString(buf)
}

// Open returns the envelope a cookie value holds, or ErrNotSealed.
func (s *Sealer) Open(name, value string) (*Envelope, error) {
	if len(value) > MaxEnvelopeLength || len(value) < len(envelopePrefix) || value[:len(envelopePrefix)] != envelopePrefix {
		return nil, ErrNotSealed
	}
	// Strict: one encoding per envelope, no malleable trailing bits.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value[len(envelopePrefix):])
	if err != nil {
		return nil, ErrNotSealed
	}
	ad := additionalData(name)
	for _, aead := range s.aeads {
		if len(raw) < aead.NonceSize()+aead.Overhead() {
			return nil, ErrNotSealed
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
		if err != nil {
			continue
		}
		return decodeEnvelope(plain)
	}
	return nil, ErrNotSealed
}

func additionalData(name string) []byte { return []byte(envelopePrefix + name) }

// The plaintext: issued, seen (Unix milliseconds), expires (Unix seconds,
// 0 = none), binding, then user, path and domain each with a two-byte
// length, and the value as the rest.
const fixedLength = 8 + 8 + 8 + 16

func encodeEnvelope(e *Envelope) []byte {
	b := make([]byte, 0, fixedLength+6+len(e.User)+len(e.Path)+len(e.Domain)+len(e.Value))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Issued.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seen.UnixMilli()))
	var exp int64
	if !e.Expires.IsZero() {
		exp = e.Expires.Unix()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(exp))
	b = append(b, e.Binding[:]...)
	for _, s := range []string{e.User, e.Path, e.Domain} {
		if len(s) > 0xffff {
			s = s[:0xffff]
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return append(b, e.Value...)
}

func decodeEnvelope(b []byte) (*Envelope, error) {
	if len(b) < fixedLength {
		return nil, ErrNotSealed
	}
	e := &Envelope{
		Issued: time.UnixMilli(int64(binary.BigEndian.Uint64(b[0:8]))),
		Seen:   time.UnixMilli(int64(binary.BigEndian.Uint64(b[8:16]))),
	}
	if exp := int64(binary.BigEndian.Uint64(b[16:24])); exp != 0 {
		e.Expires = time.Unix(exp, 0)
	}
	copy(e.Binding[:], b[24:40])
	b = b[fixedLength:]
	for _, dst := range []*string{&e.User, &e.Path, &e.Domain} {
		if len(b) < 2 {
			return nil, ErrNotSealed
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, ErrNotSealed
		}
		*dst = string(b[2 : 2+n])
		b = b[2+n:]
	}
	e.Value = string(b)
	return e, nil
}

// Ref is a session's reference in events and in the revocation list: a
// hash of the cookie's name and upstream value, never the value itself.
func Ref(name, value string) string {
	sum := sha256.Sum256([]byte(name + "\x00" + value))
	return hex.EncodeToString(sum[:12])
}
