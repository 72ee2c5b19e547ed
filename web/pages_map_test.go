package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// mapNearbyJSON is the API's nearby answer.
type mapNearbyJSON struct {
	Items []struct {
		Asset     assetJSON `json:"asset"`
		DistanceM float64   `json:"distance_m"`
	} `json:"items"`
}

// mapNearbyRow is a row of the nearby results table: distance, code.
var mapNearbyRow = regexp.MustCompile(`<td class="num">(≈ )?([0-9.,]+) m</td>\s*<td>[^<]*</td>\s*<th scope="row"><a href="/assets/(\d+)">([^<]+)</a>`)

// mapSeedAssets creates a few towers and a duct of VNPT around a point in
// Ninh Kiều and a restricted tower of Viettel; it answers the restricted
// tower's id.
func mapSeedAssets(t *testing.T, a *apiClient) int64 {
	t.Helper()
	vnpt, viettel := a.token("operator"), a.token("operator2")
	for i, off := range []float64{0.004, 0.0005, 0.002} {
		a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, map[string]any{"code": fmt.Sprintf("MAP-T-%d", i+1), "kind": "tower",
			"lat": 10.0300 + off, "lon": 105.7700, "unit_code": "916", "address": "Ninh Kiều", "capacity": map[string]any{"total": 3}}), 201, nil)
	}
	a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, map[string]any{"code": "MAP-D-1", "kind": "duct", "unit_code": "916",
		"geometry": map[string]any{"type": "LineString", "coordinates": [][]float64{{105.7690, 10.0310}, {105.7720, 10.0310}}},
		"capacity": map[string]any{"total": 6}}), 201, nil)
	var secret assetJSON
	a.mustJSON(a.call("POST", "/api/v1/assets", viettel, map[string]any{"code": "MAP-R-1", "kind": "tower", "restricted": true,
		"lat": 10.0323, "lon": 105.7656, "unit_code": "916", "address": "Khu vực hạn chế", "capacity": map[string]any{"total": 2}}), 201, &secret)
	return secret.ID
}

// mapRows reads the results table: code and the distance as shown.
func mapRows(t *testing.T, body string) (codes, distances []string) {
	t.Helper()
	for _, m := range mapNearbyRow.FindAllStringSubmatch(body, -1) {
		codes = append(codes, html.UnescapeString(m[4]))
		distances = append(distances, m[1]+m[2])
	}
	return codes, distances
}

