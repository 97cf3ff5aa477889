package web

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Every time zone the list offers is one the account may take.
func TestTimeZonesOfTheListAreValid(t *testing.T) {
	seen := map[string]bool{}
	for _, zone := range timeZones {
		if _, err := gatehouse.ValidateTimeZone("time_zone", zone); err != nil || seen[zone] {
			t.Errorf("%s: %v (twice: %v)", zone, err, seen[zone])
		}
		seen[zone] = true
	}
	if got := zoneOptions("Asia/Kathmandu"); got[0] != "Asia/Kathmandu" || len(got) != len(timeZones)+1 {
		t.Errorf("an account's own zone missing from the list is offered first: %v", got[:2])
	}
}
