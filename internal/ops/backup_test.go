package ops

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/filelock"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
)

// installation makes a data dir as a node leaves it: a migrated database
// (by the migrations of dir) holding the named accounts, and a key file.
func installation(t *testing.T, dir fs.FS, accounts ...string) string {
	t.Helper()
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.MigrateFS(ctx, dir); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, name := range accounts {
		err := db.Write(ctx, func(tx *store.WriteTx) error {
			return tx.InsertAccount(ctx, gatehouse.Account{ID: kernel.NewID(), Kind: gatehouse.KindIntegrator, Name: name,
				Settings: gatehouse.AccountSettings{MaxClientUsers: 9}, CreatedAt: now, UpdatedAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := secretbox.LoadKey("", dataDir); err != nil {
		t.Fatal(err)
	}
	return dataDir
}

// accountNames opens a restored data dir as a node would and lists its
// accounts.
func accountNames(t *testing.T, dataDir string) []string {
	t.Helper()
	db, err := store.Open(context.Background(), "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.ListAccounts(context.Background(), gatehouse.AccountFilter{Page: gatehouse.PageRequest{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range page.Items {
		names = append(names, a.Name)
	}
	return names
}

func backup(t *testing.T, dataDir string) (string, Manifest) {
	t.Helper()
	path, m, err := Backup(context.Background(), BackupOptions{DataDir: dataDir, To: t.TempDir(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return path, m
}

// withLaterMigration is today's SQLite migrations and one of a later
// Gatehouse.
func withLaterMigration(t *testing.T) fs.FS {
	t.Helper()
	dir := fstest.MapFS{}
	today := migrations.FS(false)
	names, _ := fs.Glob(today, "*.sql")
	for _, name := range names {
		data, err := fs.ReadFile(today, name)
		if err != nil {
			t.Fatal(err)
		}
		dir[name] = &fstest.MapFile{Data: data}
	}
	dir["09000_later.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE later (id TEXT PRIMARY KEY);\n-- +goose Down\nDROP TABLE later;\n")}
	return dir
}

// The backup holds the database, the key file and a manifest that says
// what they are; restored into an empty data dir, a node finds what was
// there.
func TestBackupRestoresIntoAnEmptyDataDir(t *testing.T) {
	dataDir := installation(t, migrations.FS(false), "Acme", "Globex")
	path, m := backup(t, dataDir)
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the archive %s: %v, mode %v; it holds the key, so its owner alone reads it", path, err, info.Mode().Perm())
	}
	if m.SchemaVersion != migrations.Latest(false) || m.GatehouseVersion != "test" || m.SecretKey != KeyInBackup || len(m.Files) != 2 {
		t.Errorf("manifest %+v", m)
	}
	key, _ := secretbox.LoadKey("", dataDir)
	if m.SecretKeyFingerprint != secretbox.Fingerprint(key) {
		t.Errorf("fingerprint %s, the key's is %s", m.SecretKeyFingerprint, secretbox.Fingerprint(key))
	}
	target := filepath.Join(t.TempDir(), "restored")
	done, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: target})
	if err != nil {
		t.Fatal(err)
	}
	if done.PutAside != "" {
		t.Errorf("put aside %q from an empty data dir", done.PutAside)
	}
	if got := strings.Join(accountNames(t, target), ","); got != "Acme,Globex" {
		t.Errorf("restored accounts %q", got)
	}
	restoredKey, err := os.ReadFile(filepath.Join(target, secretbox.KeyFile))
	original, _ := os.ReadFile(filepath.Join(dataDir, secretbox.KeyFile))
	if err != nil || !bytes.Equal(restoredKey, original) {
		t.Errorf("restored key file differs from the original (%v)", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the restore consumed the backup: %v", err)
	}
	// A second backup to the same file name is refused, not written over.
	if _, _, err := Backup(context.Background(), BackupOptions{DataDir: dataDir, To: path}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("a backup over an existing file: %v", err)
	}
}

// A backup made by a later Gatehouse (its database has a migration this
// binary lacks) is refused before anything is written.
func TestRestoreRefusesANewerSchema(t *testing.T) {
	dataDir := installation(t, withLaterMigration(t), "Acme")
	path, m := backup(t, dataDir)
	if m.SchemaVersion != 9000 {
		t.Fatalf("the later database was backed up as version %d", m.SchemaVersion)
	}
	target := filepath.Join(t.TempDir(), "restored")
	_, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: target, Force: true})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "9000") {
		t.Fatalf("restore of a newer schema: %v", err)
	}
	t.Log(err)
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused restore made the data dir: %v", err)
	}
}

// rewriteArchive copies the archive at path, passing each file's content
// through change.
func rewriteArchive(t *testing.T, path string, change func(name string, data []byte) []byte) string {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	tr, tw := tar.NewReader(in), tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		data = change(h.Name, data)
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	changed := filepath.Join(t.TempDir(), "changed.tar")
	if err := os.WriteFile(changed, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return changed
}

// A backup whose database changed by one byte, or which was cut short, is
// refused, and the data dir is left as it was.
func TestRestoreRefusesACorruptedBackup(t *testing.T) {
	dataDir := installation(t, migrations.FS(false), "Acme")
	path, _ := backup(t, dataDir)
	flipped := rewriteArchive(t, path, func(name string, data []byte) []byte {
		if name == databaseFile {
			data[len(data)/2] ^= 0x40
		}
		return data
	})
	raw, _ := os.ReadFile(path)
	cut := filepath.Join(t.TempDir(), "cut.tar")
	if err := os.WriteFile(cut, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	swappedKey := rewriteArchive(t, path, func(name string, data []byte) []byte {
		if name == secretbox.KeyFile {
			return []byte(strings.Repeat("ab", 32) + "\n")
		}
		return data
	})
	for name, archive := range map[string]string{"a flipped bit": flipped, "cut short": cut, "another key file": swappedKey} {
		target := filepath.Join(t.TempDir(), "restored")
		_, err := Restore(context.Background(), RestoreOptions{From: archive, DataDir: target})
		if !errors.Is(err, ErrCorrupted) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
		entries, _ := os.ReadDir(target)
		for _, e := range entries {
			if e.Name() != lockFile {
				t.Errorf("%s: the refused restore left %s in the data dir", name, e.Name())
			}
		}
	}
}

// A data dir that holds an installation is refused unless --force, which
// moves it aside; a data dir a node serves is refused even with --force,
// since the node would go on writing a database that is no longer there.
func TestRestoreIntoAnInstallation(t *testing.T) {
	path, _ := backup(t, installation(t, migrations.FS(false), "From the backup"))
	target := installation(t, migrations.FS(false), "Already there")
	oldKey, _ := os.ReadFile(filepath.Join(target, secretbox.KeyFile))

	if _, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: target}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore over an installation without --force: %v", err)
	}
	if got := strings.Join(accountNames(t, target), ","); got != "Already there" {
		t.Fatalf("the refused restore changed the installation: %q", got)
	}

	node, err := filelock.Exclusive(filepath.Join(target, lockFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: target, Force: true}); !errors.Is(err, ErrInUse) {
		t.Errorf("restore under a running node, with --force: %v", err)
	}
	node.Close()

	done, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: target, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(accountNames(t, target), ","); got != "From the backup" {
		t.Errorf("after the forced restore: %q", got)
	}
	if got := strings.Join(accountNames(t, done.PutAside), ","); got != "Already there" {
		t.Errorf("the installation put aside in %s: %q", done.PutAside, got)
	}
	if key, _ := os.ReadFile(filepath.Join(done.PutAside, secretbox.KeyFile)); !bytes.Equal(key, oldKey) {
		t.Error("the replaced installation's key was not kept with it")
	}
}

// A restore refuses to run with a GATEHOUSE_SECRET_KEY other than the key
// the backup's secrets are sealed with; nodes on the environment's key get
// a backup that names the key by its fingerprint only.
func TestRestoreChecksTheServerKey(t *testing.T) {
	dataDir := installation(t, migrations.FS(false), "Acme")
	path, _ := backup(t, dataDir)
	other := strings.Repeat("cd", 32)
	if _, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: t.TempDir(), SecretKey: other}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("restore with another GATEHOUSE_SECRET_KEY: %v", err)
	}
	key, _ := os.ReadFile(filepath.Join(dataDir, secretbox.KeyFile))
	if _, err := Restore(context.Background(), RestoreOptions{From: path, DataDir: t.TempDir(), SecretKey: string(key)}); err != nil {
		t.Errorf("restore with the same key in GATEHOUSE_SECRET_KEY: %v", err)
	}

	fromEnv, m, err := Backup(context.Background(), BackupOptions{DataDir: dataDir, To: t.TempDir(), SecretKey: other})
	if err != nil {
		t.Fatal(err)
	}
	if m.SecretKey != KeyInEnvironment || len(m.Files) != 1 {
		t.Errorf("a backup of nodes keyed by the environment: %+v", m)
	}
	target := t.TempDir()
	if _, err := Restore(context.Background(), RestoreOptions{From: fromEnv, DataDir: target}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, secretbox.KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was restored from a backup that holds none: %v", err)
	}
}