func TestPageMapNearby(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		mapSeedAssets(t, a)
		p := newPageClient(t, a)
		wantRedirect(t, p.get("/nearby?lat=10.03&lon=105.77"), "/login")
		p.signIn("operator")

		// The empty form, with the default radius.
		r := p.get("/nearby")
		wantPage(t, r, 200, "<h1>Tìm hạ tầng quanh một điểm</h1>", `<label for="n-lat">`, `<label for="n-lon">`,
			`<label for="n-radius">`, `<label for="n-kind">`, `<label for="n-min-free">`, `name="radius_m" value="500"`, `method="get"`)
		if strings.Contains(r.body, "nearby-results") {
			t.Fatal("results without a search")
		}

		// A search: nearest first, as the service gives it, in the
		// Vietnamese number format.
		q := "/nearby?lat=10.0305&lon=105.77&radius_m=1000"
		r = p.get(q)
		wantPage(t, r, 200, `id="nearby-results"`, "MAP-T-2", "MAP-D-1", "Cột ăng-ten", "Ống cáp", "VNPT", `value="10.0305"`,
			`<a href="/map?lat=10.0305&amp;lon=105.77&amp;radius_m=1000">Mở bản đồ</a>`)
		codes, dists := mapRows(t, r.body)
		var api mapNearbyJSON
		a.mustJSON(a.call("GET", "/api/v1/assets/nearby?lat=10.0305&lon=105.77&radius_m=1000&limit=100", a.token("operator"), nil), 200, &api)
		if len(codes) != len(api.Items) || len(codes) < 5 {
			t.Fatalf("rows %v, the service found %d", codes, len(api.Items))
		}
		for i, it := range api.Items {
			want := fmtNum(it.DistanceM)
			if it.Asset.Coarse {
				want = "≈ " + want
			}
			if codes[i] != it.Asset.Code || dists[i] != want {
				t.Fatalf("row %d: %s at %s, want %s at %s", i, codes[i], dists[i], it.Asset.Code, want)
			}
			if i > 0 && it.DistanceM < api.Items[i-1].DistanceM {
				t.Fatalf("not sorted by distance: %v", dists)
			}
		}
		if codes[0] != "MAP-T-2" || dists[0] != "0" {
			t.Fatalf("nearest first: %v %v", codes, dists)
		}
		// Filters: the kind, and the minimum free capacity.
		r = p.get(q + "&kind=duct")
		wantPage(t, r, 200, "MAP-D-1", `<option value="duct" selected>`)
		if codes, _ := mapRows(t, r.body); len(codes) != 1 {
			t.Fatalf("kind=duct: %v", codes)
		}
		r = p.get(q + "&min_free=4")
		if codes, _ := mapRows(t, r.body); len(codes) != 1 || codes[0] != "MAP-D-1" {
			t.Fatalf("min_free=4: %v", codes)
		}
		wantPage(t, p.get("/nearby?lat=10.5&lon=105.2&radius_m=50"), 200, "Không có hạ tầng nào trong bán kính này.")
		// Decimal commas, as Vietnamese readers type them.
		if codes, _ := mapRows(t, p.get("/nearby?lat=10,0305&lon=105,77&radius_m=1000").body); len(codes) != len(api.Items) {
			t.Fatalf("decimal commas: %v", codes)
		}

		// Bad input: the form again, 422, the message at the field, the
		// values kept.
		for _, tc := range []struct {
			query, field, id, message string
		}{
			{"lat=10.03&lon=105.77&radius_m=abc", "radius_m", "n-radius", "Nhập bán kính là một số mét từ 1 đến 50.000."},
			{"lat=10.03&lon=105.77&radius_m=0", "radius_m", "n-radius", "Nhập bán kính là một số mét từ 1 đến 50.000."},
			{"lat=10.03&lon=105.77&radius_m=60000", "radius_m", "n-radius", "Nhập bán kính là một số mét từ 1 đến 50.000."},
			{"lat=100&lon=105.77&radius_m=500", "lat", "n-lat", "Nhập vĩ độ là một số từ -90 đến 90"},
			{"lat=&lon=105.77", "lat", "n-lat", "Nhập vĩ độ là một số từ -90 đến 90"},
			{"lat=10.03&lon=x", "lon", "n-lon", "Nhập kinh độ là một số từ -180 đến 180"},
			{"lat=10.03&lon=105.77&min_free=-1", "min_free", "n-min-free", "Nhập một số nguyên không âm."},
			{"lat=10.03&lon=105.77&kind=castle", "kind", "n-kind", "Chọn một loại hạ tầng trong danh sách."},
		} {
			r := p.get("/nearby?" + tc.query)
			wantPage(t, r, 422, "Chưa tìm được: hãy sửa các ô được đánh dấu.", tc.message,
				`aria-invalid="true" aria-describedby="`+tc.id+`-err"`, `<span id="`+tc.id+`-err" class="field-error">`)
			vals, _ := url.ParseQuery(tc.query)
			if v := vals.Get(tc.field); v != "" && !strings.Contains(r.body, `value="`+html.EscapeString(v)+`"`) && tc.field != "kind" {
				t.Fatalf("%s: the value %q is not kept", tc.query, v)
			}
			if strings.Contains(r.body, "nearby-results") {
				t.Fatalf("%s: results with a bad input", tc.query)
			}
		}

		p.get("/?lang=en")
		r = p.get("/nearby?lat=10.03&lon=105.77&radius_m=abc")
		wantPage(t, r, 422, "<h1>Search around a point</h1>", "Enter the radius in metres, from 1 to 50,000.")
		wantPage(t, p.get(q), 200, "assets within 1.000 m", "Distance")
	})
}

