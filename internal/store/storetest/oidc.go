package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// runOIDC holds the store to the OpenID Provider's contract: the
// back-channel logouts its revocations queue, and its purge.
func runOIDC(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("OIDCRevocationsQueueBackchannelLogouts", func(t *testing.T) { testOIDCBackchannelLogouts(t, open(t)) })
	t.Run("OIDCPurgeKeepsWhatLives", func(t *testing.T) { testOIDCPurge(t, open(t)) })
}

func oidcClient(t testing.TB, s *store.DB, name, logoutURI string) gatehouse.OIDCClient {
	t.Helper()
	c := gatehouse.OIDCClient{ID: newID(), Name: name, RedirectURIs: []string{"https://app.example.com/callback"},
		BackchannelLogoutURI: logoutURI, PostLogoutRedirectURIs: []string{"https://app.example.com/bye", "https://app.example.com/again"},
		CreatedBy: "operator", CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error { return tx.InsertOIDCClient(context.Background(), c) })
	return c
}

// oidcSignIn gives a person a sign-in to an application, as the code flow
// does: an access token and a refresh token of one family, with scopes.
func oidcSignIn(t testing.TB, s *store.DB, c gatehouse.OIDCClient, userID string, scopes ...string) (family string, access, refresh gatehouse.OIDCToken) {
	t.Helper()
	family = newID()
	access = gatehouse.OIDCToken{ID: newID(), Kind: gatehouse.OIDCAccessToken, FamilyID: family, ClientID: c.ID, UserID: userID,
		Scopes: append([]string{"openid"}, scopes...), AMR: []string{"pwd"}, AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute)}
	refresh = access
	refresh.ID, refresh.Kind, refresh.Hash, refresh.ExpiresAt = newID(), gatehouse.OIDCRefreshToken, []byte(newID()), t0.Add(30*24*time.Hour)
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.InsertOIDCToken(context.Background(), access); err != nil {
			return err
		}
		return tx.InsertOIDCToken(context.Background(), refresh)
	})
	return family, access, refresh
}

