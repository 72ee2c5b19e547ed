package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/registry"
)

func (s *Server) colocationRoutes() {
	s.private("GET", "/colocation-requests", s.listRequests)
	s.private("POST", "/colocation-requests", s.submitRequest)
	s.private("GET", "/colocation-requests/:id", s.getRequest)
	s.private("POST", "/colocation-requests/:id/actions", s.actOnRequest)
	s.private("POST", "/colocation-requests/:id/comments", s.commentOnRequest)
}

func (s *Server) listRequests(c echo.Context) error {
	f := registry.RequestFilter{Box: c.QueryParam("box"), States: listParam(c, "state"),
		Counterpart: c.QueryParam("counterpart"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.Limit, err = queryInt(c, "limit"); err != nil {
		return err
	}
	if v := c.QueryParam("overdue"); v != "" {
		if f.Overdue, err = strconv.ParseBool(v); err != nil {
			return infrashare.Invalid("overdue", "must be true or false")
		}
	}
	if v := c.QueryParam("asset"); v != "" {
		if f.AssetID, err = strconv.ParseInt(v, 10, 64); err != nil || f.AssetID <= 0 {
			return infrashare.Invalid("asset", "must be an asset id")
		}
	}
	items, next, err := s.registry.ListRequests(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) submitRequest(c echo.Context) error {
	var in registry.NewRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.registry.Submit(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) getRequest(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.registry.GetRequest(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) actOnRequest(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var a registry.Action
	if err := bindJSON(c, &a); err != nil {
		return err
	}
	r, err := s.registry.Act(c.Request().Context(), actor(c), id, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

type commentBody struct {
	Body string `json:"body"`
}

func (s *Server) commentOnRequest(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in commentBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.registry.Comment(c.Request().Context(), actor(c), id, in.Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}
