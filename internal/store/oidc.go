package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Gatehouse as the platform's OpenID Provider: signing keys, clients,
// authorization requests and tokens (internal/oidcprovider).

// OIDCSigningKeys lists the signing keys, the newest generation (the one
// that signs) first.
func (r reader) OIDCSigningKeys(ctx context.Context) ([]gatehouse.OIDCSigningKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, slot, algorithm, private_key, rsa_private_key, created_at FROM oidc_signing_keys
		ORDER BY slot DESC`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var keys []gatehouse.OIDCSigningKey
	for rows.Next() {
		var (
			k         gatehouse.OIDCSigningKey
			rsa       sql.NullString
			createdAt int64
		)
		if err := rows.Scan(&k.ID, &k.Generation, &k.Algorithm, &k.PrivateKey, &rsa, &createdAt); err != nil {
			return nil, mapErr(err)
		}
		k.CreatedAt, k.RSAPrivateKey = fromMicros(createdAt), rsa.String
		keys = append(keys, k)
	}
	return keys, mapErr(rows.Err())
}

// InsertOIDCSigningKey stores a key as generation k.Generation unless
// another node stored that generation first (slot is unique): the caller
// reads back whichever won, so nodes rotating at once make one key.
func (t *tx) InsertOIDCSigningKey(ctx context.Context, k gatehouse.OIDCSigningKey) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_signing_keys (id, slot, algorithm, private_key, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slot) DO NOTHING`, k.ID, k.Generation, k.Algorithm, k.PrivateKey, micros(k.CreatedAt))
	return mapErr(err)
}

// SetOIDCSigningKeyRSA gives a generation its RS256 key unless another
// node gave it one first: the caller reads back whichever won.
func (t *tx) SetOIDCSigningKeyRSA(ctx context.Context, id, sealed string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_signing_keys SET rsa_private_key = $2 WHERE id = $1 AND rsa_private_key IS NULL`, id, sealed)
	return mapErr(err)
}

// DeleteOIDCSigningKey drops a key that signs nothing still valid.
func (t *tx) DeleteOIDCSigningKey(ctx context.Context, id string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM oidc_signing_keys WHERE id = $1`, id)
	return mapErr(err)
}

const oidcClientColumns = `id, name, redirect_uris, confidential, secret_hash, created_by, created_at, service, account_id, device,
	signing_algorithm, owner_account_id, backchannel_logout_uri, post_logout_redirect_uris`

func scanOIDCClient(row scanner) (gatehouse.OIDCClient, error) {
	var (
		c                    gatehouse.OIDCClient
		uris, postLogoutURIs string
		createdAt            int64
		accountID, owner     sql.NullString
	)
	err := row.Scan(&c.ID, &c.Name, &uris, &c.Confidential, &c.SecretHash, &c.CreatedBy, &createdAt, &c.Service, &accountID, &c.Device,
		&c.SigningAlgorithm, &owner, &c.BackchannelLogoutURI, &postLogoutURIs)
	c.RedirectURIs, c.CreatedAt, c.AccountID = strings.Fields(uris), fromMicros(createdAt), accountID.String
	c.OwnerAccountID, c.PostLogoutRedirectURIs = owner.String, strings.Fields(postLogoutURIs)
	return c, err
}

