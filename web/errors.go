package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/database"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[string]int{
	infrashare.ENOTFOUND:     http.StatusNotFound,
	infrashare.EFORBIDDEN:    http.StatusForbidden,
	infrashare.EUNAUTHORIZED: http.StatusUnauthorized,
	infrashare.ECONFLICT:     http.StatusConflict,
	infrashare.EINVALID:      http.StatusUnprocessableEntity,
	infrashare.EMALFORMED:    http.StatusBadRequest,
	infrashare.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	infrashare.ERATELIMITED:  http.StatusTooManyRequests,
	infrashare.EUNAVAILABLE:  http.StatusServiceUnavailable,
	infrashare.EINTERNAL:     http.StatusInternalServerError,
	"unsupported_media_type": http.StatusUnsupportedMediaType,
}

// codeOfStatus names the statuses Echo itself produces (unknown route, wrong
// method) in the same vocabulary.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            infrashare.EMALFORMED,
	http.StatusUnauthorized:          infrashare.EUNAUTHORIZED,
	http.StatusForbidden:             infrashare.EFORBIDDEN,
	http.StatusNotFound:              infrashare.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              infrashare.ECONFLICT,
	http.StatusRequestEntityTooLarge: infrashare.ETOOLARGE,
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   infrashare.EINVALID,
	http.StatusTooManyRequests:       infrashare.ERATELIMITED,
	http.StatusServiceUnavailable:    infrashare.EUNAVAILABLE,
}

// errorBody is the error wire format of DESIGN §4.
type errorBody struct {
	Error map[string]any `json:"error"`
}

// toError turns anything a handler returned into a status and a body. Only
// *infrashare.Error and Echo's own errors say anything to the client; every
// other error is internal and its text stays in the log.
func toError(err error) (int, *infrashare.Error) {
	var de *infrashare.Error
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &de):
		status, ok := statusOf[de.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		return status, de
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, tooLarge(mbe.Limit).(*infrashare.Error)
	case errors.As(err, &he):
		code, ok := codeOfStatus[he.Code]
		if !ok {
			code = infrashare.EINTERNAL
		}
		msg := http.StatusText(he.Code)
		if he.Code == http.StatusNotFound {
			msg = "no such route"
		}
		if he.Code >= 500 {
			return http.StatusInternalServerError, &infrashare.Error{Code: infrashare.EINTERNAL, Message: "internal error"}
		}
		return he.Code, &infrashare.Error{Code: code, Message: msg}
	case database.IsRetryable(err):
		return http.StatusConflict, &infrashare.Error{Code: infrashare.ECONFLICT, Message: "the database was busy with concurrent changes; try again"}
	case errors.Is(err, context.Canceled):
		// The client went away; 499 is nginx's word for it and is never
		// sent to anyone.
		return 499, &infrashare.Error{Code: "client_closed", Message: "client closed the request"}
	}
	return http.StatusInternalServerError, &infrashare.Error{Code: infrashare.EINTERNAL, Message: "internal error"}
}

// handleError is Echo's error handler: the one place that writes error
// responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, de := toError(err)
	body := map[string]any{"code": de.Code, "message": de.Message}
	if len(de.Fields) > 0 {
		body["fields"] = de.Fields
	}
	for k, v := range de.Details {
		body[k] = v
	}
	if status >= 500 {
		body["request_id"] = requestID(c)
		s.log.Error("internal error", "request_id", requestID(c), "path", c.Request().URL.Path, "error", err.Error())
	}
	if secs, ok := de.Details["retry_after_seconds"].(int64); ok {
		c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if he := new(echo.HTTPError); errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed {
		// Echo has set Allow already.
		status = http.StatusMethodNotAllowed
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(status)
	} else {
		werr = c.JSON(status, errorBody{Error: body})
	}
	if werr != nil {
		s.log.Warn("write error response", "error", werr.Error())
	}
}
