package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/registry"
)

// uaEnv is the units service on a migrated database (Can Tho and its nine
// districts, no boundaries), with the audit log and a still clock.
type uaEnv struct {
	ctx   context.Context
	db    *database.DB
	audit *auth.Audit
	units *registry.Units
	admin auth.Actor
	oper  auth.Actor
}

// uaToday is the test clock's civil date in Vietnam.
var uaToday = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func newUAEnv(t *testing.T, db *database.DB) *uaEnv {
	t.Helper()
	clock := infrashare.NewTestClock(uaToday)
	audit := auth.NewAudit(db, clock)
	u := registry.NewUnits(db, clock)
	return &uaEnv{ctx: dbtest.Context(t), db: db, audit: audit, units: u,
		admin: auth.Actor{OrgCode: "ADMIN", OrgKind: auth.KindAdmin, Roles: []string{auth.RoleAdmin}},
		oper:  auth.Actor{OrgCode: "VNPT", OrgKind: auth.KindOperator, Roles: []string{auth.RoleOperator}}}
}

// uaSquare is a closed square ring from (lon, lat) with side d degrees, as
// GeoJSON Polygon coordinates.
func uaSquare(lon, lat, d float64) string { return "[" + uaRing(lon, lat, d) + "]" }

// uaRing is the closed ring of that square, counter-clockwise.
func uaRing(lon, lat, d float64) string {
	return fmt.Sprintf("[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]", lon, lat, lon+d, lat+d)
}

func uaPolygon(coords string) string { return `{"type":"Polygon","coordinates":` + coords + `}` }

// Squares: Ninh Kiều (916) and Cái Răng (919) as stand-ins for their real
// boundaries, and a ward inside Ninh Kiều.
var (
	ninhKieuSquare = uaSquare(105.74, 10.00, 0.06) // 105.74–105.80, 10.00–10.06
	caiRangSquare  = uaSquare(105.74, 9.93, 0.06)  // 105.74–105.80, 9.93–9.99
	wardSquare     = uaSquare(105.77, 10.03, 0.01) // 105.77–105.78, 10.03–10.04
)

func uaFeature(props, geometry string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":` + geometry + `}`
}