// OIDCClient returns a live client, or ENOTFOUND.
func (r reader) OIDCClient(ctx context.Context, id string) (gatehouse.OIDCClient, error) {
	c, err := scanOIDCClient(r.q.QueryRowContext(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients WHERE id = $1 AND deleted_at IS NULL`, id))
	if err == sql.ErrNoRows {
		return c, gatehouse.NotFound("client")
	}
	return c, mapErr(err)
}

// OIDCClients lists the live clients, newest first.
func (r reader) OIDCClients(ctx context.Context) ([]gatehouse.OIDCClient, error) {
	var out []gatehouse.OIDCClient
	err := r.each(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients WHERE deleted_at IS NULL ORDER BY id DESC`, nil, func(rows *sql.Rows) error {
		c, err := scanOIDCClient(rows)
		out = append(out, c)
		return err
	})
	return out, err
}

func (t *tx) InsertOIDCClient(ctx context.Context, c gatehouse.OIDCClient) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_clients (`+oidcClientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.Name, strings.Join(c.RedirectURIs, "\n"), c.Confidential, c.SecretHash, c.CreatedBy, micros(c.CreatedAt), c.Service,
		nullString(c.AccountID), c.Device, cmp.Or(c.SigningAlgorithm, gatehouse.SigningES256), nullString(c.OwnerAccountID),
		c.BackchannelLogoutURI, strings.Join(c.PostLogoutRedirectURIs, "\n"))
	return mapErr(err)
}

// DeleteOIDCClient removes a live client and revokes every token it holds,
// or ENOTFOUND. The application is gone: it is told of no logout.
func (t *tx) DeleteOIDCClient(ctx context.Context, id string, now time.Time) error {
	if err := t.guarded(ctx, "client", `UPDATE oidc_clients SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`, id, micros(now)); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL`, id, micros(now))
	return mapErr(err)
}

const oidcAuthRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode, code_challenge,
	code_challenge_method, user_id, amr, auth_time, code_used_at, created_at, expires_at, acr_values`

func scanOIDCAuthRequest(row scanner) (gatehouse.OIDCAuthRequest, error) {
	var (
		a                    gatehouse.OIDCAuthRequest
		scopes, amr, acr     string
		userID               sql.NullString
		authTime, codeUsedAt sql.NullInt64
		createdAt, expiresAt int64
	)
	err := row.Scan(&a.ID, &a.ClientID, &a.RedirectURI, &scopes, &a.State, &a.Nonce, &a.ResponseType, &a.ResponseMode,
		&a.CodeChallenge, &a.CodeChallengeMethod, &userID, &amr, &authTime, &codeUsedAt, &createdAt, &expiresAt, &acr)
	a.Scopes, a.AMR, a.UserID, a.ACRValues = strings.Fields(scopes), strings.Fields(amr), userID.String, strings.Fields(acr)
	a.AuthTime, a.CodeUsedAt = fromNullMicros(authTime), fromNullMicros(codeUsedAt)
	a.CreatedAt, a.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
	return a, err
}

// OIDCAuthRequest returns an authorization request that has not expired at
// now, or ENOTFOUND.
func (r reader) OIDCAuthRequest(ctx context.Context, id string, now time.Time) (gatehouse.OIDCAuthRequest, error) {
	a, err := scanOIDCAuthRequest(r.q.QueryRowContext(ctx, `SELECT `+oidcAuthRequestColumns+` FROM oidc_auth_requests
		WHERE id = $1 AND expires_at > $2`, id, micros(now)))
	if err == sql.ErrNoRows {
		return a, gatehouse.NotFound("authorization request")
	}
	return a, mapErr(err)
}

// InsertOIDCAuthRequest stores a new authorization request (PurgeOIDC
// forgets it a day after it expired).
func (t *tx) InsertOIDCAuthRequest(ctx context.Context, a gatehouse.OIDCAuthRequest) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce, response_type,
		response_mode, code_challenge, code_challenge_method, created_at, expires_at, acr_values)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, a.ClientID, a.RedirectURI, strings.Join(a.Scopes, " "), a.State, a.Nonce, a.ResponseType, a.ResponseMode,
		a.CodeChallenge, a.CodeChallengeMethod, micros(a.CreatedAt), micros(a.ExpiresAt), strings.Join(a.ACRValues, " "))
	return mapErr(err)
}

// FinishOIDCAuthRequest records who signed in for a live, unfinished
// request, and its scopes (the account chosen replacing "account"), or
// ENOTFOUND.
func (t *tx) FinishOIDCAuthRequest(ctx context.Context, id, userID string, scopes, amr []string, authTime time.Time) error {
	return t.guarded(ctx, "authorization request", `UPDATE oidc_auth_requests SET user_id = $2, amr = $3, auth_time = $4, scopes = $5
		WHERE id = $1 AND user_id IS NULL AND expires_at > $4`, id, userID, strings.Join(amr, " "), micros(authTime), strings.Join(scopes, " "))
}

// SetOIDCAuthCode gives a finished request its code (as a hash).
func (t *tx) SetOIDCAuthCode(ctx context.Context, id string, codeHash []byte) error {
	return t.guarded(ctx, "authorization request", `UPDATE oidc_auth_requests SET code_hash = $2
		WHERE id = $1 AND user_id IS NOT NULL AND code_hash IS NULL`, id, codeHash)
}

// UseOIDCAuthCode marks the live, unused code with this hash used and
// returns its request with first set: one statement, so a code works once.
// A code used before returns its request with first unset (so that the
// caller revokes what it led to); ENOTFOUND is for a code nobody issued.
func (t *tx) UseOIDCAuthCode(ctx context.Context, codeHash []byte, now time.Time) (a gatehouse.OIDCAuthRequest, first bool, err error) {
	a, err = scanOIDCAuthRequest(t.q.QueryRowContext(ctx, `UPDATE oidc_auth_requests SET code_used_at = $2
		WHERE code_hash = $1 AND code_used_at IS NULL AND expires_at > $2 RETURNING `+oidcAuthRequestColumns, codeHash, micros(now)))
	if err != sql.ErrNoRows {
		return a, err == nil, mapErr(err)
	}
	a, err = scanOIDCAuthRequest(t.q.QueryRowContext(ctx, `SELECT `+oidcAuthRequestColumns+` FROM oidc_auth_requests
		WHERE code_hash = $1 AND code_used_at IS NOT NULL`, codeHash))
	if err == sql.ErrNoRows {
		return a, false, gatehouse.NotFound("authorization code")
	}
	return a, false, mapErr(err)
}

// DeleteOIDCAuthRequest forgets a request whose code was never issued; one
// whose code was used stays until the purge, a day after it expired, so
// that a second use of the code is recognised.
func (t *tx) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1 AND code_used_at IS NULL`, id)
	return mapErr(err)
}

