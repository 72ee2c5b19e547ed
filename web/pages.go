package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"infrashare"
	"infrashare/auth"
)

// The HTML pages of DESIGN §5: server-rendered with html/template from the
// same services as the API. Pages check roles themselves (the Casbin
// policies guard /api only), carry a CSRF token in every form and answer
// HTML error pages in the reader's language.

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Context keys of the page middleware.
const (
	ctxLang  = "page_lang"
	ctxActor = "page_actor"
	ctxCSRF  = "csrf"
)

// csrfField and csrfCookie name the CSRF token in forms and its cookie.
const (
	csrfField  = "csrf_token"
	csrfCookie = "csrf"
)

// pageTemplates holds each page parsed with the shared layout. A page is
// cloned for each request, so that T speaks the reader's language.
var pageTemplates = mustParsePages()

// mustParsePages parses every templates/*.html but the layout as a page,
// together with the layout and the shared pieces under templates/partials.
func mustParsePages() map[string]*template.Template {
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	partials, _ := fs.Glob(templateFS, "templates/partials/*.html")
	out := map[string]*template.Template{}
	for _, file := range pages {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		files := append(append([]string{"templates/layout.html"}, partials...), file)
		out[name] = template.Must(template.New(name).Funcs(templateFuncs()).ParseFS(templateFS, files...))
	}
	return out
}

// staticVersion changes whenever an embedded static file does: static URLs
// carry it, so that they may be cached for a year.
var staticVersion = func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// pageRoutes registers the HTML pages. Middleware goes on each route (not
// on a group, which would also catch unknown /api paths): the session, the
// language and HTML errors, then the CSRF check.
func (s *Server) pageRoutes() {
	e := s.echo
	e.GET("/static/*", s.staticFile)
	e.HEAD("/static/*", s.staticFile)

	base := []echo.MiddlewareFunc{echo.WrapMiddleware(s.sessions.LoadAndSave), s.pageBase}
	withCSRF := append(append([]echo.MiddlewareFunc{}, base...), s.pageCSRF())

	e.GET("/login", s.loginPage, withCSRF...)
	e.POST("/login", s.loginSubmit, withCSRF...)
	e.POST("/logout", s.signedInPage(s.logoutSubmit), withCSRF...)
	e.GET("/", s.signedInPage(s.dashboardPage), withCSRF...)
	e.GET("/assets", s.signedInPage(s.assetsPage), withCSRF...)
	e.GET("/assets/:id", s.signedInPage(s.assetPage), withCSRF...)
	// Each feature registers its own pages (pages_<feature>.go).
	for _, register := range []func(mw []echo.MiddlewareFunc){
		s.assetFormPages, s.mapPages, s.colocationPages, s.permitPages, s.reportPages, s.adminPages,
	} {
		register(withCSRF)
	}

	// Unknown paths outside /api answer an HTML 404 page; /api keeps its
	// JSON 404 (a more specific not-found route in server.go).
	notFound := s.pageBase(func(echo.Context) error { return errPageNotFound })
	e.RouteNotFound("/*", func(c echo.Context) error {
		// A known path with another method is still a JSON 405, as without
		// this catch-all route.
		if allow := s.allowedMethods(c); len(allow) > 0 {
			c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
			return echo.ErrMethodNotAllowed
		}
		return notFound(c)
	}, echo.WrapMiddleware(s.sessions.LoadAndSave))
}

// allowedMethods are the methods that have a route for the request's path.
func (s *Server) allowedMethods(c echo.Context) []string {
	routes := map[string]bool{}
	for _, r := range s.echo.Routes() {
		routes[r.Method+" "+r.Path] = true
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == c.Request().Method {
			continue
		}
		ec := s.echo.NewContext(c.Request(), nil)
		s.echo.Router().Find(m, c.Request().URL.Path, ec)
		if p := ec.Path(); p != "" && p != "/*" && routes[m+" "+p] {
			out = append(out, m)
		}
	}
	return out
}

var errPageNotFound = infrashare.NotFound("page")