// TestPageMapNearbyRestricted: a restricted site of another operator is
// placed by its rounded position and its distance rounded to 100 m, as the
// service gives it; its owner sees the exact distance.
func TestPageMapNearbyRestricted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		id := mapSeedAssets(t, a)
		at := "/nearby?lat=10.0323&lon=105.7656&radius_m=1000"
		for _, tc := range []struct {
			role, want string
			coarse     bool
		}{
			{"operator", "", true},
			{"operator2", "0", false},
		} {
			var api mapNearbyJSON
			a.mustJSON(a.call("GET", "/api/v1/assets/nearby?lat=10.0323&lon=105.7656&radius_m=1000", a.token(tc.role), nil), 200, &api)
			var dist float64 = -1
			for _, it := range api.Items {
				if it.Asset.ID == id {
					dist = it.DistanceM
					if it.Asset.Coarse != tc.coarse {
						t.Fatalf("%s: coarse %v", tc.role, it.Asset.Coarse)
					}
				}
			}
			if dist < 0 {
				t.Fatalf("%s: the service does not find the restricted tower", tc.role)
			}
			p := newPageClient(t, a)
			p.signIn(tc.role)
			r := p.get(at)
			wantPage(t, r, 200, "MAP-R-1")
			codes, dists := mapRows(t, r.body)
			shown := ""
			for i, c := range codes {
				if c == "MAP-R-1" {
					shown = dists[i]
				}
			}
			if tc.coarse {
				if dist == 0 || int(dist)%100 != 0 || shown != "≈ "+fmtNum(dist) || !strings.Contains(r.body, "(vị trí làm tròn)") {
					t.Fatalf("%s sees the restricted tower at %q (service %v)", tc.role, shown, dist)
				}
				if strings.Contains(r.body, "Khu vực hạn chế") {
					t.Fatal("the address of a restricted site shows")
				}
			} else if shown != tc.want || dist != 0 {
				t.Fatalf("the owner sees its tower at %q (service %v)", shown, dist)
			}
		}
	})
}

func TestPageMap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		mapSeedAssets(t, a)
		p := newPageClient(t, a)
		wantRedirect(t, p.get("/map"), "/login")
		wantRedirect(t, p.get("/map/units.geojson"), "/login")

		for _, role := range []string{"operator", "officer", "auditor", "admin"} {
			p := newPageClient(t, a)
			p.signIn(role)
			r := p.get("/map")
			wantPage(t, r, 200, "<h1>Bản đồ hạ tầng</h1>", `<a href="/map" aria-current="page">`,
				`<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css?v=`+staticVersion+`">`,
				`<script src="/static/vendor/leaflet/leaflet.js?v=`+staticVersion+`" defer></script>`,
				`<script src="/static/map.js?v=`+staticVersion+`" defer></script>`,
				`id="map"`, `data-assets-url="/api/v1/assets.geojson"`, `data-units-url="/map/units.geojson"`,
				`data-lat="10.045" data-lon="105.72" data-zoom="12"`, `data-t-nearby="Tìm quanh đây"`,
				`<li data-kind="tower"><span class="map-swatch kind-tower" aria-hidden="true"></span> Cột ăng-ten</li>`,
				`<li data-free="none">`, "<noscript>", `href="/nearby"`)
			// No tile server unless a setting names one; the CSP as everywhere.
			if strings.Contains(r.body, "data-tile-template") {
				t.Fatalf("%s: a tile layer without the setting", role)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
				t.Fatalf("CSP %q", csp)
			}
		}

		p.signIn("operator")
		// Opened from the nearby search, on its point.
		wantPage(t, p.get("/map?lat=10.03&lon=105.77&radius_m=800"), 200, `data-lat="10.030000" data-lon="105.770000" data-zoom="16"`,
			`data-mark="true" data-mark-radius="800"`)
		if r := p.get("/map?lat=abc&lon=105.77"); !strings.Contains(r.body, `data-zoom="12"`) || strings.Contains(r.body, "data-mark") {
			t.Fatalf("a bad point marks the map: %s", r.body)
		}
		wantPage(t, p.get("/map?lang=en"), 200, "<h1>Infrastructure map</h1>", `data-t-nearby="Search around here"`, "Antenna tower")
		p.get("/?lang=vi")

		// The page's script reads the API with the session cookie.
		r := p.get("/api/v1/assets.geojson?bbox=105.76,10.02,105.78,10.04")
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Geometry   struct{ Type string } `json:"geometry"`
				Properties struct {
					Code     string `json:"code"`
					Capacity struct{ Free int }
				} `json:"properties"`
			} `json:"features"`
		}
		if r.status != 200 || json.Unmarshal([]byte(r.body), &fc) != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 5 {
			t.Fatalf("assets.geojson with the session: %d %s", r.status, r.body)
		}
		for _, path := range []string{"/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
			"/static/vendor/leaflet/images/layers.png", "/static/vendor/leaflet/LICENSE", "/static/map.js"} {
			if r := p.get(path + "?v=" + staticVersion); r.status != 200 {
				t.Fatalf("%s: %d", path, r.status)
			}
		}

		// A tile server by the setting: the page says so, and its CSP (only
		// this page's) lets the tiles in.
		mapSetSetting(t, db, "map.tile_url", `"https://{s}.tile.example.org/{z}/{x}/{y}.png"`)
		mapSetSetting(t, db, "map.tile_attribution", `"© Bản đồ <b>mẫu</b>"`)
		r = p.get("/map")
		wantPage(t, r, 200, `data-tile-template="https://{s}.tile.example.org/{z}/{x}/{y}.png"`,
			`data-tile-attribution="© Bản đồ &lt;b&gt;mẫu&lt;/b&gt;"`)
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://*.tile.example.org;") ||
			!strings.Contains(csp, "script-src 'self';") {
			t.Fatalf("CSP with tiles %q", csp)
		}
		if csp := p.get("/nearby").header.Get("Content-Security-Policy"); strings.Contains(csp, "example.org") {
			t.Fatalf("another page lets the tiles in: %q", csp)
		}
		// A value that is not an http(s) URL is not trusted into the CSP.
		mapSetSetting(t, db, "map.tile_url", `"javascript:alert(1)//{z}"`)
		if r := p.get("/map"); r.status != 200 || strings.Contains(r.body, "data-tile-template") ||
			strings.Contains(r.header.Get("Content-Security-Policy"), "javascript") {
			t.Fatalf("a bad tile URL: %d %q", r.status, r.header.Get("Content-Security-Policy"))
		}
	})
}

