package web

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
)

// undergroundRoutes registers street segments and residential areas.
func (s *Server) undergroundRoutes() {
	s.private("GET", "/street-segments", s.listStreetSegments)
	s.private("POST", "/street-segments", s.createStreetSegment)
	s.private("POST", "/street-segments/import", s.importStreetSegments)
	s.private("GET", "/street-segments/:id", s.getStreetSegment)
	s.private("PATCH", "/street-segments/:id", s.patchStreetSegment)
	s.private("DELETE", "/street-segments/:id", s.deleteStreetSegment)

	s.private("GET", "/residential-areas", s.listResidentialAreas)
	s.private("POST", "/residential-areas", s.createResidentialArea)
	s.private("POST", "/residential-areas/import", s.importResidentialAreas)
	s.private("GET", "/residential-areas/:id", s.getResidentialArea)
	s.private("PATCH", "/residential-areas/:id", s.patchResidentialArea)
	s.private("DELETE", "/residential-areas/:id", s.deleteResidentialArea)

	s.private("GET", "/reports/undergrounding", s.undergroundingReport)
}

// undgFlag reads an optional true/false filter: nil when absent.
func undgFlag(c echo.Context, name string) (*bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, infrashare.Invalid(name, "must be true or false")
	}
	return &b, nil
}

// undgCSV checks that an import is sent as text/csv in UTF-8 and reads
// ?dry_run.
func undgCSV(c echo.Context) (dryRun bool, err error) {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != "text/csv" {
		return false, &infrashare.Error{Code: "unsupported_media_type", Message: "send the file with Content-Type text/csv"}
	}
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
		return false, &infrashare.Error{Code: "unsupported_media_type", Message: "send the file in UTF-8 (charset=utf-8)"}
	}
	flag, err := undgFlag(c, "dry_run")
	if err != nil {
		return false, err
	}
	return flag != nil && *flag, nil
}

func (s *Server) listStreetSegments(c echo.Context) error {
	f := permits.StreetSegmentFilter{Unit: c.QueryParam("unit"), Street: c.QueryParam("street"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.Limit, err = queryInt(c, "limit"); err != nil {
		return err
	}
	if f.Central, err = undgFlag(c, "central"); err != nil {
		return err
	}
	if f.Underground, err = undgFlag(c, "underground"); err != nil {
		return err
	}
	items, next, err := s.permits.ListStreetSegments(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) createStreetSegment(c echo.Context) error {
	var in permits.StreetSegmentInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	g, err := s.permits.CreateStreetSegment(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, g)
}

func (s *Server) getStreetSegment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	g, err := s.permits.GetStreetSegment(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Server) patchStreetSegment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var p permits.StreetSegmentPatch
	if err := bindJSON(c, &p); err != nil {
		return err
	}
	g, err := s.permits.UpdateStreetSegment(c.Request().Context(), actor(c), id, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Server) deleteStreetSegment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.permits.DeleteStreetSegment(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) importStreetSegments(c echo.Context) error {
	dryRun, err := undgCSV(c)
	if err != nil {
		return err
	}
	res, err := s.permits.ImportStreetSegments(c.Request().Context(), actor(c), c.Request().Body, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) listResidentialAreas(c echo.Context) error {
	f := permits.ResidentialAreaFilter{Unit: c.QueryParam("unit"), Kind: c.QueryParam("kind"), Name: c.QueryParam("name"),
		Cursor: c.QueryParam("cursor")}
	var err error
	if f.Limit, err = queryInt(c, "limit"); err != nil {
		return err
	}
	if f.SharedUnderground, err = undgFlag(c, "shared_underground"); err != nil {
		return err
	}
	items, next, err := s.permits.ListResidentialAreas(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) createResidentialArea(c echo.Context) error {
	var in permits.ResidentialAreaInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	a, err := s.permits.CreateResidentialArea(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (s *Server) getResidentialArea(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.permits.GetResidentialArea(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) patchResidentialArea(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var p permits.ResidentialAreaPatch
	if err := bindJSON(c, &p); err != nil {
		return err
	}
	a, err := s.permits.UpdateResidentialArea(c.Request().Context(), actor(c), id, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) deleteResidentialArea(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.permits.DeleteResidentialArea(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) importResidentialAreas(c echo.Context) error {
	dryRun, err := undgCSV(c)
	if err != nil {
		return err
	}
	res, err := s.permits.ImportResidentialAreas(c.Request().Context(), actor(c), c.Request().Body, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// undergroundingReport answers the report as of ?as_of (today in Vietnam
// by default).
func (s *Server) undergroundingReport(c echo.Context) error {
	asOf := auth.Today(s.cfg.Clock)
	if v := c.QueryParam("as_of"); v != "" {
		d, err := infrashare.ParseDate(v)
		if err != nil {
			return infrashare.Invalid("as_of", "must be a date of the form YYYY-MM-DD")
		}
		asOf = d
	}
	rep, err := s.permits.UndergroundingReport(c.Request().Context(), actor(c), asOf, c.QueryParam("group_by"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
