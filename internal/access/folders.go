package access

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Folders (R-A2): one tree per account. Administrators of the account manage
// it, and so does a member holding folders.manage where the change happens
// (the top of the tree needs it account-wide). Every change takes the
// account's rules lock (BumpAuthzVersion) before it reads the tree, so two
// concurrent moves can never build a cycle.

// foldersManage is the permission that lets a member change the tree.
var foldersManage = gatehouse.PermissionBit("folders.manage")

// authorizeFolderChange decides whether the caller may change the tree at
// each of the folders named ("" is the top). Unknown folders are ENOTFOUND.
func (s *Service) authorizeFolderChange(ctx context.Context, c gatehouse.Caller, accountID string, at ...string) error {
	account, acc, err := s.AuthorizeAccess(ctx, s.foldersStore, c, accountID, policy.ReadFolders, policy.Target{})
	if err != nil {
		return err
	}
	model, err := s.Models.Model(ctx, accountID)
	if err != nil {
		return err
	}
	t := policy.Target{FolderManager: true}
	for _, folderID := range at {
		if folderID != "" && !model.Reaches(c.Principal.UserID, folderID, s.Now()) {
			t.FolderHidden = true
		}
		if !model.Allowed(c.Principal.UserID, foldersManage, folderID, s.Now()) {
			t.FolderManager = false
		}
	}
	return kernel.DecideOn(c, acc, account, policy.ManageFolders, t)
}

// CreateFolder adds a folder at the top of the tree (parentID "") or under
// another.
func (s *Service) CreateFolder(ctx context.Context, c gatehouse.Caller, accountID, name, parentID string) (FolderView, error) {
	name, err := gatehouse.ValidateLabel("name", name)
	if err != nil {
		return FolderView{}, err
	}
	if err := s.authorizeFolderChange(ctx, c, accountID, parentID); err != nil {
		return FolderView{}, err
	}
	now := s.Now()
	folder := gatehouse.Folder{ID: s.NewID(), AccountID: accountID, ParentID: parentID, Name: name, CreatedAt: now}
	path := "/" + name
	err = s.foldersStore.Write(ctx, func(tx FoldersTx) error {
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		if parentID != "" {
			lineage, err := tx.FolderLineage(ctx, accountID, parentID)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return parentNotFound
			} else if err != nil {
				return err
			}
			if len(lineage)+1 > gatehouse.MaxFolderDepth {
				return gatehouse.Invalid("parent_id", "folders nest at most %d deep", gatehouse.MaxFolderDepth)
			}
			path = pathOf(lineage) + path
		}
		if err := tx.InsertFolder(ctx, folder); err != nil {
			return folderNameTaken(err, name)
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, accountID, "folder.created", "folder", folder.ID))
	})
	return FolderView{Folder: folder, Path: path}, err
}

// FolderPatch renames or moves a folder; nil fields stay as they are, and a
// ParentID of "" moves the folder to the top.
type FolderPatch struct {
	Name     *string
	ParentID *string
}

// UpdateFolder renames or moves a folder with everything under it. A move
// under the folder itself or one of its subfolders is refused.
func (s *Service) UpdateFolder(ctx context.Context, c gatehouse.Caller, accountID, folderID string, patch FolderPatch) (FolderView, error) {
	at := []string{folderID}
	if patch.ParentID != nil {
		at = append(at, *patch.ParentID)
	}
	if err := s.authorizeFolderChange(ctx, c, accountID, at...); err != nil {
		return FolderView{}, err
	}
	var view FolderView
	err := s.foldersStore.Write(ctx, func(tx FoldersTx) error {
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		lineage, err := tx.FolderLineage(ctx, accountID, folderID)
		if err != nil {
			return err
		}
		folder := lineage[0]
		before := folder
		action := "folder.renamed"
		if patch.Name != nil {
			if folder.Name, err = gatehouse.ValidateLabel("name", *patch.Name); err != nil {
				return err
			}
		}
		if patch.ParentID != nil && *patch.ParentID != folder.ParentID {
			action = "folder.moved"
			folder.ParentID = *patch.ParentID
			lineage = lineage[:1]
			if folder.ParentID != "" {
				parents, err := tx.FolderLineage(ctx, accountID, folder.ParentID)
				if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
					return parentNotFound
				} else if err != nil {
					return err
				}
				for _, p := range parents {
					if p.ID == folder.ID {
						return gatehouse.Invalid("parent_id", "a folder cannot move under itself or one of its subfolders")
					}
				}
				height, err := tx.FolderHeight(ctx, accountID, folder.ID)
				if err != nil {
					return err
				}
				if len(parents)+height > gatehouse.MaxFolderDepth {
					return gatehouse.Invalid("parent_id", "folders nest at most %d deep", gatehouse.MaxFolderDepth)
				}
				lineage = append(lineage, parents...)
			}
		}
		lineage[0] = folder
		if err := tx.UpdateFolder(ctx, folder); err != nil {
			return folderNameTaken(err, folder.Name)
		}
		view = FolderView{Folder: folder, Path: pathOf(lineage)}
		// The parent is kept by id, as the API gives it: readers show the
		// folder's path of today.
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, action, "folder", folder.ID).
			With("name", before.Name, folder.Name).
			With("parent_id", before.ParentID, folder.ParentID))
	})
	return view, err
}