func uaCollection(features ...string) []byte {
	return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`)
}

func (e *uaEnv) locate(t *testing.T, lon, lat float64, day string) string {
	t.Helper()
	code, ok, err := e.units.Locate(e.ctx, lon, lat, infrashare.MustDate(day))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return code
}

func (e *uaEnv) valid(t *testing.T, code, day string) bool {
	t.Helper()
	ok, err := e.units.ValidCode(e.ctx, code, infrashare.MustDate(day))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func (e *uaEnv) importOK(t *testing.T, body []byte, dryRun bool) registry.UnitImportResult {
	t.Helper()
	res, err := e.units.ImportBoundaries(e.ctx, e.admin, body, dryRun)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func (e *uaEnv) eventCount(t *testing.T, action string) int64 {
	t.Helper()
	var n int64
	if err := e.db.Root().Table("audit_events").Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *uaEnv) unit(t *testing.T, code string) registry.UnitView {
	t.Helper()
	items, _, err := e.units.List(e.ctx, e.oper, registry.UnitFilter{Q: code, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range items {
		if v.Code == code {
			return v
		}
	}
	t.Fatalf("unit %s not listed", code)
	return registry.UnitView{}
}

func uaWantCode(t *testing.T, err error, code string) *infrashare.Error {
	t.Helper()
	var e *infrashare.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	return e
}

func uaWantField(t *testing.T, err error, field string) {
	t.Helper()
	e := uaWantCode(t, err, infrashare.EINVALID)
	if _, ok := e.Fields[field]; !ok {
		t.Fatalf("validation error %v does not name %q", err, field)
	}
}

// The boundaries of 916 and 919 as a two-feature import.
func districtImport() []byte {
	return uaCollection(
		uaFeature(`{"code":"916"}`, uaPolygon(ninhKieuSquare)),
		uaFeature(`{"code":"919","valid_from":"2004-01-01"}`, uaPolygon(caiRangSquare)),
	)
}

func TestImportBoundariesThenLocate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		if got := e.locate(t, 105.77, 10.02, "2026-03-02"); got != "" {
			t.Fatalf("before any boundary, Locate found %q", got)
		}
		res := e.importOK(t, districtImport(), false)
		if res != (registry.UnitImportResult{Updated: 2, Created: 0, DryRun: false}) {
			t.Fatalf("result %+v", res)
		}
		for _, c := range []struct {
			lon, lat float64
			want     string
		}{
			{105.77, 10.02, "916"},
			{105.77, 9.95, "919"},
			{105.77, 9.995, ""}, // between the two squares
			{105.90, 10.02, ""}, // east of both
		} {
			if got := e.locate(t, c.lon, c.lat, "2026-03-02"); got != c.want {
				t.Errorf("Locate(%v, %v) = %q, want %q", c.lon, c.lat, got, c.want)
			}
		}
		// One audit event for the whole import, with the counts; the chain holds.
		var evs []auth.AuditEvent
		if err := db.Root().Where("action = ?", "unit.import_boundaries").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].After == nil || !strings.Contains(*evs[0].After, `"updated":2`) || !strings.Contains(*evs[0].After, `"created":0`) {
			t.Fatalf("import events: %+v", evs)
		}
		if v, err := e.audit.Verify(e.ctx, auth.SystemActor); err != nil || !v.OK {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
		// The list shows the box and, on request only, the boundary.
		v := e.unit(t, "916")
		if !v.HasBoundary || v.BBox == nil || *v.BBox != [4]float64{105.74, 10.00, 105.80, 10.06} || v.Boundary != nil {
			t.Fatalf("916 listed as %+v", v)
		}
		items, _, err := e.units.List(e.ctx, e.oper, registry.UnitFilter{Q: "919", Boundary: true})
		if err != nil || len(items) != 1 || !strings.Contains(string(items[0].Boundary), `"Polygon"`) {
			t.Fatalf("919 with boundary: %+v %v", items, err)
		}
		if v := e.unit(t, "917"); v.HasBoundary || v.BBox != nil {
			t.Fatalf("917 has no boundary but lists %+v", v)
		}

		// A second import replaces a boundary; a feature may create a unit.
		res = e.importOK(t, uaCollection(
			uaFeature(`{"code":"916"}`, uaPolygon(uaSquare(105.70, 10.00, 0.04))),
			uaFeature(`{"code":"31999","create":true,"name":"Phường Thử","level":"commune","parent_code":"92","urban":true,"valid_from":"2025-07-01"}`,
				uaPolygon(uaSquare(105.60, 10.10, 0.02))),
		), false)
		if res.Updated != 1 || res.Created != 1 {
			t.Fatalf("second import: %+v", res)
		}
		if got := e.locate(t, 105.79, 10.02, "2026-03-02"); got != "" {
			t.Fatalf("916's old boundary still answers: %q", got)
		}
		if got := e.locate(t, 105.61, 10.11, "2026-03-02"); got != "31999" {
			t.Fatalf("created unit: Locate %q", got)
		}
		if got := e.locate(t, 105.61, 10.11, "2025-06-30"); got != "" {
			t.Fatalf("created unit before its start: Locate %q", got)
		}
		if n := e.eventCount(t, "unit.import_boundaries"); n != 2 {
			t.Fatalf("%d import events after two imports", n)
		}
	})
}

func TestCreateCommuneLocateAndRetire(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		e.importOK(t, districtImport(), false)
		ward, err := e.units.Create(e.ctx, e.admin, registry.NewUnit{Code: "31117", Name: "Phường Cái Khế", Level: "commune",
			ParentCode: "916", Urban: true, ValidFrom: "2020-01-01", Boundary: []byte(uaPolygon(wardSquare))})
		if err != nil {
			t.Fatal(err)
		}
		if ward.ID == 0 || ward.ParentCode == nil || *ward.ParentCode != "916" || !ward.HasBoundary || !ward.ValidTo.IsZero() ||
			ward.ValidFrom != infrashare.MustDate("2020-01-01") || ward.BBox == nil || ward.BBox[0] != 105.77 || ward.BBox[3] != 10.04 {
			t.Fatalf("created %+v", ward)
		}
		// Inside the ward: the ward, the most specific unit; in Ninh Kiều
		// outside it: 916.
		if got := e.locate(t, 105.775, 10.035, "2025-06-30"); got != "31117" {
			t.Fatalf("inside the ward: %q", got)
		}
		if got := e.locate(t, 105.76, 10.01, "2025-06-30"); got != "916" {
			t.Fatalf("outside the ward, inside 916: %q", got)
		}
		if got := e.locate(t, 105.775, 10.035, "2019-12-31"); got != "916" {
			t.Fatalf("before the ward began: %q", got)
		}
		if n := e.eventCount(t, "unit.create"); n != 1 {
			t.Fatalf("%d unit.create events", n)
		}

		retired, err := e.units.Retire(e.ctx, e.admin, "31117", infrashare.MustDate("2025-07-01"))
		if err != nil {
			t.Fatal(err)
		}
		if retired.ValidTo != infrashare.MustDate("2025-07-01") || retired.ID != ward.ID {
			t.Fatalf("retired %+v", retired)
		}
		if got := e.locate(t, 105.775, 10.035, "2025-06-30"); got != "31117" {
			t.Fatalf("the day before retirement: %q", got)
		}
		if got := e.locate(t, 105.775, 10.035, "2025-07-02"); got != "916" {
			t.Fatalf("after retirement: %q", got)
		}
		if !e.valid(t, "31117", "2025-06-30") || e.valid(t, "31117", "2025-07-01") || e.valid(t, "31117", "2025-07-02") {
			t.Fatal("ValidCode does not follow the retirement")
		}
		if !e.valid(t, "916", "2025-07-02") {
			t.Fatal("the parent was retired too")
		}
		if n := e.eventCount(t, "unit.retire"); n != 1 {
			t.Fatalf("%d unit.retire events", n)
		}
		// The list's ?on= follows it.
		for day, want := range map[string]bool{"2025-06-30": true, "2025-07-01": false} {
			items, _, err := e.units.List(e.ctx, e.oper, registry.UnitFilter{Parent: "916", On: infrashare.MustDate(day)})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(items) == 1 && items[0].Code == "31117"; got != want {
				t.Errorf("units under 916 on %s: %+v", day, items)
			}
		}

		// Retiring again on a day it is no longer valid: 404. A code that
		// does not exist: 404. On its first day: 422.
		_, err = e.units.Retire(e.ctx, e.admin, "31117", infrashare.MustDate("2025-08-01"))
		uaWantCode(t, err, infrashare.ENOTFOUND)
		_, err = e.units.Retire(e.ctx, e.admin, "99999", infrashare.MustDate("2025-08-01"))
		uaWantCode(t, err, infrashare.ENOTFOUND)
		_, err = e.units.Retire(e.ctx, e.admin, "917", infrashare.MustDate("2004-01-01"))
		uaWantField(t, err, "on")
		_, err = e.units.Retire(e.ctx, e.admin, "917", infrashare.Date{})
		uaWantField(t, err, "on")
		if n := e.eventCount(t, "unit.retire"); n != 1 {
			t.Fatalf("refused retirements were audited: %d events", n)
		}

		// A successor may start the day the old one ended; not before.
		_, err = e.units.Create(e.ctx, e.admin, registry.NewUnit{Code: "31117", Name: "Phường Cái Khế (mới)", Level: "commune",
			ParentCode: "92", ValidFrom: "2025-06-01"})
		uaWantCode(t, err, infrashare.ECONFLICT)
		if _, err := e.units.Create(e.ctx, e.admin, registry.NewUnit{Code: "31117", Name: "Phường Cái Khế (mới)", Level: "commune",
			ParentCode: "92", ValidFrom: "2025-07-01"}); err != nil {
			t.Fatalf("successor: %v", err)
		}
		if !e.valid(t, "31117", "2025-07-02") {
			t.Fatal("the successor is not valid")
		}
	})
}

func TestImportWithBadFeaturesWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		body := uaCollection(
			uaFeature(`{"code":"916"}`, uaPolygon(ninhKieuSquare)),                                                         // 1: good
			uaFeature(`{"code":"919"}`, `{"type":"LineString","coordinates":[[105.74,9.93],[105.80,9.99]]}`),               // 2
			uaFeature(`{"code":"99999"}`, uaPolygon(caiRangSquare)),                                                        // 3
			uaFeature(`{"code":"917"}`, uaPolygon(`[[[105.6,10.1],[105.7,10.1],[105.7,10.2],[105.6,10.2]]]`)),              // 4: open ring
			uaFeature(`{"code":"918"}`, uaPolygon(uaSquare(120.0, 10.0, 0.1))),                                             // 5: outside
			uaFeature(`{"code":"923"}`, uaPolygon(`[[[105.6,10.1],[105.7,10.2],[105.7,10.1],[105.6,10.2],[105.6,10.1]]]`)), // 6: bow tie
			uaFeature(`{"code":"924"}`, uaPolygon(`[[[105.6,1e999],[105.7,10.1],[105.7,10.2],[105.6,10.1]]]`)),             // 7: overflow
			uaFeature(`{"code":"916"}`, uaPolygon(ninhKieuSquare)),                                                         // 8: twice
			uaFeature(`{}`, uaPolygon(ninhKieuSquare)),                                                                     // 9: no code
			`{"type":"Feature","properties":{"code":"925"},"geometry":null}`,                                               // 10
			`"not a feature"`, // 11
			uaFeature(`{"code":"926","valid_from":"2004-02-30"}`, uaPolygon(ninhKieuSquare)),                                             // 12
			uaFeature(`{"code":"927","valid_from":"2010-01-01"}`, uaPolygon(ninhKieuSquare)),                                             // 13: no such row
			uaFeature(`{"code":"31000","create":true,"level":"ward","valid_from":"2025-07-01"}`, uaPolygon(uaSquare(105.5, 10.2, 0.01))), // 14
		)
		for _, dry := range []bool{false, true} {
			_, err := e.units.ImportBoundaries(e.ctx, e.admin, body, dry)
			ie := uaWantCode(t, err, infrashare.EINVALID)
			rows, ok := ie.Details["rows"].([]registry.UnitImportRowError)
			if !ok {
				t.Fatalf("details %#v", ie.Details)
			}
			got := map[int][]string{}
			for _, r := range rows {
				if r.Reason == "" {
					t.Errorf("row %+v has no reason", r)
				}
				got[r.Line] = append(got[r.Line], r.Column)
			}
			want := map[int]string{2: "geometry", 3: "code", 4: "geometry", 5: "geometry", 6: "geometry", 7: "geometry",
				8: "code", 9: "code", 10: "geometry", 11: "feature", 12: "valid_from", 13: "valid_from"}
			for line, col := range want {
				if !containsStr(got[line], col) {
					t.Errorf("dry=%v feature %d: columns %v, want %s", dry, line, got[line], col)
				}
			}
			if _, ok := got[1]; ok {
				t.Errorf("the good feature is listed: %v", got[1])
			}
			for _, col := range []string{"name", "level"} {
				if !containsStr(got[14], col) {
					t.Errorf("the bad create lacks %s: %v", col, got[14])
				}
			}
			if !strings.Contains(ie.Message, "nothing was imported") {
				t.Errorf("message %q", ie.Message)
			}
		}
		if v := e.unit(t, "916"); v.HasBoundary {
			t.Fatal("the good feature of a refused import was written")
		}
		if got := e.locate(t, 105.77, 10.02, "2026-03-02"); got != "" {
			t.Fatalf("Locate after a refused import: %q", got)
		}
		if n := e.eventCount(t, "unit.import_boundaries"); n != 0 {
			t.Fatalf("a refused import was audited: %d", n)
		}
	})
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestImportDryRunWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		res := e.importOK(t, districtImport(), true)
		if res != (registry.UnitImportResult{Updated: 2, DryRun: true}) {
			t.Fatalf("dry run: %+v", res)
		}
		if v := e.unit(t, "916"); v.HasBoundary {
			t.Fatal("a dry run wrote a boundary")
		}
		if got := e.locate(t, 105.77, 10.02, "2026-03-02"); got != "" {
			t.Fatalf("Locate after a dry run: %q", got)
		}
		if n := e.eventCount(t, "unit.import_boundaries"); n != 0 {
			t.Fatalf("a dry run was audited: %d", n)
		}
	})
}

func TestImportRefusesMalformedBodies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		for _, c := range []struct {
			body  string
			code  string
			field string
		}{
			{``, infrashare.EMALFORMED, ""},
			{`{"type":"FeatureCollection","features":[`, infrashare.EMALFORMED, ""},
			{`[1,2]`, infrashare.EMALFORMED, ""},
			{"{\"type\":\"FeatureCollection\",\"features\":[\xff]}", infrashare.EMALFORMED, ""},
			{`{"type":"Feature","properties":{},"geometry":null}`, infrashare.EINVALID, "type"},
			{`{"type":"FeatureCollection","features":[]}`, infrashare.EINVALID, "features"},
			{`{"type":"FeatureCollection","features":{"a":1}}`, infrashare.EINVALID, "features"},
			{`{"type":"FeatureCollection","features":[` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `]}`, infrashare.EMALFORMED, ""},
		} {
			_, err := e.units.ImportBoundaries(e.ctx, e.admin, []byte(c.body), false)
			ie := uaWantCode(t, err, c.code)
			if c.field != "" {
				if _, ok := ie.Fields[c.field]; !ok {
					t.Errorf("%.60q: fields %v, want %s", c.body, ie.Fields, c.field)
				}
			}
		}
		// Deeply nested or odd coordinates are a row, never a panic.
		for _, geom := range []string{
			`{"type":"Polygon","coordinates":[[[105.6]]]}`,
			`{"type":"Polygon","coordinates":[[["a","b"]]]}`,
			`{"type":"Polygon","coordinates":null}`,
			`{"type":"Polygon"}`,
			`{"type":"MultiPolygon","coordinates":[]}`,
			`{"type":"MultiPolygon","coordinates":[[]]}`,
			`{"type":"Polygon","coordinates":[[[105.6,10.1,0,0],[105.7,10.1],[105.7,10.2],[105.6,10.1]]]}`,
			`{"type":"Polygon","coordinates":[[[105.6,10.1],[105.6,10.1],[105.6,10.1],[105.6,10.1]]]}`,
			`{"type":"Polygon","coordinates":[[[105.6,10.1],[105.7,10.1],[105.8,10.1],[105.6,10.1]]]}`,
			`{"type":"GeometryCollection","geometries":[]}`,
			`[]`,
			`{"coordinates":[]}`,
		} {
			_, err := e.units.ImportBoundaries(e.ctx, e.admin, uaCollection(uaFeature(`{"code":"916"}`, geom)), false)
			ie := uaWantCode(t, err, infrashare.EINVALID)
			rows, _ := ie.Details["rows"].([]registry.UnitImportRowError)
			if len(rows) != 1 || rows[0].Line != 1 || rows[0].Column != "geometry" {
				t.Errorf("%s: rows %+v", geom, rows)
			}
		}
		// A hole inside its ring and a MultiPolygon with altitude pass.
		ok := e.importOK(t, uaCollection(
			uaFeature(`{"code":"916"}`, `{"type":"Polygon","coordinates":[`+
				`[[105.74,10.00],[105.80,10.00],[105.80,10.06],[105.74,10.06],[105.74,10.00]],`+
				`[[105.76,10.02],[105.77,10.02],[105.77,10.03],[105.76,10.03],[105.76,10.02]]]}`),
			uaFeature(`{"code":919}`, `{"type":"MultiPolygon","coordinates":[`+
				`[[[105.74,9.93,1],[105.76,9.93,1],[105.76,9.95,1],[105.74,9.95,1],[105.74,9.93,1]]],`+
				`[[[105.78,9.93],[105.80,9.93],[105.80,9.95],[105.78,9.95],[105.78,9.93]]]]}`),
		), false)
		if ok.Updated != 2 {
			t.Fatalf("%+v", ok)
		}
		for _, c := range []struct {
			lon, lat float64
			want     string
		}{
			{105.765, 10.025, ""}, // in the hole
			{105.75, 10.05, "916"},
			{105.75, 9.94, "919"},
			{105.77, 9.94, ""}, // between the two parts
			{105.79, 9.94, "919"},
		} {
			if got := e.locate(t, c.lon, c.lat, "2026-03-02"); got != c.want {
				t.Errorf("Locate(%v, %v) = %q, want %q", c.lon, c.lat, got, c.want)
			}
		}
	})
}

func TestCreateUnitValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		good := func() registry.NewUnit {
			return registry.NewUnit{Code: "31120", Name: "Phường An Hòa", Level: "commune", ParentCode: "916",
				Urban: true, ValidFrom: "2020-01-01", Boundary: []byte(uaPolygon(wardSquare))}
		}
		for _, c := range []struct {
			name  string
			edit  func(*registry.NewUnit)
			field string
		}{
			{"no code", func(u *registry.NewUnit) { u.Code = "" }, "code"},
			{"code with a space", func(u *registry.NewUnit) { u.Code = "31 120" }, "code"},
			{"long code", func(u *registry.NewUnit) { u.Code = strings.Repeat("1", 17) }, "code"},
			{"no name", func(u *registry.NewUnit) { u.Name = "  " }, "name"},
			{"junk level", func(u *registry.NewUnit) { u.Level = "ward" }, "level"},
			{"no valid_from", func(u *registry.NewUnit) { u.ValidFrom = "" }, "valid_from"},
			{"bad valid_from", func(u *registry.NewUnit) { u.ValidFrom = "2020-13-01" }, "valid_from"},
			{"valid_to before", func(u *registry.NewUnit) { u.ValidTo = "2019-01-01" }, "valid_to"},
			{"valid_to same day", func(u *registry.NewUnit) { u.ValidTo = "2020-01-01" }, "valid_to"},
			{"unknown parent", func(u *registry.NewUnit) { u.ParentCode = "999" }, "parent_code"},
			{"parent not valid yet", func(u *registry.NewUnit) { u.ValidFrom = "2000-01-01" }, "parent_code"},
			{"no parent", func(u *registry.NewUnit) { u.ParentCode = "" }, "parent_code"},
			{"province with a parent", func(u *registry.NewUnit) { u.Level = "province"; u.ParentCode = "92" }, "parent_code"},
			{"district under a district", func(u *registry.NewUnit) { u.Level = "district" }, "parent_code"},
			{"line boundary", func(u *registry.NewUnit) {
				u.Boundary = []byte(`{"type":"LineString","coordinates":[[105.7,10.0],[105.8,10.1]]}`)
			}, "boundary"},
			{"boundary outside", func(u *registry.NewUnit) { u.Boundary = []byte(uaPolygon(uaSquare(101.0, 10.0, 0.1))) }, "boundary"},
			{"lat/lon swapped", func(u *registry.NewUnit) { u.Boundary = []byte(uaPolygon(uaSquare(10.03, 105.77, 0.01))) }, "boundary"},
			{"open ring", func(u *registry.NewUnit) {
				u.Boundary = []byte(uaPolygon(`[[[105.77,10.03],[105.78,10.03],[105.78,10.04],[105.77,10.04]]]`))
			}, "boundary"},
			{"spike", func(u *registry.NewUnit) {
				u.Boundary = []byte(uaPolygon(`[[[105.77,10.03],[105.78,10.03],[105.79,10.03],[105.78,10.03],[105.78,10.04],[105.77,10.03]]]`))
			}, "boundary"},
			{"hole outside", func(u *registry.NewUnit) {
				u.Boundary = []byte(uaPolygon("[" + uaRing(105.77, 10.03, 0.01) + "," + uaRing(105.60, 10.00, 0.01) + "]"))
			}, "boundary"},
			{"boundary not an object", func(u *registry.NewUnit) { u.Boundary = []byte(`"POLYGON((1 2))"`) }, "boundary"},
		} {
			in := good()
			c.edit(&in)
			_, err := e.units.Create(e.ctx, e.admin, in)
			if err == nil {
				t.Errorf("%s: accepted", c.name)
				continue
			}
			var ie *infrashare.Error
			if !errors.As(err, &ie) || ie.Code != infrashare.EINVALID || ie.Fields[c.field] == "" {
				t.Errorf("%s: %v, want a validation error naming %s", c.name, err, c.field)
			}
		}
		if n := e.eventCount(t, "unit.create"); n != 0 {
			t.Fatalf("refused creates were audited: %d", n)
		}
		// The good one passes once; the same (code, valid_from) again is a
		// conflict, and so is an overlapping period.
		if _, err := e.units.Create(e.ctx, e.admin, good()); err != nil {
			t.Fatal(err)
		}
		_, err := e.units.Create(e.ctx, e.admin, good())
		uaWantCode(t, err, infrashare.ECONFLICT)
		later := good()
		later.ValidFrom = "2023-01-01"
		_, err = e.units.Create(e.ctx, e.admin, later)
		uaWantCode(t, err, infrashare.ECONFLICT)
		// A new province has no parent.
		if _, err := e.units.Create(e.ctx, e.admin, registry.NewUnit{Code: "93", Name: "Tỉnh Hậu Giang", Level: "province", ValidFrom: "2004-01-01", ValidTo: "2025-07-01"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUnitWritesAreForAdmins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		for _, a := range []auth.Actor{e.oper,
			{OrgCode: "DEPT", Roles: []string{auth.RoleAuditor}},
			{OrgCode: "UBND-NK", Roles: []string{auth.RoleOfficer}, UnitCodes: []string{"916"}}} {
			_, err := e.units.Create(e.ctx, a, registry.NewUnit{Code: "31120", Name: "Phường An Hòa", Level: "commune", ParentCode: "916", ValidFrom: "2020-01-01"})
			uaWantCode(t, err, infrashare.EFORBIDDEN)
			_, err = e.units.ImportBoundaries(e.ctx, a, districtImport(), false)
			uaWantCode(t, err, infrashare.EFORBIDDEN)
			_, err = e.units.ImportBoundaries(e.ctx, a, districtImport(), true)
			uaWantCode(t, err, infrashare.EFORBIDDEN)
			_, err = e.units.Retire(e.ctx, a, "917", infrashare.MustDate("2025-07-01"))
			uaWantCode(t, err, infrashare.EFORBIDDEN)
			// Reading is for every role.
			items, _, err := e.units.List(e.ctx, a, registry.UnitFilter{})
			if err != nil || len(items) != 10 {
				t.Fatalf("%v lists %d units: %v", a.Roles, len(items), err)
			}
		}
		if !e.valid(t, "917", "2026-01-01") || e.unit(t, "916").HasBoundary {
			t.Fatal("a refused write changed something")
		}
		_, _, err := e.units.List(e.ctx, auth.Actor{}, registry.UnitFilter{})
		uaWantCode(t, err, infrashare.EFORBIDDEN)
		// The system may write (migrations, scripts).
		if _, err := e.units.Retire(e.ctx, auth.SystemActor, "917", infrashare.MustDate("2025-07-01")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestListUnitsFiltersAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		list := func(f registry.UnitFilter) ([]registry.UnitView, string) {
			t.Helper()
			items, next, err := e.units.List(e.ctx, e.oper, f)
			if err != nil {
				t.Fatal(err)
			}
			return items, next
		}
		codes := func(items []registry.UnitView) string {
			var out []string
			for _, v := range items {
				out = append(out, v.Code)
			}
			return strings.Join(out, ",")
		}
		if items, _ := list(registry.UnitFilter{Level: "province"}); codes(items) != "92" || items[0].ParentCode != nil {
			t.Fatalf("provinces: %+v", items)
		}
		if items, _ := list(registry.UnitFilter{Parent: "92"}); len(items) != 9 {
			t.Fatalf("districts of 92: %s", codes(items))
		}
		if items, _ := list(registry.UnitFilter{Q: "ninh kiều"}); codes(items) != "916" {
			t.Fatalf("q=ninh kiều: %s", codes(items))
		}
		if items, _ := list(registry.UnitFilter{Q: "Ô Môn"}); codes(items) != "917" {
			t.Fatalf("q=Ô Môn: %s", codes(items))
		}
		if items, _ := list(registry.UnitFilter{Q: "92"}); !strings.HasPrefix(codes(items), "92") {
			t.Fatalf("q=92: %s", codes(items))
		}
		if items, _ := list(registry.UnitFilter{Q: "%"}); len(items) != 0 {
			t.Fatalf("q=%% matches everything: %s", codes(items))
		}
		if items, _ := list(registry.UnitFilter{On: infrashare.MustDate("2003-12-31")}); len(items) != 0 {
			t.Fatalf("units before 2004: %s", codes(items))
		}
		// Pages of 4 walk all ten units once, in id order.
		var all []string
		cursor := ""
		for i := 0; i < 5; i++ {
			items, next := list(registry.UnitFilter{Limit: 4, Cursor: cursor})
			all = append(all, codes(items))
			if next == "" {
				break
			}
			cursor = next
		}
		if got := strings.Join(all, ","); got != "92,916,917,918,919,923,924,925,926,927" {
			t.Fatalf("pages: %v", all)
		}
		_, _, err := e.units.List(e.ctx, e.oper, registry.UnitFilter{Level: "ward"})
		uaWantField(t, err, "level")
		_, _, err = e.units.List(e.ctx, e.oper, registry.UnitFilter{Cursor: "junk"})
		uaWantField(t, err, "cursor")
	})
}

// Admins racing to register overlapping periods of one code: exactly one
// wins, on both databases.
func TestConcurrentOverlappingUnitsOneWins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newUAEnv(t, db)
		const n = 8
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				_, err := e.units.Create(e.ctx, e.admin, registry.NewUnit{Code: "31200", Name: "Phường Đua", Level: "commune",
					ParentCode: "916", ValidFrom: infrashare.MustDate("2020-01-01").AddDays(i).String()})
				errs <- err
			}(i)
		}
		won := 0
		for i := 0; i < n; i++ {
			if err := <-errs; err == nil {
				won++
			} else if c := infrashare.ErrorCode(err); c != infrashare.ECONFLICT {
				t.Errorf("loser: %v", err)
			}
		}
		var rows int64
		if err := db.Root().Table("admin_units").Where("code = ?", "31200").Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if won != 1 || rows != 1 || e.eventCount(t, "unit.create") != 1 {
			t.Fatalf("%d won, %d rows", won, rows)
		}
	})
}
