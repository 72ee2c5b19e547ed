package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// The asset forms: register an asset, edit one's own with optimistic
// locking, record the owner's own use from the detail page, and the bulk
// import with its dry-run preview (pages_assetform_import.go). Every write
// goes through the same registry calls as the JSON API, which enforce
// ownership; the pages only decide what to offer.

// assetFormPages registers asset create and edit forms and the import page.
func (s *Server) assetFormPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/assets/new", s.signedInPage(s.assetNewPage), mw...)
	e.POST("/assets/new", s.signedInPage(s.assetCreateSubmit), mw...)
	e.GET("/assets/:id/edit", s.signedInPage(s.assetEditPage), mw...)
	e.POST("/assets/:id/edit", s.signedInPage(s.assetEditSubmit), mw...)
	e.POST("/assets/:id/allocations", s.signedInPage(s.assetOwnUseSubmit), mw...)
	e.GET("/assets/import", s.signedInPage(s.assetImportPage), mw...)
	e.POST("/assets/import", s.signedInPage(s.assetImportSubmit), mw...)
}

// assetformPointKinds are the kinds placed by one position; the others are
// lines (DESIGN §2).
var assetformPointKinds = map[string]bool{"tower": true, "pole": true, "manhole": true, "cabinet": true}

// assetformCapacityUnits are the capacity units an asset may count in.
var assetformCapacityUnits = []string{"tenant_slot", "tube", "cable_slot"}

// assetformMayRegister reports whether a registers assets: operators, each
// for its own organisation (the service's rule; an admin has no assets).
func assetformMayRegister(a auth.Actor) bool {
	return a.Has(auth.RoleOperator) && a.OrgKind == auth.KindOperator
}

// assetFormValues are the form's fields as typed, kept on errors.
type assetFormValues struct {
	Code, Kind, Status, Lat, Lon, Line, UnitCode, Address string
	HeightM, Class, Structure, Tubes, DiameterMM          string
	CapacityUnit, CapacityTotal, InServiceOn, RentVND     string
	Contact                                               string
	Restricted                                            bool
}

// assetFormData is the create or edit form.
type assetFormData struct {
	Edit    bool
	ID      int64
	Version int
	Values  assetFormValues
	// Errors maps a form field to its message; "" is the form as a whole.
	Errors   map[string]string
	Conflict string
	Kinds    []string
	Statuses []string
	CapUnits []string
	Classes  []string
	Units    []registry.UnitView
}

// Err is the message for a field, for the template.
func (d *assetFormData) Err(field string) string { return d.Errors[field] }

// IsPoint reports whether the chosen kind is placed by one position.
func (d *assetFormData) IsPoint() bool {
	return d.Values.Kind == "" || assetformPointKinds[d.Values.Kind]
}

func (s *Server) assetFormData(c echo.Context, a auth.Actor) (*assetFormData, error) {
	ctx := c.Request().Context()
	classes, err := s.registry.Classes(ctx)
	if err != nil {
		return nil, err
	}
	units, _, err := s.units.List(ctx, a, registry.UnitFilter{On: s.settings.Today(), Limit: auth.MaxLimit})
	if err != nil {
		return nil, err
	}
	return &assetFormData{Errors: map[string]string{}, Kinds: assetKinds, Statuses: assetStatuses,
		CapUnits: assetformCapacityUnits, Classes: classes, Units: units}, nil
}

func (s *Server) assetNewPage(c echo.Context, a auth.Actor) error {
	if !assetformMayRegister(a) {
		return infrashare.Forbidden("only operators register assets")
	}
	d, err := s.assetFormData(c, a)
	if err != nil {
		return err
	}
	d.Values = assetFormValues{Kind: "tower", Status: "in_service"}
	return s.render(c, http.StatusOK, "assetform", s.newView(c, "assetform.new.title", d))
}

