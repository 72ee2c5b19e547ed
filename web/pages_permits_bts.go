package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
)

// btsClassifications and btsTechnologies in the order the forms offer them.
var (
	btsClassifications = []string{permits.ClassShared, permits.ClassOwnExisting, permits.ClassNewStructure}
	btsTechnologies    = []string{"2G", "3G", "4G", "5G"}
)

// permitsBTSListData is the BTS log with its filters.
type permitsBTSListData struct {
	Year, Unit, Class, Operator string
	Classes                     []string
	ShowOperator                bool
	CanLog                      bool
	Items                       []permitsBTSRow
	NextURL, FirstURL           string
	Paged                       bool
}

// permitsBTSListPage lists the BTS records the reader may see: an
// operator its own, the department and admins all.
func (s *Server) permitsBTSListPage(c echo.Context, a auth.Actor) error {
	d := permitsBTSListData{Year: c.QueryParam("year"), Unit: c.QueryParam("unit"), Class: c.QueryParam("classification"),
		Operator: c.QueryParam("operator"), Classes: btsClassifications, CanLog: a.Has(auth.RoleOperator),
		ShowOperator: a.SeesEverything() || a.Has(auth.RoleOfficer)}
	v := s.newView(c, "permits.bts.title", &d)
	f := permits.DeploymentFilter{Unit: strings.TrimSpace(d.Unit), Classification: d.Class, Cursor: c.QueryParam("cursor"), Limit: 50, Newest: true}
	if d.ShowOperator {
		f.Operator = strings.TrimSpace(d.Operator)
	}
	q := url.Values{}
	for k, val := range map[string]string{"year": d.Year, "unit": d.Unit, "classification": d.Class, "operator": f.Operator} {
		if val != "" {
			q.Set(k, val)
		}
	}
	d.FirstURL = "/bts"
	if len(q) > 0 {
		d.FirstURL += "?" + q.Encode()
	}
	d.Paged = f.Cursor != ""
	var err error
	if d.Year != "" {
		if f.Year, err = strconv.Atoi(strings.TrimSpace(d.Year)); err != nil || f.Year < 1900 || f.Year > 9999 {
			v.Error = v.l.T("permits.bts.error.filter")
			return s.render(c, http.StatusUnprocessableEntity, "permits_bts", v)
		}
	}
	items, next, err := s.permits.ListDeployments(c.Request().Context(), a, f)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("permits.bts.error.filter")
		return s.render(c, http.StatusUnprocessableEntity, "permits_bts", v)
	}
	for _, it := range items {
		d.Items = append(d.Items, permitsBTSRowOf(it))
	}
	if next != "" {
		q.Set("cursor", next)
		d.NextURL = "/bts?" + q.Encode()
	}
	return s.render(c, http.StatusOK, "permits_bts", v)
}

// permitsBTSRow is a BTS record with the structure it is mounted on,
// named from its evidence.
type permitsBTSRow struct {
	permits.DeploymentView
	Ev                permitsBTSEvidence
	AssetID, PermitID int64
}

func permitsBTSRowOf(dep permits.DeploymentView) permitsBTSRow {
	row := permitsBTSRow{DeploymentView: dep}
	_ = json.Unmarshal(dep.Evidence, &row.Ev)
	if dep.MountedOnAssetID != nil {
		row.AssetID = *dep.MountedOnAssetID
	}
	if dep.PermitID != nil {
		row.PermitID = *dep.PermitID
	}
	return row
}

// permitsBTSEvidence is the frozen evidence of a classification, as the
// service writes it.
type permitsBTSEvidence struct {
	Rule       string `json:"rule"`
	WindowDays int    `json:"window_days"`
	Asset      *struct {
		ID          int64            `json:"id"`
		Code        string           `json:"code"`
		Owner       string           `json:"owner"`
		OwnerGroup  string           `json:"owner_group"`
		InServiceOn *infrashare.Date `json:"in_service_on"`
	} `json:"asset"`
	PermitNumber string `json:"permit_number"`
	PermitNo     string `json:"permit_no"`
	AllocationID int64  `json:"allocation_id"`
	Allocation   string `json:"allocation"`
}

// permitsBTSDetailData is one BTS record with its evidence.
type permitsBTSDetailData struct {
	D             permitsBTSRow
	RuleKey       string
	CanReclassify bool
	Classes       []string
	NewClass      string
	Reason        string
	Errs          map[string]string
}

