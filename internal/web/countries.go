package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/collate"
	xlanguage "golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// countryOption is one entry of the country picker beside a phone number:
// "France (+33)", named in the page's language.
type countryOption struct {
	Code, Label string
}

var (
	countryListsOnce sync.Once
	countryLists     map[string][]countryOption
)

// countries lists every region with mobile numbers, named in lang and
// sorted as a reader of lang expects. A number typed with its +code needs
// no country, so the picker may stay on its first, empty entry.
func countries(lang string) []countryOption {
	countryListsOnce.Do(func() {
		countryLists = map[string][]countryOption{}
		for _, l := range []string{"en", "fr"} {
			tag := xlanguage.MustParse(l)
			names := display.Regions(tag)
			var list []countryOption
			for code := range phonenumbers.GetSupportedRegions() {
				region, err := xlanguage.ParseRegion(code)
				name := ""
				if err == nil {
					name = names.Name(region)
				}
				if name == "" {
					name = code
				}
				list = append(list, countryOption{Code: code, Label: name + " (+" + strconv.Itoa(phonenumbers.GetCountryCodeForRegion(code)) + ")"})
			}
			order := collate.New(tag, collate.Loose)
			slices.SortFunc(list, func(a, b countryOption) int { return order.CompareString(a.Label, b.Label) })
			countryLists[l] = list
		}
	})
	if list, ok := countryLists[lang]; ok {
		return list
	}
	return countryLists["en"]
}

// browserCountry guesses the country of a person's phone from the region
// of their browser's first language ("fr-FR" → FR), "" when it names none.
func browserCountry(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	tag, err := xlanguage.Parse(strings.TrimSpace(first))
	if err != nil {
		return ""
	}
	region, confidence := tag.Region()
	if confidence != xlanguage.Exact {
		return ""
	}
	if code := region.String(); phonenumbers.GetCountryCodeForRegion(code) != 0 {
		return code
	}
	return ""
}

// countryField is the country picker's data for a template: its options in
// the page's language with one selected, and its words.
type countryField struct {
	Options         []countryOption
	Selected        string
	Label, Anywhere string
}

func newCountryField(texts map[string]string, lang, selected string) countryField {
	return countryField{Options: countries(lang), Selected: strings.ToUpper(selected), Label: texts["phone_country"], Anywhere: texts["phone_country_in_number"]}
}