// DeleteFolder removes a folder without subfolders, with the grants on it;
// members whose home folder it was have none afterwards.
func (s *Service) DeleteFolder(ctx context.Context, c gatehouse.Caller, accountID, folderID string) error {
	if err := s.authorizeFolderChange(ctx, c, accountID, folderID); err != nil {
		return err
	}
	return s.foldersStore.Write(ctx, func(tx FoldersTx) error {
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		if _, err := tx.Folder(ctx, accountID, folderID); err != nil {
			return err
		}
		hasChildren, err := tx.FolderHasChildren(ctx, accountID, folderID)
		if err != nil {
			return err
		}
		if hasChildren {
			return gatehouse.Errorf(gatehouse.EFOLDERNOTEMPTY, "the folder has subfolders; move or delete them first")
		}
		if err := tx.DeleteFolder(ctx, accountID, folderID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "folder.deleted", "folder", folderID))
	})
}

// Folders lists, in path order, the folders of the account the caller sees
// (R-A2): all of them for operators, administrators and members holding a
// role account-wide; for others the folders under their grants. parentID,
// when set, keeps the children of that folder alone.
func (s *Service) Folders(ctx context.Context, c gatehouse.Caller, accountID, parentID string, page gatehouse.PageRequest) (gatehouse.Page[FolderView], error) {
	var out gatehouse.Page[FolderView]
	after, err := gatehouse.DecodeCursor(page.Cursor, 2)
	if err != nil {
		return out, err
	}
	model, all, err := s.folderReader(ctx, c, accountID)
	if err != nil {
		return out, err
	}
	limit := page.Limit
	if limit <= 0 {
		limit = gatehouse.DefaultPageLimit
	}
	limit = min(limit, gatehouse.MaxPageLimit)
	var afterKey, afterID string
	if after != nil {
		afterKey, afterID = after[0], after[1]
	}
	items, more := model.VisibleFolders(c.Principal.UserID, all, parentID, afterKey, afterID, limit, s.Now())
	out.Items = items
	if more {
		last := items[len(items)-1]
		out.NextCursor = gatehouse.EncodeCursor(model.SortKey(last.ID), last.ID)
	}
	return out, nil
}

// Folder returns one folder the caller sees.
func (s *Service) Folder(ctx context.Context, c gatehouse.Caller, accountID, folderID string) (FolderView, error) {
	model, all, err := s.folderReader(ctx, c, accountID)
	if err != nil {
		return FolderView{}, err
	}
	view, ok := model.Folder(folderID)
	if !ok || !(all || model.Reaches(c.Principal.UserID, folderID, s.Now())) {
		return FolderView{}, gatehouse.NotFound("folder")
	}
	return view, nil
}

// folderReader authorizes reading the account's folders and returns its model
// and whether the caller sees every folder whatever their grants.
func (s *Service) folderReader(ctx context.Context, c gatehouse.Caller, accountID string) (*Model, bool, error) {
	account, acc, err := s.AuthorizeAccess(ctx, s.foldersStore, c, accountID, policy.ReadFolders, policy.Target{})
	if err != nil {
		return nil, false, err
	}
	model, err := s.Models.Model(ctx, accountID)
	return model, kernel.May(c, acc, account, policy.ReadMembers), err
}

func pathOf(lineage []gatehouse.Folder) string {
	var path string
	for _, f := range lineage {
		path = "/" + f.Name + path
	}
	return path
}

func folderNameTaken(err error, name string) error {
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "a folder named " + name + " is there already", Field: "name"}
	}
	return err
}

// parentNotFound is the answer when the parent folder named is not there.
var parentNotFound = &gatehouse.Error{Code: gatehouse.ENOTFOUND, Message: "parent folder not found", Field: "parent_id"}