// pageBase picks the reader's language, loads the signed-in actor if any,
// and turns any error of the page into an HTML error page.
func (s *Server) pageBase(next echo.HandlerFunc) echo.HandlerFunc {
	secure := strings.HasPrefix(s.cfg.BaseURL, "https://")
	return func(c echo.Context) error {
		c.Set(ctxLang, pickLang(c, secure))
		req := c.Request()
		ctx := auth.WithRequestID(req.Context(), requestID(c))
		if uid := s.sessions.GetInt64(ctx, sessUserID); uid != 0 {
			a, err := s.auth.ActorForSession(ctx, uid, time.UnixMicro(s.sessions.GetInt64(ctx, sessAuthAt)).UTC())
			switch {
			case err == nil:
				c.Set(ctxActor, a)
				ctx = auth.WithActor(ctx, a)
			case infrashare.ErrorCode(err) == infrashare.EUNAUTHORIZED:
				// Disabled, or signed out everywhere: the session is over.
				_ = s.sessions.Destroy(ctx)
			default:
				return s.errorPage(c, err)
			}
		}
		c.SetRequest(req.WithContext(ctx))
		c.Response().Header().Set("Cache-Control", "no-store")
		if err := next(c); err != nil {
			return s.errorPage(c, err)
		}
		return nil
	}
}

// errCSRF is a form posted without a valid CSRF token.
var errCSRF = &infrashare.Error{Code: infrashare.EFORBIDDEN, Message: "csrf"}

// pageCSRF is Echo's CSRF check with the token in a form field and a
// cookie. A safe request always gets a real token (Echo would skip minting
// one when the browser sends Sec-Fetch-Site), so that every form carries
// one; a post must bring it back, or come from the same origin by
// Sec-Fetch-Site, else 403.
func (s *Server) pageCSRF() echo.MiddlewareFunc {
	csrf := middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + csrfField,
		ContextKey:     ctxCSRF,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieMaxAge:   12 * 3600,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		CookieSecure:   strings.HasPrefix(s.cfg.BaseURL, "https://"),
		ErrorHandler:   func(error, echo.Context) error { return errCSRF },
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		h := csrf(next)
		return func(c echo.Context) error {
			if safeMethod(c.Request().Method) && c.Request().Header.Get(echo.HeaderSecFetchSite) != "" {
				r := c.Request().Clone(c.Request().Context())
				r.Header.Del(echo.HeaderSecFetchSite)
				c.SetRequest(r)
			}
			return h(c)
		}
	}
}

// forgetCSRF drops the CSRF cookie so that the next page mints a new
// token: on signing in and out.
func (s *Server) forgetCSRF(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(s.cfg.BaseURL, "https://"), SameSite: http.SameSiteLaxMode})
}

// pageActor is the signed-in actor of a page request.
func pageActor(c echo.Context) (auth.Actor, bool) {
	a, ok := c.Get(ctxActor).(auth.Actor)
	return a, ok
}

// signedInPage sends a signed-out reader to the sign-in form.
func (s *Server) signedInPage(h func(echo.Context, auth.Actor) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, ok := pageActor(c)
		if !ok {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		// A cookie rides along on cross-site requests; a state change must
		// come from our own pages.
		if !safeMethod(c.Request().Method) && c.Request().Header.Get(echo.HeaderSecFetchSite) == "cross-site" {
			return errCSRF
		}
		return h(c, a)
	}
}

// navItem is a link of the navigation.
type navItem struct {
	Href, Label string
	Current     bool
}

// pageUser is who is signed in, for the header.
type pageUser struct {
	Email   string
	OrgCode string
	Roles   []string
}

// pageView is what the layout needs, with the page's own data.
type pageView struct {
	Lang      string
	Title     string
	CSRF      string
	CSRFField string
	User      *pageUser
	Nav       []navItem
	LangVI    string
	LangEN    string
	StaticVer string
	Error     string
	Data      any
	l         localizer
}

// newView prepares the layout's data for c; titleKey names the page's
// title in the catalogue.
func (s *Server) newView(c echo.Context, titleKey string, data any) *pageView {
	lang, _ := c.Get(ctxLang).(string)
	if lang == "" {
		lang = langVI
	}
	l := localizer{lang: lang}
	v := &pageView{Lang: lang, Title: l.T(titleKey), CSRFField: csrfField, LangVI: langURL(c, langVI),
		LangEN: langURL(c, langEN), StaticVer: staticVersion, Data: data, l: l}
	if tok, ok := c.Get(ctxCSRF).(string); ok && tok != middleware.CSRFUsingSecFetchSite {
		v.CSRF = tok
	}
	if a, ok := pageActor(c); ok {
		v.User = &pageUser{Email: a.Email, OrgCode: a.OrgCode, Roles: a.Roles}
		v.Nav = navFor(l, a, c.Request().URL.Path)
	}
	return v
}