// logoutsQueued delivers the outbox and returns the back-channel logouts
// it held, as "uri client person", sorted.
func logoutsQueued(t testing.TB, s *store.DB) []string {
	t.Helper()
	var out []string
	claimed, err := s.ClaimMessages(context.Background(), "test", t0.Add(time.Hour), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range claimed {
		if m.Channel != gatehouse.ChannelBackchannelLogout {
			t.Errorf("a message on channel %q: %+v", m.Channel, m)
			continue
		}
		var body gatehouse.BackchannelLogout
		if err := json.Unmarshal([]byte(m.Body), &body); err != nil || m.MessageID == "" {
			t.Errorf("a back-channel logout's body %q, message id %q: %v", m.Body, m.MessageID, err)
		}
		out = append(out, m.To+" "+body.ClientID+" "+body.Subject)
	}
	ids := make([]string, len(claimed))
	for i, m := range claimed {
		ids[i] = m.ID
	}
	if err := s.MarkMessagesSent(context.Background(), ids, "test", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// Every revocation that ends a person's sign-in to an application queues,
// in its transaction, one back-channel logout per application with a
// back-channel logout URI and person whose live tokens it revoked, however
// many tokens that was; an application without one is told nothing, a
// single access token revoked ends no sign-in, and revoking again what is
// revoked queues nothing.
func testOIDCBackchannelLogouts(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Acme")
	lyon, paris := client(in.ID, "Lyon"), client(in.ID, "Paris")
	insertAccounts(t, s, in, lyon, paris)
	ann := member(t, s, lyon, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	bob := member(t, s, lyon, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	wall := oidcClient(t, s, "Video wall", "https://wall.example.com/logout")
	mail := oidcClient(t, s, "Mailer", "")
	want := func(event string, got []string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s queued %q, want %q", event, got, want)
		}
	}
	wallLogout := func(u gatehouse.User) string { return "https://wall.example.com/logout " + wall.ID + " " + u.ID }

	// Ann signed in twice to the wall (two families) and once to the
	// mailer; her sessions end: the wall hears once, the mailer nothing.
	oidcSignIn(t, s, wall, ann.ID, "account:"+lyon.ID)
	oidcSignIn(t, s, wall, ann.ID)
	oidcSignIn(t, s, mail, ann.ID)
	oidcSignIn(t, s, wall, bob.ID)
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeOIDCTokensOf(ctx, ann.ID, t0.Add(time.Minute)) })
	want("a person's sessions ended", logoutsQueued(t, s), wallLogout(ann))
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeOIDCTokensOf(ctx, ann.ID, t0.Add(2*time.Minute)) })
	want("the same revocation again", logoutsQueued(t, s))

	// An account's tokens, everyone's: Ann and Bob in Lyon. Bob's sign-in
	// without the account lives on.
	oidcSignIn(t, s, wall, ann.ID, "account:"+lyon.ID)
	oidcSignIn(t, s, wall, bob.ID, "account:"+lyon.ID)
	oidcSignIn(t, s, wall, bob.ID, "account:"+paris.ID)
	write(t, s, func(tx *store.WriteTx) error {
		return tx.RevokeOIDCAccountTokens(ctx, lyon.ID, "", t0.Add(3*time.Minute))
	})
	want("an account suspended", logoutsQueued(t, s), wallLogout(ann), wallLogout(bob))
	write(t, s, func(tx *store.WriteTx) error {
		return tx.RevokeOIDCAccountTokens(ctx, lyon.ID, "", t0.Add(4*time.Minute))
	})
	want("the account suspended again", logoutsQueued(t, s))
	// One member removed from an account.
	write(t, s, func(tx *store.WriteTx) error {
		return tx.RevokeOIDCAccountTokens(ctx, paris.ID, bob.ID, t0.Add(5*time.Minute))
	})
	want("a member removed", logoutsQueued(t, s), wallLogout(bob))

	// One sign-in (a refresh token reused, or revoked by its client), and
	// one application disconnected.
	family, access, _ := oidcSignIn(t, s, wall, ann.ID)
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeOIDCToken(ctx, access.ID, t0.Add(6*time.Minute)) })
	want("an access token revoked", logoutsQueued(t, s))
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeOIDCFamily(ctx, family, t0.Add(7*time.Minute)) })
	want("a sign-in revoked", logoutsQueued(t, s), wallLogout(ann))
	write(t, s, func(tx *store.WriteTx) error { return tx.RevokeOIDCFamily(ctx, family, t0.Add(8*time.Minute)) })
	want("the sign-in revoked again", logoutsQueued(t, s))
	oidcSignIn(t, s, wall, ann.ID)
	oidcSignIn(t, s, mail, ann.ID)
	write(t, s, func(tx *store.WriteTx) error {
		return tx.RevokeOIDCClientTokensOf(ctx, ann.ID, mail.ID, t0.Add(9*time.Minute))
	})
	want("an application without a back-channel logout URI disconnected", logoutsQueued(t, s))
	write(t, s, func(tx *store.WriteTx) error {
		return tx.RevokeOIDCClientTokensOf(ctx, ann.ID, wall.ID, t0.Add(10*time.Minute))
	})
	want("an application disconnected", logoutsQueued(t, s), wallLogout(ann))

	// A revocation that fails takes its logouts with it.
	oidcSignIn(t, s, wall, bob.ID)
	err := s.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.RevokeOIDCTokensOf(ctx, bob.ID, t0.Add(11*time.Minute)); err != nil {
			return err
		}
		return gatehouse.Invalid("", "changed my mind")
	})
	if err == nil {
		t.Fatal("the failed write succeeded")
	}
	want("a revocation rolled back", logoutsQueued(t, s))

	// The client's columns read back.
	got, err := s.OIDCClient(ctx, wall.ID)
	if err != nil || got.BackchannelLogoutURI != wall.BackchannelLogoutURI || !slices.Equal(got.PostLogoutRedirectURIs, wall.PostLogoutRedirectURIs) {
		t.Errorf("the client read back: %+v %v", got, err)
	}
}

