package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// Session keys of the verification result, shown once after the redirect.
const (
	sessVerifyDone   = "reports.verify.done"
	sessVerifyOK     = "reports.verify.ok"
	sessVerifyEvents = "reports.verify.events"
	sessVerifyBad    = "reports.verify.bad"
	sessVerifyReason = "reports.verify.reason"
)

// auditPageSize is how many events a page of the log shows.
const auditPageSize = 50

// auditRow is an event as the log page shows it.
type auditRow struct {
	auth.AuditEvent
	At        string
	Actor     string
	ActorURL  string
	ObjectURL string
}

type auditPageData struct {
	Action, Actor, ObjectType, ObjectID, From, To string
	Events                                        []auditRow
	NextURL, FirstURL                             string
	Paged                                         bool
	Verify                                        *auth.VerifyResult
	// BadURL is the log page that starts at the event where the chain
	// breaks.
	BadURL string
}

// auditPage lists the audit log newest first with the filters of a GET
// form, a page at a time by the log's keyset cursor, and the result of the
// last verification asked for.
func (s *Server) auditPage(c echo.Context, a auth.Actor) error {
	if !a.SeesEverything() {
		return infrashare.Forbidden("the audit log is for the department and admins")
	}
	ctx := c.Request().Context()
	d := auditPageData{Action: c.QueryParam("action"), Actor: c.QueryParam("actor_id"), ObjectType: c.QueryParam("object_type"),
		ObjectID: c.QueryParam("object_id"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	if s.sessions.PopBool(ctx, sessVerifyDone) {
		res := auth.VerifyResult{OK: s.sessions.PopBool(ctx, sessVerifyOK), Events: int64(s.sessions.PopInt(ctx, sessVerifyEvents)),
			Reason: s.sessions.PopString(ctx, sessVerifyReason)}
		if bad := int64(s.sessions.PopInt(ctx, sessVerifyBad)); bad != 0 {
			res.FirstBadID = &bad
			d.BadURL = "/audit?" + url.Values{"cursor": {auth.EncodeCursor(bad + 1)}}.Encode()
		}
		d.Verify = &res
	}
	v := s.newView(c, "reports.audit.title", &d)
	f, query, err := auditFilterOf(d, c.QueryParam("cursor"))
	var events []auth.AuditEvent
	var next string
	if err == nil {
		events, next, err = s.auth.Audit.List(ctx, a, f)
	}
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("reports.error.filter") + " " + fieldText(err)
		return s.render(c, http.StatusUnprocessableEntity, "reports_audit", v)
	}
	if d.Events, err = s.auditRows(c, a, v.l, events); err != nil {
		return err
	}
	d.Paged = f.Cursor != ""
	d.FirstURL = "/audit"
	if len(query) > 0 {
		d.FirstURL += "?" + query.Encode()
	}
	if next != "" {
		query.Set("cursor", next)
		d.NextURL = "/audit?" + query.Encode()
	}
	return s.render(c, http.StatusOK, "reports_audit", v)
}

// auditFilterOf reads the form's filters; the dates are days in Vietnam,
// "to" included.
func auditFilterOf(d auditPageData, cursor string) (auth.AuditFilter, url.Values, error) {
	f := auth.AuditFilter{Action: d.Action, ObjectType: d.ObjectType, ObjectID: d.ObjectID, Cursor: cursor, Limit: auditPageSize}
	query := url.Values{}
	for k, val := range map[string]string{"action": d.Action, "actor_id": d.Actor, "object_type": d.ObjectType,
		"object_id": d.ObjectID, "from": d.From, "to": d.To} {
		if val != "" {
			query.Set(k, val)
		}
	}
	fields := infrashare.FieldErrors{}
	if d.Actor != "" {
		id, err := strconv.ParseInt(d.Actor, 10, 64)
		if err != nil || id <= 0 {
			fields.Add("actor_id", "must be a user id")
		}
		f.ActorID = id
	}
	if day := reportDate(d.From, "from", fields); !day.IsZero() {
		f.From = time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, auth.Vietnam)
	}
	if day := reportDate(d.To, "to", fields); !day.IsZero() {
		f.To = time.Date(day.Year, day.Month, day.Day+1, 0, 0, 0, 0, auth.Vietnam)
	}
	return f, query, fields.Err()
}

// auditRows names each event's actor and links its object's history.
func (s *Server) auditRows(c echo.Context, a auth.Actor, l localizer, events []auth.AuditEvent) ([]auditRow, error) {
	var ids []int64
	for _, e := range events {
		if e.ActorID != nil {
			ids = append(ids, *e.ActorID)
		}
	}
	actors, err := s.auth.Audit.Actors(c.Request().Context(), a, ids)
	if err != nil {
		return nil, err
	}
	out := make([]auditRow, 0, len(events))
	for _, e := range events {
		row := auditRow{AuditEvent: e, At: e.At.In(auth.Vietnam).Format("02/01/2006 15:04:05"), Actor: l.T("reports.audit.system")}
		if e.ActorID != nil {
			id := strconv.FormatInt(*e.ActorID, 10)
			row.Actor = "#" + id
			if who, ok := actors[*e.ActorID]; ok {
				row.Actor = who.Email + " · " + who.OrgCode
			}
			row.ActorURL = "/audit?" + url.Values{"actor_id": {id}}.Encode()
		}
		if e.ObjectType != "" && e.ObjectID != "" {
			row.ObjectURL = "/audit?" + url.Values{"object_type": {e.ObjectType}, "object_id": {e.ObjectID}}.Encode()
		}
		out = append(out, row)
	}
	return out, nil
}

// auditVerify runs the chain verification and shows its result on the log
// page (Post/Redirect/Get, the result carried once in the session).
func (s *Server) auditVerify(c echo.Context, a auth.Actor) error {
	ctx := c.Request().Context()
	res, err := s.auth.Audit.Verify(ctx, a)
	if err != nil {
		return err
	}
	s.sessions.Put(ctx, sessVerifyDone, true)
	s.sessions.Put(ctx, sessVerifyOK, res.OK)
	s.sessions.Put(ctx, sessVerifyEvents, int(res.Events))
	s.sessions.Put(ctx, sessVerifyReason, res.Reason)
	if res.FirstBadID != nil {
		s.sessions.Put(ctx, sessVerifyBad, int(*res.FirstBadID))
	}
	return c.Redirect(http.StatusSeeOther, "/audit#verify")
}
