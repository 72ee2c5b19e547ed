package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"infrashare/permits"
)

// referenceRoutes registers targets, holidays and settings.
func (s *Server) referenceRoutes() {
	s.private("GET", "/targets", s.listTargets)
	s.private("PUT", "/targets", s.putTargets)
	s.private("GET", "/holidays", s.listHolidays)
	s.private("PUT", "/holidays", s.putHolidays)
	s.private("GET", "/settings", s.listSettings)
	s.private("PUT", "/settings", s.putSettings)
}

func (s *Server) listTargets(c echo.Context) error {
	year, err := queryInt(c, "year")
	if err != nil {
		return err
	}
	f := permits.TargetFilter{Plan: c.QueryParam("plan"), Metric: c.QueryParam("metric"), Unit: c.QueryParam("unit"), Year: year}
	items, err := s.permits.Targets(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

// targetsBody is the body of PUT /targets.
type targetsBody struct {
	Targets []permits.TargetRow `json:"targets"`
}

func (s *Server) putTargets(c echo.Context) error {
	var in targetsBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	items, err := s.permits.PutTargets(c.Request().Context(), actor(c), in.Targets)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

func (s *Server) listHolidays(c echo.Context) error {
	year, err := queryInt(c, "year")
	if err != nil {
		return err
	}
	items, err := s.permits.Holidays(c.Request().Context(), actor(c), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

// holidaysBody is the body of PUT /holidays: one whole calendar year.
type holidaysBody struct {
	Year     int               `json:"year"`
	Holidays []permits.Holiday `json:"holidays"`
}

func (s *Server) putHolidays(c echo.Context) error {
	var in holidaysBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	items, err := s.permits.PutHolidays(c.Request().Context(), actor(c), in.Year, in.Holidays)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

func (s *Server) listSettings(c echo.Context) error {
	items, err := s.permits.Settings(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

// settingsBody is the body of PUT /settings.
type settingsBody struct {
	Settings []permits.SettingRow `json:"settings"`
}

func (s *Server) putSettings(c echo.Context) error {
	var in settingsBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	items, err := s.permits.PutSettings(c.Request().Context(), actor(c), in.Settings)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}
