package web

func (s *Server) webhookRoutes() {}