const oidcTokenColumns = `id, kind, family_id, client_id, user_id, token_hash, scopes, amr, auth_time, created_at, expires_at, used_at, revoked_at`

func scanOIDCToken(row scanner) (gatehouse.OIDCToken, error) {
	var (
		tok                            gatehouse.OIDCToken
		scopes, amr                    string
		authTime, createdAt, expiresAt int64
		usedAt, revokedAt              sql.NullInt64
		userID                         sql.NullString
	)
	err := row.Scan(&tok.ID, &tok.Kind, &tok.FamilyID, &tok.ClientID, &userID, &tok.Hash, &scopes, &amr, &authTime,
		&createdAt, &expiresAt, &usedAt, &revokedAt)
	tok.Scopes, tok.AMR, tok.UserID = strings.Fields(scopes), strings.Fields(amr), userID.String
	tok.AuthTime, tok.CreatedAt, tok.ExpiresAt = fromMicros(authTime), fromMicros(createdAt), fromMicros(expiresAt)
	tok.UsedAt, tok.RevokedAt = fromNullMicros(usedAt), fromNullMicros(revokedAt)
	return tok, err
}

// OIDCToken returns a token by id, whatever its state, or ENOTFOUND.
func (r reader) OIDCToken(ctx context.Context, id string) (gatehouse.OIDCToken, error) {
	tok, err := scanOIDCToken(r.q.QueryRowContext(ctx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return tok, gatehouse.NotFound("token")
	}
	return tok, mapErr(err)
}

// The two forms of OIDCTokenHolder's query, built once.
var (
	oidcTokenHolderQuery = `SELECT t.id, t.kind, t.client_id, t.user_id, t.scopes, t.auth_time, t.created_at, t.expires_at, t.revoked_at,
		COALESCE(u.username, ''), COALESCE(u.first_name, ''), COALESCE(u.last_name, ''),
		c.deleted_at IS NULL, c.service, c.account_id, asking.secret_hash, COALESCE(asking.owner_account_id, '')`
	oidcTokenHolderFrom = ` FROM oidc_tokens t JOIN oidc_clients c ON c.id = t.client_id LEFT JOIN users u ON u.id = t.user_id
		LEFT JOIN oidc_clients asking ON asking.id = $2 AND asking.deleted_at IS NULL AND asking.confidential`

	oidcTokenQuery = oidcTokenHolderQuery + oidcTokenHolderFrom + ` WHERE t.id = $1`
	// With an account: the fields of it that the claims and the policy's
	// decision read (kernel.DecideOn: kind, status, its integrator's status,
	// whether its administrators may add remote monitoring), and the
	// person's levels in it and in its integrator.
	oidcTokenAccountQuery = oidcTokenHolderQuery + `, a.id, a.kind, a.name, a.integrator_id, a.status,
		a.client_admins_can_add_remote_monitoring, COALESCE(i.status, ''), ` + levelOfTokenHolderIn("a.id") + `, ` +
		levelOfTokenHolderIn("a.integrator_id") + oidcTokenHolderFrom + ` JOIN accounts a ON a.id = $3
		LEFT JOIN accounts i ON i.id = a.integrator_id WHERE t.id = $1`
)

func levelOfTokenHolderIn(account string) string {
	return `(SELECT m.level FROM memberships m WHERE m.user_id = t.user_id AND m.account_id = ` + account +
		` AND ` + heldAt("m", "$4") + `)`
}

// OIDCTokenHolder reads an access token with whom it was given to: the
// person's names, the token's application, and, when accountID is not
// empty, that account with the person's levels in it and in its integrator
// held at now; and the secret hash and owning integrator of askingClientID
// when it is a live confidential client. One query: introspection is the provider's busiest
// read. The token's family, hash, amr and use are left out, and of the
// account what neither the claims nor the policy read. ENOTFOUND when the
// token, or the account asked about, does not exist.
func (r reader) OIDCTokenHolder(ctx context.Context, tokenID, accountID, askingClientID string, now time.Time) (gatehouse.OIDCTokenHolder, error) {
	var (
		h                              gatehouse.OIDCTokenHolder
		tok                            = &h.Token
		scopes                         string
		authTime, createdAt, expiresAt int64
		userID, clientAccountID        sql.NullString
		revokedAt                      sql.NullInt64
	)
	fields := []any{&tok.ID, &tok.Kind, &tok.ClientID, &userID, &scopes, &authTime, &createdAt, &expiresAt, &revokedAt,
		&h.Username, &h.FirstName, &h.LastName, &h.ClientLive, &h.ClientService, &clientAccountID, &h.AskingClientSecretHash, &h.AskingClientOwnerID}
	var err error
	if accountID == "" {
		err = r.q.QueryRowContext(ctx, oidcTokenQuery, tokenID, askingClientID).Scan(fields...)
	} else {
		var (
			a                      = &h.Account
			integratorID           sql.NullString
			level, integratorLevel sql.NullString
		)
		fields = append(fields, &a.ID, &a.Kind, &a.Name, &integratorID, &a.Status, &a.Settings.ClientAdminsCanAddRemoteMonitoring,
			&a.IntegratorStatus, &level, &integratorLevel)
		err = r.q.QueryRowContext(ctx, oidcTokenAccountQuery, tokenID, askingClientID, accountID, micros(now)).Scan(fields...)
		a.IntegratorID = integratorID.String
		h.Access = gatehouse.Access{Level: gatehouse.Level(level.String), IntegratorLevel: gatehouse.Level(integratorLevel.String)}
	}
	if err == sql.ErrNoRows {
		return h, gatehouse.NotFound("token")
	}
	if err != nil {
		return h, mapErr(err)
	}
	tok.UserID, tok.Scopes = userID.String, strings.Fields(scopes)
	tok.AuthTime, tok.CreatedAt, tok.ExpiresAt, tok.RevokedAt = fromMicros(authTime), fromMicros(createdAt), fromMicros(expiresAt), fromNullMicros(revokedAt)
	h.ClientAccountID = clientAccountID.String
	return h, nil
}

// OIDCRefreshToken returns a refresh token by its hash, whatever its
// state, or ENOTFOUND.
func (r reader) OIDCRefreshToken(ctx context.Context, hash []byte) (gatehouse.OIDCToken, error) {
	tok, err := scanOIDCToken(r.q.QueryRowContext(ctx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens
		WHERE token_hash = $1 AND kind = 'refresh'`, hash))
	if err == sql.ErrNoRows {
		return tok, gatehouse.NotFound("token")
	}
	return tok, mapErr(err)
}

func (t *tx) InsertOIDCToken(ctx context.Context, tok gatehouse.OIDCToken) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_tokens (id, kind, family_id, client_id, user_id, token_hash, scopes, amr,
		auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		tok.ID, tok.Kind, tok.FamilyID, tok.ClientID, nullString(tok.UserID), tok.Hash, strings.Join(tok.Scopes, " "), strings.Join(tok.AMR, " "),
		micros(tok.AuthTime), micros(tok.CreatedAt), micros(tok.ExpiresAt))
	return mapErr(err)
}

// UseOIDCRefreshToken marks a live, unused refresh token used, or
// ENOTFOUND: one statement, so of two nodes rotating it at once one wins.
func (t *tx) UseOIDCRefreshToken(ctx context.Context, id string, now time.Time) error {
	return t.guarded(ctx, "token", `UPDATE oidc_tokens SET used_at = $2
		WHERE id = $1 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, id, micros(now))
}

// RevokeOIDCToken revokes one access token. The sign-in it came from goes
// on (its refresh token lives): the application is told of no logout.
func (t *tx) RevokeOIDCToken(ctx context.Context, id string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(now))
	return mapErr(err)
}

// RevokeOIDCFamily revokes every token descended from one authorization,
// and queues the application's back-channel logout (see revokeOIDCTokens).
func (t *tx) RevokeOIDCFamily(ctx context.Context, familyID string, now time.Time) error {
	return t.revokeOIDCTokens(ctx, now, `UPDATE oidc_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
		familyID, micros(now))
}

// revokeOIDCTokens runs update, an UPDATE of oidc_tokens that revokes the
// live tokens of a sign-in's end (its WHERE keeps revoked_at IS NULL), and
// queues in the same transaction, through the outbox, one back-channel
// logout for each application with a back-channel logout URI and each
// person whose tokens it revoked. A token revoked already is not revoked
// again, so a second revocation queues nothing. A service client's tokens
// have no person: nobody is signed out.
func (t *tx) revokeOIDCTokens(ctx context.Context, now time.Time, update string, args ...any) error {
	rows, err := t.q.QueryContext(ctx, update+` RETURNING client_id, user_id`, args...)
	if err != nil {
		return mapErr(err)
	}
	var ended []gatehouse.BackchannelLogout
	seen := map[gatehouse.BackchannelLogout]bool{}
	for rows.Next() {
		var (
			clientID string
			userID   sql.NullString
		)
		if err := rows.Scan(&clientID, &userID); err != nil {
			rows.Close()
			return mapErr(err)
		}
		logout := gatehouse.BackchannelLogout{ClientID: clientID, Subject: userID.String}
		if userID.Valid && !seen[logout] {
			seen[logout] = true
			ended = append(ended, logout)
		}
	}
	if err := rows.Close(); err != nil {
		return mapErr(err)
	}
	if err := rows.Err(); err != nil || len(ended) == 0 {
		return mapErr(err)
	}
	var clientArgs argList
	in := make([]string, 0, len(ended))
	listed := map[string]bool{}
	for _, e := range ended {
		if !listed[e.ClientID] {
			listed[e.ClientID] = true
			in = append(in, clientArgs.add(e.ClientID))
		}
	}
	uris := map[string]string{}
	err = t.each(ctx, `SELECT id, backchannel_logout_uri FROM oidc_clients
		WHERE backchannel_logout_uri <> '' AND deleted_at IS NULL AND id IN (`+strings.Join(in, ", ")+`)`, clientArgs, func(rows *sql.Rows) error {
		var id, uri string
		err := rows.Scan(&id, &uri)
		uris[id] = uri
		return err
	})
	if err != nil {
		return err
	}
	for _, e := range ended {
		uri := uris[e.ClientID]
		if uri == "" {
			continue
		}
		body, err := json.Marshal(e)
		if err != nil {
			return err
		}
		// The id is the logout token's jti: a repeat delivery carries the
		// same, so the application can drop it.
		id := uuid.Must(uuid.NewV7()).String()
		if err := t.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: id, Channel: gatehouse.ChannelBackchannelLogout,
			To: uri, Body: string(body), CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// SessionSecondFactor tells whether a session was opened with a second
// factor, and the methods recorded when a passkey took part.
func (r reader) SessionSecondFactor(ctx context.Context, sessionID string) (second bool, amr []string, err error) {
	var methods string
	err = r.q.QueryRowContext(ctx, `SELECT second_factor, amr FROM sessions WHERE id = $1`, sessionID).Scan(&second, &methods)
	if err == sql.ErrNoRows {
		return false, nil, gatehouse.NotFound("session")
	}
	return second, strings.Fields(methods), mapErr(err)
}

// RevokeOIDCTokensOf revokes every live token of an identity, of every
// application: its password changed, its second factor was reset, or its
// sessions were ended. Each application is told (see revokeOIDCTokens).
func (t *tx) RevokeOIDCTokensOf(ctx context.Context, userID string, now time.Time) error {
	return t.revokeOIDCTokens(ctx, now, `UPDATE oidc_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, micros(now))
}

// RevokeOIDCAccountTokens revokes the live tokens that carry an account
// (asked for with the scope account:{id}): the identity's, or everyone's
// when userID is empty. Each application is told (see revokeOIDCTokens).
func (t *tx) RevokeOIDCAccountTokens(ctx context.Context, accountID, userID string, now time.Time) error {
	return t.revokeOIDCTokens(ctx, now, `UPDATE oidc_tokens SET revoked_at = $3
		WHERE revoked_at IS NULL AND (' ' || scopes || ' ') LIKE $1 ESCAPE '\' AND ($2 = '' OR user_id = $2)`,
		"% "+escapeLike("account:"+accountID)+" %", userID, micros(now))
}

// OIDCConnectionsOf lists the live applications holding a live token of
// the identity at now, by name, with its latest sign-in to each.
func (r reader) OIDCConnectionsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.OIDCConnection, error) {
	var out []gatehouse.OIDCConnection
	err := r.each(ctx, `SELECT c.id, c.name, MAX(t.auth_time) FROM oidc_tokens t JOIN oidc_clients c ON c.id = t.client_id
		WHERE t.user_id = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND c.deleted_at IS NULL
		GROUP BY c.id, c.name ORDER BY c.name, c.id`, []any{userID, micros(now)}, func(rows *sql.Rows) error {
		var (
			c    gatehouse.OIDCConnection
			when int64
		)
		err := rows.Scan(&c.ClientID, &c.Name, &when)
		c.SignedInAt = fromMicros(when)
		out = append(out, c)
		return err
	})
	return out, err
}

