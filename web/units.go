package web

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/registry"
)

// unitRoutes registers the administrative-unit routes.
func (s *Server) unitRoutes() {
	s.private("GET", "/admin-units", s.listAdminUnits)
	s.private("POST", "/admin-units", s.createAdminUnit)
	s.private("POST", "/admin-units/import", s.importAdminUnitBoundaries)
	s.private("POST", "/admin-units/:code/retire", s.retireAdminUnit)
}

func (s *Server) listAdminUnits(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	f := registry.UnitFilter{Level: c.QueryParam("level"), Parent: c.QueryParam("parent"), Q: c.QueryParam("q"),
		Limit: limit, Cursor: c.QueryParam("cursor")}
	if f.On, err = unitDateParam(c.QueryParam("on"), "on"); err != nil {
		return err
	}
	if f.Boundary, err = unitFlagParam(c, "boundary"); err != nil {
		return err
	}
	items, next, err := s.units.List(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) createAdminUnit(c echo.Context) error {
	var in registry.NewUnit
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.units.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

// importAdminUnitBoundaries takes a GeoJSON FeatureCollection; the route's
// body limit is the import limit (its path ends in /import).
func (s *Server) importAdminUnitBoundaries(c echo.Context) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || (mt != "application/geo+json" && mt != "application/json") {
		return &infrashare.Error{Code: "unsupported_media_type",
			Message: "send a GeoJSON FeatureCollection as Content-Type: application/geo+json or application/json"}
	}
	dryRun, err := unitFlagParam(c, "dry_run")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return infrashare.Errorf(infrashare.EMALFORMED, "could not read the body")
	}
	res, err := s.units.ImportBoundaries(c.Request().Context(), actor(c), body, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// retireBody is the body of POST /admin-units/:code/retire.
type retireBody struct {
	On string `json:"on"`
}

func (s *Server) retireAdminUnit(c echo.Context) error {
	var in retireBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.On == "" {
		return infrashare.Invalid("on", "is required: the first day the unit is no longer valid, YYYY-MM-DD")
	}
	on, err := unitDateParam(in.On, "on")
	if err != nil {
		return err
	}
	u, err := s.units.Retire(c.Request().Context(), actor(c), c.Param("code"), on)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// unitDateParam reads an optional YYYY-MM-DD value named name.
func unitDateParam(v, name string) (infrashare.Date, error) {
	if v == "" {
		return infrashare.Date{}, nil
	}
	d, err := infrashare.ParseDate(v)
	if err != nil {
		return infrashare.Date{}, infrashare.Invalid(name, "must be a date YYYY-MM-DD")
	}
	return d, nil
}

// unitFlagParam reads an optional true/false query parameter.
func unitFlagParam(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, infrashare.Invalid(name, "must be true or false")
}
