package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// runBrands holds the store to the branding context's contract: a brand
// read back with its overrides, none for an owner who set none, found by
// its host, a host held by one brand alone, logos stored once by their
// content's address, and a branded message's HTML and sender kept in the
// outbox until it is sent.
func runBrands(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("Brands", func(t *testing.T) { testBrands(t, open(t)) })
	t.Run("BrandedMessages", func(t *testing.T) { testBrandedMessages(t, open(t)) })
}

func testBrands(t *testing.T, s *store.DB) {
	ctx := context.Background()
	i1, i2 := integrator("I1"), integrator("I2")
	insertAccounts(t, s, i1, i2)
	if _, err := s.Brand(ctx, i1.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("a brand nobody set: %v", err)
	}
	if set, err := s.BrandsOver(ctx, i1.ID); err != nil || len(set) != 0 {
		t.Fatalf("brands over an account when none is set: %+v %v", set, err)
	}
	b := gatehouse.Brand{OwnerID: i1.ID, ProductName: "Acme Vision", PrimaryColour: "#7a1f5c", AccentColour: "#1d3b2a",
		SupportEmail: "help@acme.example", SupportPhone: "+33 1", SenderName: "Acme", SenderAddress: "no-reply@acme.example",
		Host: "portal.acme.example", LogoFile: "x.png", UpdatedAt: t0,
		Messages: []gatehouse.BrandMessage{{Kind: "activation", Language: "fr", Subject: "Bonjour", Intro: "Intro"}}}
	write(t, s, func(tx *store.WriteTx) error { return tx.SaveBrand(ctx, b) })
	got, err := s.Brand(ctx, i1.ID)
	if err != nil || got.ProductName != b.ProductName || got.Host != b.Host || got.LogoFile != "x.png" || !got.UpdatedAt.Equal(t0) ||
		len(got.Messages) != 1 || got.Messages[0] != b.Messages[0] {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if set, _, err := s.PageBrands(ctx, "portal.acme.example", ""); err != nil || len(set) != 1 || set[0].OwnerID != i1.ID {
		t.Errorf("by host: %+v %v", set, err)
	}
	// Another integrator cannot take the host; without one, any number
	// of brands coexist.
	other := gatehouse.Brand{OwnerID: i2.ID, ProductName: "Beta", Host: "portal.acme.example", UpdatedAt: t0}
	if err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.SaveBrand(ctx, other) }); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("a second brand on the host: %v", err)
	}
	other.Host = ""
	write(t, s, func(tx *store.WriteTx) error { return tx.SaveBrand(ctx, other) })
	write(t, s, func(tx *store.WriteTx) error {
		return tx.SaveBrand(ctx, gatehouse.Brand{ProductName: "Platform", UpdatedAt: t0})
	})
	// Saving again replaces the fields and the overrides.
	b.Messages, b.Host = nil, "acme.example"
	write(t, s, func(tx *store.WriteTx) error { return tx.SaveBrand(ctx, b) })
	if got, _ := s.Brand(ctx, i1.ID); len(got.Messages) != 0 || got.Host != "acme.example" {
		t.Errorf("saved again: %+v", got)
	}
	if set, _, err := s.PageBrands(ctx, "portal.acme.example", ""); err != nil || len(set) != 1 || set[0].OwnerID != "" {
		t.Errorf("the old host still answers: %+v %v", set, err)
	}
	// An account's people see the platform's brand, then their
	// integrator's, read together; never another integrator's.
	c1 := client(i1.ID, "C1")
	insertAccounts(t, s, c1)
	b.Messages = []gatehouse.BrandMessage{{Kind: "activation", Language: "en", Subject: "Hi", Intro: "Welcome"}}
	write(t, s, func(tx *store.WriteTx) error { return tx.SaveBrand(ctx, b) })
	for _, id := range []string{c1.ID, i1.ID} {
		set, err := s.BrandsOver(ctx, id)
		if err != nil || len(set) != 2 || set[0].OwnerID != "" || set[0].ProductName != "Platform" ||
			set[1].OwnerID != i1.ID || set[1].Host != "acme.example" || len(set[1].Messages) != 1 || set[1].Messages[0].Subject != "Hi" {
			t.Errorf("brands over %s: %+v %v", id, set, err)
		}
	}
	if set, err := s.BrandsOver(ctx, i2.ID); err != nil || len(set) != 2 || set[1].OwnerID != i2.ID || set[1].ProductName != "Beta" {
		t.Errorf("brands over the other integrator: %+v %v", set, err)
	}
	if _, err := s.BrandsOver(ctx, "no-such-account"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("brands over an unknown account: %v", err)
	}
	// A page's brands come in one read, without overrides: the default,
	// the host's, the account's integrator's, each once.
	c2 := client(i2.ID, "C2")
	insertAccounts(t, s, c2)
	owners := func(set []gatehouse.Brand) (ids []string) {
		for _, b := range set {
			ids = append(ids, b.OwnerID)
			if len(b.Messages) != 0 {
				t.Errorf("a page's brand read with its overrides: %+v", b)
			}
		}
		return ids
	}
	for _, c := range []struct {
		host, account, want, accountBrand string
	}{
		{"acme.example", c1.ID, "," + i1.ID, i1.ID},
		{"", c1.ID, "," + i1.ID, i1.ID},
		{"", i1.ID, "," + i1.ID, i1.ID},
		{"acme.example", c2.ID, "," + i1.ID + "," + i2.ID, i2.ID},
		{"gatehouse.example", "", "", ""},
		{"", "no-such-account", "", ""},
	} {
		set, accountBrand, err := s.PageBrands(ctx, c.host, c.account)
		if got := strings.Join(owners(set), ","); err != nil || got != c.want || accountBrand != c.accountBrand {
			t.Errorf("page brands on %q for %q: %q, account's %q (%v); want %q, %q", c.host, c.account, got, accountBrand, err,
				c.want, c.accountBrand)
		}
	}
	logo := gatehouse.BrandLogo{File: "ab.png", ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0}}
	for range 2 {
		write(t, s, func(tx *store.WriteTx) error { return tx.SaveBrandLogo(ctx, logo, t0) })
	}
	if got, err := s.BrandLogo(ctx, "ab.png"); err != nil || !bytes.Equal(got.Data, logo.Data) || got.ContentType != "image/png" {
		t.Errorf("logo: %+v %v", got, err)
	}
}

func testBrandedMessages(t *testing.T, s *store.DB) {
	ctx := context.Background()
	m := gatehouse.Message{ID: newID(), MessageID: newID() + "@example.com", To: "zoe@example.com", Subject: "S", Body: "text",
		HTMLLayout: `layout/1 {"lang":"en","kind":"activation","brand":{"ProductName":"Acme Vision"}}`, FromName: "Acme Vision", FromAddress: "no-reply@acme.example", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error { return tx.EnqueueMessage(ctx, m) })
	claimed, err := s.ClaimMessages(ctx, "n1", t0.Add(time.Minute), time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].HTMLLayout != m.HTMLLayout || claimed[0].FromName != m.FromName || claimed[0].FromAddress != m.FromAddress {
		t.Fatalf("claimed: %+v %v", claimed, err)
	}
}
