package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
)

// permitPages registers the permit, officer review and BTS log pages.
func (s *Server) permitPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/permits", s.signedInPage(s.permitsListPage), mw...)
	e.GET("/permits/new", s.signedInPage(s.permitsNewPage), mw...)
	e.POST("/permits/new", s.signedInPage(s.permitsNewSubmit), mw...)
	e.POST("/permits/check", s.signedInPage(s.permitsCheckFragment), mw...)
	e.GET("/permits/:id", s.signedInPage(s.permitsDetailPage), mw...)
	e.POST("/permits/:id/actions", s.signedInPage(s.permitsActionSubmit), mw...)
	// The path ends in /attachments so that the body limit is the
	// attachments' 20 MB, as for the API.
	e.POST("/permits/:id/attachments", s.signedInPage(s.permitsAttachSubmit), mw...)

	e.GET("/bts", s.signedInPage(s.permitsBTSListPage), mw...)
	e.GET("/bts/new", s.signedInPage(s.permitsBTSNewPage), mw...)
	e.POST("/bts/new", s.signedInPage(s.permitsBTSNewSubmit), mw...)
	e.GET("/bts/:id", s.signedInPage(s.permitsBTSDetailPage), mw...)
	e.POST("/bts/:id/reclassify", s.signedInPage(s.permitsBTSReclassifySubmit), mw...)
}

// permitStates are the states of an application, in the filter's order.
var permitStates = []string{permits.StateSubmitted, permits.StateReturned, permits.StateApproved,
	permits.StateRejected, permits.StateExempt, permits.StateWithdrawn}

// permitsRow is an application in a list, with its decision countdown.
type permitsRow struct {
	permits.PermitView
	Clock permitsClock
}

// permitsClock is where an application stands against its decision
// deadline, in working days.
type permitsClock struct {
	Running  bool // submitted, waiting for the decision
	Paused   bool // returned to the applicant
	DaysLeft int
	DaysLate int
}

func (s *Server) permitsClockOf(ctx context.Context, p permits.PermitView, today infrashare.Date) (permitsClock, error) {
	var pc permitsClock
	switch {
	case p.State == permits.StateReturned:
		pc.Paused = true
	case p.State == permits.StateSubmitted && p.DecisionDeadline != nil:
		pc.Running = true
		var err error
		if p.Overdue {
			pc.DaysLate, err = s.permits.WorkingDaysBetween(ctx, *p.DecisionDeadline, today)
		} else {
			pc.DaysLeft, err = s.permits.WorkingDaysBetween(ctx, today, *p.DecisionDeadline)
		}
		if err != nil {
			return pc, err
		}
	}
	return pc, nil
}

func (s *Server) permitsRows(ctx context.Context, items []permits.PermitView) ([]permitsRow, error) {
	today := s.settings.Today()
	rows := make([]permitsRow, 0, len(items))
	for _, p := range items {
		pc, err := s.permitsClockOf(ctx, p, today)
		if err != nil {
			return nil, err
		}
		rows = append(rows, permitsRow{PermitView: p, Clock: pc})
	}
	return rows, nil
}

// permitsListData is the list of applications: an operator's own, an
// officer's queue, or everything for the department.
type permitsListData struct {
	State     string
	States    []string
	IsOfficer bool
	CanApply  bool
	ShowQueue bool
	Queue     []permitsRow
	QueueMore bool
	Items     []permitsRow
	NextURL   string
	FirstURL  string
	Paged     bool
}

