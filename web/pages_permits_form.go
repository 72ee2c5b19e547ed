package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
	"infrashare/registry"
)

// permitsCandRow is a candidate of the sharing check with the applicant's
// justification for it: typed in a form, or frozen in the application.
type permitsCandRow struct {
	permits.Candidate
	Distance                int
	Reason, Text, RequestID string
	// Requests are the applicant's refused or overdue co-location
	// requests on this structure, which a refusal may cite.
	Requests []registry.RequestView
	Reasons  []string
	// Missing: the application went in without a justification for it.
	Missing bool
	// Errs are this candidate's field problems: reason_code, text,
	// colocation_request_id.
	Errs map[string]string
}

// permitsNewData is the application form with the result of its sharing
// check.
type permitsNewData struct {
	Kind, Class, Height, Lat, Lon, Unit, Address, Purpose string
	Kinds, Classes                                        []string
	Units                                                 []registry.UnitView
	Checked                                               bool
	RadiusM                                               float64
	Urban                                                 bool
	Cands                                                 []permitsCandRow
	Errs                                                  map[string]string
	// CheckNote says why the live check shows nothing yet.
	CheckNote string
}

// refusalStates are the states of a co-location request a refusal may
// cite (the service verifies it).
var refusalStates = []string{registry.StateRejected, registry.StateOverdue, registry.StateClosed}

func (s *Server) permitsNewData(ctx context.Context, a auth.Actor) (*permitsNewData, error) {
	d := &permitsNewData{Kind: "tower", Kinds: []string{"tower", "pole"}, Errs: map[string]string{}}
	var err error
	if d.Classes, err = s.registry.Classes(ctx); err != nil {
		return nil, err
	}
	for _, level := range []string{"district", "commune"} {
		units, _, err := s.units.List(ctx, a, registry.UnitFilter{Level: level, On: s.settings.Today(), Limit: auth.MaxLimit})
		if err != nil {
			return nil, err
		}
		d.Units = append(d.Units, units...)
	}
	sort.SliceStable(d.Units, func(i, j int) bool { return d.Units[i].Code < d.Units[j].Code })
	return d, nil
}

// permitsNewPage is the application form, for operators.
func (s *Server) permitsNewPage(c echo.Context, a auth.Actor) error {
	if !a.Has(auth.RoleOperator) {
		return infrashare.Forbidden("operators apply for permits")
	}
	d, err := s.permitsNewData(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "permits_new", s.newView(c, "permits.new.title", d))
}

// permitsParseNumber reads a decimal that may be written the Vietnamese
// way, with a comma.
func permitsParseNumber(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// permitsReadForm fills the form's values into d and builds the service's
// input; problems the service never sees (numbers that are not numbers)
// go into d.Errs.
func permitsReadForm(c echo.Context, d *permitsNewData) (permits.NewPermit, url.Values) {
	form, _ := c.FormParams()
	d.Kind, d.Class, d.Height = form.Get("structure_kind"), form.Get("class"), form.Get("height_m")
	d.Lat, d.Lon, d.Unit = form.Get("lat"), form.Get("lon"), form.Get("unit_code")
	d.Address, d.Purpose = form.Get("address"), form.Get("purpose")
	in := permits.NewPermit{StructureKind: d.Kind, Class: d.Class, UnitCode: strings.TrimSpace(d.Unit),
		Address: d.Address, Purpose: d.Purpose, Justifications: permitsJustsFromForm(form)}
	if h, ok := permitsParseNumber(d.Height); ok {
		in.HeightM = h
	} else if strings.TrimSpace(d.Height) != "" {
		d.Errs["height_m"] = "permits.err.height"
	}
	lat, okLat := permitsParseNumber(d.Lat)
	lon, okLon := permitsParseNumber(d.Lon)
	switch {
	case okLat && okLon:
		in.Location = &permits.Location{Lat: lat, Lon: lon}
	case strings.TrimSpace(d.Lat) != "" || strings.TrimSpace(d.Lon) != "":
		d.Errs["location"] = "permits.err.location"
	}
	return in, form
}

// permitsJustsFromForm reads the justification fields, named by the
// candidate's asset id: j_reason_<id>, j_text_<id>, j_request_<id>. A
// candidate without a reason chosen has no justification.
func permitsJustsFromForm(form url.Values) []permits.Justification {
	var out []permits.Justification
	for key, vals := range form {
		idText, ok := strings.CutPrefix(key, "j_reason_")
		if !ok || len(vals) == 0 || vals[0] == "" {
			continue
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		j := permits.Justification{AssetID: id, ReasonCode: vals[0], Text: form.Get("j_text_" + idText)}
		if req, err := strconv.ParseInt(form.Get("j_request_"+idText), 10, 64); err == nil && req > 0 {
			j.ColocationRequestID = &req
		}
		out = append(out, j)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].AssetID < out[k].AssetID })
	return out
}

