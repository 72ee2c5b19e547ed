package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

// Asset lists, nearby searches and single assets are written by the
// views' own encoder; ?pretty goes through encoding/json. Compacted, the
// two must be the same bytes for every caller, on the demo register and on
// a site whose texts need escaping.
func TestAssetResponsesEncodeAsEncodingJSON(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		if _, err := migrations.SeedDemo(dbtest.Context(t), db, demoPassword); err != nil {
			t.Fatal(err)
		}
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{
			"code": "CT-<NK>&0102", "kind": "tower", "geometry": map[string]any{"type": "Point", "coordinates": []float64{105.7851, 10.0342}},
			"address": "\"12\" Hòa Bình <b>\u2028</b> & Ninh Kiều", "unit_code": "916", "restricted": true,
			"contact": "NOC\tVNPT", "capacity": map[string]any{"total": 3}}), 201, &tower)
		paths := []string{
			"/api/v1/assets?limit=100",
			"/api/v1/assets?limit=7&bbox=105.70,9.98,105.85,10.10",
			"/api/v1/assets/nearby?lat=10.0335&lon=105.7851&radius_m=3000",
			fmt.Sprintf("/api/v1/assets/%d", tower.ID),
		}
		for _, role := range []string{"operator", "operator2", "auditor"} {
			for _, path := range paths {
				fast := a.call("GET", path, a.token(role), nil)
				sep := "?"
				if bytes.ContainsRune([]byte(path), '?') {
					sep = "&"
				}
				pretty := a.call("GET", path+sep+"pretty", a.token(role), nil)
				if fast.status != 200 || pretty.status != 200 {
					t.Fatalf("%s as %s: %d / %d: %s", path, role, fast.status, pretty.status, fast.body)
				}
				var compact bytes.Buffer
				if err := json.Compact(&compact, pretty.body); err != nil {
					t.Fatal(err)
				}
				compact.WriteByte('\n')
				if !bytes.Equal(fast.body, compact.Bytes()) {
					t.Fatalf("%s as %s:\nown encoder   %s\nencoding/json %s", path, role, fast.body, compact.Bytes())
				}
				if ct := fast.header.Get("Content-Type"); ct != "application/json" && ct != "application/json; charset=UTF-8" {
					t.Fatalf("%s: Content-Type %q", path, ct)
				}
			}
		}
		if r := a.call("GET", paths[3], a.token("operator"), nil); !bytes.Contains(r.body, []byte(`"CT-\u003cNK\u003e\u00260102"`)) {
			t.Fatalf("the asset does not hold the escaped code: %.300s", r.body)
		}
	})
}
