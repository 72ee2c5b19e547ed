package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// adminPages registers the admin pages under /admin/ (DESIGN §5).
func (s *Server) adminPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/admin/", s.signedInPage(s.adminPage), mw...)
	e.GET("/admin", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/admin/") })
}

// adminPage is the admins' start page; other roles get the 403 page.
func (s *Server) adminPage(c echo.Context, a auth.Actor) error {
	if !a.Has(auth.RoleAdmin) {
		return infrashare.Forbidden("admin pages are for admins")
	}
	return s.render(c, http.StatusOK, "admin", s.newView(c, "admin.title", nil))
}
