package web

import "github.com/labstack/echo/v4"

// assetFormPages registers asset create and edit forms and the import page.
func (s *Server) assetFormPages(mw []echo.MiddlewareFunc) {}
