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
	if trimmed := strings.TrimSpace(string(body)); len(trimmed) == 0 {
		return infrashare.Errorf(infrashare.EMALFORMED, "the body is empty; send a JSON object")
	} else if trimmed == "null" {
		// Decoding null into a struct does nothing: a PATCH would answer
		// 200 having read no request at all.
		return infrashare.Errorf(infrashare.EMALFORMED, "the body is null; send a JSON object")
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
	// PostgreSQL refuses NUL in text (a 500 otherwise), and no field of ours
	// has a use for it. Only a body with the escape is walked again.
	if strings.Contains(string(body), `\u0000`) {
		var tree any
		if json.Unmarshal(body, &tree) == nil {
			if at, found := nulAt(tree, ""); found {
				return infrashare.Invalid(at, "must not contain NUL characters (\\u0000)")
			}
		}
	}
	return nil
}

// nulAt finds the first string (or object key) holding a NUL character in
// a decoded JSON value and names it as a field path: "technical.antennas[0].type".
func nulAt(v any, path string) (string, bool) {
	switch t := v.(type) {
	case string:
		return path, strings.ContainsRune(t, 0)
	case []any:
		for i, e := range t {
			if at, ok := nulAt(e, path+"["+strconv.Itoa(i)+"]"); ok {
				return at, true
			}
		}
	case map[string]any:
		for k, e := range t {
			at := k
			if path != "" {
				at = path + "." + k
			}
			if strings.ContainsRune(k, 0) {
				return strings.ReplaceAll(at, "\x00", "\\u0000"), true
			}
			if at, ok := nulAt(e, at); ok {
				return at, true
			}
		}
	}
	return "", false
}

// checkRequestText refuses a path, query string or form whose text is not
// UTF-8 or holds a NUL character, naming the parameter: such text could
// only reach the database, and PostgreSQL refuses it with an error that
// would answer 500. JSON bodies are checked by bindJSON.
func checkRequestText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if badText(req.URL.Path) {
			return infrashare.Invalid("path", "must be UTF-8 text without NUL characters")
		}
		if err := checkValues(req.URL.Query()); err != nil {
			return err
		}
		mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
		if mt == echo.MIMEApplicationForm && req.Body != nil && req.Body != http.NoBody {
			if err := req.ParseForm(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return tooLarge(mbe.Limit)
				}
				return infrashare.Errorf(infrashare.EMALFORMED, "the form cannot be read")
			}
			if err := checkValues(req.PostForm); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// checkValues names the parameter as the client sent it, as every other
// validation error names its field.
func checkValues(vals url.Values) error {
	for k, vs := range vals {
		if badText(k) {
			return infrashare.Invalid("parameter name", "must be UTF-8 text without NUL characters")
		}
		for _, v := range vs {
			if badText(v) {
				return infrashare.Invalid(k, "must be UTF-8 text without NUL characters")
			}
		}
	}
	return nil
}

func badText(s string) bool { return !utf8.ValidString(s) || strings.ContainsRune(s, 0) }

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
