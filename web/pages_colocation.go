package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// The co-location request pages (DESIGN §2, §5): the lists in and out, the
// form that files a request on an asset, and a request's detail with its
// timeline and the actions its reader may take.

// colocationPages registers the co-location request pages.
func (s *Server) colocationPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/colocation", s.signedInPage(s.colocationListPage), mw...)
	e.GET("/colocation/new", s.signedInPage(s.colocationNewPage), mw...)
	e.POST("/colocation/new", s.signedInPage(s.colocationNewSubmit), mw...)
	e.GET("/colocation/:id", s.signedInPage(s.colocationDetailPage), mw...)
	e.POST("/colocation/:id/actions", s.signedInPage(s.colocationActSubmit), mw...)
	e.POST("/colocation/:id/comments", s.signedInPage(s.colocationCommentSubmit), mw...)
}

// colocationStates are the states of a request, in the order the state
// filter offers them.
var colocationStates = []string{registry.StateSubmitted, registry.StateInfoRequested, registry.StateOverdue,
	registry.StateApproved, registry.StateAgreed, registry.StateActive, registry.StateRejected, registry.StateDisputed,
	registry.StateWithdrawn, registry.StateExpired, registry.StateTerminated, registry.StateClosed}

// colocationPageSize is how many requests a list page shows.
const colocationPageSize = 25

// colocationMayUse says whether the role may use the co-location pages:
// operators for their own requests, the department and admins for all.
func colocationMayUse(a auth.Actor) bool {
	return a.Has(auth.RoleOperator) || a.SeesEverything()
}

// colocationTab is one list of the page: out, in, or for the department
// and admins all, disputes and overdue ones.
type colocationTab struct {
	Box, Label, Href string
	Current          bool
}

// colocationRow is a request in a list.
type colocationRow struct {
	ID          int64
	Number      string
	State       string
	Purpose     string
	Items       []registry.ItemView
	Counterpart string
	SubmittedAt time.Time
	Clock       colocationClock
}

// colocationClock is the deadline that matters in a request's state, with
// its countdown as text.
type colocationClock struct {
	LabelKey  string
	Deadline  time.Time
	Countdown string
	Late      bool
	Paused    bool
}

type colocationListData struct {
	Tabs     []colocationTab
	Box      string
	State    string
	States   []string
	Rows     []colocationRow
	NextURL  string
	FirstURL string
	Paged    bool
	Operator bool
}

// colocationListPage lists a tab of requests, filtered by state, a page at
// a time by the list's cursor.
func (s *Server) colocationListPage(c echo.Context, a auth.Actor) error {
	if !colocationMayUse(a) {
		return infrashare.Forbidden("co-location requests are for operators, the department and admins")
	}
	d := colocationListData{State: c.QueryParam("state"), States: colocationStates, Operator: a.Has(auth.RoleOperator)}
	boxes := []string{}
	if d.Operator {
		boxes = append(boxes, "out", "in")
	}
	if a.SeesEverything() {
		boxes = append(boxes, "all", "disputed", "overdue")
	}
	d.Box = boxes[0]
	for _, b := range boxes {
		if c.QueryParam("box") == b {
			d.Box = b
		}
	}
	v := s.newView(c, "colocation.title", &d)
	for _, b := range boxes {
		label := "colocation.tab." + b // keys checked by TestCatalogueColocationKeys
		d.Tabs = append(d.Tabs, colocationTab{Box: b, Label: v.l.T(label), Href: "/colocation?box=" + b, Current: b == d.Box})
	}
	f := registry.RequestFilter{Limit: colocationPageSize, Cursor: c.QueryParam("cursor")}
	switch d.Box {
	case "out", "in":
		f.Box = d.Box
	case "disputed":
		f.States = []string{registry.StateDisputed}
	case "overdue":
		f.Overdue = true
	}
	if d.State != "" {
		f.States = append(f.States, d.State)
	}
	q := url.Values{"box": {d.Box}}
	if d.State != "" {
		q.Set("state", d.State)
	}
	if n, err := queryInt(c, "limit"); err == nil && n > 0 {
		f.Limit = n
		q.Set("limit", c.QueryParam("limit"))
	}
	d.FirstURL, d.Paged = "/colocation?"+q.Encode(), f.Cursor != ""
	reqs, next, err := s.registry.ListRequests(c.Request().Context(), a, f)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("colocation.error.filter")
		return s.render(c, http.StatusUnprocessableEntity, "colocation", v)
	}
	now := s.cfg.Clock.Now()
	for _, r := range reqs {
		row := colocationRow{ID: r.ID, Number: r.Number, State: r.State, Purpose: r.Purpose, Items: r.Items,
			SubmittedAt: r.SubmittedAt, Clock: colocationClockOf(v.l, r, now)}
		switch d.Box {
		case "out":
			row.Counterpart = r.Owner.Name
		case "in":
			row.Counterpart = r.Requester.Name
		default:
			row.Counterpart = r.Requester.Name + " → " + r.Owner.Name
		}
		d.Rows = append(d.Rows, row)
	}
	if next != "" {
		q.Set("cursor", next)
		d.NextURL = "/colocation?" + q.Encode()
	}
	return s.render(c, http.StatusOK, "colocation", v)
}