// RevokeOIDCClientTokensOf revokes every live token one application holds
// for an identity, and tells it (see revokeOIDCTokens).
func (t *tx) RevokeOIDCClientTokensOf(ctx context.Context, userID, clientID string, now time.Time) error {
	return t.revokeOIDCTokens(ctx, now, `UPDATE oidc_tokens SET revoked_at = $3 WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL`,
		userID, clientID, micros(now))
}

const oidcDeviceCodeColumns = `id, client_id, device_code_hash, user_code, scopes, state, user_id, amr, auth_time, used_at, created_at, expires_at`

func scanOIDCDeviceCode(row scanner) (gatehouse.OIDCDeviceCode, error) {
	var (
		d                    gatehouse.OIDCDeviceCode
		scopes, amr          string
		userID               sql.NullString
		authTime, usedAt     sql.NullInt64
		createdAt, expiresAt int64
	)
	err := row.Scan(&d.ID, &d.ClientID, &d.DeviceCodeHash, &d.UserCode, &scopes, &d.State, &userID, &amr, &authTime, &usedAt,
		&createdAt, &expiresAt)
	d.Scopes, d.AMR, d.UserID = strings.Fields(scopes), strings.Fields(amr), userID.String
	d.AuthTime, d.UsedAt = fromNullMicros(authTime), fromNullMicros(usedAt)
	d.CreatedAt, d.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
	return d, err
}