func (s *Server) assetCreateSubmit(c echo.Context, a auth.Actor) error {
	if !assetformMayRegister(a) {
		return infrashare.Forbidden("only operators register assets")
	}
	d, err := s.assetFormData(c, a)
	if err != nil {
		return err
	}
	v := s.newView(c, "assetform.new.title", d)
	d.Values = assetformRead(c)
	in, fields := assetformInput(v.l, d.Values)
	if len(fields) > 0 {
		d.Errors = fields
		return s.render(c, http.StatusUnprocessableEntity, "assetform", v)
	}
	created, err := s.registry.Create(c.Request().Context(), a, in)
	if err != nil {
		return s.assetformFailed(c, v, d, err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/assets/%d", created.ID))
}

// assetformEditable loads an asset the actor may edit: 404 for none, 403
// for another organisation's (the register is public, so its existence is
// no secret).
func (s *Server) assetformEditable(c echo.Context, a auth.Actor) (registry.AssetView, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return registry.AssetView{}, err
	}
	asset, err := s.registry.Get(c.Request().Context(), a, id)
	if err != nil {
		return registry.AssetView{}, err
	}
	if !assetformMayRegister(a) || asset.Owner.ID != a.OrgID {
		return registry.AssetView{}, infrashare.Forbidden("only the owner changes an asset")
	}
	return asset, nil
}

func (s *Server) assetEditPage(c echo.Context, a auth.Actor) error {
	asset, err := s.assetformEditable(c, a)
	if err != nil {
		return err
	}
	d, err := s.assetFormData(c, a)
	if err != nil {
		return err
	}
	d.Edit, d.ID, d.Version, d.Values = true, asset.ID, asset.Version, assetformValuesOf(asset)
	v := s.newView(c, "assetform.edit.title", d)
	v.Title = v.l.T("assetform.edit.title") + " " + asset.Code
	return s.render(c, http.StatusOK, "assetform", v)
}

func (s *Server) assetEditSubmit(c echo.Context, a auth.Actor) error {
	asset, err := s.assetformEditable(c, a)
	if err != nil {
		return err
	}
	d, err := s.assetFormData(c, a)
	if err != nil {
		return err
	}
	v := s.newView(c, "assetform.edit.title", d)
	v.Title = v.l.T("assetform.edit.title") + " " + asset.Code
	d.Edit, d.ID = true, asset.ID
	d.Values = assetformRead(c)
	// Code and kind do not change; the form shows them, it does not send them.
	d.Values.Code, d.Values.Kind = asset.Code, asset.Kind
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return infrashare.Errorf(infrashare.EMALFORMED, "the form lacks the asset's version")
	}
	d.Version = version
	in, fields := assetformInput(v.l, d.Values)
	patch, more := assetformPatch(v.l, asset, d.Values, in, version)
	for k, msg := range more {
		fields[k] = msg
	}
	if len(fields) > 0 {
		d.Errors = fields
		return s.render(c, http.StatusUnprocessableEntity, "assetform", v)
	}
	if _, err := s.registry.Update(c.Request().Context(), a, asset.ID, patch); err != nil {
		return s.assetformFailed(c, v, d, err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/assets/%d", asset.ID))
}

// assetformFailed shows the form again after the service refused it: field
// problems next to their fields (422, or 409 for a code already used), a
// stale version as a conflict with a way to reload.
func (s *Server) assetformFailed(c echo.Context, v *pageView, d *assetFormData, err error) error {
	var de *infrashare.Error
	if !errors.As(err, &de) || (de.Code != infrashare.EINVALID && de.Code != infrashare.ECONFLICT) {
		return err
	}
	status := http.StatusUnprocessableEntity
	if de.Code == infrashare.ECONFLICT {
		status = http.StatusConflict
		if _, stale := de.Fields["version"]; stale || len(de.Fields) == 0 {
			d.Conflict = v.l.T("assetform.conflict")
			if len(de.Fields) == 0 {
				d.Conflict += " " + de.Message
			}
			return s.render(c, status, "assetform", v)
		}
	}
	for field, reason := range de.Fields {
		d.Errors[assetformFieldOf(field)] = assetformReason(v.l, reason)
	}
	if len(de.Fields) == 0 {
		d.Errors[""] = de.Message
	}
	return s.render(c, status, "assetform", v)
}

// assetformFieldOf is the form field where a service field's problem shows.
func assetformFieldOf(field string) string {
	switch field {
	case "geometry", "lat", "lon":
		return "position"
	case "capacity.total", "capacity":
		return "capacity_total"
	case "capacity.unit":
		return "capacity_unit"
	}
	return field
}

// assetformReasons translate the service's usual field reasons; any other
// is shown in the service's own words.
var assetformReasons = []struct{ prefix, key string }{
	{"is required", "assetform.err.required"},
	{"applies to towers and poles", "assetform.err.mast_only"},
	{"applies to ducts and conduits", "assetform.err.duct_only"},
	{"applies to sites", "assetform.err.restricted_line"},
	{"outside the service area", "assetform.err.outside"},
	{"already used by another of your assets", "assetform.err.code_taken"},
	{"no unit with this code is valid today", "assetform.err.unit_unknown"},
	{"below what is allocated", "assetform.err.below_allocated"},
	{"the position lies in unit", "assetform.err.unit_mismatch"},
}

func assetformReason(l localizer, reason string) string {
	if rest, ok := strings.CutPrefix(reason, "must be one of: "); ok {
		return l.T("assetform.err.oneof", rest)
	}
	for _, r := range assetformReasons {
		if strings.HasPrefix(reason, r.prefix) {
			return l.T(r.key)
		}
	}
	return reason
}

// assetformRead reads the form's fields as typed. Browsers send a
// textarea's line breaks as CRLF: the route is compared with the stored
// one, so they are made LF again.
func assetformRead(c echo.Context) assetFormValues {
	f := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	return assetFormValues{Code: f("code"), Kind: f("kind"), Status: f("status"), Lat: f("lat"), Lon: f("lon"),
		Line: strings.TrimSpace(strings.ReplaceAll(c.FormValue("line"), "\r\n", "\n")), UnitCode: f("unit_code"), Address: f("address"),
		HeightM: f("height_m"), Class: f("class"), Structure: f("structure"), Tubes: f("tubes"),
		DiameterMM: f("diameter_mm"), CapacityUnit: f("capacity_unit"), CapacityTotal: f("capacity_total"),
		InServiceOn: f("in_service_on"), RentVND: f("rent_vnd"), Contact: f("contact"),
		Restricted: c.FormValue("restricted") != ""}
}

// assetformInput turns the typed values into the service's input; what
// cannot even be read comes back as field messages.
func assetformInput(l localizer, v assetFormValues) (registry.AssetInput, map[string]string) {
	errs := map[string]string{}
	in := registry.AssetInput{Code: v.Code, Kind: v.Kind, Status: v.Status, UnitCode: v.UnitCode, Address: v.Address,
		Class: v.Class, Structure: v.Structure, Contact: v.Contact, Restricted: v.Restricted}
	num := func(field, s string) *float64 {
		f, ok := assetformFloat(s)
		if !ok {
			errs[field] = l.T("assetform.err.number")
		}
		return f
	}
	whole := func(field, s string) *int64 {
		n, ok := assetformInt(s)
		if !ok {
			errs[field] = l.T("assetform.err.whole")
		}
		return n
	}
	if assetformPointKinds[v.Kind] {
		in.Lat, in.Lon = num("position", v.Lat), num("position", v.Lon)
		if (in.Lat == nil) != (in.Lon == nil) {
			errs["position"] = l.T("assetform.err.latlon")
		}
	} else if v.Line != "" {
		geom, err := assetformLine(v.Line)
		if err != nil {
			errs["position"] = l.T("assetform.err.line", err.Error())
		}
		in.Geometry = geom
	}
	in.HeightM = num("height_m", v.HeightM)
	in.DiameterMM = num("diameter_mm", v.DiameterMM)
	if n := whole("tubes", v.Tubes); n != nil {
		t := int(*n)
		in.Tubes = &t
	}
	in.RentVND = whole("rent_vnd", v.RentVND)
	if v.CapacityUnit != "" || v.CapacityTotal != "" {
		in.Capacity = &registry.CapacityInput{Unit: v.CapacityUnit}
		if n := whole("capacity_total", v.CapacityTotal); n != nil {
			t := int(*n)
			in.Capacity.Total = &t
		}
	}
	if v.InServiceOn != "" {
		d, err := infrashare.ParseDate(v.InServiceOn)
		if err != nil {
			t, terr := time.Parse("02/01/2006", v.InServiceOn)
			if terr != nil {
				errs["in_service_on"] = l.T("assetform.err.date")
			}
			d = infrashare.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
		}
		in.InServiceOn = &d
	}
	return in, errs
}

// assetformFloat reads a number typed with a decimal point or, the
// Vietnamese way, a decimal comma.
func assetformFloat(s string) (*float64, bool) {
	if s == "" {
		return nil, true
	}
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f > 1e15 || f < -1e15 {
		return nil, false
	}
	return &f, true
}

// assetformInt reads a whole number, allowing Vietnamese thousands
// separators (36.000.000) and spaces.
func assetformInt(s string) (*int64, bool) {
	if s == "" {
		return nil, true
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "").Replace(s)
	if parts := strings.Split(s, "."); len(parts) > 1 {
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return nil, false
			}
		}
		s = strings.Join(parts, "")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, false
	}
	return &n, true
}

