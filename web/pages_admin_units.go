package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// adminUnitLevels are the unit levels, highest first.
var adminUnitLevels = []string{"province", "district", "commune"}

// adminUnitsData is the unit list with its filters and the forms that
// create, retire and import units.
type adminUnitsData struct {
	Level, Q, On      string
	Levels            []string
	Items             []registry.UnitView
	NextURL, FirstURL string
	Paged             bool
	Create            adminForm
	Retire            adminForm
	Import            adminForm
	ImportRows        []registry.UnitImportRowError
	ImportResult      *registry.UnitImportResult
	Notice            string
}

func newAdminUnitsData() *adminUnitsData {
	return &adminUnitsData{Create: newAdminForm(), Retire: newAdminForm(), Import: newAdminForm()}
}

// adminUnitsPage lists the units, effective-dated, by the filters of a GET
// form. ?retire=CODE fills the retire form.
func (s *Server) adminUnitsPage(c echo.Context, a auth.Actor) error {
	d := newAdminUnitsData()
	d.Retire.Values["code"] = c.QueryParam("retire")
	return s.renderAdminUnits(c, a, d, http.StatusOK)
}

func (s *Server) renderAdminUnits(c echo.Context, a auth.Actor, d *adminUnitsData, status int) error {
	d.Level, d.Q, d.On, d.Levels = c.QueryParam("level"), c.QueryParam("q"), c.QueryParam("on"), adminUnitLevels
	if d.Create.Values["level"] == "" {
		d.Create.Values["level"] = "district"
	}
	v := s.newView(c, "adminpg.units.title", d)
	d.Notice = adminNotice(v.l, c)
	f := registry.UnitFilter{Level: d.Level, Q: d.Q, Cursor: c.QueryParam("cursor"), Limit: 100}
	if d.On != "" {
		on, ok := adminParseDate(d.On)
		if !ok {
			v.Error = v.l.T("adminpg.error.filter") + " " + v.l.T("adminpg.why.date")
			return s.render(c, http.StatusUnprocessableEntity, "admin_units", v)
		}
		f.On = on
	}
	params := map[string]string{"level": d.Level, "q": d.Q, "on": d.On}
	d.FirstURL, d.Paged = adminQuery("/admin/units", params), f.Cursor != ""
	items, next, err := s.units.List(c.Request().Context(), a, f)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("adminpg.error.filter") + " " + fieldText(err)
		status = http.StatusUnprocessableEntity
	}
	d.Items = items
	if next != "" {
		params["cursor"] = next
		d.NextURL = adminQuery("/admin/units", params)
	}
	return s.render(c, status, "admin_units", v)
}

// adminISODate turns a typed date into the service's YYYY-MM-DD, leaving
// what it cannot read for the service to refuse.
func adminISODate(v string) string {
	if d, ok := adminParseDate(v); ok {
		return d.String()
	}
	return v
}

func (s *Server) adminUnitCreate(c echo.Context, a auth.Actor) error {
	in := registry.NewUnit{Code: c.FormValue("code"), Name: c.FormValue("name"), Level: c.FormValue("level"),
		ParentCode: c.FormValue("parent_code"), Urban: c.FormValue("urban") == "true",
		ValidFrom: adminISODate(c.FormValue("valid_from")), ValidTo: adminISODate(c.FormValue("valid_to"))}
	u, err := s.units.Create(c.Request().Context(), a, in)
	if err == nil {
		return adminRedirect(c, "/admin/units", map[string]string{"q": u.Code, "done": "created"})
	}
	d := newAdminUnitsData()
	for _, k := range []string{"code", "name", "level", "parent_code", "urban", "valid_from", "valid_to"} {
		d.Create.Values[k] = c.FormValue(k)
	}
	status, err := d.Create.refused(adminLocalizer(c), err, "")
	if err != nil {
		return err
	}
	return s.renderAdminUnits(c, a, d, status)
}

