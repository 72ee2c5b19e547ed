package web

import "github.com/labstack/echo/v4"

// mapPages registers the map and nearby search.
func (s *Server) mapPages(mw []echo.MiddlewareFunc) {}
