package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// bindJSON reads a JSON body strictly: the right media type, valid UTF-8,
// one value, no unknown fields. Every failure names what is wrong and
// answers 4xx.
func bindJSON(c echo.Context, v any) error {
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &infrashare.Error{Code: "unsupported_media_type", Message: "send the body as Content-Type: application/json"}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return infrashare.Errorf(infrashare.EMALFORMED, "could not read the body")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return infrashare.Errorf(infrashare.EMALFORMED, "the body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return infrashare.Errorf(infrashare.EMALFORMED, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return infrashare.Errorf(infrashare.EMALFORMED, "the body has data after the JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return infrashare.Errorf(infrashare.EMALFORMED, "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return infrashare.Errorf(infrashare.EMALFORMED, "the body must be a JSON object")
		}
		return infrashare.Invalid(field, "must be "+jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return infrashare.Errorf(infrashare.EMALFORMED, "the body ends in the middle of a JSON value")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return infrashare.Invalid(name, "unknown field")
	}
	// Errors from a type's own UnmarshalJSON, such as a bad date.
	return &infrashare.Error{Code: infrashare.EINVALID, Message: "validation failed: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	case "float32", "float64":
		return "a number"
	}
	if strings.HasPrefix(k, "int") || strings.HasPrefix(k, "uint") {
		return "a whole number in range"
	}
	return "of another type"
}

// pathID reads a numeric id from the path; anything else is an object that
// does not exist.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, infrashare.NotFound("object")
	}
	return id, nil
}

// queryInt reads an optional whole number from the query string.
func queryInt(c echo.Context, name string) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, infrashare.Invalid(name, "must be a positive whole number")
	}
	return n, nil
}

// page is the list wire format of DESIGN §4.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func listOf[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	p := page[T]{Items: items}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// actor returns the signed-in actor that the sign-in middleware stored.
func actor(c echo.Context) auth.Actor {
	a, _ := auth.ActorFrom(c.Request().Context())
	return a
}

// urlPathEscape escapes a file name for a Content-Disposition filename*.
func urlPathEscape(s string) string { return url.PathEscape(s) }
