package web

// transferRoutes registers import and export of the register.
func (s *Server) transferRoutes() {}
