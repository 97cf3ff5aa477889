package ops

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/internal/secretbox"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
)

// BackupOptions says what to back up and where.
type BackupOptions struct {
	DataDir string
	// To is the archive to write, or an existing directory to write it
	// into as gatehouse-<UTC time>.tar. An existing file is never replaced.
	To string
	// SecretKey is the nodes' GATEHOUSE_SECRET_KEY, "" when they use the
	// key file of the data dir (which the backup then holds).
	SecretKey string
	// Version is this binary's version, recorded in the manifest.
	Version string
	Now     func() time.Time
}

// Backup writes a consistent backup of a SQLite installation, whether its
// node serves or not, and returns the archive's path and manifest.
//
// It takes no lock: the node holds the data dir's for as long as it runs.
// The database is read by VACUUM INTO over a read-only connection, which
// SQLite runs in one read transaction of the WAL, so the copy is one
// committed state even while the node writes (docs/decisions.md). The copy
// is checked by SQLite, hashed, and written with the key file and the
// manifest under a temporary name that is renamed into place once synced:
// a backup interrupted leaves nothing that looks like a backup.
func Backup(ctx context.Context, opts BackupOptions) (path string, m Manifest, err error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	started := now().UTC()
	path = opts.To
	if info, err := os.Stat(opts.To); err == nil && info.IsDir() {
		path = filepath.Join(opts.To, "gatehouse-"+started.Format("20060102T150405Z")+".tar")
	}
	if _, err := os.Lstat(path); err == nil {
		return "", m, refuse(ErrNotEmpty, "%s exists: a backup never replaces a file; name another", path)
	}
	work, err := os.MkdirTemp(filepath.Dir(path), ".gatehouse-backup-")
	if err != nil {
		return "", m, fmt.Errorf("a working directory beside %s: %w", path, err)
	}
	defer os.RemoveAll(work)

	copied := filepath.Join(work, databaseFile)
	if err := vacuumInto(ctx, filepath.Join(opts.DataDir, databaseFile), copied); err != nil {
		return "", m, err
	}
	m = Manifest{Format: manifestFormat, GatehouseVersion: opts.Version, CreatedAt: started}
	if m.SchemaVersion, err = checkCopy(ctx, copied); err != nil {
		return "", m, err
	}
	files := []string{copied}
	switch key, source, err := currentKey(opts.SecretKey, opts.DataDir); {
	case err != nil:
		return "", m, err
	case key == nil:
		m.SecretKey = KeyNone
	default:
		m.SecretKey, m.SecretKeyFingerprint = source, secretbox.Fingerprint(key)
		if source == KeyInBackup {
			files = append(files, filepath.Join(opts.DataDir, secretbox.KeyFile))
		}
	}
	for _, f := range files {
		entry, err := hashFile(f)
		if err != nil {
			return "", m, err
		}
		m.Files = append(m.Files, entry)
	}
	archive := filepath.Join(work, "backup.tar")
	if err := writeArchive(archive, m, files); err != nil {
		return "", m, err
	}
	if err := os.Rename(archive, path); err != nil {
		return "", m, err
	}
	return path, m, syncDir(filepath.Dir(path))
}

// vacuumInto copies the database at from into a new file at to.
func vacuumInto(ctx context.Context, from, to string) error {
	db, err := openReadOnly(ctx, from)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, to); err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	// VACUUM INTO does not sync what it wrote.
	f, err := os.Open(to)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// checkCopy runs SQLite's check on a copied database and returns its
// schema version. A backup records whatever version it finds: a binary
// older than the database it backs up copies it as well, and the restore
// is the step that must be served by a binary that knows the version.
func checkCopy(ctx context.Context, path string) (int64, error) {
	db, err := openReadOnly(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := quickCheck(ctx, db, path); err != nil {
		return 0, err
	}
	version, err := migrations.Version(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("%s is no Gatehouse database: %w", path, err)
	}
	return version, nil
}

// currentKey is the key the nodes seal with, by secretbox.LoadKey's rule
// (GATEHOUSE_SECRET_KEY first, else the key file), and where it is; nil
// when there is none yet.
func currentKey(envKey, dataDir string) (key []byte, source string, err error) {
	if envKey != "" {
		key, err := secretbox.ParseKey(envKey)
		if err != nil {
			return nil, "", errors.New("GATEHOUSE_SECRET_KEY must be 64 hexadecimal digits (32 bytes)")
		}
		return key, KeyInEnvironment, nil
	}
	path := filepath.Join(dataDir, secretbox.KeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, KeyNone, nil
	} else if err != nil {
		return nil, "", err
	}
	if key, err = secretbox.ParseKey(string(raw)); err != nil {
		return nil, "", fmt.Errorf("%s does not hold a key: %w", path, err)
	}
	return key, KeyInBackup, nil
}

// hashFile is a file's manifest entry.
func hashFile(path string) (ManifestFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return ManifestFile{}, err
	}
	defer f.Close()
	h := newHashingWriter(io.Discard)
	if _, err := io.Copy(h, f); err != nil {
		return ManifestFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	return ManifestFile{Name: filepath.Base(path), Size: h.size, SHA256: h.sum()}, nil
}

// writeArchive writes the manifest and the files into a new tar archive
// readable by its owner alone (it holds the server key), and syncs it.
func writeArchive(path string, m Manifest, files []string) (err error) {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if closeErr := out.Close(); err == nil {
			err = closeErr
		}
	}()
	tw := tar.NewWriter(out)
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	manifest = append(manifest, '\n')
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(manifest)), ModTime: m.CreatedAt}); err != nil {
		return err
	}
	if _, err := tw.Write(manifest); err != nil {
		return err
	}
	for i, name := range files {
		if err := addToArchive(tw, name, m.Files[i], m.CreatedAt); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return out.Sync()
}

// addToArchive writes one file into the archive, checking that it is still
// the file the manifest describes.
func addToArchive(tw *tar.Writer, path string, entry ManifestFile, modTime time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Name: entry.Name, Mode: 0o600, Size: entry.Size, ModTime: modTime}); err != nil {
		return err
	}
	h := newHashingWriter(tw)
	if _, err := io.Copy(h, io.LimitReader(f, entry.Size)); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	if err := h.matches(entry); err != nil {
		return fmt.Errorf("%s changed while it was backed up: %w", path, err)
	}
	return nil
}
