package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// colocationForm is the form that files a request on one asset, as typed.
type colocationForm struct {
	Asset                                                    string
	Units, Purpose, DesiredStart, Message                    string
	AntType, AntCount, AntHeight, AntAzimuths, AntWeight     string
	AntWind, PowerKW, GroundM2, Cables, CableDiameter, Tubes string
	Description                                              string
}

type colocationNewData struct {
	Asset       *registry.AssetView
	Own         bool
	Form        colocationForm
	Errors      map[string]string
	Purposes    []string
	BTSFields   []colocationInput
	FiberFields []colocationInput
}

// colocationInput is one input of the technical payload, with what was
// typed and its error.
type colocationInput struct {
	Name, LabelKey, HintKey, Type, Mode, Value, Err string
}

// withInputs lays out the technical inputs with the typed values and
// their errors.
func (d *colocationNewData) withInputs() *colocationNewData {
	in := func(name, typ, mode, value string) colocationInput {
		return colocationInput{Name: name, LabelKey: "colocation.tech." + name, Type: typ, Mode: mode, Value: value, Err: d.Errors[name]}
	}
	f := d.Form
	azimuths := in("ant_azimuths", "text", "", f.AntAzimuths)
	azimuths.HintKey = "colocation.tech.ant_azimuths_hint"
	d.BTSFields = []colocationInput{in("ant_type", "text", "", f.AntType), in("ant_count", "number", "numeric", f.AntCount),
		in("ant_height", "text", "decimal", f.AntHeight), azimuths,
		in("ant_weight", "text", "decimal", f.AntWeight), in("ant_wind", "text", "decimal", f.AntWind),
		in("power_kw", "text", "decimal", f.PowerKW), in("ground_m2", "text", "decimal", f.GroundM2)}
	d.FiberFields = []colocationInput{in("cables", "number", "numeric", f.Cables),
		in("cable_diameter", "text", "decimal", f.CableDiameter), in("tubes", "number", "numeric", f.Tubes)}
	return d
}

// colocationNewPage shows the form for the asset of ?asset=; without one
// it points to the register, where requests start from an asset.
func (s *Server) colocationNewPage(c echo.Context, a auth.Actor) error {
	if !a.Has(auth.RoleOperator) {
		return infrashare.Forbidden("only operators file co-location requests")
	}
	d := &colocationNewData{Form: colocationForm{Asset: c.QueryParam("asset"), Units: "1"}, Errors: map[string]string{},
		Purposes: []string{"bts", "fiber", "other"}}
	if d.Form.Asset != "" {
		if err := s.colocationLoadAsset(c, a, d); err != nil {
			return err
		}
		d.Form.Purpose = "bts"
		switch d.Asset.Kind {
		case "duct", "conduit", "tunnel", "manhole":
			d.Form.Purpose = "fiber"
		}
	}
	return s.render(c, http.StatusOK, "colocation_new", s.newView(c, "colocation.new.title", d.withInputs()))
}

