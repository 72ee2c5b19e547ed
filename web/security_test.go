package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// Web security (issue 9 point 5). TestSecurityHeadersOnEveryResponse in
// server_test.go covers a few API answers; this covers pages, static files,
// error pages, redirects and every kind of status, the CSRF refusal of
// every HTML form route (taken from the router, so a new form is covered),
// and the Secure flag of every cookie behind https.

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline code: %q", what, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, h.Get("X-Content-Type-Options"))
	}
	if rp := h.Get("Referrer-Policy"); rp == "" || rp == "unsafe-url" || rp == "no-referrer-when-downgrade" {
		t.Errorf("%s: Referrer-Policy %q", what, rp)
	}
}

func TestSecurityHeadersOnPagesStaticAndErrors(t *testing.T) {
	a := newAPI(t, dbtest.Open(t, database.SQLite))
	p := newPageClient(t, a)
	anon := newPageClient(t, a)
	p.signIn("operator")
	requests := []struct {
		client       *pageClient
		method, path string
	}{
		{anon, "GET", "/login"},
		{anon, "GET", "/"},               // redirect to the sign-in
		{anon, "GET", "/assets"},         // redirect
		{anon, "GET", "/no/such/page"},   // 404 page
		{anon, "GET", "/static/app.css"}, // static
		{anon, "GET", "/static/vendor/htmx.min.js"},
		{anon, "GET", "/static/nothing.js"}, // static 404
		{anon, "POST", "/login"},            // 403 without CSRF
		{anon, "GET", "/api/v1/assets"},     // 401 JSON
		{anon, "DELETE", "/healthz"},        // 405
		{anon, "GET", "/api/openapi.json"},
		{anon, "GET", "/metrics"},
		{p, "GET", "/"},
		{p, "GET", "/assets"},
		{p, "GET", "/admin/users"},      // 403 page
		{p, "GET", "/assets/999999999"}, // 404 page
		{p, "GET", "/assets?q=%00"},     // 422
	}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, r.client.base+r.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := r.client.do(req)
		checkSecurityHeaders(t, r.method+" "+r.path+" ("+http.StatusText(resp.status)+")", resp.header)
	}
	// And through the API client, an oversized body (413) and a panic-free
	// 415.
	for _, r := range []response{
		a.call("POST", "/api/v1/assets", a.token("operator"), strings.Repeat("x", 11<<20)),
		a.call("POST", "/api/v1/assets", a.token("operator"), "{}", "Content-Type", "text/plain"),
	} {
		checkSecurityHeaders(t, "API error "+http.StatusText(r.status), r.header)
	}
}

// Every HTML form route (a POST outside /api) refuses a post without the
// CSRF token with 403, signed in or not, also when the browser says the
// post comes from another site.
func TestCSRFOnEveryFormRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		signedIn := newPageClient(t, a)
		signedIn.signIn("admin")
		operator := newPageClient(t, a)
		operator.signIn("operator")
		anon := newPageClient(t, a)
		var forms []string
		for _, r := range a.srv.echo.Routes() {
			if r.Method == http.MethodPost && !strings.HasPrefix(r.Path, "/api/") {
				forms = append(forms, r.Path)
			}
		}
		if len(forms) < 10 {
			t.Fatalf("only %d form routes found: %v", len(forms), forms)
		}
		before := writeState(t, db)
		for _, route := range forms {
			path := strings.NewReplacer(":id", "1", ":code", "916", ":year", "2025").Replace(route)
			for name, client := range map[string]*pageClient{"anon": anon, "admin": signedIn, "operator": operator} {
				for _, site := range []string{"", "cross-site"} {
					form := url.Values{"name": {"x"}, "reason": {"csrf test"}, "action": {"approve"}}
					req, err := http.NewRequest("POST", client.base+path, strings.NewReader(form.Encode()))
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					if site != "" {
						req.Header.Set("Sec-Fetch-Site", site)
					}
					if r := client.do(req); r.status != http.StatusForbidden {
						t.Errorf("POST %s as %s without a CSRF token (Sec-Fetch-Site %q): %d, want 403", route, name, site, r.status)
					}
				}
			}
		}
		if after := writeState(t, db); after != before {
			t.Errorf("posts without CSRF tokens changed %s → %s", before, after)
		}
		t.Logf("%d form routes refuse posts without a CSRF token", len(forms))
	})
}

// Behind https every cookie the server sets is Secure and HttpOnly: the
// session (API sign-in and form sign-in), the CSRF cookie and the language
// cookie. Over plain http (development) they cannot be Secure.
func TestCookiesSecureBehindHTTPS(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	a := newAPI(t, db)
	srv, err := New(dbtest.Context(t), Config{Version: "test", BaseURL: "https://infrashare.cantho.gov.vn"}, db, a.srv.log)
	if err != nil {
		t.Fatal(err)
	}
	a.srv = srv
	p := newPageClient(t, a)
	var cookies []*http.Cookie
	collect := func(h http.Header) {
		cookies = append(cookies, (&http.Response{Header: h}).Cookies()...)
	}
	collect(p.get("/login?lang=en").header)
	collect(p.signIn("operator").header)
	collect(p.get("/?lang=vi").header)
	collect(a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": demoLogins["operator"], "password": demoPassword}).header)
	names := map[string]bool{}
	for _, c := range cookies {
		names[c.Name] = true
		if !c.Secure {
			t.Errorf("cookie %s is not Secure behind https", c.Name)
		}
		if !c.HttpOnly {
			t.Errorf("cookie %s is readable by scripts (no HttpOnly)", c.Name)
		}
		if c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s has SameSite %v, want Lax or Strict", c.Name, c.SameSite)
		}
	}
	for _, want := range []string{"infrashare_session", csrfCookie, langCookie} {
		if !names[want] {
			t.Errorf("no %s cookie seen among %v", want, names)
		}
	}
}