// colocationClockOf is the deadline running in the request's state: the
// owner's reply while submitted or overdue, the requester's acceptance
// while approved; the reply clock pauses while information is asked for.
func colocationClockOf(l localizer, r registry.RequestView, now time.Time) colocationClock {
	var ck colocationClock
	switch r.State {
	case registry.StateSubmitted, registry.StateOverdue:
		ck.LabelKey, ck.Deadline = "colocation.reply_deadline", r.ReplyDeadline
	case registry.StateApproved:
		if r.AcceptDeadline != nil {
			ck.LabelKey, ck.Deadline = "colocation.accept_deadline", *r.AcceptDeadline
		}
	case registry.StateInfoRequested:
		ck.LabelKey, ck.Paused, ck.Countdown = "colocation.reply_deadline", true, l.T("colocation.countdown.paused")
		return ck
	}
	if ck.Deadline.IsZero() {
		return ck
	}
	ck.Countdown, ck.Late = colocationCountdown(l, ck.Deadline, now)
	ck.Late = ck.Late || r.State == registry.StateOverdue
	return ck
}

// colocationCountdown says how long is left until a deadline, or how long
// it has passed, in calendar days of Vietnam: the request deadlines are
// set in days (settings colocation.reply_days and accept_days), not in
// working days.
func colocationCountdown(l localizer, deadline, now time.Time) (string, bool) {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(auth.Vietnam).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	days := int(day(deadline).Sub(day(now)).Hours() / 24)
	switch {
	case deadline.Before(now):
		switch days {
		case 0:
			return l.T("colocation.countdown.passed_today"), true
		case -1:
			return l.T("colocation.countdown.late_one"), true
		}
		return l.T("colocation.countdown.late", -days), true
	case days == 0:
		return l.T("colocation.countdown.today"), false
	case days == 1:
		return l.T("colocation.countdown.left_one"), false
	}
	return l.T("colocation.countdown.left", days), false
}

// colocationStep is a line of a request's timeline: a transition or a
// comment.
type colocationStep struct {
	At         time.Time
	Who        string
	Comment    bool
	Action     string
	From, To   string
	ReasonCode string
	Text       string
}

// colocationActView is an action's form as it comes back with errors.
type colocationActView struct {
	Form   colocationActForm
	Errors map[string]string
}

// colocationActForm is what was typed into an action's form, kept when it
// comes back with errors.
type colocationActForm struct {
	Action, ReasonCode, Reason, Rent, Conditions, Decision string
}

type colocationDetailData struct {
	R             registry.RequestView
	BTS           *registry.BTSTechnical
	Fiber         *registry.FiberTechnical
	Other         *registry.OtherTechnical
	Clock         colocationClock
	Steps         []colocationStep
	Actions       []string
	Allowed       map[string]bool
	RejectReasons []string
	// Acts holds, by action, what was typed and its errors when the
	// action's form comes back.
	Acts         map[string]colocationActView
	Notice       string
	Comment      string
	CommentError string
}

// colocationDetail gathers a request for its detail page; the services
// answer not found to anyone who is not a party, the department or an
// admin.
func (s *Server) colocationDetail(c echo.Context, a auth.Actor, l localizer, id int64) (*colocationDetailData, error) {
	r, err := s.registry.GetRequest(c.Request().Context(), a, id)
	if err != nil {
		return nil, err
	}
	d := &colocationDetailData{R: r, RejectReasons: registry.RejectReasons, Acts: map[string]colocationActView{},
		Clock: colocationClockOf(l, r, s.cfg.Clock.Now()), Actions: registry.AllowedActions(a, r), Allowed: map[string]bool{}}
	for _, act := range d.Actions {
		d.Allowed[act] = true
	}
	switch r.Purpose {
	case "bts":
		d.BTS = &registry.BTSTechnical{}
		_ = json.Unmarshal(r.Technical, d.BTS)
	case "fiber":
		d.Fiber = &registry.FiberTechnical{}
		_ = json.Unmarshal(r.Technical, d.Fiber)
	default:
		d.Other = &registry.OtherTechnical{}
		_ = json.Unmarshal(r.Technical, d.Other)
	}
	for _, e := range r.Events {
		st := colocationStep{At: e.At, Who: l.T("colocation.system"), Action: e.Action, From: e.FromState, To: e.ToState,
			ReasonCode: e.ReasonCode, Text: e.Reason}
		if e.Actor != nil {
			st.Who = e.Actor.Name
		}
		d.Steps = append(d.Steps, st)
	}
	for _, cm := range r.Comments {
		d.Steps = append(d.Steps, colocationStep{At: cm.At, Who: cm.Author.Name, Comment: true, Text: cm.Body})
	}
	sort.SliceStable(d.Steps, func(i, j int) bool { return d.Steps[i].At.Before(d.Steps[j].At) })
	return d, nil
}

