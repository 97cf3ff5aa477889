// Package secretbox encrypts the few secrets Gatehouse must be able to read
// again (authenticator keys, remote monitoring passwords)
// with AES-256-GCM under one server key. Everything else secret is stored
// only as a hash. While the server key is replaced, a box also holds the
// key before it: what is sealed from then on uses the new key, and what
// was sealed before still opens until `gatehouse keys reseal` has moved it.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Box seals and opens secrets.
type Box struct {
	aead cipher.AEAD
	// previous open what older keys sealed; nothing is sealed with them.
	previous []cipher.AEAD
}

const prefix = "v1:"

// New returns a box that seals with key, a 32-byte key, and opens with it
// or, failing that, with each of the previous keys in turn.
func New(key []byte, previous ...[]byte) (*Box, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	box := &Box{aead: aead}
	for _, old := range previous {
		aead, err := newAEAD(old)
		if err != nil {
			return nil, fmt.Errorf("secretbox: a previous key: %w", err)
		}
		box.previous = append(box.previous, aead)
	}
	return box, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox: the key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext; context binds the ciphertext to its use (for
// example "totp:" plus the user id), so it cannot be moved to another row.
func (b *Box) Seal(plaintext, context string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return prefix + base64.RawStdEncoding.EncodeToString(sealed)
}

// Open decrypts what Seal made with the same context, under the box's key
// or one of its previous keys.
func (b *Box) Open(sealed, context string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil || !strings.HasPrefix(sealed, prefix) || len(raw) < b.aead.NonceSize() {
		return "", errors.New("secretbox: not a sealed secret")
	}
	nonce, ciphertext := raw[:b.aead.NonceSize()], raw[b.aead.NonceSize():]
	for _, aead := range append([]cipher.AEAD{b.aead}, b.previous...) {
		if plain, err := aead.Open(nil, nonce, ciphertext, []byte(context)); err == nil {
			return string(plain), nil
		}
	}
	return "", errors.New("secretbox: wrong key or tampered secret")
}

// KeyFile is the name of the key file in the data dir.
const KeyFile = "secret.key"

// ParseKey reads a key written as GATEHOUSE_SECRET_KEY and the key file
// write it: 64 hexadecimal digits, blanks around them ignored.
func ParseKey(hexKey string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(hexKey))
	if err != nil || len(key) != 32 {
		return nil, errors.New("secretbox: a key is 64 hexadecimal digits (32 bytes)")
	}
	return key, nil
}

// Fingerprint names a key without telling anything of it: the first 16
// hex digits of its SHA-256. Backups record it, so that a restore can
// tell the key the sealed secrets need from another.
func Fingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// LoadKey returns the server key: hexKey when set (64 hex digits, from
// GATEHOUSE_SECRET_KEY; every node of a PostgreSQL deployment needs the same
// one), else the key in <dataDir>/secret.key, created on first use.
func LoadKey(hexKey, dataDir string) ([]byte, error) {
	if hexKey != "" {
		key, err := ParseKey(hexKey)
		if err != nil {
			return nil, errors.New("GATEHOUSE_SECRET_KEY must be 64 hexadecimal digits (32 bytes)")
		}
		return key, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	if data, err := os.ReadFile(path); err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s does not hold a 32-byte hex key", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: if another process created it meanwhile, use that one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadKey("", dataDir)
	} else if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// ReplaceKeyFile makes key the one in <dataDir>/secret.key, once every
// secret is sealed with it (`gatehouse keys reseal --new-key-file`). The
// key it replaces is kept beside it as secret.key.<its fingerprint>, mode
// 0600, since the backups made before need it; that path is returned. The
// new file takes the old one's place in one rename, so that a crash leaves
// one key file or the other, never none (a node finding none would make a
// key of its own).
func ReplaceKeyFile(dataDir string, key []byte) (keptAs string, err error) {
	path := filepath.Join(dataDir, KeyFile)
	oldText, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	old, err := ParseKey(string(oldText))
	if err != nil {
		return "", fmt.Errorf("%s does not hold a 32-byte hex key", path)
	}
	keptAs = path + "." + Fingerprint(old)
	if err := writeFileSynced(keptAs, oldText); err != nil {
		return "", err
	}
	temporary := path + ".new"
	if err := writeFileSynced(temporary, []byte(hex.EncodeToString(key)+"\n")); err != nil {
		return "", err
	}
	if err := os.Rename(temporary, path); err != nil {
		return "", err
	}
	if dir, err := os.Open(dataDir); err == nil {
		err = dir.Sync()
		dir.Close()
		if err != nil {
			return "", err
		}
	}
	return keptAs, nil
}

func writeFileSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
