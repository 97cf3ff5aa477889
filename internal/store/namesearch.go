package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Account names are found by substring through a trigram posting table,
// account_name_grams: one row (gram, name_key, account_id) per distinct
// trigram of a name. A query of three or more characters reads the posting
// list of its rarest trigram in (name_key, account_id) order, which is the
// list order, checks the full query against name_key in the same index row,
// and so stops after one page. Both databases run the same SQL.

// gramProbeLimit bounds how far the rarity probe counts each posting list:
// past it, a list is simply "long".
const gramProbeLimit = 1000

// maxProbedGrams bounds the rarity probe of a long query.
const maxProbedGrams = 6

// nameGrams returns the distinct trigrams (of runes) of a name key. Names of
// fewer than three characters have none: no query that uses the table can
// match them.
func nameGrams(nameKey string) []string {
	runes := []rune(nameKey)
	if len(runes) < 3 {
		return nil
	}
	seen := make(map[string]bool, len(runes))
	grams := make([]string, 0, len(runes)-2)
	for i := 0; i+3 <= len(runes); i++ {
		g := string(runes[i : i+3])
		if !seen[g] {
			seen[g] = true
			grams = append(grams, g)
		}
	}
	return grams
}

func (t *tx) insertNameGrams(ctx context.Context, accountID, nameKey string) error {
	grams := nameGrams(nameKey)
	if len(grams) == 0 {
		return nil
	}
	args := argList{nameKey, accountID}
	values := make([]string, len(grams))
	for i, g := range grams {
		values[i] = "(" + args.add(g) + ", $1, $2)"
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO account_name_grams (gram, name_key, account_id) VALUES `+
		strings.Join(values, ", "), args...)
	return mapErr(err)
}

func (t *tx) deleteNameGrams(ctx context.Context, accountID, nameKey string) error {
	grams := nameGrams(nameKey)
	if len(grams) == 0 {
		return nil
	}
	args := argList{nameKey, accountID}
	in := make([]string, len(grams))
	for i, g := range grams {
		in[i] = args.add(g)
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM account_name_grams WHERE name_key = $1 AND account_id = $2 AND gram IN (`+
		strings.Join(in, ", ")+`)`, args...)
	return mapErr(err)
}

// rarestGram returns the trigram of query whose posting list is shortest,
// counting each list only up to gramProbeLimit, and whether any account can
// match at all. query has at least three characters.
func (r reader) rarestGram(ctx context.Context, query string) (gram string, anyMatch bool, err error) {
	grams := nameGrams(query)
	if len(grams) > maxProbedGrams {
		// Spread the probes over the query, keeping its first and last trigram.
		picked := make([]string, maxProbedGrams)
		for i := range picked {
			picked[i] = grams[i*(len(grams)-1)/(maxProbedGrams-1)]
		}
		grams = picked
	}
	var args argList
	counts := make([]string, len(grams))
	for i, g := range grams {
		// The ORDER BY, which is the key's own order, makes PostgreSQL walk
		// the index and stop at the limit instead of building a bitmap of
		// the whole list first.
		counts[i] = fmt.Sprintf(`(SELECT count(*) FROM (SELECT 1 FROM account_name_grams WHERE gram = %s
			ORDER BY gram, name_key, account_id LIMIT %d) p%d)`, args.add(g), gramProbeLimit, i)
	}
	n := make([]int64, len(grams))
	dest := make([]any, len(grams))
	for i := range n {
		dest[i] = &n[i]
	}
	if err := r.q.QueryRowContext(ctx, `SELECT `+strings.Join(counts, ", "), args...).Scan(dest...); err != nil {
		return "", false, mapErr(err)
	}
	best := 0
	for i := range n {
		if n[i] < n[best] {
			best = i
		}
	}
	return grams[best], n[best] > 0, nil
}

// usesGrams tells whether a search query can use the trigram table.
func usesGrams(query string) bool { return utf8.RuneCountInString(query) >= 3 }
