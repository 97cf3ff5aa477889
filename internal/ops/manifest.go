package ops

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/secretbox"
)

// A backup is one tar archive: manifest.json first, so that a restore
// knows what it holds before it reads the database, then the files it
// lists.
const (
	manifestName   = "manifest.json"
	manifestFormat = "gatehouse-backup/1"
	// maxManifestSize bounds what a restore reads before it trusts the
	// archive at all.
	maxManifestSize = 1 << 20
)

// Where the server key of a backed-up installation is.
const (
	// KeyInBackup: the key file of the data dir is in the backup.
	KeyInBackup = "file"
	// KeyInEnvironment: the nodes took their key from GATEHOUSE_SECRET_KEY,
	// which the backup does not hold; the operator keeps it.
	KeyInEnvironment = "environment"
	// KeyNone: the installation never made a key (nothing was sealed).
	KeyNone = "none"
)

// Manifest says what a backup holds.
type Manifest struct {
	Format           string `json:"format"`
	GatehouseVersion string `json:"gatehouse_version"`
	// SchemaVersion is the database's newest migration: a binary whose
	// migrations stop before it cannot serve the backup.
	SchemaVersion int64     `json:"schema_version"`
	CreatedAt     time.Time `json:"created_at"`
	// SecretKey is KeyInBackup, KeyInEnvironment or KeyNone; the
	// fingerprint (secretbox.Fingerprint) names the key without showing it.
	SecretKey            string         `json:"secret_key"`
	SecretKeyFingerprint string         `json:"secret_key_fingerprint,omitempty"`
	Files                []ManifestFile `json:"files"`
}

// ManifestFile is one file of a backup with its SHA-256.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// file returns the entry of the named file.
func (m Manifest) file(name string) (ManifestFile, bool) {
	i := slices.IndexFunc(m.Files, func(f ManifestFile) bool { return f.Name == name })
	if i < 0 {
		return ManifestFile{}, false
	}
	return m.Files[i], true
}

// readManifest reads and checks the manifest of a backup.
func readManifest(r io.Reader) (Manifest, error) {
	var m Manifest
	raw, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return m, err
	}
	if len(raw) > maxManifestSize {
		return m, refuse(ErrCorrupted, "the backup's manifest is over %d bytes", maxManifestSize)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, refuse(ErrCorrupted, "the backup's manifest is not readable: %v", err)
	}
	if m.Format != manifestFormat {
		return m, refuse(ErrCorrupted, "the backup's format is %q; this gatehouse reads %q", m.Format, manifestFormat)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if f.Name != databaseFile && f.Name != secretbox.KeyFile || seen[f.Name] {
			return m, refuse(ErrCorrupted, "the backup's manifest lists %q, which a backup does not hold", f.Name)
		}
		seen[f.Name] = true
	}
	if !seen[databaseFile] {
		return m, refuse(ErrCorrupted, "the backup's manifest lists no %s", databaseFile)
	}
	if seen[secretbox.KeyFile] != (m.SecretKey == KeyInBackup) {
		return m, refuse(ErrCorrupted, "the backup's manifest says the key is %q but lists its files as %v", m.SecretKey, m.Files)
	}
	return m, nil
}

// hashingWriter counts and hashes what goes through it.
type hashingWriter struct {
	w    io.Writer
	hash hash.Hash
	size int64
}

func newHashingWriter(w io.Writer) *hashingWriter {
	return &hashingWriter{w: w, hash: sha256.New()}
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.hash.Write(p[:n])
	h.size += int64(n)
	return n, err
}

func (h *hashingWriter) sum() string { return hex.EncodeToString(h.hash.Sum(nil)) }

// matches tells whether what went through is the manifest's file.
func (h *hashingWriter) matches(f ManifestFile) error {
	if h.size != f.Size || h.sum() != f.SHA256 {
		return refuse(ErrCorrupted, "%s in the backup is corrupted: %d bytes of SHA-256 %s, the manifest says %d bytes of %s",
			f.Name, h.size, h.sum(), f.Size, f.SHA256)
	}
	return nil
}
