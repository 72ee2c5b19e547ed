package web

func (s *Server) transferRoutes() {}
