package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// FuzzWriteBodies sends arbitrary bytes as the JSON body of every write
// route of the API (the permission matrix's list, as a caller who may use
// it) through the real Echo server on SQLite. Whatever arrives, the answer
// is never 5xx, and an error is the JSON error body without internals.
// Run longer with: go test -run '^$' -fuzz FuzzWriteBodies -fuzztime 60s ./web
func FuzzWriteBodies(f *testing.F) {
	a := newAPI(f, dbtest.Open(f, database.SQLite))
	fx := &matrixFixture{apiClient: a}
	routes := writeRoutes(f, fx)
	tokens := map[string]string{}
	for _, w := range routes {
		tokens[w.role] = a.token(w.role)
	}
	for i, w := range routes {
		if w.body != nil {
			raw, err := json.Marshal(w.body)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), raw)
		}
	}
	for _, seed := range []string{"", "{", "null", `{"x": NaN}`, `{"code": "\u0000"}`, "{\"a\": \"\xff\"}", `{"version": 1e309}`,
		`{"units": 9999999999999999999}`, `{"items": [{"asset_id": -1, "units": 0}]}`, `[[[[[[[[[[[[[[[[[[[[`,
		`{"location": {"lat": "NaN", "lon": Infinity}}`, `{"technical": {"antennas": [{"azimuths_deg": [1e400]}]}}`} {
		for i := range routes {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		w := routes[int(route)%len(routes)]
		req := httptest.NewRequest(w.method, w.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens[w.role])
		rec := httptest.NewRecorder()
		a.srv.Handler().ServeHTTP(rec, req)
		checkNoLeak(t, w.method+" "+w.route, response{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()})
	})
}
