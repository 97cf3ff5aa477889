package dataset_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/dataset"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The generator builds the shape it is asked for: every folder, member,
// group and grant is in the account's snapshot, and the tree is as deep as
// asked.
func TestBuild(t *testing.T) {
	ctx := context.Background()
	db, _ := storetest.OpenSQLite(t)
	spec := dataset.Spec{Folders: 300, Depth: 5, Branching: 3, Members: 40, Groups: 6, Grants: 500,
		CustomRoles: 3, AccountWideShare: 0.3, GroupSize: 5, Seed: 1}
	acct, err := dataset.Build(ctx, db, spec)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := db.AccessSnapshot(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Folders) != 300 || len(snap.Members) != 40 || len(snap.Groups) != 6 || len(snap.Grants) != 500 || len(snap.CustomRoles) != 3 {
		t.Errorf("folders %d members %d groups %d grants %d roles %d", len(snap.Folders), len(snap.Members),
			len(snap.Groups), len(snap.Grants), len(snap.CustomRoles))
	}
	if acct.MaxDepth != 5 {
		t.Errorf("depth %d, want 5", acct.MaxDepth)
	}
	deepest := acct.FolderIDs[len(acct.FolderIDs)-1]
	if lineage, err := db.FolderLineage(ctx, acct.ID, deepest); err != nil || len(lineage) != 5 {
		t.Errorf("the last folder is %d deep (%v)", len(lineage), err)
	}
	for g, members := range snap.GroupMembers {
		if len(members) != 5 {
			t.Errorf("group %s has %d members", g, len(members))
		}
	}
}