func (s *Server) permitsBTSDetail(c echo.Context, a auth.Actor) (*permitsBTSDetailData, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	dep, err := s.permits.GetDeployment(c.Request().Context(), a, id)
	if err != nil {
		return nil, err
	}
	d := &permitsBTSDetailData{D: permitsBTSRowOf(dep), Classes: btsClassifications, Errs: map[string]string{},
		CanReclassify: a.Has(auth.RoleAuditor) && a.OrgKind == auth.KindDepartment}
	// The rule in the reader's language, from what the evidence holds.
	switch {
	case d.D.Ev.PermitNumber != "":
		d.RuleKey = "permits.bts.rule.permit"
	case d.D.Ev.AllocationID != 0:
		d.RuleKey = "permits.bts.rule.shared"
	case strings.Contains(d.D.Ev.Rule, "within"):
		d.RuleKey = "permits.bts.rule.window"
	default:
		d.RuleKey = "permits.bts.rule.own"
	}
	return d, nil
}

func (s *Server) permitsBTSDetailPage(c echo.Context, a auth.Actor) error {
	d, err := s.permitsBTSDetail(c, a)
	if err != nil {
		return err
	}
	return s.renderPermitsBTSDetail(c, http.StatusOK, d, "")
}

func (s *Server) renderPermitsBTSDetail(c echo.Context, status int, d *permitsBTSDetailData, errKey string) error {
	v := s.newView(c, "permits.bts.detail.title", d)
	v.Title = v.l.T("permits.bts.detail.title") + " " + d.D.StationCode
	if errKey != "" {
		v.Error = v.l.T(errKey)
	}
	return s.render(c, status, "permits_bts_detail", v)
}

// permitsBTSReclassifySubmit lets the department change a classification
// with a reason; the service refuses anyone else (403).
func (s *Server) permitsBTSReclassifySubmit(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in := permits.Reclassification{Classification: c.FormValue("classification"), Reason: c.FormValue("reason")}
	_, recErr := s.permits.Reclassify(c.Request().Context(), a, id, in)
	if recErr == nil {
		return c.Redirect(http.StatusSeeOther, "/bts/"+strconv.FormatInt(id, 10))
	}
	if infrashare.ErrorCode(recErr) != infrashare.EINVALID {
		return recErr
	}
	d, err := s.permitsBTSDetail(c, a)
	if err != nil {
		return err
	}
	d.NewClass, d.Reason = in.Classification, in.Reason
	l := s.newView(c, "permits.bts.detail.title", nil).l
	var de *infrashare.Error
	errors.As(recErr, &de)
	for field, msg := range de.Fields {
		d.Errs[field] = permitsBTSFieldMessage(l, field, msg)
	}
	return s.renderPermitsBTSDetail(c, http.StatusUnprocessableEntity, d, "permits.error.form")
}

// permitsBTSNewData is the form that logs a station.
type permitsBTSNewData struct {
	StationCode, OnAirOn, AssetID, PermitID, RequestID, Lat, Lon, Unit string
	Techs                                                              map[string]bool
	Technologies                                                       []string
	Permits                                                            []permits.PermitView
	Errs                                                               map[string]string
}

func (s *Server) permitsBTSNewData(c echo.Context, a auth.Actor) (*permitsBTSNewData, error) {
	if !a.Has(auth.RoleOperator) {
		return nil, infrashare.Forbidden("operators log their BTS stations")
	}
	d := &permitsBTSNewData{Techs: map[string]bool{}, Technologies: btsTechnologies, Errs: map[string]string{}}
	// A station on a structure not yet registered names its permit: the
	// operator's approved ones are offered.
	ps, _, err := s.permits.List(c.Request().Context(), a, permits.PermitFilter{
		States: []string{permits.StateApproved, permits.StateExempt}, Limit: auth.MaxLimit})
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Applicant.ID == a.OrgID {
			d.Permits = append(d.Permits, p)
		}
	}
	return d, nil
}

func (s *Server) permitsBTSNewPage(c echo.Context, a auth.Actor) error {
	d, err := s.permitsBTSNewData(c, a)
	if err != nil {
		return err
	}
	d.AssetID = c.QueryParam("asset")
	d.PermitID = c.QueryParam("permit")
	return s.render(c, http.StatusOK, "permits_bts_new", s.newView(c, "permits.bts.new.title", d))
}

