package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// loginData is the sign-in form.
type loginData struct {
	Email string
}

// loginPage shows the sign-in form; a signed-in reader goes to the
// dashboard.
func (s *Server) loginPage(c echo.Context) error {
	if _, ok := pageActor(c); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, http.StatusOK, "login", s.newView(c, "login.title", loginData{}))
}

// loginSubmit signs in through the same service, limits and session as
// POST /api/v1/auth/login, then goes to the dashboard. A wrong sign-in
// shows the form again with the error.
func (s *Server) loginSubmit(c echo.Context) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	ctx := c.Request().Context()
	res, err := s.auth.LoginSession(ctx, email, password, c.RealIP())
	if err != nil {
		v := s.newView(c, "login.title", loginData{Email: email})
		var status int
		switch infrashare.ErrorCode(err) {
		case infrashare.EUNAUTHORIZED:
			status, v.Error = http.StatusUnauthorized, v.l.T("login.error.wrong")
		case infrashare.EINVALID:
			status, v.Error = http.StatusUnprocessableEntity, v.l.T("login.error.missing")
		case infrashare.ERATELIMITED:
			status, v.Error = http.StatusTooManyRequests, v.l.T("error.ratelimited")
			var de *infrashare.Error
			if errors.As(err, &de) {
				if secs, ok := de.Details["retry_after_seconds"].(int64); ok {
					c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
				}
			}
		default:
			return err
		}
		return s.render(c, status, "login", v)
	}
	// A new session token on sign-in: a token planted before it is worthless.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessUserID, res.User.ID)
	s.sessions.Put(ctx, sessAuthAt, res.AuthAt.UnixMicro())
	s.forgetCSRF(c)
	return c.Redirect(http.StatusSeeOther, "/")
}

// logoutSubmit ends the session (a POST: following a link must not sign
// anyone out).
func (s *Server) logoutSubmit(c echo.Context, a auth.Actor) error {
	ctx := c.Request().Context()
	if err := s.auth.Logout(ctx, a); err != nil {
		return err
	}
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	s.forgetCSRF(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}
