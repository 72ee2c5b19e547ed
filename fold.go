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
	// Vietnamese text folds rune by rune from a table; anything else takes
	// the normalisation pass.
	b := make([]byte, 0, len(s))
	for _, r := range s {
		f, ok := foldRune(r)
		if !ok {
			return foldNFD(s)
		}
		b = append(b, f...)
	}
	return string(b)
}

// foldNFD folds any text: decomposed, its combining marks dropped.
func foldNFD(s string) string {
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

// foldBlocks are the blocks Vietnamese text is written in: Basic Latin to
// the combining diacritics, Latin Extended Additional (ạ, ầ, ữ, …) and
// general punctuation. In them a letter decomposes to a base letter and
// combining marks (Mn), and nothing else combines, so folding rune by rune
// is folding the whole text; foldTables are foldNFD of each rune.
var foldBlocks = [][2]rune{{0, 0x36F}, {0x1E00, 0x1EFF}, {0x2000, 0x206F}}

var foldTables = func() [][]string {
	t := make([][]string, len(foldBlocks))
	for i, blk := range foldBlocks {
		for r := blk[0]; r <= blk[1]; r++ {
			t[i] = append(t[i], foldNFD(string(r)))
		}
	}
	return t
}()

func foldRune(r rune) (string, bool) {
	for i, blk := range foldBlocks {
		if r >= blk[0] && r <= blk[1] {
			return foldTables[i][r-blk[0]], true
		}
	}
	return "", false
}