// assetformLine reads a line asset's route: a GeoJSON geometry as is, or
// one "lat, lon" per line (the order people read off a map).
func assetformLine(text string) (json.RawMessage, error) {
	if strings.HasPrefix(text, "{") {
		if _, err := geojson.UnmarshalGeometry([]byte(text)); err != nil {
			return nil, errors.New("GeoJSON")
		}
		return json.RawMessage(text), nil
	}
	var ls orb.LineString
	for i, row := range strings.Split(text, "\n") {
		row = strings.TrimSpace(row)
		if row == "" {
			continue
		}
		parts := strings.FieldsFunc(row, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' })
		if len(parts) != 2 {
			return nil, fmt.Errorf("%d", i+1)
		}
		lat, err1 := strconv.ParseFloat(parts[0], 64)
		lon, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%d", i+1)
		}
		ls = append(ls, orb.Point{lon, lat})
	}
	return geojson.NewGeometry(ls).MarshalJSON()
}

// assetformLineText writes a stored route back as "lat, lon" lines.
func assetformLineText(raw json.RawMessage) string {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return string(raw)
	}
	ls, ok := g.Geometry().(orb.LineString)
	if !ok {
		return string(raw)
	}
	rows := make([]string, 0, len(ls))
	for _, p := range ls {
		rows = append(rows, strconv.FormatFloat(p[1], 'f', -1, 64)+", "+strconv.FormatFloat(p[0], 'f', -1, 64))
	}
	return strings.Join(rows, "\n")
}