// The purge deletes the authorization requests, device codes and tokens
// expired for over a day, and revoked tokens once expired; what lives, or
// expired within the day (a code or a refresh token presented again is
// still known as used), stays.
func testOIDCPurge(t *testing.T, s *store.DB) {
	ctx := context.Background()
	in := integrator("Acme")
	lyon := client(in.ID, "Lyon")
	insertAccounts(t, s, in, lyon)
	ann := member(t, s, lyon, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	wall := oidcClient(t, s, "Video wall", "")
	now := t0.Add(90 * 24 * time.Hour)

	requests := map[string]time.Time{"long expired": now.Add(-25 * time.Hour), "expired within the day": now.Add(-time.Hour),
		"live": now.Add(5 * time.Minute)}
	requestIDs := map[string]string{}
	codes := map[string]time.Time{"long expired": now.Add(-48 * time.Hour), "expired within the day": now.Add(-23 * time.Hour),
		"live": now.Add(5 * time.Minute)}
	codeHashes := map[string][]byte{}
	type token struct {
		expires time.Time
		revoked bool
	}
	tokens := map[string]token{"long expired": {now.Add(-25 * time.Hour), false}, "expired within the day": {now.Add(-time.Hour), false},
		"revoked and expired": {now.Add(-time.Minute), true}, "revoked, not expired": {now.Add(time.Hour), true},
		"live": {now.Add(time.Hour), false}}
	tokenIDs := map[string]string{}
	write(t, s, func(tx *store.WriteTx) error {
		for what, expires := range requests {
			requestIDs[what] = newID()
			if err := tx.InsertOIDCAuthRequest(ctx, gatehouse.OIDCAuthRequest{ID: requestIDs[what], ClientID: wall.ID,
				RedirectURI: "https://app.example.com/callback", Scopes: []string{"openid"}, ResponseType: "code",
				CreatedAt: expires.Add(-10 * time.Minute), ExpiresAt: expires}); err != nil {
				return err
			}
		}
		for what, expires := range codes {
			codeHashes[what] = []byte(newID())
			if err := tx.InsertOIDCDeviceCode(ctx, gatehouse.OIDCDeviceCode{ID: newID(), ClientID: wall.ID, DeviceCodeHash: codeHashes[what],
				UserCode: strings.ToUpper(newID()[27:]), Scopes: []string{"openid"}, CreatedAt: expires.Add(-10 * time.Minute), ExpiresAt: expires}); err != nil {
				return err
			}
		}
		for what, tok := range tokens {
			tokenIDs[what] = newID()
			if err := tx.InsertOIDCToken(ctx, gatehouse.OIDCToken{ID: tokenIDs[what], Kind: gatehouse.OIDCRefreshToken, FamilyID: newID(),
				ClientID: wall.ID, UserID: ann.ID, Hash: []byte(newID()), Scopes: []string{"openid"}, AuthTime: t0, CreatedAt: t0,
				ExpiresAt: tok.expires}); err != nil {
				return err
			}
			if tok.revoked {
				if err := tx.RevokeOIDCToken(ctx, tokenIDs[what], now.Add(-2*time.Hour)); err != nil {
					return err
				}
			}
		}
		return nil
	})

	var purged gatehouse.OIDCPurged
	write(t, s, func(tx *store.WriteTx) error {
		var err error
		purged, err = tx.PurgeOIDC(ctx, now)
		return err
	})
	if want := (gatehouse.OIDCPurged{AuthRequests: 1, DeviceCodes: 1, Tokens: 2}); purged != want {
		t.Errorf("purged %+v, want %+v", purged, want)
	}
	for what := range requests {
		_, err := s.OIDCAuthRequest(ctx, requestIDs[what], t0) // read as if before it expired
		if kept := err == nil; kept != (what != "long expired") {
			t.Errorf("the authorization request %s: kept %v (%v)", what, kept, err)
		}
	}
	for what := range codes {
		_, err := s.OIDCDeviceCode(ctx, codeHashes[what])
		if kept := err == nil; kept != (what != "long expired") {
			t.Errorf("the device code %s: kept %v (%v)", what, kept, err)
		}
	}
	for what := range tokens {
		_, err := s.OIDCToken(ctx, tokenIDs[what])
		gone := what == "long expired" || what == "revoked and expired"
		if kept := err == nil; kept == gone {
			t.Errorf("the token %s: kept %v (%v)", what, kept, err)
		}
	}
	// Nothing more to purge.
	write(t, s, func(tx *store.WriteTx) error {
		var err error
		purged, err = tx.PurgeOIDC(ctx, now)
		return err
	})
	if purged != (gatehouse.OIDCPurged{}) {
		t.Errorf("a second purge removed %+v", purged)
	}
}
