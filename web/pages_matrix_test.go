package web

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

// publicPaths answer without signing in.
var publicPaths = map[string]bool{"/login": true, "/healthz": true, "/readyz": true, "/metrics": true, "/api/openapi.json": true}

// TestPageMatrix covers every HTML page route the server has, so that a new
// page is checked without anyone listing it: signed out, each one sends the
// reader to the sign-in form; signed in, each role gets the page, the 403
// page or a 404 page for an object it may not see — never a server error —
// and every link of a role's navigation opens.
func TestPageMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var gets []string
		for _, r := range a.srv.echo.Routes() {
			if r.Method != http.MethodGet || strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/static/") ||
				publicPaths[r.Path] || r.Path == "/*" || r.Path == "/admin" {
				continue
			}
			// Ids of objects that do not exist: the page must say 404 (or
			// 403 for a role that may not use it), not fail.
			gets = append(gets, regexp.MustCompile(`:[a-z_]+`).ReplaceAllString(r.Path, "987654"))
		}
		sort.Strings(gets)
		if len(gets) < 20 {
			t.Fatalf("only %d page routes found: %v", len(gets), gets)
		}

		anon := newPageClient(t, a)
		for _, path := range gets {
			wantRedirect(t, anon.get(path), "/login")
		}
		for _, role := range []string{"admin", "auditor", "officer", "operator"} {
			p := newPageClient(t, a)
			p.signIn(role)
			for _, path := range gets {
				r := p.get(path)
				switch r.status {
				case http.StatusOK, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
				default:
					t.Errorf("%s GET %s: %d", role, path, r.status)
				}
				if strings.Contains(r.body, "goroutine") || strings.Contains(r.body, ".go:") {
					t.Errorf("%s GET %s leaks internals", role, path)
				}
			}
			home := p.get("/")
			actor := auth.Actor{Roles: []string{role}}
			for _, item := range navFor(localizer{lang: langVI}, actor, "/") {
				if !strings.Contains(home.body, `href="`+item.Href+`"`) {
					t.Errorf("%s: the navigation lacks %s", role, item.Href)
				}
				if r := p.get(item.Href); r.status != http.StatusOK {
					t.Errorf("%s: the navigation links %s, which answers %d", role, item.Href, r.status)
				}
			}
		}
	})
}
