package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/permits"
)

// annualRoutes: the department's annual report (issue 6 point 7).
func (s *Server) annualRoutes() {
	s.private("GET", "/reports/annual", s.annualReport)
	s.private("POST", "/reports/annual/:year/freeze", s.freezeAnnualReport)
}

// annualYear reads a report year: a whole number 2000..2100.
func annualYear(v string, fields infrashare.FieldErrors) int {
	if v == "" {
		fields.Add("year", "is required: a year between 2000 and 2100")
		return 0
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2000 || y > 2100 {
		fields.Add("year", "must be a year between 2000 and 2100")
		return 0
	}
	return y
}

// annualReport answers ?year=YYYY as JSON (default), XLSX or a printable
// HTML page (&format=). The file is built whole before anything is sent,
// so that a failure answers an error rather than half a file.
func (s *Server) annualReport(c echo.Context) error {
	fields := infrashare.FieldErrors{}
	year := annualYear(c.QueryParam("year"), fields)
	format := c.QueryParam("format")
	switch format {
	case "", "json", "xlsx", "html":
	default:
		fields.Add("format", "must be json, xlsx or html")
	}
	if err := fields.Err(); err != nil {
		return err
	}
	rep, err := s.permits.AnnualReport(c.Request().Context(), actor(c), year)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("bao-cao-nam-%d", rep.Year)
	var buf bytes.Buffer
	switch format {
	case "xlsx":
		if err := permits.WriteAnnualXLSX(&buf, rep); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	case "html":
		if err := permits.WriteAnnualHTML(&buf, rep); err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Content-Disposition", `inline; filename="`+name+`.html"`)
		// The page is self-contained: its own styles, no script, nothing
		// fetched.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		return c.HTMLBlob(http.StatusOK, buf.Bytes())
	}
	return c.JSON(http.StatusOK, rep)
}

// freezeAnnualReport freezes the year of the path: 201 with the year, the
// time and the SHA-256 of the stored snapshot.
func (s *Server) freezeAnnualReport(c echo.Context) error {
	fields := infrashare.FieldErrors{}
	year := annualYear(c.Param("year"), fields)
	if err := fields.Err(); err != nil {
		return err
	}
	fr, err := s.permits.FreezeAnnualReport(c.Request().Context(), actor(c), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, fr)
}
