// Package dataset builds large accounts for benchmarks and load tests: a
// client account with a deep folder tree, many members, groups and grants,
// written straight through the store in a few transactions. The shapes are
// drawn from a seeded random source, so a run can be repeated.
package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Spec is the size of the account to build.
type Spec struct {
	Folders int
	// Depth is the depth of the tree: folders fill it level by level, each
	// holding Branching subfolders, and the last level takes what is left.
	Depth     int
	Branching int
	Members   int
	Groups    int
	Grants    int
	// CustomRoles are made besides the built-in ones.
	CustomRoles int
	// AccountWideShare is the share of members holding a role account-wide;
	// the others reach folders through grants alone.
	AccountWideShare float64
	// GroupSize is how many members each group has.
	GroupSize int
	Seed      uint64
}

// LargeAccount is the account of the check benchmarks: 10,000 folders 8 deep,
// 1,000 members, 100 groups and 20,000 grants.
var LargeAccount = Spec{Folders: 10000, Depth: 8, Branching: 3, Members: 1000, Groups: 100, Grants: 20000,
	CustomRoles: 10, AccountWideShare: 0.3, GroupSize: 20, Seed: 5}

// Account is what was built.
type Account struct {
	IntegratorID string
	ID           string
	UserIDs      []string
	FolderIDs    []string
	GroupIDs     []string
	// MaxDepth is the depth of the deepest folder.
	MaxDepth int
}

// Build writes a new integrator with one client account of the given shape.
func Build(ctx context.Context, db *store.DB, spec Spec) (Account, error) {
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	now := time.Now().UTC().Truncate(time.Microsecond)
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	acct := Account{IntegratorID: newID(), ID: newID()}

	err := db.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.InsertAccount(ctx, gatehouse.Account{ID: acct.IntegratorID, Kind: gatehouse.KindIntegrator,
			Name: "Dataset integrator " + acct.IntegratorID[24:], Settings: gatehouse.AccountSettings{MaxClientUsers: 9},
			CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.InsertAccount(ctx, gatehouse.Account{ID: acct.ID, Kind: gatehouse.KindClient, IntegratorID: acct.IntegratorID,
			Name: "Dataset site " + acct.ID[24:], Settings: gatehouse.AccountSettings{MaxClientUsers: spec.Members},
			CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return acct, fmt.Errorf("accounts: %w", err)
	}

	roleIDs := append([]string{}, gatehouse.BuiltinRoles...)
	err = db.Write(ctx, func(tx *store.WriteTx) error {
		for i := range spec.CustomRoles {
			var perms gatehouse.PermissionSet
			for perms == 0 {
				perms = gatehouse.PermissionSet(rng.Uint64()) & gatehouse.AllPermissions
			}
			role := gatehouse.Role{ID: newID(), AccountID: acct.ID, Name: fmt.Sprintf("Role %02d", i), Permissions: perms, CreatedAt: now}
			if err := tx.InsertRole(ctx, role); err != nil {
				return err
			}
			roleIDs = append(roleIDs, role.ID)
		}
		return nil
	})
	if err != nil {
		return acct, fmt.Errorf("roles: %w", err)
	}

	// Folders, level by level: each folder above the last level holds
	// Branching subfolders; the last level takes all that are left, spread
	// over its parents, so the tree reaches the full depth.
	err = db.Write(ctx, func(tx *store.WriteTx) error {
		parents := []string{""}
		for depth := 1; depth <= spec.Depth && len(acct.FolderIDs) < spec.Folders; depth++ {
			count := len(parents) * spec.Branching
			if depth == spec.Depth {
				count = spec.Folders - len(acct.FolderIDs)
			}
			count = min(count, spec.Folders-len(acct.FolderIDs))
			level := make([]string, 0, count)
			for i := range count {
				f := gatehouse.Folder{ID: newID(), AccountID: acct.ID, ParentID: parents[i%len(parents)],
					Name: fmt.Sprintf("F%d-%d", depth, i), CreatedAt: now}
				if err := tx.InsertFolder(ctx, f); err != nil {
					return err
				}
				acct.FolderIDs, level = append(acct.FolderIDs, f.ID), append(level, f.ID)
			}
			acct.MaxDepth, parents = depth, level
		}
		return nil
	})
	if err != nil {
		return acct, fmt.Errorf("folders: %w", err)
	}

	err = db.Write(ctx, func(tx *store.WriteTx) error {
		for i := range spec.Members {
			u := gatehouse.User{ID: newID(), Username: fmt.Sprintf("member%04d.%s@dataset.example", i, acct.ID[24:]),
				FirstName: "Member", LastName: fmt.Sprint(i), Language: "en", Status: gatehouse.UserActive, CreatedAt: now}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			m := gatehouse.Membership{ID: newID(), AccountID: acct.ID, UserID: u.ID, Level: gatehouse.LevelClientUser,
				Status: gatehouse.MembershipActive, Email: u.Username, CreatedAt: now}
			if err := tx.InsertMembership(ctx, m); err != nil {
				return err
			}
			if rng.Float64() < spec.AccountWideShare {
				if err := tx.SetMembershipRoles(ctx, acct.ID, m.ID, []string{roleIDs[rng.IntN(len(roleIDs))]}); err != nil {
					return err
				}
			}
			acct.UserIDs = append(acct.UserIDs, u.ID)
		}
		for i := range spec.Groups {
			g := gatehouse.Group{ID: newID(), AccountID: acct.ID, Name: fmt.Sprintf("Group %03d", i), CreatedAt: now}
			if i%10 == 0 { // a tenth of the groups hold a role account-wide
				g.RoleIDs = []string{roleIDs[rng.IntN(len(roleIDs))]}
			}
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
			for _, j := range rng.Perm(len(acct.UserIDs))[:min(spec.GroupSize, len(acct.UserIDs))] {
				if err := tx.AddGroupMember(ctx, acct.ID, g.ID, acct.UserIDs[j]); err != nil {
					return err
				}
			}
			acct.GroupIDs = append(acct.GroupIDs, g.ID)
		}
		return nil
	})
	if err != nil {
		return acct, fmt.Errorf("members and groups: %w", err)
	}

	// Grants: seven in ten to a member, the rest to a group; a repeat of the
	// same grant is drawn again.
	seen := map[[3]string]bool{}
	err = db.Write(ctx, func(tx *store.WriteTx) error {
		for made := 0; made < spec.Grants; {
			g := gatehouse.Grant{ID: newID(), AccountID: acct.ID, FolderID: acct.FolderIDs[rng.IntN(len(acct.FolderIDs))],
				RoleID: roleIDs[rng.IntN(len(roleIDs))], CreatedAt: now}
			subject := ""
			if rng.Float64() < 0.7 || len(acct.GroupIDs) == 0 {
				g.UserID = acct.UserIDs[rng.IntN(len(acct.UserIDs))]
				subject = "u" + g.UserID
			} else {
				g.GroupID = acct.GroupIDs[rng.IntN(len(acct.GroupIDs))]
				subject = "g" + g.GroupID
			}
			key := [3]string{g.FolderID, subject, g.RoleID}
			if seen[key] {
				continue
			}
			seen[key] = true
			if err := tx.InsertGrant(ctx, g); err != nil {
				return err
			}
			made++
		}
		return nil
	})
	if err != nil {
		return acct, fmt.Errorf("grants: %w", err)
	}
	return acct, nil
}