// permitsListPage lists applications. An officer without a state filter
// sees its queue first — every submitted application by deadline — then
// the others newest first; everyone else pages newest first.
func (s *Server) permitsListPage(c echo.Context, a auth.Actor) error {
	ctx := c.Request().Context()
	d := permitsListData{State: c.QueryParam("state"), States: permitStates,
		IsOfficer: a.Has(auth.RoleOfficer), CanApply: a.Has(auth.RoleOperator)}
	v := s.newView(c, "permits.title", &d)
	f := permits.PermitFilter{Cursor: c.QueryParam("cursor"), Limit: 50}
	if d.State != "" {
		f.States = []string{d.State}
	}
	d.ShowQueue = d.IsOfficer && d.State == ""
	if d.ShowQueue {
		queue, more, err := collect(func(cursor string) ([]permits.PermitView, string, error) {
			return s.permits.List(ctx, a, permits.PermitFilter{States: []string{permits.StateSubmitted}, Limit: auth.MaxLimit, Cursor: cursor})
		})
		if err != nil {
			return err
		}
		sort.SliceStable(queue, func(i, j int) bool {
			di, dj := queue[i].DecisionDeadline, queue[j].DecisionDeadline
			switch {
			case di == nil:
				return false
			case dj == nil:
				return true
			}
			return di.Before(*dj)
		})
		if d.Queue, err = s.permitsRows(ctx, queue); err != nil {
			return err
		}
		d.QueueMore = more
		f.States = []string{permits.StateReturned, permits.StateApproved, permits.StateRejected, permits.StateExempt, permits.StateWithdrawn}
	}
	d.Paged = f.Cursor != ""
	q := url.Values{}
	if d.State != "" {
		q.Set("state", d.State)
	}
	d.FirstURL = "/permits"
	if len(q) > 0 {
		d.FirstURL += "?" + q.Encode()
	}
	items, next, err := s.permits.List(ctx, a, f)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("permits.error.filter")
		return s.render(c, http.StatusUnprocessableEntity, "permits", v)
	}
	if d.Items, err = s.permitsRows(ctx, items); err != nil {
		return err
	}
	if next != "" {
		q.Set("cursor", next)
		d.NextURL = "/permits?" + q.Encode()
	}
	return s.render(c, http.StatusOK, "permits", v)
}

// permitsDetailData is one application with what the reader may do to it.
type permitsDetailData struct {
	P           permits.PermitView
	Clock       permitsClock
	Cands       []permitsCandRow
	Timeline    []permits.TimelineEntry
	CanWithdraw bool
	CanResubmit bool
	CanDecide   bool
	CanAttach   bool
	ProposedNo  string
	// What the reader typed, kept when a form comes back.
	Action, Reason, PermitNo, DossierCode string
	Errs                                  map[string]string
	// Resubmit holds the candidates of a new check that need
	// justifications before the application can go back.
	Resubmit []permitsCandRow
	Reasons  []string
	MaxMB    int
	// Lat and Lon are the site's position, for the coord formatter.
	Lat, Lon *float64
}

