package branding

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as the branding context sees it. Every method returns
// ENOTFOUND for a missing row and ECONFLICT for a broken uniqueness rule
// (a host name another brand answers on). internal/store implements them on
// SQLite and PostgreSQL.

// Reader is what the branding context reads.
type Reader interface {
	kernel.Reader
	// PageBrands are, in one read and without their message overrides,
	// the default brand, host's and accountID's integrator's, each when
	// set; accountBrand names the owner of the last ("" for none).
	PageBrands(ctx context.Context, host, accountID string) (brands []gatehouse.Brand, accountBrand string, err error)
	// BrandLogo is a logo by its file name (its content's SHA-256).
	BrandLogo(ctx context.Context, file string) (gatehouse.BrandLogo, error)
}

// Tx is the transaction the branding context writes in.
type Tx interface {
	Reader
	kernel.Writer
	// SaveBrand writes a brand and replaces its message overrides.
	SaveBrand(ctx context.Context, b gatehouse.Brand) error
	// SaveBrandLogo stores a logo under its content's address.
	SaveBrandLogo(ctx context.Context, l gatehouse.BrandLogo, now time.Time) error
}

// Store is the store as the branding context sees it.
type Store interface {
	Reader
	Write(ctx context.Context, fn func(Tx) error) error
}