// permitsCandidatesOf are the candidates a refused application names.
func permitsCandidatesOf(de *infrashare.Error) []permits.Candidate {
	if de == nil {
		return nil
	}
	cands, _ := de.Details["candidates"].([]permits.Candidate)
	return cands
}

// permitsCandRows joins candidates with what the form holds for them and
// the service's problems with it.
func (s *Server) permitsCandRows(ctx context.Context, a auth.Actor, l localizer, cands []permits.Candidate, form url.Values, de *infrashare.Error) ([]permitsCandRow, error) {
	rows := make([]permitsCandRow, 0, len(cands))
	for _, cand := range cands {
		id := strconv.FormatInt(cand.Asset.ID, 10)
		row := permitsCandRow{Candidate: cand, Reason: form.Get("j_reason_" + id), Text: form.Get("j_text_" + id),
			RequestID: form.Get("j_request_" + id), Errs: map[string]string{}}
		if de != nil {
			prefix := "justifications[" + id + "]."
			for field, msg := range de.Fields {
				if sub, ok := strings.CutPrefix(field, prefix); ok {
					row.Errs[sub] = permitsFieldMessage(l, field, msg)
				}
			}
			_, missing := de.Fields["justifications"]
			row.Missing = missing && row.Reason == ""
		}
		rows = append(rows, row)
	}
	return rows, s.permitsRefusalOptions(ctx, a, rows)
}

// permitsRefusalOptions lists, for each candidate, the requests a refusal
// may cite, and rounds the distance for display.
func (s *Server) permitsRefusalOptions(ctx context.Context, a auth.Actor, rows []permitsCandRow) error {
	for i := range rows {
		rows[i].Reasons = permits.JustificationReasons
		rows[i].Distance = int(math.Round(rows[i].DistanceM))
		if !a.Has(auth.RoleOperator) {
			continue
		}
		reqs, _, err := s.registry.ListRequests(ctx, a, registry.RequestFilter{Box: "out", States: refusalStates,
			AssetID: rows[i].Asset.ID, Limit: 50})
		if err != nil {
			return err
		}
		rows[i].Requests = reqs
	}
	return nil
}

// permitsFieldMessages maps the service's fields to the form's messages.
var permitsFieldMessages = map[string]string{
	"structure_kind": "permits.err.kind",
	"class":          "permits.err.class",
	"height_m":       "permits.err.height",
	"location":       "permits.err.location",
	"unit_code":      "permits.err.unit",
	"purpose":        "permits.err.purpose",
	"address":        "permits.err.address",
	"justifications": "permits.err.missing_any",
	"reason":         "permits.err.reason_text",
	"permit_no":      "permits.err.too_long",
	"dossier_code":   "permits.err.too_long",
}

// permitsFieldMessage is a field problem in the reader's language; one
// this page does not know keeps the service's own words.
func permitsFieldMessage(l localizer, field, msg string) string {
	if i := strings.Index(field, "]."); strings.HasPrefix(field, "justifications[") && i > 0 {
		switch field[i+2:] {
		case "reason_code":
			return l.T("permits.err.reason")
		case "text":
			return l.T("permits.err.text")
		case "colocation_request_id":
			for prefix, key := range map[string]string{"cite ": "permits.err.request_missing", "no such": "permits.err.request_unknown",
				"is not your": "permits.err.request_not_yours", "does not ask": "permits.err.request_other_asset"} {
				if strings.HasPrefix(msg, prefix) {
					return l.T(key)
				}
			}
			return l.T("permits.err.request_state")
		}
	}
	if field == "unit_code" && strings.Contains(msg, "authority") {
		return l.T("permits.err.unit_authority")
	}
	if key, ok := permitsFieldMessages[field]; ok {
		return l.T(key)
	}
	return msg
}

