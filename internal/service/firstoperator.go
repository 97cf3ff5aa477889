package service

import (
	"context"
	"slices"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/store"
)

// A fresh server has no person who could sign in to the portal: operators
// are made by operators, and before the first one only the bootstrap token
// exists, which a browser cannot use. AddFirstOperator is the way in from
// the command line. It takes no shortcut around activation: the person is
// invited as an administrator of the operating company's own integrator
// account, exactly as the API would invite them, and activates through the
// link mailed to them; the operator flag is set on the identity beforehand,
// so that it acts as an operator from its first sign-in, which, like any
// operator's and administrator's, asks for a second factor. Nothing here
// can bypass the invitation: an identity that never activates never signs
// in.

// FirstOperator is the input of AddFirstOperator.
type FirstOperator struct {
	Username  string
	FirstName string
	LastName  string
	Language  string // "": English
	// AccountName names the integrator account of the operating company:
	// the oldest integrator with this name (without regard to case), else
	// a new one.
	AccountName string
}

// FirstOperatorResult tells what AddFirstOperator found and did.
type FirstOperatorResult struct {
	// Account is the operating company's account; AccountCreated tells that
	// it was made now. Both are empty when the person was an operator.
	Account        gatehouse.Account
	AccountCreated bool
	// User is the identity; Pending tells it has not activated yet.
	User    gatehouse.User
	Pending bool
	// Added tells that the person was added to the account now: with an
	// invitation e-mail when pending, else with a "new site" notice.
	Added bool
	// AlreadyOperator tells that nothing was changed: the identity was an
	// operator already.
	AlreadyOperator bool
}

// FirstOperatorStore is the store as AddFirstOperator sees it; the rest of
// its writes go through the accounts and people use cases.
type FirstOperatorStore interface {
	ListAccounts(ctx context.Context, f gatehouse.AccountFilter) (gatehouse.Page[gatehouse.Account], error)
	UserByUsername(ctx context.Context, username string) (gatehouse.User, error)
	MemberByUser(ctx context.Context, accountID, userID string) (gatehouse.Member, error)
	Operators(ctx context.Context) ([]gatehouse.User, error)
	Write(ctx context.Context, fn func(FirstOperatorTx) error) error
}

// FirstOperatorTx is the transaction that sets the operator flag.
type FirstOperatorTx interface {
	SetOperator(ctx context.Context, userID string, operator bool) error
	InsertAuditEvent(ctx context.Context, e gatehouse.AuditEvent) error
}

var _ FirstOperatorTx = (*store.WriteTx)(nil)

// FirstOperatorStoreOf is db as AddFirstOperator sees it.
func FirstOperatorStoreOf(db *store.DB) FirstOperatorStore {
	return store.Over[FirstOperatorTx]{DB: db}
}

// AddFirstOperator makes in.Username an operator who activates by the link
// mailed to them (see above). It is meant for whoever runs the server, so it
// acts as the bootstrap operator and its audit events say so. Run again, it
// changes nothing for an operator, and finishes what an interrupted run
// left undone (each step is its own transaction: the account, the
// invitation, the flag).
func (s *Services) AddFirstOperator(ctx context.Context, st FirstOperatorStore, in FirstOperator) (FirstOperatorResult, error) {
	var result FirstOperatorResult
	username, err := gatehouse.ParseUsername("username", in.Username)
	if err != nil {
		return result, err
	}
	if _, err := gatehouse.ParseEmail("username", username); err != nil {
		return result, err // operators are people, reached by e-mail
	}
	caller := gatehouse.Caller{Principal: gatehouse.Principal{Operator: true}, RequestID: "gatehouse operator add"}

	user, err := st.UserByUsername(ctx, username)
	switch gatehouse.ErrorCode(err) {
	case "":
		operators, err := st.Operators(ctx)
		if err != nil {
			return result, err
		}
		if slices.ContainsFunc(operators, func(u gatehouse.User) bool { return u.ID == user.ID }) {
			result.User, result.Pending, result.AlreadyOperator = user, user.Status != gatehouse.UserActive, true
			return result, nil
		}
	case gatehouse.ENOTFOUND:
	default:
		return result, err
	}

	if result.Account, err = findIntegrator(ctx, st, in.AccountName); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		result.Account, err = s.Accounts.CreateAccount(ctx, caller, accounts.NewAccount{Kind: gatehouse.KindIntegrator, Name: in.AccountName})
		result.AccountCreated = err == nil
	}
	if err != nil {
		return result, err
	}

	member := true
	if user.ID == "" {
		member = false
	} else if _, err := st.MemberByUser(ctx, result.Account.ID, user.ID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		member = false
	} else if err != nil {
		return result, err
	}
	if !member {
		_, err := s.People.AddUser(ctx, caller, result.Account.ID, people.NewMember{Username: username, FirstName: in.FirstName,
			LastName: in.LastName, Language: in.Language, Level: gatehouse.LevelIntegratorAdmin})
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EALREADYMEMBER {
			return result, err
		}
		result.Added = err == nil
		if user, err = st.UserByUsername(ctx, username); err != nil {
			return result, err
		}
	}
	result.User, result.Pending = user, user.Status != gatehouse.UserActive

	err = st.Write(ctx, func(tx FirstOperatorTx) error {
		if err := tx.SetOperator(ctx, user.ID, true); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(caller, s.Now(), "", "operator.granted", "user", user.ID))
	})
	return result, err
}

// findIntegrator returns the oldest integrator account named name without
// regard to case, or ENOTFOUND.
func findIntegrator(ctx context.Context, st FirstOperatorStore, name string) (gatehouse.Account, error) {
	name, err := gatehouse.ValidateAccountName("account", name)
	if err != nil {
		return gatehouse.Account{}, err
	}
	var found gatehouse.Account
	page := gatehouse.PageRequest{Limit: gatehouse.MaxPageLimit}
	for {
		accounts, err := st.ListAccounts(ctx, gatehouse.AccountFilter{Kind: gatehouse.KindIntegrator, Query: name, Page: page})
		if err != nil {
			return gatehouse.Account{}, err
		}
		for _, a := range accounts.Items {
			// Ids are time-ordered: the smallest is the oldest.
			if gatehouse.NameKey(a.Name) == gatehouse.NameKey(name) && (found.ID == "" || a.ID < found.ID) {
				found = a
			}
		}
		if accounts.NextCursor == "" {
			break
		}
		page.Cursor = accounts.NextCursor
	}
	if found.ID == "" {
		return found, gatehouse.NotFound("account")
	}
	return found, nil
}
