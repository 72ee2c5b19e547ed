package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// The admin pages of DESIGN §5 (issue #7): users, organisations, units,
// targets, settings and holidays, for admins only. Each page calls the
// service the JSON API calls; the services check the role again.

// adminPages registers the admin pages under /admin/ (DESIGN §5).
func (s *Server) adminPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/admin", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/admin/") })
	routes := []struct {
		method, path string
		h            func(echo.Context, auth.Actor) error
	}{
		{"GET", "/admin/", s.adminIndexPage},
		{"GET", "/admin/users", s.adminUsersPage},
		{"POST", "/admin/users", s.adminUserCreate},
		{"GET", "/admin/users/:id", s.adminUserPage},
		{"POST", "/admin/users/:id", s.adminUserUpdate},
		{"POST", "/admin/users/:id/disabled", s.adminUserDisable},
		{"POST", "/admin/users/:id/password", s.adminUserPassword},
		{"GET", "/admin/organizations", s.adminOrgsPage},
		{"POST", "/admin/organizations", s.adminOrgCreate},
		{"GET", "/admin/organizations/:id", s.adminOrgPage},
		{"POST", "/admin/organizations/:id", s.adminOrgUpdate},
		{"GET", "/admin/units", s.adminUnitsPage},
		{"POST", "/admin/units", s.adminUnitCreate},
		{"POST", "/admin/units/retire", s.adminUnitRetire},
		{"POST", "/admin/units/import", s.adminUnitImport},
		{"GET", "/admin/targets", s.adminTargetsPage},
		{"POST", "/admin/targets", s.adminTargetPut},
		{"GET", "/admin/settings", s.adminSettingsPage},
		{"POST", "/admin/settings", s.adminSettingPut},
		{"GET", "/admin/holidays", s.adminHolidaysPage},
		{"POST", "/admin/holidays/add", s.adminHolidayAdd},
		{"POST", "/admin/holidays/remove", s.adminHolidayRemove},
	}
	for _, r := range routes {
		e.Add(r.method, r.path, s.signedInPage(adminPagesOnly(r.h)), mw...)
	}
}

// adminPagesOnly answers the 403 page to every role but admin, before the
// handler reads or writes anything.
func adminPagesOnly(h func(echo.Context, auth.Actor) error) func(echo.Context, auth.Actor) error {
	return func(c echo.Context, a auth.Actor) error {
		if !a.Has(auth.RoleAdmin) {
			return infrashare.Forbidden("admin pages are for admins")
		}
		return h(c, a)
	}
}

// adminIndexPage is the admins' start page: a link to each admin page.
func (s *Server) adminIndexPage(c echo.Context, a auth.Actor) error {
	return s.render(c, http.StatusOK, "admin", s.newView(c, "adminpg.index.title", nil))
}

// adminForm is what a form shows again after a refused post: the values
// sent, each field's problem, and a message over the form.
type adminForm struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func newAdminForm() adminForm {
	return adminForm{Values: map[string]string{}, Errors: map[string]string{}}
}

// adminReasons are the service's words for common problems, said in the
// reader's language; other reasons show as the service words them.
var adminReasons = map[string]string{
	"is required":                        "adminpg.why.required",
	"must be an e-mail address":          "adminpg.why.email",
	"unknown organisation code":          "adminpg.why.unknown_org",
	"is not valid JSON":                  "adminpg.why.json",
	"must have at least 1 items":         "adminpg.why.one_role",
	"is not a known administrative unit": "adminpg.why.unknown_unit",
	"must be at least 10 characters":     "adminpg.why.password_short",
}

// refused fills the form from a service error: a validation error gives
// each field (named without prefix, such as "settings[0].") its message
// and the status 422; a conflict its message and 409. Other errors are
// returned for the error page.
func (f *adminForm) refused(l localizer, err error, prefix string) (int, error) {
	var de *infrashare.Error
	if !errors.As(err, &de) {
		return 0, err
	}
	switch de.Code {
	case infrashare.EINVALID:
		for field, why := range de.Fields {
			if key, ok := adminReasons[why]; ok {
				why = l.T(key)
			}
			field = strings.TrimPrefix(field, prefix)
			if i := strings.IndexByte(field, '['); i > 0 {
				field = field[:i] // roles[1]: the roles field
			}
			f.Errors[field] = why
		}
		f.Error = l.T("adminpg.error.invalid")
		if len(de.Fields) == 0 {
			f.Error += " " + de.Message
		}
		return http.StatusUnprocessableEntity, nil
	case infrashare.ECONFLICT:
		f.Error = l.T("adminpg.error.conflict", de.Message)
		return http.StatusConflict, nil
	}
	return 0, err
}

// adminLocalizer speaks the reader's language, for a page's messages
// before its view is made.
func adminLocalizer(c echo.Context) localizer {
	lang, _ := c.Get(ctxLang).(string)
	if lang == "" {
		lang = langVI
	}
	return localizer{lang: lang}
}

// adminNotice is the message of a finished change, named by ?done= after
// the redirect of a successful post.
func adminNotice(l localizer, c echo.Context) string {
	switch c.QueryParam("done") {
	case "created":
		return l.T("adminpg.done.created")
	case "saved":
		return l.T("adminpg.done.saved")
	case "retired":
		return l.T("adminpg.done.retired")
	case "removed":
		return l.T("adminpg.done.removed")
	case "imported":
		// Counts only: the link must not put other words in the page.
		updated, err1 := strconv.Atoi(c.QueryParam("updated"))
		created, err2 := strconv.Atoi(c.QueryParam("created"))
		if err1 == nil && err2 == nil {
			return l.T("adminpg.units.import.done", updated, created)
		}
	}
	return ""
}

// adminParseDate reads a date as a date input sends it (YYYY-MM-DD) or as
// people type it here (dd/mm/yyyy).
func adminParseDate(v string) (infrashare.Date, bool) {
	v = strings.TrimSpace(v)
	if d, err := infrashare.ParseDate(v); err == nil {
		return d, true
	}
	if t, err := time.Parse("2/1/2006", v); err == nil {
		return infrashare.DateOf(t), true
	}
	return infrashare.Date{}, false
}

// adminQuery is a list URL with the non-empty parameters.
func adminQuery(path string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// adminRedirect answers the Post/Redirect/Get of a successful change.
func adminRedirect(c echo.Context, path string, params map[string]string) error {
	return c.Redirect(http.StatusSeeOther, adminQuery(path, params))
}
