package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"infrashare/notify"
)

// webhookRoutes registers the organisations' webhook routes. Casbin lets
// only the operator role in; the notify service keeps each organisation to
// its own webhooks.
func (s *Server) webhookRoutes() {
	s.private("GET", "/webhooks", s.listWebhooks)
	s.private("POST", "/webhooks", s.createWebhook)
	s.private("DELETE", "/webhooks/:id", s.deleteWebhook)
}

func (s *Server) listWebhooks(c echo.Context) error {
	items, err := s.notify.ListWebhooks(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

// createWebhook answers 201 with the signing secret, the only time it is
// shown.
func (s *Server) createWebhook(c echo.Context) error {
	var in notify.NewWebhook
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	w, err := s.notify.CreateWebhook(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, w)
}

func (s *Server) deleteWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.notify.DeleteWebhook(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
