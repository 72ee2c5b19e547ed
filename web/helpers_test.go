package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

const demoPassword = "demo-password-1"

// demoLogins names a demo account for each role the tests act as.
var demoLogins = map[string]string{
	"admin":     "admin@demo.infrashare.vn",
	"auditor":   "auditor@demo.infrashare.vn",
	"officer":   "officer.ninhkieu@demo.infrashare.vn",
	"officer2":  "officer.cairang@demo.infrashare.vn",
	"operator":  "ops@vnpt.demo.infrashare.vn",
	"operator2": "ops@viettel.demo.infrashare.vn",
	"operator3": "ops@mobifone.demo.infrashare.vn",
}

// apiClient drives the real Echo server over HTTP semantics (httptest) on
// a seeded demo database.
type apiClient struct {
	t      testing.TB
	db     *database.DB
	srv    *Server
	tokens map[string]string
	logs   *bytes.Buffer
}

func newAPI(t testing.TB, db *database.DB) *apiClient {
	t.Helper()
	ctx := dbtest.Context(t)
	if _, err := migrations.SeedDemoAccounts(ctx, db, demoPassword); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	srv, err := New(ctx, Config{Version: "test"}, db, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a := &apiClient{t: t, db: db, srv: srv, tokens: map[string]string{}, logs: logs}
	return a
}

// token signs the role's demo account in once and returns its bearer token.
func (a *apiClient) token(role string) string {
	a.t.Helper()
	if role == "anon" {
		return ""
	}
	if tok, ok := a.tokens[role]; ok {
		return tok
	}
	var out struct {
		Token string `json:"token"`
	}
	a.mustJSON(a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": demoLogins[role], "password": demoPassword}), 200, &out)
	a.tokens[role] = out.Token
	return out.Token
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) String() string { return string(r.body) }

// call sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (a *apiClient) call(method, path, token string, body any, header ...string) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd).WithContext(context.Background())
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()}
}

func (a *apiClient) mustJSON(r response, status int, v any) {
	a.t.Helper()
	if r.status != status {
		a.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			a.t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}