// InsertOIDCDeviceCode stores a new device authorization (PurgeOIDC
// forgets it a day after it expired).
func (t *tx) InsertOIDCDeviceCode(ctx context.Context, d gatehouse.OIDCDeviceCode) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_device_codes (id, client_id, device_code_hash, user_code, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, d.ID, d.ClientID, d.DeviceCodeHash, d.UserCode, strings.Join(d.Scopes, " "),
		micros(d.CreatedAt), micros(d.ExpiresAt))
	return mapErr(err)
}

// OIDCDeviceCodeByUserCode returns the pending device authorization with
// this user code, live at now, or ENOTFOUND.
func (r reader) OIDCDeviceCodeByUserCode(ctx context.Context, userCode string, now time.Time) (gatehouse.OIDCDeviceCode, error) {
	d, err := scanOIDCDeviceCode(r.q.QueryRowContext(ctx, `SELECT `+oidcDeviceCodeColumns+` FROM oidc_device_codes
		WHERE user_code = $1 AND state = 'pending' AND expires_at > $2`, userCode, micros(now)))
	if err == sql.ErrNoRows {
		return d, gatehouse.NotFound("device code")
	}
	return d, mapErr(err)
}

// OIDCDeviceCode returns a device authorization by its device code's hash,
// whatever its state, or ENOTFOUND.
func (r reader) OIDCDeviceCode(ctx context.Context, hash []byte) (gatehouse.OIDCDeviceCode, error) {
	d, err := scanOIDCDeviceCode(r.q.QueryRowContext(ctx, `SELECT `+oidcDeviceCodeColumns+` FROM oidc_device_codes
		WHERE device_code_hash = $1`, hash))
	if err == sql.ErrNoRows {
		return d, gatehouse.NotFound("device code")
	}
	return d, mapErr(err)
}

