package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

func (s *Server) listAuditEvents(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	f := auth.AuditFilter{ObjectType: c.QueryParam("object_type"), ObjectID: c.QueryParam("object_id"),
		Action: c.QueryParam("action"), Limit: limit, Cursor: c.QueryParam("cursor")}
	if v := c.QueryParam("actor_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return infrashare.Invalid("actor_id", "must be a user id")
		}
		f.ActorID = id
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			t, err := parseInstantOrDate(v)
			if err != nil {
				return infrashare.Invalid(name, "must be an RFC 3339 instant or a date YYYY-MM-DD")
			}
			*dst = t
		}
	}
	items, next, err := s.auth.Audit.List(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) verifyAudit(c echo.Context) error {
	res, err := s.auth.Audit.Verify(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// parseInstantOrDate reads an RFC 3339 instant, or a civil date taken as
// its start in Asia/Ho_Chi_Minh, where the users are.
func parseInstantOrDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := infrashare.ParseDate(v)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, auth.Vietnam).UTC(), nil
}
