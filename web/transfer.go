package web

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/registry"
)

// transferRoutes registers import and export of the register.
func (s *Server) transferRoutes() {
	s.private("POST", "/assets/import", s.importAssets)
	s.private("POST", "/allocations/import", s.importAllocations)
	s.private("GET", "/assets/export", s.exportAssets)
	s.private("GET", "/assets.geojson", s.assetsGeoJSON)
}

// transferMediaType reads the body's media type: one of allowed (mapped to a
// format), in UTF-8, else 415.
func transferMediaType(c echo.Context, allowed map[string]string) (string, error) {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	format, ok := allowed[mt]
	if err != nil || !ok {
		types := make([]string, 0, len(allowed))
		for _, t := range []string{"text/csv", "application/geo+json", "application/json"} {
			if _, ok := allowed[t]; ok {
				types = append(types, t)
			}
		}
		return "", &infrashare.Error{Code: "unsupported_media_type",
			Message: "send the file with Content-Type " + strings.Join(types, " or ")}
	}
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
		return "", &infrashare.Error{Code: "unsupported_media_type", Message: "send the file in UTF-8 (charset=utf-8)"}
	}
	return format, nil
}

// transferBool reads an optional true/false from the query string.
func transferBool(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, infrashare.Invalid(name, "must be true or false")
	}
	return b, nil
}

func (s *Server) importAssets(c echo.Context) error {
	format, err := transferMediaType(c, map[string]string{"text/csv": "csv", "application/geo+json": "geojson", "application/json": "geojson"})
	if err != nil {
		return err
	}
	opts := registry.ImportOptions{Format: format, CRS: c.QueryParam("crs")}
	if v := c.QueryParam("lon0"); v != "" {
		if opts.Lon0, err = strconv.ParseFloat(v, 64); err != nil {
			return infrashare.Invalid("lon0", "must be a number of degrees, such as 105 or 105.75")
		}
	}
	if opts.DryRun, err = transferBool(c, "dry_run"); err != nil {
		return err
	}
	res, err := s.registry.ImportAssets(c.Request().Context(), actor(c), c.Request().Body, opts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) importAllocations(c echo.Context) error {
	if _, err := transferMediaType(c, map[string]string{"text/csv": "csv"}); err != nil {
		return err
	}
	dryRun, err := transferBool(c, "dry_run")
	if err != nil {
		return err
	}
	res, err := s.registry.ImportAllocations(c.Request().Context(), actor(c), c.Request().Body, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// transferContentTypes are the Content-Types of the export formats.
var transferContentTypes = map[string]string{
	registry.ExportCSV:     "text/csv; charset=utf-8",
	registry.ExportGeoJSON: "application/geo+json",
	registry.ExportXLSX:    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

func (s *Server) exportAssets(c echo.Context) error {
	f, err := assetFilter(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = registry.ExportCSV
	}
	if err := registry.CheckExportFormat(format); err != nil {
		return err
	}
	name := fmt.Sprintf("infrashare-assets-%s.%s", s.settings.Today(), format)
	return s.streamAssets(c, f, format, name)
}

func (s *Server) assetsGeoJSON(c echo.Context) error {
	f, err := assetFilter(c)
	if err != nil {
		return err
	}
	return s.streamAssets(c, f, registry.ExportGeoJSON, "")
}

// streamAssets answers an export as it is produced. Errors found before the
// first byte (bad filters, the first query) answer as usual; after that the
// status is sent already, so the error is logged and the connection cut,
// so that the client cannot take a truncated file for a whole one.
func (s *Server) streamAssets(c echo.Context, f registry.AssetFilter, format, attachment string) error {
	w := &transferWriter{c: c, contentType: transferContentTypes[format], attachment: attachment}
	err := s.registry.ExportAssets(c.Request().Context(), actor(c), f, format, w)
	if !w.started {
		if err != nil {
			return err
		}
		w.start()
		return nil
	}
	if err != nil {
		level := slog.LevelError
		if c.Request().Context().Err() != nil {
			level = slog.LevelWarn // the client went away
		}
		s.log.Log(c.Request().Context(), level, "export failed while streaming; connection cut",
			"request_id", requestID(c), "format", format, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	return nil
}

// transferWriter sends the status and headers with the first byte.
type transferWriter struct {
	c           echo.Context
	contentType string
	attachment  string
	started     bool
}

func (w *transferWriter) start() {
	h := w.c.Response().Header()
	h.Set(echo.HeaderContentType, w.contentType)
	if w.attachment != "" {
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", w.attachment))
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.c.Response().WriteHeader(http.StatusOK)
	w.started = true
}

func (w *transferWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	return w.c.Response().Write(p)
}
