package web

// referenceRoutes registers targets, holidays and settings.
func (s *Server) referenceRoutes() {}
