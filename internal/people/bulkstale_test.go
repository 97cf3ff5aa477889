package people_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The confirm's check judges a file again a batch at a time, reading the
// next batch while it judges one: a line that changed in the third batch
// is found, named, and nothing of the file is written.
func TestBulkConfirmFindsAStaleLinePastTheFirstBatches(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, acme, admin := bulkDraftSetup(t, b)
			ctx := context.Background()
			var file strings.Builder
			file.WriteString("email\n")
			for i := range 2500 {
				fmt.Fprintf(&file, "person%d@example.com\n", i)
			}
			p, err := e.People.PreviewBulk(ctx, admin, acme.ID, strings.NewReader(file.String()))
			if err != nil || p.ToInvite != 2500 {
				t.Fatalf("preview: %v, %d to invite", err, p.ToInvite)
			}
			// Line 2,402 (a header, then person0 on line 2) joins meanwhile.
			if _, err := e.People.AddUser(ctx, servicetest.Operator, acme.ID, people.NewMember{Username: "person2400@example.com",
				FirstName: "Late", LastName: "Joiner", Language: "en", Level: gatehouse.LevelIntegratorUser}); err != nil {
				t.Fatal(err)
			}
			_, err = e.People.ConfirmBulk(ctx, admin, acme.ID, p.ID, true)
			if gatehouse.ErrorCode(err) != gatehouse.EPREVIEWSTALE || !strings.Contains(err.Error(), "line 2402") {
				t.Fatalf("confirm: %v, want preview_stale naming line 2402", err)
			}
			for _, username := range []string{"person0@example.com", "person1999@example.com", "person2499@example.com"} {
				if _, err := e.DB.UserByUsername(ctx, username); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
					t.Errorf("%s after a stale confirm: %v, want not found", username, err)
				}
			}
		})
	}
}
