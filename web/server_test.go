package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func newTestServer(t *testing.T, db *database.DB, cfg Config) *Server {
	t.Helper()
	var logs bytes.Buffer
	s, err := New(context.Background(), cfg, db, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, h http.Handler, method, path string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type errorJSON struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"request_id"`
	} `json:"error"`
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorJSON {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, rec.Body)
	}
	var e errorJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, rec.Body)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body lacks code or message: %s", rec.Body)
	}
	return e
}

func TestHealthAndReadiness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newTestServer(t, db, Config{Version: "test"})
		if rec := do(t, s.Handler(), "GET", "/healthz", nil); rec.Code != 200 {
			t.Fatalf("healthz %d", rec.Code)
		}
		rec := do(t, s.Handler(), "GET", "/readyz", nil)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), db.Dialect()) {
			t.Fatalf("readyz %d %s", rec.Code, rec.Body)
		}
		// A database that is gone makes the replica unready, not dead.
		db.Close()
		rec = do(t, s.Handler(), "GET", "/readyz", nil)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("readyz with the database closed: %d, want 503", rec.Code)
		}
		if rec := do(t, s.Handler(), "GET", "/healthz", nil); rec.Code != 200 {
			t.Fatalf("healthz with the database closed: %d, want 200", rec.Code)
		}
	})
}

func TestUnknownAPIRouteIsJSON404(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	for _, p := range []string{"/api/v1/nothing-here", "/api/v1/assets/../../etc/passwd", "/api/"} {
		rec := do(t, s.Handler(), "GET", p, nil)
		if rec.Code != 404 {
			t.Fatalf("%s: %d, want 404", p, rec.Code)
		}
		if e := decodeError(t, rec); e.Error.Code != infrashare.ENOTFOUND {
			t.Fatalf("%s: code %q", p, e.Error.Code)
		}
	}
	rec := do(t, s.Handler(), "DELETE", "/healthz", nil)
	if rec.Code != 405 {
		t.Fatalf("DELETE /healthz: %d, want 405", rec.Code)
	}
	decodeError(t, rec)
}

// echoBody is a test route that reads the whole body, as import handlers do.
func echoBody(c echo.Context) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	return c.JSON(200, map[string]int{"bytes": len(b)})
}

func TestBodyLimits(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	s.echo.POST("/api/v1/test-body", echoBody)
	s.echo.POST("/api/v1/test-body/import", echoBody)
	big := bytes.Repeat([]byte("x"), jsonBodyLimit+1)

	// Declared length: refused before reading.
	rec := do(t, s.Handler(), "POST", "/api/v1/test-body", bytes.NewReader(big), "Content-Type", "application/json")
	if rec.Code != 413 {
		t.Fatalf("11 MiB JSON body: %d, want 413", rec.Code)
	}
	decodeError(t, rec)

	// Undeclared length (chunked): refused while reading.
	req := httptest.NewRequest("POST", "/api/v1/test-body", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("chunked 11 MiB body: %d, want 413", rec.Code)
	}

	// Imports may be larger.
	rec = do(t, s.Handler(), "POST", "/api/v1/test-body/import", bytes.NewReader(big), "Content-Type", "text/csv")
	if rec.Code != 200 {
		t.Fatalf("11 MiB import: %d, want 200", rec.Code)
	}
	rec = do(t, s.Handler(), "POST", "/api/v1/test-body", strings.NewReader(`{"a":1}`), "Content-Type", "application/json")
	if rec.Code != 200 {
		t.Fatalf("small body: %d", rec.Code)
	}
}

func TestPanicAnswersJSON500WithoutInternals(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	s.echo.GET("/api/v1/test-panic", func(echo.Context) error { panic("secret table users_pw at line 42") })
	s.echo.GET("/api/v1/test-error", func(echo.Context) error {
		return errors.New(`pq: relation "secret_table" does not exist`)
	})
	for _, p := range []string{"/api/v1/test-panic", "/api/v1/test-error"} {
		rec := do(t, s.Handler(), "GET", p, nil)
		if rec.Code != 500 {
			t.Fatalf("%s: %d, want 500", p, rec.Code)
		}
		e := decodeError(t, rec)
		if e.Error.Code != infrashare.EINTERNAL || e.Error.RequestID == "" {
			t.Fatalf("%s: body %s", p, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), ".go") {
			t.Fatalf("%s leaks internals: %s", p, rec.Body)
		}
	}
	// The server goes on answering.
	if rec := do(t, s.Handler(), "GET", "/healthz", nil); rec.Code != 200 {
		t.Fatalf("after a panic: %d", rec.Code)
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{infrashare.NotFound("asset"), 404, infrashare.ENOTFOUND},
		{infrashare.Forbidden("not yours"), 403, infrashare.EFORBIDDEN},
		{infrashare.Errorf(infrashare.EUNAUTHORIZED, "sign in"), 401, infrashare.EUNAUTHORIZED},
		{infrashare.Conflict("version is stale"), 409, infrashare.ECONFLICT},
		{infrashare.Invalid("geometry", "outside the service area"), 422, infrashare.EINVALID},
		{infrashare.Errorf(infrashare.EMALFORMED, "not JSON"), 400, infrashare.EMALFORMED},
		{infrashare.Errorf(infrashare.ERATELIMITED, "slow down"), 429, infrashare.ERATELIMITED},
		{fmt.Errorf("wrapped: %w", infrashare.Conflict("x")), 409, infrashare.ECONFLICT},
		{&http.MaxBytesError{Limit: jsonBodyLimit}, 413, infrashare.ETOOLARGE},
		{echo.ErrNotFound, 404, infrashare.ENOTFOUND},
		{echo.ErrUnsupportedMediaType, 415, "unsupported_media_type"},
		{errors.New("boom"), 500, infrashare.EINTERNAL},
	}
	for _, c := range cases {
		status, de := toError(c.err)
		if status != c.status || de.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, status, de.Code, c.status, c.code)
		}
	}
	// Field details reach the body.
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	s.echo.GET("/api/v1/test-invalid", func(echo.Context) error {
		return infrashare.Invalid("geometry", "outside the service area")
	})
	rec := do(t, s.Handler(), "GET", "/api/v1/test-invalid", nil)
	e := decodeError(t, rec)
	if rec.Code != 422 || e.Error.Fields["geometry"] != "outside the service area" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestRequestIDs(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	rec := do(t, s.Handler(), "GET", "/healthz", nil)
	if len(rec.Header().Get("X-Request-Id")) < 16 {
		t.Fatalf("no request id: %q", rec.Header().Get("X-Request-Id"))
	}
	rec = do(t, s.Handler(), "GET", "/healthz", nil, "X-Request-Id", "lb-1234")
	if rec.Header().Get("X-Request-Id") != "lb-1234" {
		t.Fatalf("a plain client id is kept: %q", rec.Header().Get("X-Request-Id"))
	}
	rec = do(t, s.Handler(), "GET", "/healthz", nil, "X-Request-Id", "<script>\n")
	if id := rec.Header().Get("X-Request-Id"); strings.ContainsAny(id, "<>\n") || id == "" {
		t.Fatalf("a junk client id is replaced: %q", id)
	}
}

func TestClientAddressBehindTrustedProxies(t *testing.T) {
	_, proxy, _ := net.ParseCIDR("10.0.0.0/8")
	db := dbtest.Open(t, database.SQLite)
	for _, c := range []struct {
		name    string
		trusted []*net.IPNet
		peer    string
		want    string
	}{
		{"no proxies configured", nil, "10.1.2.3:5000", "10.1.2.3"},
		{"trusted proxy", []*net.IPNet{proxy}, "10.1.2.3:5000", "203.0.113.9"},
		{"untrusted peer", []*net.IPNet{proxy}, "198.51.100.7:5000", "198.51.100.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newTestServer(t, db, Config{TrustedProxies: c.trusted})
			s.echo.GET("/api/v1/test-ip", func(ctx echo.Context) error { return ctx.String(200, ctx.RealIP()) })
			req := httptest.NewRequest("GET", "/api/v1/test-ip", nil)
			req.RemoteAddr = c.peer
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Body.String() != c.want {
				t.Fatalf("client address %q, want %q", rec.Body, c.want)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	do(t, s.Handler(), "GET", "/readyz", nil)
	rec := do(t, s.Handler(), "GET", "/metrics", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `infrashare_http_requests_total{code="200",host="",method="GET",url="/readyz"} 1`) {
		t.Fatalf("metrics %d: %.400s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Fatal("no Go runtime metrics")
	}
}

// A SIGTERM (here: the context ending) lets a slow request finish, then
// Serve returns nil.
func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{ShutdownTimeout: 10 * time.Second})
	started := make(chan struct{})
	s.echo.GET("/api/v1/test-slow", func(c echo.Context) error {
		close(started)
		time.Sleep(700 * time.Millisecond)
		return c.String(200, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/api/v1/test-slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{body: string(b)}
	}()
	<-started
	cancel()
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
}

// The OpenAPI document and the real routes cannot drift: every route is
// described, and every described operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	doc, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	routes := map[string]bool{}
	for _, r := range s.echo.Routes() {
		if r.Method == echo.RouteNotFound || strings.HasPrefix(r.Path, "/static") {
			continue
		}
		routes[r.Method+" "+openAPIPath(r.Path)] = true
	}
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	var missing, extra []string
	for r := range routes {
		if !described[r] && isAPIRoute(r) {
			missing = append(missing, r)
		}
	}
	for d := range described {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.yaml: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.yaml describes routes that do not exist: %v", extra)
	}
	rec := do(t, s.Handler(), "GET", "/api/openapi.json", nil)
	var served map[string]any
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &served) != nil || served["openapi"] != "3.0.3" {
		t.Fatalf("/api/openapi.json: %d %.200s", rec.Code, rec.Body)
	}
}

// openAPIPath turns Echo's /assets/:id into OpenAPI's /assets/{id}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// isAPIRoute keeps HTML pages out of the OpenAPI comparison.
func isAPIRoute(r string) bool {
	_, path, _ := strings.Cut(r, " ")
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := newTestServer(t, dbtest.Open(t, database.SQLite), Config{})
	for _, p := range []string{"/healthz", "/api/v1/nothing", "/api/v1/me"} {
		rec := do(t, s.Handler(), "GET", p, nil)
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", p, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without https", p)
		}
	}
	s = newTestServer(t, dbtest.Open(t, database.SQLite), Config{BaseURL: "https://infrashare.cantho.gov.vn"})
	if rec := do(t, s.Handler(), "GET", "/healthz", nil); rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind https")
	}
}
