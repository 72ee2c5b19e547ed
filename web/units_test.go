package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// unitJSON is a unit as the API answers it.
type unitJSON struct {
	ID          int64           `json:"id"`
	Code        string          `json:"code"`
	Name        string          `json:"name"`
	Level       string          `json:"level"`
	ParentCode  *string         `json:"parent_code"`
	Urban       bool            `json:"urban"`
	ValidFrom   string          `json:"valid_from"`
	ValidTo     *string         `json:"valid_to"`
	HasBoundary bool            `json:"has_boundary"`
	BBox        *[4]float64     `json:"bbox"`
	Boundary    json.RawMessage `json:"boundary"`
}

type unitPage struct {
	Items      []unitJSON `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// unitErrorJSON is an error body with the rows of a refused import.
type unitErrorJSON struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
		Rows    []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"rows"`
	} `json:"error"`
}

func unitSquare(lon, lat, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]}`,
		lon, lat, lon+d, lat+d)
}

func unitFeatures(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func unitFeature(props, geometry string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":` + geometry + `}`
}

// units lists units with the query as role, failing on anything but 200.
func (a *apiClient) units(role, query string) unitPage {
	a.t.Helper()
	var p unitPage
	a.mustJSON(a.call("GET", "/api/v1/admin-units"+query, a.token(role), nil), 200, &p)
	return p
}

func unitCodes(p unitPage) string {
	var out []string
	for _, u := range p.Items {
		out = append(out, u.Code)
	}
	return strings.Join(out, ",")
}

func unitError(t *testing.T, r response, status int) unitErrorJSON {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var e unitErrorJSON
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	return e
}

func wantUnitField(t *testing.T, r response, field string) {
	t.Helper()
	e := unitError(t, r, 422)
	if e.Error.Fields[field] == "" {
		t.Fatalf("422 does not name %q: %s", field, r.body)
	}
}

const geoJSONType = "application/geo+json"

func TestAdminUnitsCreateListAndRetire(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		admin := a.token("admin")
		ward := map[string]any{"code": "31117", "name": "Phường Cái Khế", "level": "commune", "parent_code": "916",
			"urban": true, "valid_from": "2020-01-01", "boundary": json.RawMessage(unitSquare(105.77, 10.03, 0.01))}
		var created unitJSON
		a.mustJSON(a.call("POST", "/api/v1/admin-units", admin, ward), 201, &created)
		if created.ID == 0 || created.Code != "31117" || created.ParentCode == nil || *created.ParentCode != "916" || !created.Urban ||
			created.ValidFrom != "2020-01-01" || created.ValidTo != nil || !created.HasBoundary ||
			created.BBox == nil || *created.BBox != [4]float64{105.77, 10.03, 105.78, 10.04} {
			t.Fatalf("created %+v", created)
		}
		// The same (code, valid_from) again: 409.
		unitError(t, a.call("POST", "/api/v1/admin-units", admin, ward), 409)

		// Every role reads; the list carries the box, not the boundary,
		// unless asked.
		for _, role := range []string{"operator", "officer", "auditor", "admin"} {
			p := a.units(role, "?parent=916")
			if unitCodes(p) != "31117" || !p.Items[0].HasBoundary || p.Items[0].BBox == nil || p.Items[0].Boundary != nil {
				t.Fatalf("%s lists %+v", role, p)
			}
		}
		r := a.call("GET", "/api/v1/admin-units?parent=916", a.token("operator"), nil)
		if strings.Contains(r.String(), `"boundary"`) || strings.Contains(r.String(), "coordinates") {
			t.Fatalf("a plain list carries boundaries: %s", r.body)
		}
		p := a.units("operator", "?parent=916&boundary=true")
		var g struct {
			Type        string         `json:"type"`
			Coordinates [][][2]float64 `json:"coordinates"`
		}
		if len(p.Items) != 1 || json.Unmarshal(p.Items[0].Boundary, &g) != nil || g.Type != "Polygon" || len(g.Coordinates[0]) != 5 {
			t.Fatalf("boundary=true: %+v", p)
		}
		if p := a.units("operator", "?level=province"); unitCodes(p) != "92" || p.Items[0].ParentCode != nil || p.Items[0].ValidTo != nil {
			t.Fatalf("provinces: %+v", p)
		}
		if p := a.units("operator", "?q=C%C3%A1i%20R%C4%83ng"); unitCodes(p) != "919" {
			t.Fatalf("q=Cái Răng: %s", unitCodes(p))
		}

		// Retire the ward: the list's ?on= follows.
		var retired unitJSON
		a.mustJSON(a.call("POST", "/api/v1/admin-units/31117/retire", admin, map[string]string{"on": "2025-07-01"}), 200, &retired)
		if retired.ID != created.ID || retired.ValidTo == nil || *retired.ValidTo != "2025-07-01" {
			t.Fatalf("retired %+v", retired)
		}
		if got := unitCodes(a.units("operator", "?parent=916&on=2025-06-30")); got != "31117" {
			t.Fatalf("on the last day: %q", got)
		}
		if got := unitCodes(a.units("operator", "?parent=916&on=2025-07-01")); got != "" {
			t.Fatalf("on the retirement day: %q", got)
		}
		if got := unitCodes(a.units("operator", "?parent=916&on=2019-12-31")); got != "" {
			t.Fatalf("before it began: %q", got)
		}
		if got := len(a.units("operator", "?on=2026-01-01&level=district").Items); got != 9 {
			t.Fatalf("districts valid in 2026: %d", got)
		}
		// It is not valid on that day any more: 404; nor is an unknown code.
		unitError(t, a.call("POST", "/api/v1/admin-units/31117/retire", admin, map[string]string{"on": "2025-07-01"}), 404)
		unitError(t, a.call("POST", "/api/v1/admin-units/nope/retire", admin, map[string]string{"on": "2025-07-01"}), 404)
		wantUnitField(t, a.call("POST", "/api/v1/admin-units/917/retire", admin, map[string]string{"on": "2004-01-01"}), "on")

		// Each write is audited.
		for action, n := range map[string]int{"unit.create": 1, "unit.retire": 1} {
			var ev struct {
				Items []json.RawMessage `json:"items"`
			}
			a.mustJSON(a.call("GET", "/api/v1/audit-events?action="+action, admin, nil), 200, &ev)
			if len(ev.Items) != n {
				t.Errorf("%d %s events, want %d", len(ev.Items), action, n)
			}
		}

		// Pages of 4 walk every unit once.
		seen := map[string]bool{}
		path := "?limit=4"
		for i := 0; i < 10; i++ {
			p := a.units("operator", path)
			for _, u := range p.Items {
				if seen[fmt.Sprint(u.ID)] {
					t.Fatalf("unit %s listed twice", u.Code)
				}
				seen[fmt.Sprint(u.ID)] = true
			}
			if p.NextCursor == nil {
				break
			}
			path = "?limit=4&cursor=" + *p.NextCursor
		}
		if len(seen) != 11 {
			t.Fatalf("paging saw %d units, want 11", len(seen))
		}
	})
}

func TestAdminUnitsImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		admin := a.token("admin")
		body := unitFeatures(
			unitFeature(`{"code":"916"}`, unitSquare(105.74, 10.00, 0.06)),
			unitFeature(`{"code":"919","valid_from":"2004-01-01"}`, unitSquare(105.74, 9.93, 0.06)),
		)
		// A dry run answers the counts and writes nothing.
		var res map[string]any
		a.mustJSON(a.call("POST", "/api/v1/admin-units/import?dry_run=true", admin, body, "Content-Type", geoJSONType), 200, &res)
		if res["updated"] != 2.0 || res["created"] != 0.0 || res["dry_run"] != true {
			t.Fatalf("dry run: %v", res)
		}
		if p := a.units("operator", "?q=916"); p.Items[0].HasBoundary {
			t.Fatal("a dry run wrote a boundary")
		}
		a.mustJSON(a.call("POST", "/api/v1/admin-units/import", admin, body, "Content-Type", geoJSONType), 200, &res)
		if res["updated"] != 2.0 || res["created"] != 0.0 || res["dry_run"] != false {
			t.Fatalf("import: %v", res)
		}
		p := a.units("operator", "?level=district")
		for _, u := range p.Items {
			if want := u.Code == "916" || u.Code == "919"; u.HasBoundary != want {
				t.Errorf("after the import, %s has_boundary %v", u.Code, u.HasBoundary)
			}
			if u.Code == "919" && (u.BBox == nil || *u.BBox != [4]float64{105.74, 9.93, 105.80, 9.99}) {
				t.Errorf("919 bbox %v", u.BBox)
			}
		}
		// application/json is accepted too; create: true registers a unit.
		a.mustJSON(a.call("POST", "/api/v1/admin-units/import", admin, unitFeatures(unitFeature(
			`{"code":"31150","create":true,"name":"Phường Tân An","level":"commune","parent_code":"92","urban":true,"valid_from":"2025-07-01"}`,
			unitSquare(105.78, 10.03, 0.01))), "Content-Type", "application/json; charset=utf-8"), 200, &res)
		if res["created"] != 1.0 || res["updated"] != 0.0 {
			t.Fatalf("create by import: %v", res)
		}
		if got := unitCodes(a.units("auditor", "?parent=92&level=commune&on=2025-07-01")); got != "31150" {
			t.Fatalf("created commune: %q", got)
		}
		// One audit event per import, none for the dry run.
		var ev struct {
			Items []struct {
				After string `json:"after"`
			} `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events?action=unit.import_boundaries", admin, nil), 200, &ev)
		if len(ev.Items) != 2 || !strings.Contains(ev.Items[1].After, `"updated":2`) {
			t.Fatalf("import events: %+v", ev.Items)
		}

		// A bad feature refuses the whole file and lists every bad feature.
		bad := unitFeatures(
			unitFeature(`{"code":"917"}`, unitSquare(105.60, 10.05, 0.05)),
			unitFeature(`{"code":"918"}`, `{"type":"LineString","coordinates":[[105.7,10.0],[105.8,10.1]]}`),
			unitFeature(`{"code":"99999"}`, unitSquare(105.60, 10.15, 0.05)),
			unitFeature(`{"code":"923"}`, `{"type":"Polygon","coordinates":[[[105.5,10.2],[105.6,10.2],[105.6,10.3],[105.5,10.3]]]}`),
		)
		e := unitError(t, a.call("POST", "/api/v1/admin-units/import", admin, bad, "Content-Type", geoJSONType), 422)
		got := map[int]string{}
		for _, r := range e.Error.Rows {
			if r.Reason == "" {
				t.Errorf("row without a reason: %+v", r)
			}
			got[r.Line] = r.Column
		}
		if len(got) != 3 || got[2] != "geometry" || got[3] != "code" || got[4] != "geometry" {
			t.Fatalf("rows %+v", e.Error.Rows)
		}
		if p := a.units("operator", "?q=917"); p.Items[0].HasBoundary {
			t.Fatal("the good feature of a refused import was written")
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events?action=unit.import_boundaries", admin, nil), 200, &ev)
		if len(ev.Items) != 2 {
			t.Fatalf("a refused import was audited: %d events", len(ev.Items))
		}

		// Bodies that are not a FeatureCollection.
		for _, c := range []struct {
			body, ctype, query string
			status             int
		}{
			{body, "text/csv", "", 415},
			{body, "", "", 415},
			{`{"type":"FeatureCollection","features":[`, geoJSONType, "", 400},
			{``, geoJSONType, "", 400},
			{"\xff\xfe", geoJSONType, "", 400},
			{`{"type":"FeatureCollection","features":[]}`, geoJSONType, "", 422},
			{`{"type":"Point","coordinates":[105.7,10.0]}`, geoJSONType, "", 422},
			{body, geoJSONType, "?dry_run=maybe", 422},
		} {
			r := a.call("POST", "/api/v1/admin-units/import"+c.query, admin, c.body, "Content-Type", c.ctype)
			if r.status != c.status {
				t.Errorf("%.40q as %q: %d, want %d: %s", c.body, c.ctype, r.status, c.status, r.body)
			}
		}
	})
}

func TestAdminUnitWritesAreAdminOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ward := map[string]any{"code": "31117", "name": "Phường Cái Khế", "level": "commune", "parent_code": "916", "valid_from": "2020-01-01"}
		imp := unitFeatures(unitFeature(`{"code":"916"}`, unitSquare(105.74, 10.00, 0.06)))
		for role, status := range map[string]int{"anon": 401, "operator": 403, "officer": 403, "auditor": 403} {
			tok := a.token(role)
			if r := a.call("POST", "/api/v1/admin-units", tok, ward); r.status != status {
				t.Errorf("%s creates: %d, want %d", role, r.status, status)
			}
			if r := a.call("POST", "/api/v1/admin-units/import", tok, imp, "Content-Type", geoJSONType); r.status != status {
				t.Errorf("%s imports: %d, want %d", role, r.status, status)
			}
			if r := a.call("POST", "/api/v1/admin-units/import?dry_run=true", tok, imp, "Content-Type", geoJSONType); r.status != status {
				t.Errorf("%s dry-runs an import: %d, want %d", role, r.status, status)
			}
			if r := a.call("POST", "/api/v1/admin-units/917/retire", tok, map[string]string{"on": "2025-07-01"}); r.status != status {
				t.Errorf("%s retires: %d, want %d", role, r.status, status)
			}
		}
		if r := a.call("GET", "/api/v1/admin-units", "", nil); r.status != 401 {
			t.Fatalf("anonymous list: %d", r.status)
		}
		// Nothing changed.
		p := a.units("operator", "")
		if len(p.Items) != 10 {
			t.Fatalf("%d units after refused writes", len(p.Items))
		}
		for _, u := range p.Items {
			if u.HasBoundary || u.ValidTo != nil {
				t.Fatalf("a refused write changed %+v", u)
			}
		}
	})
}

func TestAdminUnitsBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		admin := a.token("admin")
		good := func() map[string]any {
			return map[string]any{"code": "31117", "name": "Phường Cái Khế", "level": "commune", "parent_code": "916", "valid_from": "2020-01-01"}
		}
		for field, edit := range map[string]func(m map[string]any){
			"code":        func(m map[string]any) { m["code"] = "31-117" },
			"name":        func(m map[string]any) { delete(m, "name") },
			"level":       func(m map[string]any) { m["level"] = "ward" },
			"parent_code": func(m map[string]any) { m["parent_code"] = "31117" },
			"valid_from":  func(m map[string]any) { m["valid_from"] = "01/01/2020" },
			"valid_to":    func(m map[string]any) { m["valid_to"] = "2019-12-31" },
			"boundary":    func(m map[string]any) { m["boundary"] = json.RawMessage(unitSquare(120, 10, 0.1)) },
			"urban":       func(m map[string]any) { m["urban"] = "yes" },
			"extra":       func(m map[string]any) { m["extra"] = 1 },
		} {
			m := good()
			edit(m)
			wantUnitField(t, a.call("POST", "/api/v1/admin-units", admin, m), field)
		}
		wantUnitField(t, a.call("POST", "/api/v1/admin-units", admin, map[string]any{"code": "31117", "name": "X", "level": "commune",
			"parent_code": "916", "valid_from": "2020-01-01",
			"boundary": json.RawMessage(`{"type":"Polygon","coordinates":[[[105.77,10.03],[105.78,10.03],[105.78,10.04]]]}`)}), "boundary")
		unitError(t, a.call("POST", "/api/v1/admin-units", admin, `{"code":`), 400)
		unitError(t, a.call("POST", "/api/v1/admin-units", admin, `[]`), 400)

		wantUnitField(t, a.call("POST", "/api/v1/admin-units/917/retire", admin, `{}`), "on")
		wantUnitField(t, a.call("POST", "/api/v1/admin-units/917/retire", admin, `{"on":"1 July 2025"}`), "on")
		wantUnitField(t, a.call("POST", "/api/v1/admin-units/917/retire", admin, `{"on":20250701}`), "on")
		wantUnitField(t, a.call("POST", "/api/v1/admin-units/917/retire", admin, `{"on":"2025-07-01","reason":"x"}`), "reason")
		unitError(t, a.call("POST", "/api/v1/admin-units/917/retire", admin, `not json`), 400)

		for q, field := range map[string]string{"?on=2025-13-01": "on", "?level=ward": "level", "?boundary=maybe": "boundary",
			"?limit=-4": "limit", "?cursor=zzz": "cursor"} {
			wantUnitField(t, a.call("GET", "/api/v1/admin-units"+q, a.token("operator"), nil), field)
		}
		// None of it wrote anything.
		if p := a.units("operator", ""); len(p.Items) != 10 || p.Items[2].ValidTo != nil {
			t.Fatalf("after bad input: %+v", p.Items)
		}
	})
}

// A chunked import body over the 100 MiB limit answers 413 while reading.
func TestAdminUnitImportTooLarge(t *testing.T) {
	a := newAPI(t, dbtest.Open(t, database.SQLite))
	req := httptest.NewRequest("POST", "/api/v1/admin-units/import", io.LimitReader(unitZeros{}, importBodyLimit+1))
	req.ContentLength = -1
	req.Header.Set("Content-Type", geoJSONType)
	req.Header.Set("Authorization", "Bearer "+a.token("admin"))
	rec := httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "too_large") {
		t.Fatalf("%d %.200s", rec.Code, rec.Body)
	}
	// A declared length over the limit is refused before reading.
	req = httptest.NewRequest("POST", "/api/v1/admin-units/import", strings.NewReader("{}"))
	req.ContentLength = importBodyLimit + 1
	req.Header.Set("Content-Type", geoJSONType)
	req.Header.Set("Authorization", "Bearer "+a.token("admin"))
	rec = httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("declared length: %d", rec.Code)
	}
}

// unitZeros is an endless body of spaces.
type unitZeros struct{}

func (unitZeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
