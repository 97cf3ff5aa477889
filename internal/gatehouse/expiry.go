package gatehouse

import "time"

// Access that ends by itself: a membership or a folder grant may carry the
// instant it ends. From that instant it counts for nothing, on every node,
// whatever has been removed yet; a sweeper then removes it for good.

// Expired tells whether something that ends at end (zero: never) has ended
// at now. It ends exactly at end: still there a microsecond before, gone at
// end itself.
func Expired(end, now time.Time) bool { return !end.IsZero() && !now.Before(end) }

// MaxAccessYears bounds how far ahead access that ends by itself may end:
// a technician for a day, a contractor for a month, nobody temporary for
// more than a year.
const MaxAccessYears = 1

// ValidateAccessEnd checks the end of a membership or a grant as given:
// zero for none, else after now and at most MaxAccessYears ahead. It returns
// the end in UTC, to the microsecond as times are stored.
func ValidateAccessEnd(field string, end, now time.Time) (time.Time, error) {
	if end.IsZero() {
		return end, nil
	}
	end = end.UTC().Truncate(time.Microsecond)
	if !end.After(now) {
		return time.Time{}, Invalid(field, "%s must be in the future", field)
	}
	if end.After(now.AddDate(MaxAccessYears, 0, 0)) {
		return time.Time{}, Invalid(field, "%s is at most one year ahead", field)
	}
	return end, nil
}

// SystemActor is the actor the audit log records for the changes Gatehouse
// makes by itself, such as removing access that ended.
const SystemActor = "system"