// adminUnitRetire ends the unit valid on the date given: it is valid up to
// the day before.
func (s *Server) adminUnitRetire(c echo.Context, a auth.Actor) error {
	code, onText := c.FormValue("code"), c.FormValue("on")
	d := newAdminUnitsData()
	d.Retire.Values["code"], d.Retire.Values["on"] = code, onText
	l := adminLocalizer(c)
	on, ok := adminParseDate(onText)
	if !ok {
		d.Retire.Error, d.Retire.Errors["on"] = l.T("adminpg.error.invalid"), l.T("adminpg.why.date")
		return s.renderAdminUnits(c, a, d, http.StatusUnprocessableEntity)
	}
	_, err := s.units.Retire(c.Request().Context(), a, code, on)
	if err == nil {
		return adminRedirect(c, "/admin/units", map[string]string{"q": code, "done": "retired"})
	}
	status := http.StatusUnprocessableEntity
	if infrashare.ErrorCode(err) == infrashare.ENOTFOUND {
		// Nothing of that code is valid on that day: a problem of the form,
		// not a missing page.
		d.Retire.Error, d.Retire.Errors["code"] = l.T("adminpg.error.invalid"), l.T("adminpg.units.retire.none", code, fmtDate(on))
	} else if status, err = d.Retire.refused(l, err, ""); err != nil {
		return err
	}
	return s.renderAdminUnits(c, a, d, status)
}

// adminUnitImport sets boundaries (or creates units) from an uploaded
// GeoJSON FeatureCollection, all or nothing; a refused file lists every
// bad feature. A dry run only checks.
func (s *Server) adminUnitImport(c echo.Context, a auth.Actor) error {
	d := newAdminUnitsData()
	l := adminLocalizer(c)
	dryRun := c.FormValue("dry_run") == "true"
	if dryRun {
		d.Import.Values["dry_run"] = "true"
	}
	body, err := adminUploaded(c, "file")
	if err != nil {
		return err
	}
	if body == nil {
		d.Import.Error, d.Import.Errors["file"] = l.T("adminpg.error.invalid"), l.T("adminpg.units.import.nofile")
		return s.renderAdminUnits(c, a, d, http.StatusUnprocessableEntity)
	}
	res, err := s.units.ImportBoundaries(c.Request().Context(), a, body, dryRun)
	if err == nil {
		if dryRun {
			d.ImportResult = &res
			return s.renderAdminUnits(c, a, d, http.StatusOK)
		}
		return adminRedirect(c, "/admin/units", map[string]string{"done": "imported",
			"updated": strconv.Itoa(res.Updated), "created": strconv.Itoa(res.Created)})
	}
	var de *infrashare.Error
	if !errors.As(err, &de) {
		return err
	}
	status := http.StatusUnprocessableEntity
	switch de.Code {
	case infrashare.EINVALID:
		d.ImportRows, _ = de.Details["rows"].([]registry.UnitImportRowError)
		d.Import.Error = l.T("adminpg.units.import.refused") + " " + de.Message
		if len(d.ImportRows) == 0 {
			d.Import.Error += " " + fieldText(err)
		}
	case infrashare.EMALFORMED:
		d.Import.Error = l.T("adminpg.units.import.refused") + " " + de.Message
	case infrashare.ECONFLICT:
		status, d.Import.Error = http.StatusConflict, l.T("adminpg.error.conflict", de.Message)
	default:
		return err
	}
	return s.renderAdminUnits(c, a, d, status)
}

// adminUploaded reads the file of a multipart form's field, nil when none
// was chosen. The route's body limit bounds its size.
func adminUploaded(c echo.Context, field string) ([]byte, error) {
	fh, err := c.FormFile(field)
	if err != nil {
		if errors.Is(err, http.ErrMissingFile) {
			return nil, nil
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, infrashare.Errorf(infrashare.EMALFORMED, "could not read the uploaded file")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, nil
	}
	return body, nil
}
