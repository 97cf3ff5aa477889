package people

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// RemoteMonitoringContext binds a sealed remote monitoring password to its
// user (see internal/secretbox).
func RemoteMonitoringContext(userID string) string { return "rm:" + userID }

// MaxDescriptionLen bounds a remote monitoring user's description.
const MaxDescriptionLen = 200

// RemoteMonitoringCredentials are what a monitoring station needs to
// connect (R-RM1, R-RM2).
type RemoteMonitoringCredentials struct {
	Username    string
	Password    string
	Server      string
	AccountID   string
	AccountName string
}

// Text is the downloadable connection details file.
func (c RemoteMonitoringCredentials) Text() string {
	return fmt.Sprintf("Username: %s\nPassword: %s\nServer: %s\nAccount ID: %s\nAccount name: %s\n",
		c.Username, c.Password, c.Server, c.AccountID, c.AccountName)
}

// passwordAlphabet has no look-alike characters, since people may copy the
// password by hand into a monitoring station.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomString draws n characters uniformly from alphabet.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		// Rejection sampling keeps every character equally likely.
		if int(buf[0]) >= 256-256%len(alphabet) {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

// remoteMonitoringAccount authorizes management of the account's remote
// monitoring user: a client account, visible, and the caller allowed.
func (s *Service) remoteMonitoringAccount(ctx context.Context, r RemoteMonitoringReader, c gatehouse.Caller, accountID string) (gatehouse.Account, error) {
	account, access, err := s.AuthorizeAccess(ctx, r, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return account, err
	}
	if account.Kind != gatehouse.KindClient {
		return account, gatehouse.Invalid("account_id", "remote monitoring users belong to client accounts")
	}
	return account, kernel.DecideOn(c, access, account, policy.ManageRemoteMonitoring, policy.Target{})
}

// newServicePassword returns a password of 32 characters (about 186 bits),
// its argon2id hash and its sealed form.
func (s *Service) newServicePassword(ctx context.Context, userID string) (plain, hash, sealed string, err error) {
	plain = randomString(32, passwordAlphabet)
	if hash, err = s.Hasher.Hash(ctx, plain); err != nil {
		return "", "", "", err
	}
	return plain, hash, s.Box.Seal(plain, RemoteMonitoringContext(userID)), nil
}

// RemoteMonitoringMember returns the account's remote monitoring user, to
// those who see the account's users; ENOTFOUND when it has none.
func (s *Service) RemoteMonitoringMember(ctx context.Context, c gatehouse.Caller, accountID string) (gatehouse.Member, error) {
	if _, err := s.Authorize(ctx, s.remoteMonitoringStore, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Member{}, err
	}
	return s.remoteMonitoringStore.RemoteMonitoringUser(ctx, accountID)
}

// CreateRemoteMonitoringUser makes the account's one remote monitoring user,
// with generated credentials (R-RM1, R-L2). It does not count toward the
// client-user limit.
func (s *Service) CreateRemoteMonitoringUser(ctx context.Context, c gatehouse.Caller, accountID, description string) (gatehouse.Member, error) {
	description = strings.TrimSpace(description)
	switch {
	case description == "":
		return gatehouse.Member{}, gatehouse.Invalid("description", "a short description is required, such as the monitoring station's name")
	case !utf8.ValidString(description) || strings.ContainsFunc(description, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return gatehouse.Member{}, gatehouse.Invalid("description", "the description must be one line of text")
	case utf8.RuneCountInString(description) > MaxDescriptionLen:
		return gatehouse.Member{}, gatehouse.Invalid("description", "the description must be at most %d characters", MaxDescriptionLen)
	}
	userID := s.NewID()
	// Usernames of service users have no @, so no person's username (an
	// e-mail address) can ever equal one.
	username := "rm_" + strings.ToLower(randomString(20, "abcdefghijkmnpqrstuvwxyz23456789"))
	_, hash, sealed, err := s.newServicePassword(ctx, userID)
	if err != nil {
		return gatehouse.Member{}, err
	}
	var member gatehouse.Member
	err = s.remoteMonitoringStore.Write(ctx, func(tx RemoteMonitoringTx) error {
		account, err := s.remoteMonitoringAccount(ctx, tx, c, accountID)
		if err != nil {
			return err
		}
		now := s.Now()
		user := gatehouse.User{ID: userID, Username: username, FirstName: "Remote", LastName: "monitoring", Language: "en",
			Status: gatehouse.UserActive, CreatedAt: now}
		if err := tx.InsertServiceUser(ctx, user, hash, sealed); err != nil {
			return err
		}
		m := gatehouse.Membership{ID: s.NewID(), AccountID: account.ID, UserID: userID, Level: gatehouse.LevelRemoteMonitoring,
			Status: gatehouse.MembershipActive, Email: "", Description: description, AddedBy: c.Principal.ActorID(), CreatedAt: now}
		if err := tx.InsertMembership(ctx, m); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return gatehouse.Errorf(gatehouse.EREMOTEEXISTS, "this account already has its remote monitoring user")
		} else if err != nil {
			return err
		}
		member = gatehouse.Member{Membership: m, Username: username, FirstName: user.FirstName, LastName: user.LastName,
			Language: user.Language, Roles: []string{}}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "remote_monitoring.created", "membership", m.ID))
	})
	return member, err
}