// navFor is the navigation a role sees.
func navFor(l localizer, a auth.Actor, current string) []navItem {
	all := []string{auth.RoleOperator, auth.RoleOfficer, auth.RoleAuditor, auth.RoleAdmin}
	links := []struct {
		href, key string
		roles     []string
	}{
		{"/", "nav.dashboard", all},
		{"/assets", "nav.assets", all},
		{"/map", "nav.map", all},
		{"/colocation", "nav.colocation", []string{auth.RoleOperator, auth.RoleAuditor, auth.RoleAdmin}},
		{"/permits", "nav.permits", all},
		{"/bts", "nav.bts", []string{auth.RoleOperator, auth.RoleAuditor, auth.RoleAdmin}},
		{"/reports", "nav.reports", []string{auth.RoleOperator, auth.RoleAuditor, auth.RoleAdmin}},
		{"/audit", "nav.audit", []string{auth.RoleAuditor, auth.RoleAdmin}},
		{"/admin/", "nav.admin", []string{auth.RoleAdmin}},
	}
	var items []navItem
	for _, link := range links {
		for _, r := range link.roles {
			if a.Has(r) {
				items = append(items, navItem{Href: link.href, Label: l.T(link.key)})
				break
			}
		}
	}
	for i := range items {
		h := items[i].Href
		items[i].Current = current == h || (h != "/" && strings.HasPrefix(current, strings.TrimSuffix(h, "/")+"/")) ||
			(h != "/" && current == strings.TrimSuffix(h, "/"))
	}
	return items
}

// render writes a page with the layout in the reader's language.
func (s *Server) render(c echo.Context, status int, name string, v *pageView) error {
	base, ok := pageTemplates[name]
	if !ok {
		return errors.New("no page template " + name)
	}
	t, err := base.Clone()
	if err != nil {
		return err
	}
	t.Funcs(template.FuncMap{"T": v.l.T})
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorData is the error page's content.
type errorData struct {
	Status    int
	Heading   string
	Message   string
	RequestID string
}

// errorPage answers an error of a page as an HTML page in the reader's
// language: a signed-out reader is sent to sign in.
func (s *Server) errorPage(c echo.Context, err error) error {
	if c.Response().Committed {
		return nil
	}
	status, de := toError(err)
	if status == http.StatusUnauthorized {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	v := s.newView(c, "error.title", nil)
	d := errorData{Status: status}
	switch {
	case errors.Is(err, errCSRF):
		d.Heading, d.Message = v.l.T("error.forbidden.title"), v.l.T("error.csrf")
	case status == http.StatusForbidden:
		d.Heading, d.Message = v.l.T("error.forbidden.title"), v.l.T("error.forbidden.text")
	case status == http.StatusNotFound:
		d.Heading, d.Message = v.l.T("error.notfound.title"), v.l.T("error.notfound.text")
	case status == http.StatusMethodNotAllowed:
		d.Heading, d.Message = v.l.T("error.title"), v.l.T("error.method")
	case status == http.StatusTooManyRequests:
		d.Heading, d.Message = v.l.T("error.title"), v.l.T("error.ratelimited")
		if secs, ok := de.Details["retry_after_seconds"].(int64); ok {
			c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
	case status >= 500:
		d.Heading, d.Message, d.RequestID = v.l.T("error.internal.title"), v.l.T("error.internal.text"), requestID(c)
		s.log.Error("internal error", "request_id", requestID(c), "path", c.Request().URL.Path, "error", err.Error())
	case status == 499:
		return nil
	default:
		// Validation and other client errors: the service's own words.
		d.Heading, d.Message = v.l.T("error.title"), de.Message
	}
	v.Title = d.Heading
	v.Data = d
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	if rerr := s.render(c, status, "error", v); rerr != nil {
		s.log.Error("render error page", "request_id", requestID(c), "error", rerr.Error())
		return c.String(http.StatusInternalServerError, "internal error")
	}
	return nil
}

// staticFile serves the embedded web/static files; URLs carry the
// content version, so that they may be cached for a year.
func (s *Server) staticFile(c echo.Context) error {
	name := path.Clean("/" + c.Param("*"))
	if name == "/" || strings.HasSuffix(c.Param("*"), "/") {
		return echo.ErrNotFound
	}
	f, err := staticFS.Open("static" + name)
	if err != nil {
		return echo.ErrNotFound
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+staticVersion+`"`)
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, rs)
	return nil
}
