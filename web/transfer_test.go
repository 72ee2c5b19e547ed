package web

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"infrashare/database"
	"infrashare/database/dbtest"
)

type importResultJSON struct {
	Rows      int  `json:"rows"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	DryRun    bool `json:"dry_run"`
}

type importErrorJSON struct {
	Error struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
		Rows   []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"rows"`
	} `json:"error"`
}

const csvType = "text/csv; charset=utf-8"

func TestImportAssetsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt := a.token("operator")
		file := "\uFEFFcode,kind,lat,lon,height_m,address,unit_code\n" +
			"API-1,tower,10.0341,105.788,45,\"Số 1 Hòa Bình, Ninh Kiều\",916\n" +
			"API-2,pole,10.0402,105.7713,12,,916\n"

		// A dry run reports and writes nothing.
		var res importResultJSON
		a.mustJSON(a.call("POST", "/api/v1/assets/import?dry_run=true", vnpt, file, "Content-Type", csvType), 200, &res)
		if res != (importResultJSON{Rows: 2, Created: 2, DryRun: true}) {
			t.Fatalf("dry run %+v", res)
		}
		var list struct {
			Items []assetJSON `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/assets?q=API-", vnpt, nil), 200, &list)
		if len(list.Items) != 0 {
			t.Fatalf("a dry run wrote %d assets", len(list.Items))
		}
		a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt, file, "Content-Type", "text/csv"), 200, &res)
		if res != (importResultJSON{Rows: 2, Created: 2}) {
			t.Fatalf("import %+v", res)
		}
		a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt, file, "Content-Type", "text/csv"), 200, &res)
		if res != (importResultJSON{Rows: 2, Unchanged: 2}) {
			t.Fatalf("again %+v", res)
		}

		// A bad file: 422 naming each bad row; nothing written.
		var bad importErrorJSON
		a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt, "code,kind,lat,lon\nAPI-3,tower,10.03,105.78\nAPI-4,tower,95,105.78\n",
			"Content-Type", "text/csv"), 422, &bad)
		if bad.Error.Code != "validation_failed" || len(bad.Error.Rows) != 1 || bad.Error.Rows[0].Line != 3 || bad.Error.Rows[0].Column != "lat" {
			t.Fatalf("bad file %+v", bad)
		}
		a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt, "code,kind,colour\nX,tower,red\n", "Content-Type", "text/csv"), 422, &bad)
		if bad.Error.Rows[0].Line != 1 {
			t.Fatalf("bad header %+v", bad)
		}
		a.mustJSON(a.call("GET", "/api/v1/assets?q=API-3", vnpt, nil), 200, &list)
		if len(list.Items) != 0 {
			t.Fatal("a refused import wrote")
		}

		// GeoJSON as application/geo+json and application/json.
		fc := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[105.78,10.03],[105.781,10.03]]},"properties":{"code":"API-D1","kind":"duct","tubes":4}}]}`
		for _, ct := range []string{"application/geo+json", "application/json"} {
			a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt, fc, "Content-Type", ct), 200, &res)
		}
		if res != (importResultJSON{Rows: 1, Unchanged: 1}) {
			t.Fatalf("GeoJSON import %+v", res)
		}

		// VN-2000: x northing, y easting, with the zone's meridian.
		vn := "code,kind,x,y\nAPI-VN,tower,1109730.7751,586184.8621\n"
		a.mustJSON(a.call("POST", "/api/v1/assets/import?crs=vn2000&lon0=105", vnpt, vn, "Content-Type", "text/csv"), 200, &res)
		a.mustJSON(a.call("GET", "/api/v1/assets?q=API-VN", vnpt, nil), 200, &list)
		if len(list.Items) != 1 {
			t.Fatalf("VN-2000 import: %+v", list)
		}
		got := list.Items[0]
		if d := (*got.Lat-10.0341)*111320 + (*got.Lon-105.788)*109600; d > 1 || d < -1 {
			t.Fatalf("VN-2000 lands at %v, %v", *got.Lat, *got.Lon)
		}

		// Bad options and media types.
		for _, c := range []struct {
			path, ctype string
			status      int
			field       string
		}{
			{"/api/v1/assets/import", "text/plain", 415, ""},
			{"/api/v1/assets/import", "application/xml", 415, ""},
			{"/api/v1/assets/import", "text/csv; charset=windows-1258", 415, ""},
			{"/api/v1/assets/import?crs=vn2000", "text/csv", 422, "lon0"},
			{"/api/v1/assets/import?crs=vn2000&lon0=120", "text/csv", 422, "lon0"},
			{"/api/v1/assets/import?crs=vn2000&lon0=abc", "text/csv", 422, "lon0"},
			{"/api/v1/assets/import?crs=utm", "text/csv", 422, "crs"},
			{"/api/v1/assets/import?dry_run=maybe", "text/csv", 422, "dry_run"},
			{"/api/v1/allocations/import", "application/json", 415, ""},
		} {
			r := a.call("POST", c.path, vnpt, "code,kind,lat,lon\n", "Content-Type", c.ctype)
			var e importErrorJSON
			_ = json.Unmarshal(r.body, &e)
			if r.status != c.status || (c.status == 415 && e.Error.Code != "unsupported_media_type") || (c.field != "" && e.Error.Fields[c.field] == "") {
				t.Errorf("%s as %s: %d %s", c.path, c.ctype, r.status, r.body)
			}
		}
		// Malformed bodies are 400.
		if r := a.call("POST", "/api/v1/assets/import", vnpt, "", "Content-Type", "text/csv"); r.status != 400 {
			t.Errorf("empty CSV: %d %s", r.status, r.body)
		}
		if r := a.call("POST", "/api/v1/assets/import", vnpt, "{not json", "Content-Type", "application/json"); r.status != 400 {
			t.Errorf("broken JSON: %d %s", r.status, r.body)
		}

		// Only operators import; everyone signed in exports.
		for _, role := range []string{"officer", "auditor", "admin"} {
			if r := a.call("POST", "/api/v1/assets/import", a.token(role), file, "Content-Type", "text/csv"); r.status != 403 {
				t.Errorf("%s imports: %d", role, r.status)
			}
			if r := a.call("POST", "/api/v1/allocations/import", a.token(role), "asset_code,tenant,units,since,contract_ref\n", "Content-Type", "text/csv"); r.status != 403 {
				t.Errorf("%s imports allocations: %d", role, r.status)
			}
		}
		if r := a.call("POST", "/api/v1/assets/import", "", file, "Content-Type", "text/csv"); r.status != 401 {
			t.Errorf("anonymous import: %d", r.status)
		}
	})
}

func TestImportAllocationsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt := a.token("operator")
		a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt, "code,kind,lat,lon,capacity_total\nAPI-AL,tower,10.03,105.78,2\n", "Content-Type", "text/csv"), 200, nil)
		file := "asset_code,tenant,units,since,contract_ref\nAPI-AL,MOBIFONE,1,2020-03-01,HĐ-2020-15\nAPI-AL,VIETTEL,1,2021-03-01,HĐ-2021-01\n"
		var res importResultJSON
		a.mustJSON(a.call("POST", "/api/v1/allocations/import", vnpt, file, "Content-Type", "text/csv"), 200, &res)
		if res != (importResultJSON{Rows: 2, Created: 2}) {
			t.Fatalf("import %+v", res)
		}
		a.mustJSON(a.call("POST", "/api/v1/allocations/import", vnpt, file, "Content-Type", "text/csv"), 200, &res)
		if res != (importResultJSON{Rows: 2, Unchanged: 2}) {
			t.Fatalf("again %+v", res)
		}
		var bad importErrorJSON
		a.mustJSON(a.call("POST", "/api/v1/allocations/import", vnpt, "asset_code,tenant,units,since,contract_ref\nAPI-AL,MOBIFONE,1,2022-01-01,HĐ-3\n",
			"Content-Type", "text/csv"), 422, &bad)
		if len(bad.Error.Rows) != 1 || bad.Error.Rows[0].Line != 2 || bad.Error.Rows[0].Column != "units" {
			t.Fatalf("a full tower %+v", bad)
		}
	})
}

func TestExportAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt := a.token("operator")
		a.mustJSON(a.call("POST", "/api/v1/assets/import", vnpt,
			"code,kind,lat,lon,address,restricted\nEXP-1,tower,10.0341,105.788,\"=HYPERLINK(\"\"http://x\"\")\",false\nEXP-2,tower,10.04567,105.76123,Khu vực hạn chế,true\n",
			"Content-Type", "text/csv"), 200, nil)
		officer := a.token("officer")

		// CSV: BOM, attachment, neutralised formula; the officer sees the
		// restricted site coarsened.
		r := a.call("GET", "/api/v1/assets/export?q=EXP-", officer, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("csv export: %d %v", r.status, r.header)
		}
		if !regexp.MustCompile(`^attachment; filename="infrashare-assets-\d{4}-\d{2}-\d{2}\.csv"$`).MatchString(r.header.Get("Content-Disposition")) {
			t.Fatalf("Content-Disposition %q", r.header.Get("Content-Disposition"))
		}
		body := string(r.body)
		if !strings.HasPrefix(body, "\uFEFFcode,kind,status,lat,lon,") || !strings.Contains(body, `"'=HYPERLINK(""http://x"")"`) {
			t.Fatalf("csv body %s", body)
		}
		if !strings.Contains(body, "EXP-2,tower,in_service,10.05,105.76,") || strings.Contains(body, "hạn chế") {
			t.Fatalf("the officer sees the restricted site exactly: %s", body)
		}

		// GeoJSON and XLSX.
		r = a.call("GET", "/api/v1/assets/export?format=geojson&q=EXP-", officer, nil)
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				ID       int64 `json:"id"`
				Geometry struct {
					Coordinates []float64 `json:"coordinates"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if r.status != 200 || r.header.Get("Content-Type") != "application/geo+json" || json.Unmarshal(r.body, &fc) != nil ||
			fc.Type != "FeatureCollection" || len(fc.Features) != 2 || fc.Features[0].Geometry.Coordinates[0] != 105.788 {
			t.Fatalf("geojson export: %d %v %s", r.status, r.header, r.body)
		}
		r = a.call("GET", "/api/v1/assets/export?format=xlsx&q=EXP-", officer, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			!strings.HasSuffix(r.header.Get("Content-Disposition"), `.xlsx"`) {
			t.Fatalf("xlsx export: %d %v", r.status, r.header)
		}
		x, err := excelize.OpenReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows("Assets")
		x.Close()
		if len(rows) != 3 || rows[0][0] != "code" {
			t.Fatalf("xlsx rows %v", rows)
		}

		// The map layer: a FeatureCollection within the box, restricted
		// sites placed by their rounded position.
		r = a.call("GET", "/api/v1/assets.geojson?bbox=105.75,10.04,105.77,10.06&q=EXP-", officer, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/geo+json" || r.header.Get("Content-Disposition") != "" ||
			json.Unmarshal(r.body, &fc) != nil || len(fc.Features) != 1 || fc.Features[0].Geometry.Coordinates[1] != 10.05 {
			t.Fatalf("assets.geojson: %d %v %s", r.status, r.header, r.body)
		}
		r = a.call("GET", "/api/v1/assets.geojson?bbox=105.7612,10.0456,105.7613,10.0457&q=EXP-", officer, nil)
		if json.Unmarshal(r.body, &fc) != nil || len(fc.Features) != 0 {
			t.Fatalf("the exact position finds the restricted site: %s", r.body)
		}
		if r := a.call("GET", "/api/v1/assets.geojson", vnpt, nil); r.status != 200 || json.Unmarshal(r.body, &fc) != nil {
			t.Fatalf("assets.geojson without bbox: %d", r.status)
		}

		// Bad filters and formats answer a JSON error before any byte.
		for _, q := range []string{"/api/v1/assets/export?format=pdf", "/api/v1/assets/export?kind=ufo", "/api/v1/assets/export?limit=x",
			"/api/v1/assets.geojson?bbox=1,2,3", "/api/v1/assets.geojson?status=sleeping"} {
			r := a.call("GET", q, officer, nil)
			var e importErrorJSON
			if r.status != 422 || json.Unmarshal(r.body, &e) != nil || e.Error.Code != "validation_failed" || r.header.Get("Content-Disposition") != "" {
				t.Errorf("%s: %d %v %s", q, r.status, r.header, r.body)
			}
		}
		for _, role := range []string{"admin", "auditor", "operator2"} {
			if r := a.call("GET", "/api/v1/assets/export", a.token(role), nil); r.status != 200 {
				t.Errorf("%s exports: %d", role, r.status)
			}
		}
		if r := a.call("GET", "/api/v1/assets/export", "", nil); r.status != 401 {
			t.Errorf("anonymous export: %d", r.status)
		}
		if r := a.call("GET", "/api/v1/assets.geojson", "", nil); r.status != 401 {
			t.Errorf("anonymous GeoJSON: %d", r.status)
		}
	})
}
