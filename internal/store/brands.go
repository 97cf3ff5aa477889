package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Brand reads a brand with its message overrides; ENOTFOUND when the
// owner set none.
func (r reader) Brand(ctx context.Context, ownerID string) (gatehouse.Brand, error) {
	return r.brandWhere(ctx, `owner_id = $1`, ownerID)
}

// BrandsOver reads, in one query, the brands an account's people see: the
// platform's default and its integrator's (the account's own for an
// integrator), each when set, the default first; ENOTFOUND for an unknown
// account. Every message an account's change causes is drawn with them, so
// the three reads this takes apart (two brands and the account) were a tenth
// of the round trips of adding a person on PostgreSQL.
func (r reader) BrandsOver(ctx context.Context, accountID string) ([]gatehouse.Brand, error) {
	var (
		brands []gatehouse.Brand
		found  bool
	)
	// Without a brand, the join gives one row of NULLs: the account exists.
	err := r.each(ctx, `SELECT b.owner_id, COALESCE(b.product_name, ''), COALESCE(b.primary_colour, ''), COALESCE(b.accent_colour, ''),
			COALESCE(b.support_email, ''), COALESCE(b.support_phone, ''), COALESCE(b.sender_name, ''), COALESCE(b.sender_address, ''),
			b.host, COALESCE(b.logo_file, ''), b.updated_at
		FROM accounts a LEFT JOIN brands b
			ON b.owner_id IN ('', CASE WHEN a.kind = 'integrator' THEN a.id ELSE a.integrator_id END)
		WHERE a.id = $1 ORDER BY b.owner_id`, []any{accountID}, func(rows *sql.Rows) error {
		found = true
		var (
			b         gatehouse.Brand
			owner     sql.NullString
			host      sql.NullString
			updatedAt sql.NullInt64
		)
		if err := rows.Scan(&owner, &b.ProductName, &b.PrimaryColour, &b.AccentColour, &b.SupportEmail, &b.SupportPhone,
			&b.SenderName, &b.SenderAddress, &host, &b.LogoFile, &updatedAt); err != nil {
			return err
		}
		if owner.Valid {
			b.OwnerID, b.Host, b.UpdatedAt = owner.String, host.String, fromMicros(updatedAt.Int64)
			brands = append(brands, b)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	if !found {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "not found")
	}
	for i := range brands {
		if err := r.brandMessages(ctx, &brands[i]); err != nil {
			return nil, err
		}
	}
	return brands, nil
}

// PageBrands reads, in one query and without their message overrides, the
// brands a page may wear: the platform's default, the brand that answers on
// host (none for ""), and the brand of accountID's integrator (the account's
// own for an integrator; none for "" or an unknown account), each once and
// when set. accountBrand names the owner of the last, "" for none. A portal
// page read them in four queries; at a few tens of microseconds each on
// SQLite, that was a tenth of a light page.
func (r reader) PageBrands(ctx context.Context, host, accountID string) (brands []gatehouse.Brand, accountBrand string, err error) {
	err = r.each(ctx, `WITH account_brand(owner_id) AS (
			SELECT CASE WHEN kind = 'integrator' THEN id ELSE integrator_id END FROM accounts WHERE id = $2)
		SELECT b.owner_id, b.product_name, b.primary_colour, b.accent_colour, b.support_email, b.support_phone,
			b.sender_name, b.sender_address, b.host, b.logo_file, b.updated_at,
			CASE WHEN b.owner_id IN (SELECT owner_id FROM account_brand) THEN 1 ELSE 0 END
		FROM brands b
		WHERE b.owner_id = '' OR ($1 <> '' AND b.host = $1) OR b.owner_id IN (SELECT owner_id FROM account_brand)
		ORDER BY b.owner_id`, []any{host, accountID}, func(rows *sql.Rows) error {
		var (
			b         gatehouse.Brand
			hostName  sql.NullString
			updatedAt int64
			ofAccount int
		)
		if err := rows.Scan(&b.OwnerID, &b.ProductName, &b.PrimaryColour, &b.AccentColour, &b.SupportEmail, &b.SupportPhone,
			&b.SenderName, &b.SenderAddress, &hostName, &b.LogoFile, &updatedAt, &ofAccount); err != nil {
			return err
		}
		b.Host, b.UpdatedAt = hostName.String, fromMicros(updatedAt)
		if ofAccount == 1 {
			accountBrand = b.OwnerID
		}
		brands = append(brands, b)
		return nil
	})
	if err != nil {
		return nil, "", mapErr(err)
	}
	return brands, accountBrand, nil
}

func (r reader) brandWhere(ctx context.Context, where string, arg string) (gatehouse.Brand, error) {
	var (
		b         gatehouse.Brand
		host      sql.NullString
		updatedAt int64
	)
	err := r.q.QueryRowContext(ctx, `SELECT owner_id, product_name, primary_colour, accent_colour, support_email, support_phone,
		sender_name, sender_address, host, logo_file, updated_at FROM brands WHERE `+where, arg).Scan(
		&b.OwnerID, &b.ProductName, &b.PrimaryColour, &b.AccentColour, &b.SupportEmail, &b.SupportPhone,
		&b.SenderName, &b.SenderAddress, &host, &b.LogoFile, &updatedAt)
	if err != nil {
		return gatehouse.Brand{}, mapErr(err)
	}
	b.Host, b.UpdatedAt = host.String, fromMicros(updatedAt)
	err = r.brandMessages(ctx, &b)
	return b, err
}

// brandMessages reads a brand's message overrides into it.
func (r reader) brandMessages(ctx context.Context, b *gatehouse.Brand) error {
	return r.each(ctx, `SELECT kind, language, subject, intro FROM brand_messages WHERE owner_id = $1 ORDER BY kind, language`,
		[]any{b.OwnerID}, func(rows *sql.Rows) error {
			var m gatehouse.BrandMessage
			if err := rows.Scan(&m.Kind, &m.Language, &m.Subject, &m.Intro); err != nil {
				return err
			}
			b.Messages = append(b.Messages, m)
			return nil
		})
}

// BrandLogo reads a logo by its file name; ENOTFOUND for an unknown one.
func (r reader) BrandLogo(ctx context.Context, file string) (gatehouse.BrandLogo, error) {
	l := gatehouse.BrandLogo{File: file}
	err := r.q.QueryRowContext(ctx, `SELECT content_type, data FROM brand_logos WHERE file = $1`, file).Scan(&l.ContentType, &l.Data)
	return l, mapErr(err)
}

// SaveBrand writes a brand and replaces its message overrides; ECONFLICT
// (field "host") when another brand answers on its host.
func (t *tx) SaveBrand(ctx context.Context, b gatehouse.Brand) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO brands (owner_id, product_name, primary_colour, accent_colour, support_email, support_phone,
			sender_name, sender_address, host, logo_file, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (owner_id) DO UPDATE SET product_name = excluded.product_name, primary_colour = excluded.primary_colour,
			accent_colour = excluded.accent_colour, support_email = excluded.support_email, support_phone = excluded.support_phone,
			sender_name = excluded.sender_name, sender_address = excluded.sender_address, host = excluded.host,
			logo_file = excluded.logo_file, updated_at = excluded.updated_at`,
		b.OwnerID, b.ProductName, b.PrimaryColour, b.AccentColour, b.SupportEmail, b.SupportPhone,
		b.SenderName, b.SenderAddress, nullString(b.Host), b.LogoFile, micros(b.UpdatedAt))
	if err != nil {
		err = mapErr(err)
		if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "another brand answers on " + b.Host + " already", Field: "host"}
		}
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM brand_messages WHERE owner_id = $1`, b.OwnerID); err != nil {
		return mapErr(err)
	}
	for _, m := range b.Messages {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO brand_messages (owner_id, kind, language, subject, intro) VALUES ($1, $2, $3, $4, $5)`,
			b.OwnerID, m.Kind, m.Language, m.Subject, m.Intro); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// SaveBrandLogo stores a logo under its content's address; storing the
// same bytes again changes nothing.
func (t *tx) SaveBrandLogo(ctx context.Context, l gatehouse.BrandLogo, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO brand_logos (file, content_type, data, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (file) DO NOTHING`, l.File, l.ContentType, l.Data, micros(now))
	return mapErr(err)
}
