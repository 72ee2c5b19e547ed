package web

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/geojson"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// The import page runs the service's import twice: first dry, to show what
// it would do or every bad row; then, on confirmation, for real. Between
// the two the file travels in the confirm form itself, gzip-compressed and
// base64-encoded in a hidden field: no server-side state (any replica can
// take the confirm), nothing to expire, and a tampered field only changes
// what the same all-or-nothing import checks again. Files for the page are
// capped (assetformImportMax); larger ones go through the API.

// assetformImportMax bounds a file imported through the page.
const assetformImportMax = 20 << 20

// assetformImportedKey is the session key of a confirmed import's counts,
// shown once by the register it leads to.
const assetformImportedKey = "assetform.imported"

// assetImportData is the import form, its preview and its problems.
type assetImportData struct {
	CRS, Lon0, FileName, Format string
	// Errors maps a form field ("file", "crs", "lon0") to its message.
	Errors map[string]string
	// Preview is a clean dry run's counts; Content is the file for the
	// confirm form.
	Preview *registry.ImportResult
	Content string
	// Rows are the bad rows of a refused file; Summary says how many.
	Rows          []registry.RowError
	RowsNotListed int
	Summary       string
	MaxMiB        int
}

// Err is the message for a field, for the template.
func (d *assetImportData) Err(field string) string { return d.Errors[field] }

func (s *Server) assetImportPage(c echo.Context, a auth.Actor) error {
	if !assetformMayRegister(a) {
		return infrashare.Forbidden("only operators import assets")
	}
	d := &assetImportData{CRS: registry.CRSWGS84, Lon0: "105.75", Errors: map[string]string{}, MaxMiB: assetformImportMax >> 20}
	return s.render(c, http.StatusOK, "assetform_import", s.newView(c, "assetform.import.title", d))
}

// assetImportSubmit previews an uploaded file (step "preview") or writes a
// previewed one (step "confirm").
func (s *Server) assetImportSubmit(c echo.Context, a auth.Actor) error {
	if !assetformMayRegister(a) {
		return infrashare.Forbidden("only operators import assets")
	}
	d := &assetImportData{CRS: c.FormValue("crs"), Lon0: strings.TrimSpace(c.FormValue("lon0")),
		Errors: map[string]string{}, MaxMiB: assetformImportMax >> 20}
	v := s.newView(c, "assetform.import.title", d)
	confirm := c.FormValue("step") == "confirm"
	var body []byte
	var err error
	if confirm {
		d.FileName, d.Format = c.FormValue("filename"), c.FormValue("format")
		if body, err = assetformUnpack(c.FormValue("content")); err != nil {
			return infrashare.Errorf(infrashare.EMALFORMED, "the confirmation lost its file; upload it again")
		}
	} else if body, d.FileName, err = assetformUpload(c); err != nil {
		d.Errors["file"] = v.l.T(err.Error())
		return s.render(c, http.StatusUnprocessableEntity, "assetform_import", v)
	} else {
		d.Format = assetformFormatOf(d.FileName, body)
	}
	opts := registry.ImportOptions{Format: d.Format, CRS: d.CRS, DryRun: !confirm}
	if d.CRS == registry.CRSVN2000 {
		f, ok := assetformFloat(d.Lon0)
		if !ok || f == nil {
			d.Errors["lon0"] = v.l.T("assetform.import.err.lon0")
			return s.render(c, http.StatusUnprocessableEntity, "assetform_import", v)
		}
		opts.Lon0 = *f
	}
	res, err := s.registry.ImportAssets(c.Request().Context(), a, bytes.NewReader(body), opts)
	if err != nil {
		return s.assetImportFailed(c, v, d, err)
	}
	if confirm {
		if raw, err := json.Marshal(res); err == nil {
			s.sessions.Put(c.Request().Context(), assetformImportedKey, string(raw))
		}
		return c.Redirect(http.StatusSeeOther, "/assets?owner="+url.QueryEscape(a.OrgCode))
	}
	d.Preview = &res
	if d.Content, err = assetformPack(body); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "assetform_import", v)
}

