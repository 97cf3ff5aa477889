package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

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
