package web

import "github.com/labstack/echo/v4"

// colocationPages registers the co-location request pages.
func (s *Server) colocationPages(mw []echo.MiddlewareFunc) {}
