package gatehouse

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone parses a mobile number and returns it in E.164 form
// (R-U7). A number starting with + carries its country code; any other is
// read as a national number of country, a two-letter region code (ISO
// 3166-1) the person picked beside it. Without a country, the + is needed.
func NormalizePhone(raw, country string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	refused := Invalid("phone", "phone must be a phone number with its country code, such as +33 6 12 34 56 78")
	if len(raw) > 40 || len(country) > 2 {
		return "", refused
	}
	region := strings.ToUpper(country)
	if strings.HasPrefix(raw, "+") {
		region = ""
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", refused
	}
	// E.164 allows 15 digits at most; the library's metadata lets a few
	// longer numbers through, which no SMS gateway would take.
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) > 16 {
		return "", refused
	}
	return e164, nil
}