// DecideOIDCDeviceCode approves (with the person, their scopes and amr) or
// denies a pending, live device authorization, or ENOTFOUND.
func (t *tx) DecideOIDCDeviceCode(ctx context.Context, id, state, userID string, scopes, amr []string, now time.Time) error {
	return t.guarded(ctx, "device code", `UPDATE oidc_device_codes SET state = $2, user_id = $3, scopes = $4, amr = $5, auth_time = $6
		WHERE id = $1 AND state = 'pending' AND expires_at > $6`, id, state, userID, strings.Join(scopes, " "), strings.Join(amr, " "), micros(now))
}

// UseOIDCDeviceCode marks an approved device authorization used, or
// ENOTFOUND: one statement, so that it gives tokens once.
func (t *tx) UseOIDCDeviceCode(ctx context.Context, id string, now time.Time) error {
	return t.guarded(ctx, "device code", `UPDATE oidc_device_codes SET used_at = $2 WHERE id = $1 AND state = 'approved' AND used_at IS NULL`,
		id, micros(now))
}

// RecordOIDCDeviceCodeFailure counts a wrong user code against each
// subject (a person, a source address), and forgets failures over a day
// old.
func (t *tx) RecordOIDCDeviceCodeFailure(ctx context.Context, subjects []string, now time.Time) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM oidc_device_code_failures WHERE at < $1`, micros(now.Add(-24*time.Hour))); err != nil {
		return mapErr(err)
	}
	for _, subject := range subjects {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO oidc_device_code_failures (subject, at) VALUES ($1, $2)`, subject, micros(now)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// OIDCDeviceCodeFailures counts the wrong user codes of a subject since.