// assetImportFailed shows what is wrong with the file: every bad row with
// its line and column, or the option or file that could not be used.
func (s *Server) assetImportFailed(c echo.Context, v *pageView, d *assetImportData, err error) error {
	var de *infrashare.Error
	if !errors.As(err, &de) {
		return err
	}
	switch de.Code {
	case infrashare.EMALFORMED:
		d.Errors["file"] = v.l.T("assetform.import.err.unreadable") + " " + de.Message
		return s.render(c, http.StatusBadRequest, "assetform_import", v)
	case infrashare.EINVALID:
	case infrashare.ECONFLICT:
		d.Summary = v.l.T("assetform.import.err.conflict")
		return s.render(c, http.StatusConflict, "assetform_import", v)
	default:
		return err
	}
	if rows, ok := de.Details["rows"].([]registry.RowError); ok {
		d.Rows = rows
		d.RowsNotListed, _ = de.Details["rows_not_listed"].(int)
		d.Summary = v.l.T("assetform.import.bad_rows", fmtNum(len(rows)))
		return s.render(c, http.StatusUnprocessableEntity, "assetform_import", v)
	}
	for field, reason := range de.Fields {
		switch field {
		case "crs":
			d.Errors[field] = v.l.T("assetform.import.err.crs")
		case "lon0":
			d.Errors[field] = v.l.T("assetform.import.err.lon0")
		default:
			d.Errors["file"] = assetformReason(v.l, reason)
			if reason == "the file has no rows" {
				d.Errors["file"] = v.l.T("assetform.import.err.empty")
			}
		}
	}
	return s.render(c, http.StatusUnprocessableEntity, "assetform_import", v)
}

// assetformUpload reads the uploaded file; its errors are catalogue keys.
func assetformUpload(c echo.Context) ([]byte, string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", errors.New("assetform.import.err.nofile")
	}
	if fh.Size > assetformImportMax {
		return nil, "", errors.New("assetform.import.err.toolarge")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", errors.New("assetform.import.err.nofile")
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, assetformImportMax+1))
	if err != nil {
		return nil, "", errors.New("assetform.import.err.nofile")
	}
	if len(body) > assetformImportMax {
		return nil, "", errors.New("assetform.import.err.toolarge")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "", errors.New("assetform.import.err.empty")
	}
	return body, path.Base(fh.Filename), nil
}

// assetformFormatOf tells CSV from GeoJSON by the file's name, else by its
// first character.
func assetformFormatOf(name string, body []byte) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".txt":
		return "csv"
	case ".geojson", ".json":
		return "geojson"
	}
	if bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF})), []byte("{")) {
		return "geojson"
	}
	return "csv"
}

// assetformPack is a file as the confirm form carries it.
func assetformPack(body []byte) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// assetformUnpack reverses assetformPack, never inflating past the cap.
func assetformUnpack(field string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(field)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(zr, assetformImportMax+1))
	if err != nil {
		return nil, err
	}
	if len(body) > assetformImportMax || len(body) == 0 {
		return nil, errors.New("size")
	}
	return body, nil
}

// assetformPopImported is a confirmed import's counts, once.
func (s *Server) assetformPopImported(c echo.Context) *registry.ImportResult {
	raw := s.sessions.PopString(c.Request().Context(), assetformImportedKey)
	if raw == "" {
		return nil
	}
	var res registry.ImportResult
	if json.Unmarshal([]byte(raw), &res) != nil {
		return nil
	}
	return &res
}

// assetformNearbyURL is the nearby search around an asset: its position
// (as the reader sees it), or the middle of a line's extent.
func assetformNearbyURL(a registry.AssetView) string {
	lat, lon := a.Lat, a.Lon
	if lat == nil || lon == nil {
		g, err := geojson.UnmarshalGeometry(a.Geometry)
		if err != nil {
			return ""
		}
		c := g.Geometry().Bound().Center()
		lon, lat = &c[0], &c[1]
	}
	return fmt.Sprintf("/nearby?lat=%s&lon=%s", strconv.FormatFloat(*lat, 'f', 6, 64), strconv.FormatFloat(*lon, 'f', 6, 64))
}
