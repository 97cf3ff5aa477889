package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost settings. The defaults are OWASP's first
// recommendation for argon2id: 19 MiB of memory, 2 passes, 1 lane (about
// 25-30 ms a hash on this project's machine).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams are used for new hashes; stored hashes keep their own.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Hasher hashes and verifies passwords, running at most a fixed number of
// hashes at once: each takes Params.Memory of RAM, so concurrency is what
// bounds memory under a burst of sign-ins.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// NewHasher returns a hasher running at most concurrency hashes at a time.
func NewHasher(params Params, concurrency int) *Hasher {
	return &Hasher{params: params, slots: make(chan struct{}, max(1, concurrency))}
}

// Hash returns the PHC string of pw: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := h.derive(ctx, pw, salt, h.params)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify tells whether pw matches the stored hash, comparing in constant
// time. A malformed hash is an error, never a match.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	params, salt, want, err := decode(encoded, min(minMemory, h.params.Memory))
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, pw, salt, params)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (h *Hasher) derive(ctx context.Context, pw string, salt []byte, p Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32), nil
}

var errMalformed = errors.New("password: malformed argon2id hash")

// minMemory is the least memory a stored hash may claim: a weaker one is
// taken for malformed, not verified. A hasher made with less (tests, which
// trade the cost away) accepts what it makes itself.
const minMemory = 8 * 1024

func decode(encoded string, floor uint32) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Params{}, nil, nil, errMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory < floor || p.Memory > 1<<20 || p.Time < 1 || p.Time > 10 || p.Threads < 1 {
		return Params{}, nil, nil, errMalformed
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return Params{}, nil, nil, errMalformed
	}
	return p, salt, key, nil
}