// assetformValuesOf fills the edit form from the stored asset.
func assetformValuesOf(a registry.AssetView) assetFormValues {
	flt := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	v := assetFormValues{Code: a.Code, Kind: a.Kind, Status: a.Status, Lat: flt(a.Lat), Lon: flt(a.Lon),
		UnitCode: a.UnitCode, Address: derefString(a.Address), HeightM: flt(a.HeightM), Class: a.Class,
		Structure: a.Structure, DiameterMM: flt(a.DiameterMM), CapacityUnit: a.Capacity.Unit,
		CapacityTotal: strconv.Itoa(a.Capacity.Total), Contact: a.Contact, Restricted: a.Restricted}
	if !assetformPointKinds[a.Kind] {
		v.Line = assetformLineText(a.Geometry)
	}
	if a.Tubes != nil {
		v.Tubes = strconv.Itoa(*a.Tubes)
	}
	if a.RentVND != nil {
		v.RentVND = strconv.FormatInt(*a.RentVND, 10)
	}
	if a.InServiceOn != nil {
		v.InServiceOn = a.InServiceOn.String()
	}
	return v
}

// assetformPatch is the change the edit form asks for. The position and the
// unit are sent only when they changed, so that an asset keeps the unit it
// was registered under (PATCH's rule). A number cannot be emptied by PATCH:
// emptying one is refused here rather than silently ignored.
func assetformPatch(l localizer, cur registry.AssetView, v assetFormValues, in registry.AssetInput, version int) (registry.AssetPatch, map[string]string) {
	errs := map[string]string{}
	p := registry.AssetPatch{Version: &version, Status: &in.Status, Address: &in.Address, Class: &in.Class,
		Structure: &in.Structure, Contact: &in.Contact, Restricted: &in.Restricted, HeightM: in.HeightM,
		Tubes: in.Tubes, DiameterMM: in.DiameterMM, RentVND: in.RentVND, InServiceOn: in.InServiceOn, Capacity: in.Capacity}
	old := assetformValuesOf(cur)
	for field, pair := range map[string][2]string{"height_m": {old.HeightM, v.HeightM}, "tubes": {old.Tubes, v.Tubes},
		"diameter_mm": {old.DiameterMM, v.DiameterMM}, "rent_vnd": {old.RentVND, v.RentVND},
		"in_service_on": {old.InServiceOn, v.InServiceOn}, "capacity_total": {old.CapacityTotal, v.CapacityTotal}} {
		if pair[0] != "" && pair[1] == "" {
			errs[field] = l.T("assetform.err.keep")
		}
	}
	if v.UnitCode != cur.UnitCode {
		p.UnitCode = &in.UnitCode
	}
	if assetformPointKinds[cur.Kind] {
		if in.Lat == nil || in.Lon == nil || cur.Lat == nil || *in.Lat != *cur.Lat || *in.Lon != *cur.Lon {
			if in.Lat != nil && in.Lon != nil {
				p.Geometry = json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, *in.Lon, *in.Lat))
			} else {
				errs["position"] = l.T("assetform.err.required")
			}
		}
	} else if v.Line != old.Line {
		if len(in.Geometry) == 0 {
			errs["position"] = l.T("assetform.err.required")
		}
		p.Geometry = in.Geometry
	}
	return p, errs
}

