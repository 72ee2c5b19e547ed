package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// The pages speak Vietnamese unless asked for English (DESIGN §5). Every
// string shown comes from a message catalogue under web/i18n.

// Each language has a directory of catalogue files, one per feature, merged
// at start; a key defined in two files is a mistake and stops the start.
//
//go:embed i18n
var catalogueFS embed.FS

// Languages the pages speak; the first is the default.
const (
	langVI = "vi"
	langEN = "en"
)

// langCookie remembers a reader's choice of language.
const langCookie = "lang"

// catalogues maps a language to its messages, key → text. A text may hold
// fmt verbs filled by T's arguments.
var catalogues = mustLoadCatalogues()

func mustLoadCatalogues() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range []string{langVI, langEN} {
		files, err := fs.Glob(catalogueFS, "i18n/"+lang+"/*.json")
		if err != nil || len(files) == 0 {
			panic(fmt.Sprintf("web/i18n/%s: no catalogue files (%v)", lang, err))
		}
		m := map[string]string{}
		from := map[string]string{}
		for _, name := range files {
			raw, err := catalogueFS.ReadFile(name)
			if err != nil {
				panic(err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(raw, &part); err != nil {
				panic(fmt.Sprintf("web/%s: %v", name, err))
			}
			for k, v := range part {
				if prev, dup := from[k]; dup {
					panic(fmt.Sprintf("web/%s: key %q is already in %s", name, k, prev))
				}
				m[k], from[k] = v, name
			}
		}
		out[lang] = m
	}
	return out
}

// localizer translates and formats for one language.
type localizer struct {
	lang string
}

// T is the message of key in the reader's language, with args filled in.
// A missing key shows itself in brackets rather than breaking the page;
// a test keeps the catalogues complete.
func (l localizer) T(key string, args ...any) string {
	msg, ok := catalogues[l.lang][key]
	if !ok {
		if msg, ok = catalogues[langVI][key]; !ok {
			return "[" + key + "]"
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// pickLang reads ?lang= (and remembers it in a cookie), else the cookie,
// else Vietnamese.
func pickLang(c echo.Context, secure bool) string {
	if q := c.QueryParam("lang"); q == langVI || q == langEN {
		c.SetCookie(&http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		return q
	}
	if ck, err := c.Cookie(langCookie); err == nil && (ck.Value == langVI || ck.Value == langEN) {
		return ck.Value
	}
	return langVI
}

// langURL is the current page in another language.
func langURL(c echo.Context, lang string) string {
	u := *c.Request().URL
	q := u.Query()
	q.Set("lang", lang)
	u.RawQuery = q.Encode()
	return u.Path + "?" + u.RawQuery
}

// groupDigits writes a whole number with Vietnamese thousands separators:
// 1.234.567.
func groupDigits(n int64) string {
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	s := strconv.FormatUint(u, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fmtNum formats a number the Vietnamese way: "." between thousands, ","
// before decimals (at most two). Nil pointers show as a dash.
func fmtNum(v any) string {
	switch n := v.(type) {
	case int:
		return groupDigits(int64(n))
	case int64:
		return groupDigits(n)
	case *int:
		if n == nil {
			return "–"
		}
		return groupDigits(int64(*n))
	case *int64:
		if n == nil {
			return "–"
		}
		return groupDigits(*n)
	case float64:
		return fmtFloat(n, 2)
	case *float64:
		if n == nil {
			return "–"
		}
		return fmtFloat(*n, 2)
	}
	return fmt.Sprint(v)
}

func fmtFloat(f float64, decimals int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	p := math.Pow10(decimals)
	f = math.Round(f*p) / p
	whole, frac := math.Modf(math.Abs(f))
	s := groupDigits(int64(whole))
	if f < 0 {
		s = "-" + s
	}
	if frac == 0 {
		return s
	}
	d := strings.TrimRight(strconv.FormatFloat(frac, 'f', decimals, 64)[2:], "0")
	return s + "," + d
}

// fmtCoord shows a latitude or longitude to six decimals (about 0,1 m).
func fmtCoord(f *float64) string {
	if f == nil {
		return "–"
	}
	return fmtFloat(*f, 6)
}

// fmtPct shows a fraction (0.425) as a percentage: "42,5 %".
func fmtPct(v any) string {
	switch f := v.(type) {
	case float64:
		return fmtFloat(f*100, 1) + " %"
	case *float64:
		if f == nil {
			return "–"
		}
		return fmtFloat(*f*100, 1) + " %"
	}
	return "–"
}

// fmtDate shows a date as dd/mm/yyyy, an instant in Vietnam's time zone.
func fmtDate(v any) string {
	switch d := v.(type) {
	case time.Time:
		if d.IsZero() {
			return "–"
		}
		return d.In(auth.Vietnam).Format("02/01/2006")
	case *time.Time:
		if d == nil {
			return "–"
		}
		return fmtDate(*d)
	case infrashare.Date:
		if d.IsZero() {
			return "–"
		}
		return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year)
	case *infrashare.Date:
		if d == nil {
			return "–"
		}
		return fmtDate(*d)
	}
	return "–"
}

// fmtDateTime shows an instant as dd/mm/yyyy HH:MM in Vietnam's time zone.
func fmtDateTime(v any) string {
	switch d := v.(type) {
	case time.Time:
		if d.IsZero() {
			return "–"
		}
		return d.In(auth.Vietnam).Format("02/01/2006 15:04")
	case *time.Time:
		if d == nil {
			return "–"
		}
		return fmtDateTime(*d)
	}
	return fmtDate(v)
}

// templateFuncs are the functions every page template may call. T is
// replaced per request by the reader's language.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"T":            localizer{lang: langVI}.T,
		"num":          fmtNum,
		"pct":          fmtPct,
		"coord":        fmtCoord,
		"date":         fmtDate,
		"datetime":     fmtDateTime,
		"derefString":  func(s *string) string { return derefString(s) },
		"hasRole":      func(roles []string, r string) bool { return containsRole(roles, r) },
		"add":          func(a, b int) int { return a + b },
		"stringOrDash": func(s string) string { return orDash(s) },
	}
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return s
}

func containsRole(roles []string, r string) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
