package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/oidcprovider"
	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// `gatehouse keys rotate` makes a new signing key at once and prints its
// id; the key before it stays (its tokens may still be valid).
func TestKeysRotate(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			vars := map[string]string{"GATEHOUSE_DATA_DIR": dataDir, "GATEHOUSE_LOG_FORMAT": "json"}
			if backend == "postgres" {
				if !storetest.PostgresAvailable(t) {
					return
				}
				vars["GATEHOUSE_DATABASE_URL"] = storetest.CreatePostgresDatabase(t)
			}
			getenv := func(k string) string { return vars[k] }
			command := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), args, getenv, nil, &out, &errOut)
				return out.String(), err
			}
			var ids []string
			for range 2 {
				out, err := command("keys", "rotate")
				id, ok := strings.CutPrefix(strings.TrimSpace(out), "New signing key: ")
				if err != nil || !ok || id == "" {
					t.Fatalf("keys rotate: %v\n%s", err, out)
				}
				ids = append(ids, id)
			}
			if ids[0] == ids[1] {
				t.Errorf("two rotations made one key %s", ids[0])
			}
			for _, bad := range [][]string{{"keys"}, {"keys", "drop"}, {"keys", "rotate", "extra"}} {
				if _, err := command(bad...); err == nil {
					t.Errorf("%q was accepted", bad)
				}
			}
			if out, err := command("help", "keys"); err != nil || !strings.Contains(out, "keys rotate") {
				t.Errorf("help keys: %v\n%s", err, out)
			}

			db, err := store.Open(context.Background(), vars["GATEHOUSE_DATABASE_URL"], dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			keys, err := db.OIDCSigningKeys(context.Background())
			if err != nil || len(keys) != 2 || keys[0].ID != ids[1] || keys[1].ID != ids[0] || keys[0].Generation != 2 {
				t.Errorf("stored keys after two rotations: %+v (%v)", keys, err)
			}
		})
	}
}

