package registry_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/registry"
)

// Fuzzing the asset import (issue 9 point 3): whatever bytes arrive as a
// CSV or a GeoJSON body, the import must not panic, must refuse with a
// client error (never an internal one) that names the line of each bad
// row, and when it accepts the file every stored point must be a finite
// position inside the service area. The seeds below run in every `go test`;
// `go test -run '^$' -fuzz FuzzImportAssets ./registry` explores further.

// importFuzzSeeds are realistic files and nasty ones, each tried as CSV and
// as GeoJSON, in WGS84 and VN-2000.
var importFuzzSeeds = []string{
	"code,kind,lat,lon,unit_code\nFZ-1,tower,10.03,105.78,916\n",
	"\uFEFFcode;kind;lat;lon\nFZ-2;pole;10,03;105,78\n",
	"code,kind,geometry\nFZ-3,duct,\"LINESTRING(105.78 10.03, 105.79 10.04)\"\n",
	"code,kind,x,y\nFZ-4,tower,1109627.9510,503969.8473\n",
	"code,kind,lat,lon,height_m,capacity_total,rent_vnd,restricted,in_service_on\nFZ-5,tower,NaN,Inf,-1e309,9999999999999999999,1e400,maybe,2025-02-30\n",
	"code,kind,lat,lon\nFZ-6,tower,10.03\n\"unterminated,tower,1,2\n",
	"code,kind,lat,lon\n'=cmd|' /C calc'!A0,tower,10.03,105.78\n",
	"code,kind,lat,lon\nFZ-7\x00,tower,10.03,105.78\n",
	"code,kind,lat,lon,address,structure,class\nFZ-13,tower,10.03,105.78,S\x00\xc3\x28,\x00,A2b\n",
	"code,code,lat,lon\n",
	"",
	"\xff\xfe\x00c\x00o\x00d\x00e",
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[105.78,10.03]},"properties":{"code":"FZ-8","kind":"tower","capacity":{"unit":"tenant_slot","total":3}}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[105.78,10.03],[105.79,10.04]]},"properties":{"code":"FZ-9","kind":"duct","tubes":4}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1e309,-1e309]},"properties":{"code":"FZ-10","kind":"tower"}}]}`,
	`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:5897"}},"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[503969.8473,1109627.951]},"properties":{"code":"FZ-11","kind":"tower"}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]},"properties":{"code":["x"],"kind":{"a":1}}}]}`,
	`{"type":"FeatureCollection","features":[null,1,"x",{"type":"Feature"}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[]},"properties":{"code":"FZ-12","kind":"duct"}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[105.78,10.03]},"properties":{"code":"FZ-14","kind":"tower","address":"S\u0000 \ud800","structure":"\u0000"}}]}`,
	`{"type":"FeatureCollection","features":{}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
}

// importFuzzSetup opens a migrated database with the demo accounts and
// returns the register and VNPT's operator. It is PostgreSQL when one is
// configured (CI), since PostgreSQL is the stricter about text (it refuses
// NUL and invalid UTF-8), else SQLite.
func importFuzzSetup(tb testing.TB) (*database.DB, *registry.Service, auth.Actor, registry.ServiceArea) {
	tb.Helper()
	dialects := dbtest.Dialects(tb)
	db := dbtest.Open(tb, dialects[len(dialects)-1])
	ctx := dbtest.Context(tb)
	if _, err := migrations.SeedDemoAccounts(ctx, db, "demo-password-1"); err != nil {
		tb.Fatal(err)
	}
	clock := infrashare.SystemClock{}
	settings := auth.NewSettings(db, clock)
	reg := registry.NewService(db, clock, auth.NewAudit(db, clock), settings, registry.NewUnits(db, clock))
	var o auth.Organization
	if err := db.Root().Where("code = ?", "VNPT").First(&o).Error; err != nil {
		tb.Fatal(err)
	}
	var u auth.User
	if err := db.Root().Where("org_id = ?", o.ID).First(&u).Error; err != nil {
		tb.Fatal(err)
	}
	area := registry.DefaultServiceArea
	if err := settings.Get(ctx, "service_area", &area); err != nil {
		tb.Fatal(err)
	}
	return db, reg, auth.Actor{UserID: u.ID, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{auth.RoleOperator}}, area
}

func FuzzImportAssets(f *testing.F) {
	for _, s := range importFuzzSeeds {
		for _, geo := range []bool{false, true} {
			f.Add([]byte(s), geo, false)
		}
		f.Add([]byte(s), false, true)
	}
	db, reg, vnpt, area := importFuzzSetup(f)
	f.Fuzz(func(t *testing.T, body []byte, geojson, vn2000 bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		opts := registry.ImportOptions{Format: "csv"}
		if geojson {
			opts.Format = "geojson"
		}
		if vn2000 {
			opts.CRS, opts.Lon0 = registry.CRSVN2000, 105.75
		}
		res, err := reg.ImportAssets(ctx, vnpt, bytes.NewReader(body), opts)
		if err != nil {
			checkImportRefusal(t, err)
			return
		}
		if res.Rows <= 0 || res.Created+res.Updated+res.Unchanged != res.Rows {
			t.Fatalf("accepted import with inconsistent counts %+v", res)
		}
		checkStoredPositions(t, ctx, db, vnpt.OrgID, area)
	})
}

// checkImportRefusal: a refused import is a client error (400, 413 or 422
// once mapped), and every bad row it lists has a line and a reason.
func checkImportRefusal(t *testing.T, err error) {
	t.Helper()
	var e *infrashare.Error
	if !errors.As(err, &e) {
		t.Fatalf("refusal is not a domain error (would answer 500): %v", err)
	}
	switch e.Code {
	case infrashare.EINVALID, infrashare.EMALFORMED, infrashare.ETOOLARGE:
	default:
		t.Fatalf("refusal with code %q: %v", e.Code, err)
	}
	if e.Message == "" && len(e.Fields) == 0 {
		t.Fatalf("refusal says nothing: %+v", e)
	}
	rows, _ := e.Details["rows"].([]registry.RowError)
	for _, r := range rows {
		if r.Line < 1 || r.Reason == "" {
			t.Fatalf("row problem without a line or a reason: %+v in %v", r, err)
		}
	}
}

// checkStoredPositions: every asset of the owner has a finite position in
// the service area (points by lat/lon, lines by their bounding box). NaN
// fails every comparison on SQLite (stored as NULL) and sorts above every
// number on PostgreSQL, so the NOT BETWEEN/IS NULL test catches it too.
func checkStoredPositions(t *testing.T, ctx context.Context, db *database.DB, ownerID int64, area registry.ServiceArea) {
	t.Helper()
	var bad []struct {
		Code string
		Kind string
	}
	err := db.Root().WithContext(ctx).Table("assets").Select("code, kind").
		Where("owner_id = ?", ownerID).
		Where(`(lat IS NOT NULL AND (lat NOT BETWEEN ? AND ? OR lon IS NULL OR lon NOT BETWEEN ? AND ?))
			OR (min_lat IS NOT NULL AND (min_lat < ? OR max_lat > ? OR min_lon < ? OR max_lon > ?))
			OR (lat IS NULL AND min_lat IS NULL)`,
			area.MinLat, area.MaxLat, area.MinLon, area.MaxLon, area.MinLat, area.MaxLat, area.MinLon, area.MaxLon).
		Find(&bad).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("import stored assets without a position in the service area: %+v", bad)
	}
}