func (r reader) OIDCDeviceCodeFailures(ctx context.Context, subject string, since time.Time) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_device_code_failures WHERE subject = $1 AND at > $2`, subject, micros(since)).Scan(&n)
	return n, mapErr(err)
}

// OIDCConsent returns a person's consent to an application, or ENOTFOUND.
func (r reader) OIDCConsent(ctx context.Context, userID, clientID string) (gatehouse.OIDCConsent, error) {
	c := gatehouse.OIDCConsent{UserID: userID, ClientID: clientID}
	var (
		scopes    string
		grantedAt int64
	)
	err := r.q.QueryRowContext(ctx, `SELECT scopes, granted_at FROM oidc_consents WHERE user_id = $1 AND client_id = $2`,
		userID, clientID).Scan(&scopes, &grantedAt)
	if err == sql.ErrNoRows {
		return c, gatehouse.NotFound("consent")
	}
	c.Scopes, c.GrantedAt = strings.Fields(scopes), fromMicros(grantedAt)
	return c, mapErr(err)
}

// SaveOIDCConsent records a person's consent, replacing an earlier one.
func (t *tx) SaveOIDCConsent(ctx context.Context, c gatehouse.OIDCConsent) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
		c.UserID, c.ClientID, strings.Join(c.Scopes, " "), micros(c.GrantedAt))
	return mapErr(err)
}

// DeleteOIDCConsent forgets a person's consent to an application.
func (t *tx) DeleteOIDCConsent(ctx context.Context, userID, clientID string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	return mapErr(err)
}

// OIDCRowsKept is how long the OpenID Provider keeps an authorization
// request, a device code or a token after it expired: a code or a refresh
// token presented again within it is still recognised as used.
const OIDCRowsKept = 24 * time.Hour

// PurgeOIDC deletes what the OpenID Provider needs no more at now: the
// authorization requests, device codes and tokens expired for over
// OIDCRowsKept, and the revoked tokens that expired.
func (t *tx) PurgeOIDC(ctx context.Context, now time.Time) (gatehouse.OIDCPurged, error) {
	var purged gatehouse.OIDCPurged
	before := micros(now.Add(-OIDCRowsKept))
	for _, st := range []struct {
		n     *int
		query string
		args  []any
	}{
		{&purged.AuthRequests, `DELETE FROM oidc_auth_requests WHERE expires_at < $1`, []any{before}},
		{&purged.DeviceCodes, `DELETE FROM oidc_device_codes WHERE expires_at < $1`, []any{before}},
		{&purged.Tokens, `DELETE FROM oidc_tokens WHERE expires_at < $2 AND (expires_at < $1 OR revoked_at IS NOT NULL)`, []any{before, micros(now)}},
	} {
		res, err := t.q.ExecContext(ctx, st.query, st.args...)
		if err != nil {
			return purged, mapErr(err)
		}
		n, _ := res.RowsAffected()
		*st.n = int(n)
	}
	return purged, nil
}
