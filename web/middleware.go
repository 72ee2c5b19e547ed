package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"infrashare"
)

// Body limits of DESIGN §4.
const (
	jsonBodyLimit       = 10 << 20  // 10 MiB
	importBodyLimit     = 100 << 20 // 100 MiB
	attachmentBodyLimit = 20 << 20  // 20 MB per attachment
)

// bodyLimitFor picks the limit by route: imports and attachments may be
// larger than ordinary JSON bodies.
func bodyLimitFor(path string) int64 {
	switch {
	case strings.HasSuffix(path, "/import"):
		return importBodyLimit
	case strings.HasSuffix(path, "/attachments"):
		return attachmentBodyLimit
	}
	return jsonBodyLimit
}

// bodyLimit answers 413 from the Content-Length header at once, and caps the
// body reader for requests that do not declare a length.
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		limit := bodyLimitFor(req.URL.Path)
		if req.ContentLength > limit {
			return tooLarge(limit)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		return next(c)
	}
}

func tooLarge(limit int64) error {
	return infrashare.Errorf(infrashare.ETOOLARGE, "the request body is larger than %d MiB", limit>>20)
}

// assignRequestID keeps a client's X-Request-Id when it is short and plain
// (so that a proxy's id follows the request through the logs) and makes one
// otherwise.
func assignRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !plainID(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func plainID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// requestLogger writes one JSON line per request. It logs the path without
// the query string, so that nothing a client puts there lands in the log.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true,
		LogRemoteIP: true, LogResponseSize: true, LogError: true,
		HandleError: true, // the error handler runs first, so the status is the real one
		Skipper:     func(c echo.Context) bool { p := c.Request().URL.Path; return p == "/healthz" || p == "/metrics" },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", requestID(c)),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Float64("ms", float64(v.Latency)/float64(time.Millisecond)),
				slog.Int64("bytes", v.ResponseSize),
				slog.String("ip", v.RemoteIP),
			)
			return nil
		},
	})
}

// securityHeaders sets the headers every response carries: no inline
// scripts or foreign sources, no framing, no type sniffing, no referrer
// leaking paths to other sites, and HSTS behind https.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := strings.HasPrefix(s.cfg.BaseURL, "https://")
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}