// permitsDetail loads the page's data; the service hides applications the
// reader may not see (404).
func (s *Server) permitsDetail(c echo.Context, a auth.Actor, id int64) (*permitsDetailData, error) {
	ctx := c.Request().Context()
	p, err := s.permits.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	d := &permitsDetailData{P: p, Errs: map[string]string{}, Reasons: permits.JustificationReasons, MaxMB: permits.MaxAttachmentBytes / 1_000_000,
		Lat: &p.Location.Lat, Lon: &p.Location.Lon}
	if d.Clock, err = s.permitsClockOf(ctx, p, s.settings.Today()); err != nil {
		return nil, err
	}
	if d.Timeline, err = s.permits.Timeline(ctx, a, id); err != nil {
		return nil, err
	}
	byAsset := map[int64]permits.Justification{}
	for _, j := range p.Justifications {
		byAsset[j.AssetID] = j
	}
	for _, cand := range p.SharingCheck.Candidates {
		row := permitsCandRow{Candidate: cand, Errs: map[string]string{}}
		if j, ok := byAsset[cand.Asset.ID]; ok {
			row.Reason, row.Text = j.ReasonCode, j.Text
			if j.ColocationRequestID != nil {
				row.RequestID = strconv.FormatInt(*j.ColocationRequestID, 10)
			}
		}
		d.Cands = append(d.Cands, row)
	}
	applicant := a.Has(auth.RoleOperator) && a.OrgID == p.Applicant.ID
	d.CanWithdraw = applicant && (p.State == permits.StateSubmitted || p.State == permits.StateReturned)
	d.CanResubmit = applicant && p.State == permits.StateReturned
	d.CanAttach = applicant && (p.State == permits.StateSubmitted || p.State == permits.StateReturned || p.State == permits.StateExempt)
	d.CanDecide = a.Has(auth.RoleOfficer) && a.OrgID == p.Authority.ID && p.State == permits.StateSubmitted
	if d.CanDecide {
		if d.ProposedNo, err = s.permits.ProposedPermitNo(ctx, a, id); err != nil {
			return nil, err
		}
	}
	if d.CanResubmit {
		// The resubmission re-runs the check; the frozen candidates come
		// back with their justifications to be kept or changed.
		d.Resubmit = d.Cands
		if err := s.permitsRefusalOptions(ctx, a, d.Resubmit); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) permitsDetailPage(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.permitsDetail(c, a, id)
	if err != nil {
		return err
	}
	return s.renderPermitsDetail(c, http.StatusOK, d, "")
}

func (s *Server) renderPermitsDetail(c echo.Context, status int, d *permitsDetailData, errKey string) error {
	v := s.newView(c, "permits.detail.title", d)
	v.Title = v.l.T("permits.detail.title") + " " + d.P.Number
	if errKey != "" {
		v.Error = v.l.T(errKey)
	}
	return s.render(c, status, "permits_detail", v)
}

// permitsActionSubmit runs an action of the detail page's forms and goes
// back to the application; a form with a mistake comes back with it, a
// race (409) with a clear message.
func (s *Server) permitsActionSubmit(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in := permits.PermitAction{Action: c.FormValue("action"), Reason: c.FormValue("reason"),
		PermitNo: c.FormValue("permit_no"), DossierCode: c.FormValue("dossier_code")}
	if in.Action == "resubmit" {
		form, _ := c.FormParams()
		if justs := permitsJustsFromForm(form); len(justs) > 0 {
			in.Justifications = justs
		}
	}
	_, actErr := s.permits.Act(c.Request().Context(), a, id, in)
	if actErr == nil {
		return c.Redirect(http.StatusSeeOther, "/permits/"+strconv.FormatInt(id, 10))
	}
	switch infrashare.ErrorCode(actErr) {
	case infrashare.EINVALID, infrashare.ECONFLICT:
	default:
		return actErr
	}
	d, err := s.permitsDetail(c, a, id)
	if err != nil {
		return err
	}
	d.Action, d.Reason, d.PermitNo, d.DossierCode = in.Action, in.Reason, in.PermitNo, in.DossierCode
	if infrashare.ErrorCode(actErr) == infrashare.ECONFLICT {
		return s.renderPermitsDetail(c, http.StatusConflict, d, "permits.error.conflict")
	}
	l := s.newView(c, "permits.detail.title", nil).l
	var de *infrashare.Error
	errors.As(actErr, &de)
	for field, msg := range de.Fields {
		d.Errs[in.Action+"."+field] = permitsFieldMessage(l, field, msg)
	}
	if in.Action == "resubmit" {
		form, _ := c.FormParams()
		if d.Resubmit, err = s.permitsCandRows(c.Request().Context(), a, l, permitsCandidatesOf(de), form, de); err != nil {
			return err
		}
	}
	return s.renderPermitsDetail(c, http.StatusUnprocessableEntity, d, "permits.error.form")
}

// permitsAttachSubmit takes a document from the applicant's upload form
// through the service the API uses.
func (s *Server) permitsAttachSubmit(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var attachErr error
	name, data, err := uploadedFile(c)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		attachErr = infrashare.Errorf(infrashare.ETOOLARGE, "an attachment may be at most 20 MB")
	case err != nil:
		attachErr = err
	default:
		_, attachErr = s.permits.Attach(c.Request().Context(), a, id, name, data)
	}
	if attachErr == nil {
		return c.Redirect(http.StatusSeeOther, "/permits/"+strconv.FormatInt(id, 10)+"#attachments")
	}
	status := http.StatusUnprocessableEntity
	switch infrashare.ErrorCode(attachErr) {
	case infrashare.EINVALID:
	case infrashare.ETOOLARGE:
		status = http.StatusRequestEntityTooLarge
	case infrashare.ECONFLICT:
		status = http.StatusConflict
	default:
		return attachErr
	}
	d, err := s.permitsDetail(c, a, id)
	if err != nil {
		return err
	}
	l := s.newView(c, "permits.detail.title", nil).l
	switch status {
	case http.StatusRequestEntityTooLarge:
		d.Errs["file"] = l.T("permits.err.file_large")
	case http.StatusConflict:
		d.Errs["file"] = l.T("permits.err.file_state")
	default:
		d.Errs["file"] = l.T("permits.err.file")
	}
	return s.renderPermitsDetail(c, status, d, "permits.error.form")
}

// renderPermitsFragment writes one block of a page's template, without the
// layout, for htmx to swap in.
func (s *Server) renderPermitsFragment(c echo.Context, page, block string, v *pageView) error {
	base, ok := pageTemplates[page]
	if !ok {
		return errors.New("no page template " + page)
	}
	t, err := base.Clone()
	if err != nil {
		return err
	}
	t.Funcs(template.FuncMap{"T": v.l.T})
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
