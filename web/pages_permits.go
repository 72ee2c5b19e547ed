package web

import "github.com/labstack/echo/v4"

// permitPages registers the permit, officer review and BTS log pages.
func (s *Server) permitPages(mw []echo.MiddlewareFunc) {}
