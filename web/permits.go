package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/permits"
)

func (s *Server) permitRoutes() {
	s.private("GET", "/permits", s.listPermits)
	s.private("POST", "/permits", s.submitPermit)
	s.private("POST", "/permits/check", s.checkPermit)
	s.private("GET", "/permits/:id", s.getPermit)
	s.private("POST", "/permits/:id/actions", s.actOnPermit)
	s.private("POST", "/permits/:id/attachments", s.attachToPermit)
	s.private("GET", "/permits/:id/attachments/:attachment_id", s.getAttachment)

	s.private("GET", "/bts", s.listBTS)
	s.private("POST", "/bts", s.logBTS)
	s.private("GET", "/bts/:id", s.getBTS)
	s.private("POST", "/bts/:id/reclassify", s.reclassifyBTS)

	s.private("GET", "/reports/sharing-ratio", s.sharingRatio)
}

func (s *Server) listPermits(c echo.Context) error {
	f := permits.PermitFilter{States: listParam(c, "state"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.Limit, err = queryInt(c, "limit"); err != nil {
		return err
	}
	if v := c.QueryParam("overdue"); v != "" {
		if f.Overdue, err = strconv.ParseBool(v); err != nil {
			return infrashare.Invalid("overdue", "must be true or false")
		}
	}
	items, next, err := s.permits.List(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) submitPermit(c echo.Context) error {
	var in permits.NewPermit
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.permits.Submit(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) checkPermit(c echo.Context) error {
	var in permits.CheckQuery
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	res, err := s.permits.Check(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) getPermit(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.permits.Get(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) actOnPermit(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in permits.PermitAction
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.permits.Act(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// attachToPermit takes a multipart form field "file", or a raw PDF or image
// body with ?filename=.
func (s *Server) attachToPermit(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	name, data, err := uploadedFile(c)
	if err != nil {
		return err
	}
	a, err := s.permits.Attach(c.Request().Context(), actor(c), id, name, data)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func uploadedFile(c echo.Context) (string, []byte, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); len(ct) >= 19 && ct[:19] == "multipart/form-data" {
		fh, err := c.FormFile("file")
		if err != nil {
			if _, ok := err.(*http.MaxBytesError); ok {
				return "", nil, err
			}
			return "", nil, infrashare.Invalid("file", "send the document in the form field file")
		}
		f, err := fh.Open()
		if err != nil {
			return "", nil, infrashare.Invalid("file", "could not be read")
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, permits.MaxAttachmentBytes+1))
		return fh.Filename, data, err
	}
	data, err := io.ReadAll(req.Body)
	if err != nil {
		return "", nil, err
	}
	return c.QueryParam("filename"), data, nil
}

func (s *Server) getAttachment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(c, "attachment_id")
	if err != nil {
		return err
	}
	a, data, err := s.permits.Attachment(c.Request().Context(), actor(c), id, aid)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s", urlPathEscape(a.Filename)))
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, a.ContentType, data)
}

func (s *Server) listBTS(c echo.Context) error {
	f := permits.DeploymentFilter{Unit: c.QueryParam("unit"), Operator: c.QueryParam("operator"),
		Classification: c.QueryParam("classification"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.Limit, err = queryInt(c, "limit"); err != nil {
		return err
	}
	if f.Year, err = queryInt(c, "year"); err != nil {
		return err
	}
	items, next, err := s.permits.ListDeployments(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) logBTS(c echo.Context) error {
	var in permits.NewDeployment
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	d, err := s.permits.LogDeployment(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) getBTS(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.permits.GetDeployment(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) reclassifyBTS(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in permits.Reclassification
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	d, err := s.permits.Reclassify(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// queryDate reads an optional date from the query string.
func queryDate(c echo.Context, name string) (infrashare.Date, error) {
	v := c.QueryParam(name)
	if v == "" {
		return infrashare.Date{}, nil
	}
	d, err := infrashare.ParseDate(v)
	if err != nil {
		return d, infrashare.Invalid(name, "must be a date YYYY-MM-DD")
	}
	return d, nil
}

func (s *Server) sharingRatio(c echo.Context) error {
	var q permits.RatioQuery
	var err error
	if q.From, err = queryDate(c, "from"); err != nil {
		return err
	}
	if q.To, err = queryDate(c, "to"); err != nil {
		return err
	}
	q.GroupBy = c.QueryParam("group_by")
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" && format != "xlsx" {
		return infrashare.Invalid("format", "must be json, csv or xlsx")
	}
	rep, err := s.permits.SharingRatio(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("ty-le-dung-chung-%s-%s", rep.From, rep.To)
	switch format {
	case "csv":
		c.Response().Header().Set("Content-Type", "text/csv; charset=utf-8")
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		c.Response().WriteHeader(http.StatusOK)
		return permits.WriteRatioCSV(c.Response(), rep)
	case "xlsx":
		c.Response().Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		c.Response().WriteHeader(http.StatusOK)
		return permits.WriteRatioXLSX(c.Response(), rep)
	}
	return c.JSON(http.StatusOK, rep)
}
