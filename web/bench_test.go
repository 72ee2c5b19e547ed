package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"infrashare/database/dbtest"
	"infrashare/migrations"
)

// BenchmarkAPINearby is one nearby search through the whole HTTP stack in
// process (middleware, bearer token, Casbin, the service, JSON) on the demo
// register, to see what the server adds to the service call
// (docs/performance.md). Profile it with -cpuprofile.
func BenchmarkAPINearby(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			if dialect == "postgres" && os.Getenv("INFRASHARE_TEST_POSTGRES_URL") == "" {
				b.Skip("INFRASHARE_TEST_POSTGRES_URL is not set")
			}
			db := dbtest.Open(b, dialect)
			ctx := context.Background()
			if _, err := migrations.SeedDemo(ctx, db, demoPassword); err != nil {
				b.Fatal(err)
			}
			srv, err := New(ctx, Config{Version: "bench"}, db, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			token := benchToken(b, h)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/api/v1/assets/nearby?lat=10.0340&lon=105.7850&radius_m=500", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// benchToken signs the VNPT operator in through the handler.
func benchToken(b *testing.B, h http.Handler) string {
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"`+demoLogins["operator"]+`","password":"`+demoPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Token == "" {
		b.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	return out.Token
}
