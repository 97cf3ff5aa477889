package ops

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
)

// RestoreOptions says which backup to restore where.
type RestoreOptions struct {
	From    string
	DataDir string
	// Force restores over an installation already in the data dir, which
	// is put aside, never deleted. It never restores under a running node.
	Force bool
	// SecretKey is the GATEHOUSE_SECRET_KEY the restored nodes will run
	// with, "" when they will use the data dir's key file.
	SecretKey string
	Now       func() time.Time
}

// Restored is what a restore did.
type Restored struct {
	Manifest Manifest
	// PutAside is the directory the data dir's former installation was
	// moved into, "" when there was none.
	PutAside string
}

// The files of an installation in a data dir. A WAL or shared-memory file
// left beside another database would be read as part of it: they go too.
var installationFiles = []string{databaseFile, databaseFile + "-wal", databaseFile + "-shm", secretbox.KeyFile}

// Restore puts a backup into a data dir. It checks everything before it
// changes anything: the manifest's schema version against this binary's,
// every file against its SHA-256, the database with SQLite's check, the
// key against GATEHOUSE_SECRET_KEY when that is set. It holds the data
// dir's lock throughout, so it refuses a data dir a node serves, and no node
// starts on a half-restored one; and it refuses one that holds an
// installation unless opts.Force says to put that aside.
func Restore(ctx context.Context, opts RestoreOptions) (Restored, error) {
	var done Restored
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	f, err := os.Open(opts.From)
	if err != nil {
		return done, err
	}
	defer f.Close()
	archive := tar.NewReader(f)
	header, err := archive.Next()
	if err != nil || header.Name != manifestName {
		return done, refuse(ErrCorrupted, "%s is no Gatehouse backup: it does not start with %s", opts.From, manifestName)
	}
	m, err := readManifest(archive)
	if err != nil {
		return done, err
	}
	done.Manifest = m
	if latest := migrations.Latest(false); m.SchemaVersion > latest {
		return done, refuse(ErrNewerSchema, "the backup (taken %s by gatehouse %s) is at schema version %d, and this gatehouse knows versions up to %d: restore it with gatehouse %s or newer",
			m.CreatedAt.Format(time.RFC3339), m.GatehouseVersion, m.SchemaVersion, latest, m.GatehouseVersion)
	}
	if err := checkKeyToRun(m, opts.SecretKey); err != nil {
		return done, err
	}

	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return done, err
	}
	lock, err := lockDataDir(opts.DataDir)
	if err != nil {
		return done, err
	}
	defer lock.Close()
	var present []string
	for _, name := range installationFiles {
		if _, err := os.Lstat(filepath.Join(opts.DataDir, name)); err == nil {
			present = append(present, name)
		}
	}
	if len(present) > 0 && !opts.Force {
		return done, refuse(ErrNotEmpty, "%s already holds an installation (%s): restore into an empty data dir, "+
			"or give --force to move it aside into %s/replaced-<time> and restore in its place", opts.DataDir, strings.Join(present, ", "), opts.DataDir)
	}

	staging, err := os.MkdirTemp(opts.DataDir, ".restoring-")
	if err != nil {
		return done, err
	}
	defer os.RemoveAll(staging)
	if err := extract(archive, m, staging); err != nil {
		return done, err
	}
	version, err := checkCopy(ctx, filepath.Join(staging, databaseFile))
	if err != nil {
		return done, err
	}
	if version != m.SchemaVersion {
		return done, refuse(ErrCorrupted, "the backup's database is at schema version %d, its manifest says %d", version, m.SchemaVersion)
	}

	if len(present) > 0 {
		done.PutAside = filepath.Join(opts.DataDir, "replaced-"+now().UTC().Format("20060102T150405Z"))
		if err := os.Mkdir(done.PutAside, 0o700); err != nil {
			return done, err
		}
		for _, name := range present {
			if err := os.Rename(filepath.Join(opts.DataDir, name), filepath.Join(done.PutAside, name)); err != nil {
				return done, fmt.Errorf("put %s aside: %w", name, err)
			}
		}
	}
	// The database last: a data dir with a key and no database is a fresh
	// one, never one whose database lacks its key.
	for _, name := range []string{secretbox.KeyFile, databaseFile} {
		if _, ok := m.file(name); !ok {
			continue
		}
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(opts.DataDir, name)); err != nil {
			return done, err
		}
	}
	return done, syncDir(opts.DataDir)
}

// checkKeyToRun refuses a GATEHOUSE_SECRET_KEY that is not the key the
// backup's secrets are sealed with: the restored node would start, and fail
// on every sealed secret.
func checkKeyToRun(m Manifest, envKey string) error {
	if envKey == "" || m.SecretKey == KeyNone {
		return nil
	}
	key, err := secretbox.ParseKey(envKey)
	if err != nil {
		return errors.New("GATEHOUSE_SECRET_KEY must be 64 hexadecimal digits (32 bytes)")
	}
	if fp := secretbox.Fingerprint(key); fp != m.SecretKeyFingerprint {
		return refuse(ErrWrongKey, "GATEHOUSE_SECRET_KEY (fingerprint %s) is not the key the backup's secrets are sealed with (fingerprint %s): "+
			"run with that key, or without GATEHOUSE_SECRET_KEY when the backup holds its key file", fp, m.SecretKeyFingerprint)
	}
	return nil
}

// extract writes the archive's files into dir, each checked against the
// manifest.
func extract(archive *tar.Reader, m Manifest, dir string) error {
	found := map[string]bool{}
	for {
		header, err := archive.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refuse(ErrCorrupted, "the backup is cut short or damaged: %v", err)
		}
		entry, ok := m.file(header.Name)
		if !ok || found[header.Name] || header.Typeflag != tar.TypeReg {
			return refuse(ErrCorrupted, "the backup holds %q, which its manifest does not list", header.Name)
		}
		found[header.Name] = true
		if err := extractFile(archive, entry, filepath.Join(dir, entry.Name)); err != nil {
			return err
		}
	}
	for _, f := range m.Files {
		if !found[f.Name] {
			return refuse(ErrCorrupted, "the backup lacks %s, which its manifest lists", f.Name)
		}
	}
	return nil
}

func extractFile(r io.Reader, entry ManifestFile, path string) (err error) {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if closeErr := out.Close(); err == nil {
			err = closeErr
		}
	}()
	h := newHashingWriter(out)
	if _, err := io.Copy(h, r); err != nil {
		return refuse(ErrCorrupted, "%s in the backup is cut short: %v", entry.Name, err)
	}
	if err := h.matches(entry); err != nil {
		return err
	}
	return out.Sync()
}