// permitsNewSubmit checks (the no-JavaScript "check" button) or files the
// application. A refusal comes back as the form with its candidates and
// the problem next to each.
func (s *Server) permitsNewSubmit(c echo.Context, a auth.Actor) error {
	if !a.Has(auth.RoleOperator) {
		return infrashare.Forbidden("operators apply for permits")
	}
	ctx := c.Request().Context()
	d, err := s.permitsNewData(ctx, a)
	if err != nil {
		return err
	}
	in, form := permitsReadForm(c, d)
	v := s.newView(c, "permits.new.title", d)
	for field, key := range d.Errs {
		d.Errs[field] = v.l.T(key)
	}
	if len(d.Errs) > 0 {
		v.Error = v.l.T("permits.error.form")
		return s.render(c, http.StatusUnprocessableEntity, "permits_new", v)
	}
	if form.Get("op") == "check" {
		if err := s.permitsRunCheck(ctx, a, v.l, d, in, form); err != nil {
			return err
		}
		status := http.StatusOK
		if len(d.Errs) > 0 {
			status, v.Error = http.StatusUnprocessableEntity, v.l.T("permits.error.form")
		}
		return s.render(c, status, "permits_new", v)
	}
	p, subErr := s.permits.Submit(ctx, a, in)
	if subErr == nil {
		return c.Redirect(http.StatusSeeOther, "/permits/"+strconv.FormatInt(p.ID, 10))
	}
	var de *infrashare.Error
	if !errors.As(subErr, &de) || de.Code != infrashare.EINVALID {
		return subErr
	}
	for field, msg := range de.Fields {
		if !strings.HasPrefix(field, "justifications[") {
			d.Errs[field] = permitsFieldMessage(v.l, field, msg)
		}
	}
	if cands := permitsCandidatesOf(de); cands != nil {
		d.Checked = true
		// The refusal carries the candidates only; the check again for the
		// radius it used.
		if check, err := s.permits.Check(ctx, a, permits.CheckQuery{StructureKind: in.StructureKind, HeightM: in.HeightM,
			Location: in.Location, UnitCode: in.UnitCode}); err == nil {
			d.RadiusM, d.Urban = check.RadiusM, check.UnitIsUrban
		}
		if d.Cands, err = s.permitsCandRows(ctx, a, v.l, cands, form, de); err != nil {
			return err
		}
	} else if in.Location != nil && in.HeightM > 0 {
		// The form failed before the check ran: show its candidates
		// anyway, so that the justifications typed stay on the page.
		if err := s.permitsRunCheck(ctx, a, v.l, d, in, form); err != nil {
			return err
		}
	}
	v.Error = v.l.T("permits.error.form")
	if _, missing := de.Fields["justifications"]; missing {
		v.Error = v.l.T("permits.error.justify")
	}
	return s.render(c, http.StatusUnprocessableEntity, "permits_new", v)
}

// permitsRunCheck runs the service's sharing check for the form: the
// candidates into d, or the check's input problems into d.Errs.
func (s *Server) permitsRunCheck(ctx context.Context, a auth.Actor, l localizer, d *permitsNewData, in permits.NewPermit, form url.Values) error {
	check, err := s.permits.Check(ctx, a, permits.CheckQuery{StructureKind: in.StructureKind, HeightM: in.HeightM,
		Location: in.Location, UnitCode: in.UnitCode})
	if err != nil {
		var de *infrashare.Error
		if !errors.As(err, &de) || de.Code != infrashare.EINVALID {
			return err
		}
		for field, msg := range de.Fields {
			if _, seen := d.Errs[field]; !seen {
				d.Errs[field] = permitsFieldMessage(l, field, msg)
			}
		}
		return nil
	}
	d.Checked, d.RadiusM, d.Urban = true, check.RadiusM, check.UnitIsUrban
	d.Cands, err = s.permitsCandRows(ctx, a, l, check.Candidates, form, nil)
	return err
}

// permitsCheckFragment is the live check of the form (htmx): the
// candidates with their justification fields, or a note saying what the
// check still needs. It always answers 200 so that htmx swaps it in.
func (s *Server) permitsCheckFragment(c echo.Context, a auth.Actor) error {
	if !a.Has(auth.RoleOperator) {
		return infrashare.Forbidden("operators check before they apply")
	}
	ctx := c.Request().Context()
	d := &permitsNewData{Errs: map[string]string{}}
	in, form := permitsReadForm(c, d)
	v := s.newView(c, "permits.new.title", d)
	switch {
	case len(d.Errs) > 0:
		d.CheckNote = v.l.T("permits.check.fix")
	case in.Location == nil || in.HeightM <= 0:
		d.CheckNote = v.l.T("permits.check.need")
	default:
		if err := s.permitsRunCheck(ctx, a, v.l, d, in, form); err != nil {
			return err
		}
		if len(d.Errs) > 0 {
			d.CheckNote = v.l.T("permits.check.fix")
		}
	}
	for field, msg := range d.Errs {
		if strings.HasPrefix(msg, "permits.") {
			d.Errs[field] = v.l.T(msg)
		}
	}
	return s.renderPermitsFragment(c, "permits_new", "permits-candidates", v)
}
