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
	// Codes and many addresses are plain ASCII: lower-casing is all they
	// need, without the normalisation pass (an import folds every row).
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
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