// colocationLoadAsset reads the asset the request is for; an unknown one
// answers 404 like any other object.
func (s *Server) colocationLoadAsset(c echo.Context, a auth.Actor, d *colocationNewData) error {
	id, err := strconv.ParseInt(d.Form.Asset, 10, 64)
	if err != nil || id <= 0 {
		return infrashare.NotFound("asset")
	}
	asset, err := s.registry.Get(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	d.Asset, d.Own = &asset, asset.Owner.ID == a.OrgID
	return nil
}

// colocationNewSubmit files the request, and posts its message as the
// first comment. Bad input comes back beside its fields (422); too many
// units come back with the free count (409).
func (s *Server) colocationNewSubmit(c echo.Context, a auth.Actor) error {
	if !a.Has(auth.RoleOperator) {
		return infrashare.Forbidden("only operators file co-location requests")
	}
	f := colocationForm{Asset: c.FormValue("asset"), Units: c.FormValue("units"), Purpose: c.FormValue("purpose"),
		DesiredStart: c.FormValue("desired_start"), Message: c.FormValue("message"),
		AntType: c.FormValue("ant_type"), AntCount: c.FormValue("ant_count"), AntHeight: c.FormValue("ant_height"),
		AntAzimuths: c.FormValue("ant_azimuths"), AntWeight: c.FormValue("ant_weight"), AntWind: c.FormValue("ant_wind"),
		PowerKW: c.FormValue("power_kw"), GroundM2: c.FormValue("ground_m2"), Cables: c.FormValue("cables"),
		CableDiameter: c.FormValue("cable_diameter"), Tubes: c.FormValue("tubes"), Description: c.FormValue("description")}
	d := &colocationNewData{Form: f, Errors: map[string]string{}, Purposes: []string{"bts", "fiber", "other"}}
	if err := s.colocationLoadAsset(c, a, d); err != nil {
		return err
	}
	v := s.newView(c, "colocation.new.title", d)
	again := func(status int) error {
		d.withInputs()
		return s.render(c, status, "colocation_new", v)
	}
	in, fieldErrs := colocationRequestOf(v.l, f, d.Asset.ID)
	if len(fieldErrs) > 0 {
		d.Errors = fieldErrs
		return again(http.StatusUnprocessableEntity)
	}
	ctx := c.Request().Context()
	r, err := s.registry.Submit(ctx, a, in)
	switch {
	case err == nil:
	case infrashare.ErrorCode(err) == infrashare.EINVALID:
		d.Errors = colocationFieldErrors(v.l, err, colocationFormField)
		if d.Errors["alert"] != "" {
			v.Error = d.Errors["alert"]
		}
		return again(http.StatusUnprocessableEntity)
	case infrashare.ErrorCode(err) == infrashare.ECONFLICT:
		free, _ := conflictDetail(err, "free")
		d.Errors["units"] = v.l.T("colocation.conflict.units", free, strings.TrimSpace(f.Units))
		v.Error = d.Errors["units"]
		return again(http.StatusConflict)
	default:
		return err
	}
	if msg := strings.TrimSpace(f.Message); msg != "" {
		if _, err := s.registry.Comment(ctx, a, r.ID, msg); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/colocation/%d", r.ID))
}

// colocationRequestOf turns the typed form into the service's input. What
// is not a number where one is needed is reported here; the rest the
// service checks.
func colocationRequestOf(l localizer, f colocationForm, assetID int64) (registry.NewRequest, map[string]string) {
	errs := map[string]string{}
	num := func(field, s string) float64 {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0
		}
		n, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
		if err != nil {
			errs[field] = colocationErrText(l, field)
		}
		return n
	}
	whole := func(field, s string) int {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			errs[field] = colocationErrText(l, field)
		}
		return n
	}
	in := registry.NewRequest{Purpose: f.Purpose,
		Items: []registry.RequestItemInput{{AssetID: assetID, Units: whole("units", f.Units)}}}
	if s := strings.TrimSpace(f.DesiredStart); s != "" {
		d, err := colocationParseDate(s)
		if err != nil {
			errs["desired_start"] = l.T("colocation.err.desired_start")
		}
		in.DesiredStart = &d
	}
	if len([]rune(f.Message)) > 5000 {
		errs["message"] = l.T("colocation.err.message")
	}
	var technical any
	switch f.Purpose {
	case "bts":
		ant := registry.BTSAntenna{Type: strings.TrimSpace(f.AntType), Count: whole("ant_count", f.AntCount),
			MountHeightM: num("ant_height", f.AntHeight), WeightKg: num("ant_weight", f.AntWeight),
			WindAreaM2: num("ant_wind", f.AntWind)}
		for _, az := range strings.FieldsFunc(f.AntAzimuths, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			ant.AzimuthsDeg = append(ant.AzimuthsDeg, num("ant_azimuths", az))
		}
		technical = registry.BTSTechnical{Antennas: []registry.BTSAntenna{ant}, PowerKW: num("power_kw", f.PowerKW),
			GroundSpaceM2: num("ground_m2", f.GroundM2)}
	case "fiber":
		technical = registry.FiberTechnical{Cables: whole("cables", f.Cables),
			CableDiameterMM: num("cable_diameter", f.CableDiameter), Tubes: whole("tubes", f.Tubes)}
	case "other":
		technical = registry.OtherTechnical{Description: strings.TrimSpace(f.Description)}
	default:
		errs["purpose"] = l.T("colocation.err.purpose")
	}
	if technical != nil {
		in.Technical, _ = json.Marshal(technical)
	}
	return in, errs
}

