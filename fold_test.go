package infrashare

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFoldMixedText(t *testing.T) {
	for in, want := range map[string]string{
		"VNPT-CT-0001": "vnpt-ct-0001",
		"Ủy ban":       "uy ban",
		"Số 12 đường Nguyễn Văn Cừ, Ninh Kiều": "so 12 duong nguyen van cu, ninh kieu",
		"ĐẶNG Thị Ngọc Thịnh — Phòng kỹ thuật": "dang thi ngoc thinh — phong ky thuat",
		"Cu\u0300 decomposed":                  "cu decomposed",
		"Tokyo 東京":                             "tokyo 東京",
		"bad \xff byte":                        "bad \ufffd byte",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// Folding rune by rune from the tables is the normalisation pass, also for
// marks that combine with the letter before them.
func TestFoldTablesMatchNormalisation(t *testing.T) {
	letters := []rune("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵÀÁẢÃẠỲÝỸ" +
		" ,.-'—\u0300\u0301\u0303\u0309\u0323\u0306\u0302\u031b\u00a0\u2019")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(40) {
			b.WriteRune(letters[rng.IntN(len(letters))])
		}
		s := b.String()
		if got, want := Fold(s), foldNFD(s); got != want {
			t.Fatalf("Fold(%q) = %q, the normalisation pass %q", s, got, want)
		}
	}
}