// RemoteMonitoringConnectionDetails returns the credentials to download.
// Every download is audited (R-RM2).
func (s *Service) RemoteMonitoringConnectionDetails(ctx context.Context, c gatehouse.Caller, accountID string) (RemoteMonitoringCredentials, error) {
	var creds RemoteMonitoringCredentials
	err := s.remoteMonitoringStore.Write(ctx, func(tx RemoteMonitoringTx) error {
		account, err := s.remoteMonitoringAccount(ctx, tx, c, accountID)
		if err != nil {
			return err
		}
		m, err := tx.RemoteMonitoringUser(ctx, account.ID)
		if err != nil {
			return err
		}
		sealed, err := tx.SealedPassword(ctx, m.UserID)
		if err != nil {
			return err
		}
		plain, err := s.Box.Open(sealed, RemoteMonitoringContext(m.UserID))
		if err != nil {
			return err
		}
		creds = RemoteMonitoringCredentials{Username: m.Username, Password: plain, Server: s.PublicURL(),
			AccountID: account.ID, AccountName: account.Name}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), account.ID, "remote_monitoring.details_downloaded", "membership", m.ID))
	})
	return creds, err
}

// RegenerateRemoteMonitoringCredentials gives the remote monitoring user a
// new password; the old one and every session made with it stop working.
func (s *Service) RegenerateRemoteMonitoringCredentials(ctx context.Context, c gatehouse.Caller, accountID string) (RemoteMonitoringCredentials, error) {
	// Hash before taking the write lock (argon2id is the slow part).
	account, err := s.remoteMonitoringAccount(ctx, s.remoteMonitoringStore, c, accountID)
	if err != nil {
		return RemoteMonitoringCredentials{}, err
	}
	current, err := s.remoteMonitoringStore.RemoteMonitoringUser(ctx, account.ID)
	if err != nil {
		return RemoteMonitoringCredentials{}, err
	}
	plain, hash, sealed, err := s.newServicePassword(ctx, current.UserID)
	if err != nil {
		return RemoteMonitoringCredentials{}, err
	}
	var creds RemoteMonitoringCredentials
	err = s.remoteMonitoringStore.Write(ctx, func(tx RemoteMonitoringTx) error {
		account, err := s.remoteMonitoringAccount(ctx, tx, c, accountID)
		if err != nil {
			return err
		}
		m, err := tx.RemoteMonitoringUser(ctx, account.ID)
		if err != nil {
			return err
		}
		if m.UserID != current.UserID {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "the remote monitoring user was replaced meanwhile; try again")
		}
		now := s.Now()
		if err := tx.SetServicePassword(ctx, m.UserID, hash, sealed); err != nil {
			return err
		}
		if err := tx.RevokeSessionsOf(ctx, m.UserID, now); err != nil {
			return err
		}
		creds = RemoteMonitoringCredentials{Username: m.Username, Password: plain, Server: s.PublicURL(),
			AccountID: account.ID, AccountName: account.Name}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "remote_monitoring.credentials_regenerated", "membership", m.ID))
	})
	return creds, err
}