func (s *Server) colocationDetailPage(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v := s.newView(c, "colocation.detail.title", nil)
	d, err := s.colocationDetail(c, a, v.l, id)
	if err != nil {
		return err
	}
	return s.renderColocationDetail(c, http.StatusOK, v, d)
}

func (s *Server) renderColocationDetail(c echo.Context, status int, v *pageView, d *colocationDetailData) error {
	v.Data = d
	v.Title = v.l.T("colocation.detail.title") + " " + d.R.Number
	return s.render(c, status, "colocation_request", v)
}

// colocationActSubmit takes one action on a request. A validation error
// shows the form again beside its fields; a conflict (the state changed
// meanwhile, or the room is gone) shows the request as it is now.
func (s *Server) colocationActSubmit(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v := s.newView(c, "colocation.detail.title", nil)
	form := colocationActForm{Action: strings.TrimSpace(c.FormValue("action")), ReasonCode: c.FormValue("reason_code"),
		Reason: c.FormValue("reason"), Rent: strings.TrimSpace(c.FormValue("offer_rent_vnd")),
		Conditions: c.FormValue("conditions"), Decision: c.FormValue("decision")}
	act := registry.Action{Action: form.Action, ReasonCode: form.ReasonCode, Reason: form.Reason, Decision: form.Decision}
	fieldErrs := map[string]string{}
	if form.Rent != "" {
		rent, ok := parseVND(form.Rent)
		if !ok {
			fieldErrs["offer_rent_vnd"] = v.l.T("colocation.err.offer_rent_vnd")
		}
		act.OfferRentVND = &rent
	}
	if strings.TrimSpace(form.Conditions) != "" {
		act.Conditions = &form.Conditions
	}
	if len(fieldErrs) == 0 {
		_, err = s.registry.Act(c.Request().Context(), a, id, act)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/colocation/%d", id))
		}
		switch infrashare.ErrorCode(err) {
		case infrashare.EINVALID:
			fieldErrs = colocationFieldErrors(v.l, err, nil)
		case infrashare.ECONFLICT:
		default:
			return err
		}
	}
	d, derr := s.colocationDetail(c, a, v.l, id)
	if derr != nil {
		return derr
	}
	if len(fieldErrs) > 0 {
		d.Acts[form.Action] = colocationActView{Form: form, Errors: fieldErrs}
		if !d.Allowed[form.Action] || fieldErrs["action"] != "" {
			v.Error = v.l.T("colocation.err.general", strings.Join(sortedValues(fieldErrs), " "))
		}
		return s.renderColocationDetail(c, http.StatusUnprocessableEntity, v, d)
	}
	d.Notice = colocationConflictText(v.l, err)
	return s.renderColocationDetail(c, http.StatusConflict, v, d)
}

// colocationConflictText explains a 409: no room left, or a request that
// changed meanwhile.
func colocationConflictText(l localizer, err error) string {
	if free, ok := conflictDetail(err, "free"); ok {
		return l.T("colocation.conflict.capacity", free)
	}
	return l.T("colocation.conflict.state")
}

// conflictDetail reads a number the service attached to a conflict.
func conflictDetail(err error, key string) (string, bool) {
	var de *infrashare.Error
	if !errors.As(err, &de) || de.Details == nil {
		return "", false
	}
	v, ok := de.Details[key]
	if !ok {
		return "", false
	}
	if n, ok := v.(int); ok {
		return fmtNum(n), true
	}
	return fmt.Sprint(v), true
}

func (s *Server) colocationCommentSubmit(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	_, err = s.registry.Comment(c.Request().Context(), a, id, body)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/colocation/%d", id))
	}
	if infrashare.ErrorCode(err) != infrashare.EINVALID {
		return err
	}
	v := s.newView(c, "colocation.detail.title", nil)
	d, derr := s.colocationDetail(c, a, v.l, id)
	if derr != nil {
		return derr
	}
	d.Comment, d.CommentError = body, v.l.T("colocation.err.body")
	return s.renderColocationDetail(c, http.StatusUnprocessableEntity, v, d)
}

// parseVND reads an amount of đồng typed with or without thousands
// separators: "42.000.000", "42 000 000", "42000000".
func parseVND(s string) (int64, bool) {
	digits := strings.NewReplacer(".", "", " ", "", ",", "", "\u00a0", "").Replace(s)
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil && n >= 0
}

// sortedValues are a map's values in the order of their keys.
func sortedValues(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(m))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