// colocationParseDate reads the date input's yyyy-mm-dd, or dd/mm/yyyy
// typed by hand where the browser has no date picker.
func colocationParseDate(s string) (infrashare.Date, error) {
	if d, err := infrashare.ParseDate(s); err == nil {
		return d, nil
	}
	var day, month, year int
	if _, err := fmt.Sscanf(s, "%d/%d/%d", &day, &month, &year); err != nil {
		return infrashare.Date{}, err
	}
	return infrashare.ParseDate(fmt.Sprintf("%04d-%02d-%02d", year, month, day))
}

// colocationFormFields maps the service's field names to the form's.
var colocationFormFields = map[string]string{
	"items[0].units":                       "units",
	"items[0].asset_id":                    "alert",
	"items":                                "alert",
	"purpose":                              "purpose",
	"desired_start":                        "desired_start",
	"technical":                            "alert",
	"technical.antennas":                   "ant_type",
	"technical.antennas[0].type":           "ant_type",
	"technical.antennas[0].count":          "ant_count",
	"technical.antennas[0].mount_height_m": "ant_height",
	"technical.antennas[0].azimuths_deg":   "ant_azimuths",
	"technical.antennas[0].weight_kg":      "ant_weight",
	"technical.antennas[0].wind_area_m2":   "ant_wind",
	"technical.power_kw":                   "power_kw",
	"technical.ground_space_m2":            "ground_m2",
	"technical.cables":                     "cables",
	"technical.cable_diameter_mm":          "cable_diameter",
	"technical.tubes":                      "tubes",
	"technical.description":                "description",
}

var colocationIndexSuffix = regexp.MustCompile(`\[\d+\]$`)

// colocationFormField names the form field of a service field: an azimuth
// "…azimuths_deg[2]" is the azimuths field.
func colocationFormField(service string) string {
	if f, ok := colocationFormFields[service]; ok {
		return f
	}
	if f, ok := colocationFormFields[colocationIndexSuffix.ReplaceAllString(service, "")]; ok {
		return f
	}
	return "alert"
}

// colocationFieldErrors turns a validation error into a message in the
// reader's language for each field of the form. The fields of an action
// are named as the service names them.
func colocationFieldErrors(l localizer, err error, field func(string) string) map[string]string {
	out := map[string]string{}
	var de *infrashare.Error
	if !errors.As(err, &de) {
		return out
	}
	for name, reason := range de.Fields {
		f := name
		if field != nil {
			f = field(name)
		}
		msg := l.T("colocation.err.invalid", name, reason)
		if _, known := catalogues[langVI]["colocation.err."+f]; known && f != "alert" {
			msg = colocationErrText(l, f)
		}
		if out[f] == "" {
			out[f] = msg
		} else {
			out[f] += " " + msg
		}
	}
	if len(out) == 0 {
		out["alert"] = l.T("colocation.err.general", de.Message)
	}
	return out
}

// colocationErrText is the message of a form field's error; its keys are
// checked by TestCatalogueColocationKeys.
func colocationErrText(l localizer, field string) string {
	key := "colocation.err." + field
	return l.T(key)
}
