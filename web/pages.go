package web

// pageRoutes registers the HTML pages.
func (s *Server) pageRoutes() {}