// permitsBTSNewSubmit logs a station; the service classifies it and
// refuses a shared one without an active allocation (shown inline).
func (s *Server) permitsBTSNewSubmit(c echo.Context, a auth.Actor) error {
	d, err := s.permitsBTSNewData(c, a)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	d.StationCode, d.OnAirOn, d.AssetID, d.PermitID = form.Get("station_code"), form.Get("on_air_on"), form.Get("mounted_on_asset_id"), form.Get("permit_id")
	d.RequestID, d.Lat, d.Lon, d.Unit = form.Get("colocation_request_id"), form.Get("lat"), form.Get("lon"), form.Get("unit_code")
	in := permits.NewDeployment{StationCode: d.StationCode, UnitCode: strings.TrimSpace(d.Unit)}
	for _, t := range form["technologies"] {
		d.Techs[t] = true
		in.Technologies = append(in.Technologies, t)
	}
	v := s.newView(c, "permits.bts.new.title", d)
	if strings.TrimSpace(d.OnAirOn) != "" {
		day, err := infrashare.ParseDate(strings.TrimSpace(d.OnAirOn))
		if err != nil {
			d.Errs["on_air_on"] = v.l.T("permits.bts.err.on_air_on")
		}
		in.OnAirOn = &day
	}
	for field, dst := range map[string]**int64{"mounted_on_asset_id": &in.MountedOnAssetID, "permit_id": &in.PermitID, "colocation_request_id": &in.ColocationRequestID} {
		raw := strings.TrimSpace(form.Get(field))
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			d.Errs[field] = permitsBTSFieldMessage(v.l, field, "")
			continue
		}
		*dst = &n
	}
	lat, okLat := permitsParseNumber(d.Lat)
	lon, okLon := permitsParseNumber(d.Lon)
	switch {
	case okLat && okLon:
		in.Location = &permits.Location{Lat: lat, Lon: lon}
	case strings.TrimSpace(d.Lat) != "" || strings.TrimSpace(d.Lon) != "":
		d.Errs["location"] = v.l.T("permits.bts.err.location")
	}
	if len(d.Errs) > 0 {
		v.Error = v.l.T("permits.error.form")
		return s.render(c, http.StatusUnprocessableEntity, "permits_bts_new", v)
	}
	dep, logErr := s.permits.LogDeployment(c.Request().Context(), a, in)
	if logErr == nil {
		return c.Redirect(http.StatusSeeOther, "/bts/"+strconv.FormatInt(dep.ID, 10))
	}
	var de *infrashare.Error
	code := infrashare.ErrorCode(logErr)
	if !errors.As(logErr, &de) || (code != infrashare.EINVALID && code != infrashare.ECONFLICT) {
		return logErr
	}
	status := http.StatusUnprocessableEntity
	if code == infrashare.ECONFLICT {
		status = http.StatusConflict
	}
	for field, msg := range de.Fields {
		d.Errs[permitsBTSField(field)] = permitsBTSFieldMessage(v.l, field, msg)
	}
	v.Error = v.l.T("permits.error.form")
	return s.render(c, status, "permits_bts_new", v)
}

// permitsBTSField is the form field a service field belongs to.
func permitsBTSField(field string) string {
	if strings.HasPrefix(field, "technologies") {
		return "technologies"
	}
	return field
}

// permitsBTSFieldMessage is a problem of the BTS form in the reader's
// language.
func permitsBTSFieldMessage(l localizer, field, msg string) string {
	switch {
	case field == "mounted_on_asset_id" && strings.Contains(msg, "allocation"):
		return l.T("permits.bts.err.allocation")
	case field == "mounted_on_asset_id" && strings.Contains(msg, "one of them"):
		return l.T("permits.bts.err.structure")
	case field == "mounted_on_asset_id" && strings.Contains(msg, "line"):
		return l.T("permits.bts.err.line")
	case field == "station_code" && strings.Contains(msg, "already"):
		return l.T("permits.bts.err.duplicate")
	case field == "permit_id" && strings.Contains(msg, "not approved"):
		return l.T("permits.bts.err.permit_state")
	}
	key := "permits.bts.err." + permitsBTSField(field)
	if _, ok := catalogues[l.lang][key]; ok {
		return l.T(key)
	}
	return msg
}