// sealedSigningKeys returns the sealed OpenID signing keys of the database
// a command ran on.
func sealedSigningKeys(t *testing.T, vars map[string]string) []store.SealedValue {
	t.Helper()
	db, err := store.Open(context.Background(), vars["GATEHOUSE_DATABASE_URL"], vars["GATEHOUSE_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := db.SealedValues(context.Background(), store.SealedSigningKey, "", 100, time.Now())
	if err != nil || len(keys) == 0 {
		t.Fatalf("sealed signing keys: %v, %v", keys, err)
	}
	return keys
}

// opensWith tells whether every sealed signing key opens with hexKey alone.
func opensWith(t *testing.T, keys []store.SealedValue, hexKey string) bool {
	t.Helper()
	key, err := secretbox.ParseKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secretbox.New(key)
	for _, k := range keys {
		if _, err := box.Open(k.Sealed, oidcprovider.SigningKeyContext(k.Owner)); err != nil {
			return false
		}
	}
	return true
}

func newHexKey(t *testing.T) string {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(key)
}

// `gatehouse keys reseal` as docs/operations.md runs it. With the server
// key in the environment: the new key as GATEHOUSE_SECRET_KEY, the old one
// as GATEHOUSE_SECRET_KEY_PREVIOUS; a wrong previous key is refused (exit
// 6) with nothing written; a second run reseals nothing. With the key in
// the data dir (SQLite): --new-key-file, after which the key file holds
// the new key and the old one is kept beside it.
func TestKeysReseal(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			vars := map[string]string{"GATEHOUSE_DATA_DIR": dataDir, "GATEHOUSE_LOG_FORMAT": "json"}
			if backend == "postgres" {
				if !storetest.PostgresAvailable(t) {
					return
				}
				vars["GATEHOUSE_DATABASE_URL"] = storetest.CreatePostgresDatabase(t)
				vars["GATEHOUSE_SECRET_KEY"] = newHexKey(t)
			}
			getenv := func(k string) string { return vars[k] }
			command := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), args, getenv, nil, &out, &errOut)
				return out.String(), err
			}
			if out, err := command("keys", "rotate"); err != nil {
				t.Fatalf("keys rotate: %v\n%s", err, out)
			}
			oldKey := vars["GATEHOUSE_SECRET_KEY"]
			if backend == "sqlite" {
				// The key file the first command made; then a new one,
				// as the runbook makes it.
				raw, err := os.ReadFile(filepath.Join(dataDir, "secret.key"))
				if err != nil {
					t.Fatal(err)
				}
				oldKey = strings.TrimSpace(string(raw))
				newKeyFile := filepath.Join(t.TempDir(), "new.key")
				newKey := newHexKey(t)
				if err := os.WriteFile(newKeyFile, []byte(newKey+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := command("keys", "reseal", "--new-key-file", newKeyFile)
				if err != nil || !regexp.MustCompile(`oidc_signing_key +1 resealed`).MatchString(out) {
					t.Fatalf("keys reseal --new-key-file: %v\n%s", err, out)
				}
				raw, _ = os.ReadFile(filepath.Join(dataDir, "secret.key"))
				oldFile := filepath.Join(dataDir, "secret.key."+fingerprint(t, oldKey))
				kept, _ := os.ReadFile(oldFile)
				if strings.TrimSpace(string(raw)) != newKey || strings.TrimSpace(string(kept)) != oldKey || !strings.Contains(out, oldFile) {
					t.Errorf("after --new-key-file the key file holds %q (want the new key) and %s %q (want the old one)\n%s", raw, oldFile, kept, out)
				}
				if keys := sealedSigningKeys(t, vars); !opensWith(t, keys, newKey) || opensWith(t, keys, oldKey) {
					t.Error("the signing key is not sealed with the new key alone")
				}
				if out, err := command("keys", "reseal", "--new-key-file", newKeyFile); err != nil || !regexp.MustCompile(`oidc_signing_key +0 resealed, +1 already`).MatchString(out) {
					t.Errorf("--new-key-file again: %v\n%s", err, out)
				}
				oldKey = newKey
			}

			newKey := newHexKey(t)
			vars["GATEHOUSE_SECRET_KEY"], vars["GATEHOUSE_SECRET_KEY_PREVIOUS"] = newKey, newHexKey(t)
			before := sealedSigningKeys(t, vars)
			if out, err := command("keys", "reseal"); exitCode(err) != exitInvalid || !strings.Contains(err.Error(), "Nothing was changed") {
				t.Errorf("a wrong previous key: exit %d, %v\n%s", exitCode(err), err, out)
			}
			if after := sealedSigningKeys(t, vars); !reflect.DeepEqual(after, before) {
				t.Error("a reseal refused for a wrong previous key wrote")
			}
			vars["GATEHOUSE_SECRET_KEY_PREVIOUS"] = oldKey
			for i, want := range []string{`oidc_signing_key +1 resealed, +0 already`, `oidc_signing_key +0 resealed, +1 already`} {
				out, err := command("keys", "reseal")
				if err != nil || !regexp.MustCompile(want).MatchString(out) || !strings.Contains(out, "unset GATEHOUSE_SECRET_KEY_PREVIOUS") {
					t.Errorf("reseal %d: %v\n%s", i+1, err, out)
				}
			}
			if keys := sealedSigningKeys(t, vars); !opensWith(t, keys, newKey) || opensWith(t, keys, oldKey) {
				t.Error("the signing key is not sealed with the new key alone")
			}
			// The nodes drop the previous key: a command with the new key
			// alone opens what reseal sealed.
			delete(vars, "GATEHOUSE_SECRET_KEY_PREVIOUS")
			if out, err := command("keys", "rotate"); err != nil {
				t.Errorf("keys rotate with the new key alone: %v\n%s", err, out)
			}

			if _, err := command("keys", "reseal"); exitCode(err) != exitUsage {
				t.Errorf("reseal without a previous key: exit %d, %v", exitCode(err), err)
			}
			if _, err := command("keys", "reseal", "--new-key-file", "x"); exitCode(err) != exitUsage {
				t.Errorf("--new-key-file beside GATEHOUSE_SECRET_KEY: exit %d, %v", exitCode(err), err)
			}
			if out, err := command("help", "keys"); err != nil || !strings.Contains(out, "keys reseal") {
				t.Errorf("help keys: %v\n%s", err, out)
			}
		})
	}
}

func fingerprint(t *testing.T, hexKey string) string {
	t.Helper()
	key, err := secretbox.ParseKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	return secretbox.Fingerprint(key)
}
