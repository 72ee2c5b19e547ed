package web

// undergroundRoutes registers street segments and residential areas.
func (s *Server) undergroundRoutes() {}