// mapSetSetting writes a setting in force from 2000 (no migration knows the
// map's keys: a missing one is the default).
func mapSetSetting(t *testing.T, db *database.DB, key, value string) {
	t.Helper()
	ctx := dbtest.Context(t)
	conn := db.Conn(ctx)
	if err := conn.Exec("DELETE FROM settings WHERE key = ?", key).Error; err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec("INSERT INTO settings (key, valid_from, value, legal_basis, updated_at) VALUES (?, ?, ?, '', ?)",
		key, "2000-01-01", value, time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
}

func TestPageMapUnits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		p := newPageClient(t, a)
		p.signIn("operator2")
		type unitsFC struct {
			Type     string `json:"type"`
			Features []struct {
				Type       string          `json:"type"`
				ID         string          `json:"id"`
				Geometry   json.RawMessage `json:"geometry"`
				Properties struct {
					Code, Name, Level string
				} `json:"properties"`
			} `json:"features"`
		}
		read := func() unitsFC {
			t.Helper()
			r := p.get("/map/units.geojson")
			if r.status != 200 || r.header.Get("Content-Type") != "application/geo+json" {
				t.Fatalf("units.geojson: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			var fc unitsFC
			if err := json.Unmarshal([]byte(r.body), &fc); err != nil || fc.Type != "FeatureCollection" || fc.Features == nil {
				t.Fatalf("not a FeatureCollection: %v %s", err, r.body)
			}
			return fc
		}
		if fc := read(); len(fc.Features) != 0 {
			t.Fatalf("features without boundaries: %+v", fc.Features)
		}
		a.mustJSON(a.call("POST", "/api/v1/admin-units/import", a.token("admin"), unitFeatures(
			unitFeature(`{"code":"916"}`, unitSquare(105.74, 10.00, 0.06)),
			unitFeature(`{"code":"919"}`, unitSquare(105.74, 9.93, 0.06))), "Content-Type", geoJSONType), 200, nil)
		fc := read()
		if len(fc.Features) != 2 {
			t.Fatalf("features %+v", fc.Features)
		}
		for _, f := range fc.Features {
			var g struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			}
			if err := json.Unmarshal(f.Geometry, &g); err != nil || g.Type != "Polygon" || len(g.Coordinates[0]) != 5 {
				t.Fatalf("geometry of %s: %v %s", f.ID, err, f.Geometry)
			}
			if f.Type != "Feature" || f.ID != f.Properties.Code || f.Properties.Level != "district" || f.Properties.Name == "" {
				t.Fatalf("feature %+v", f)
			}
		}
	})
}
