package infrashare

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold makes text comparable the way a Vietnamese reader searches: lower
// case, without diacritics, đ as d. "Ủy ban" and "UY BAN" fold alike. Both
// databases store and compare folded keys, since SQLite's LOWER knows only
// ASCII.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			b.WriteRune('d')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