// ownUseForm is the owner's form on the detail page for units it uses
// itself.
type ownUseForm struct {
	Units, Since, Note string
	Errors             map[string]string
	Message            string
}

// Err is the message for a field, for the template.
func (f *ownUseForm) Err(field string) string {
	if f == nil {
		return ""
	}
	return f.Errors[field]
}

// assetOwnUseSubmit records units the owner uses itself, as POST
// /api/v1/assets/{id}/allocations with purpose owner.
func (s *Server) assetOwnUseSubmit(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	l := localizer{lang: c.Get(ctxLang).(string)}
	form := &ownUseForm{Units: strings.TrimSpace(c.FormValue("units")), Since: strings.TrimSpace(c.FormValue("since")),
		Note: strings.TrimSpace(c.FormValue("note")), Errors: map[string]string{}}
	in := registry.AllocationInput{Purpose: registry.PurposeOwner, Note: form.Note}
	if n, ok := assetformInt(form.Units); !ok || n == nil || *n < 1 || *n > 100000 {
		form.Errors["units"] = l.T("assetform.err.units")
	} else {
		in.Units = int(*n)
	}
	if form.Since != "" {
		d, err := infrashare.ParseDate(form.Since)
		if err != nil {
			form.Errors["since"] = l.T("assetform.err.date")
		}
		in.Since = &d
	}
	status := http.StatusUnprocessableEntity
	if len(form.Errors) == 0 {
		_, err = s.registry.Allocate(c.Request().Context(), a, id, in)
		var de *infrashare.Error
		switch {
		case err == nil:
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/assets/%d", id))
		case errors.As(err, &de) && de.Code == infrashare.EINVALID:
			for field, reason := range de.Fields {
				form.Errors[field] = assetformReason(l, reason)
			}
		case errors.As(err, &de) && de.Code == infrashare.ECONFLICT:
			status, form.Message = http.StatusConflict, l.T("assetform.ownuse.no_room")
		default:
			return err
		}
	}
	return s.renderAsset(c, a, id, status, form)
}
