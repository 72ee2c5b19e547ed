package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

// ugSegmentJSON is a street segment as the API answers it.
type ugSegmentJSON struct {
	ID          int64   `json:"id"`
	StreetName  string  `json:"street_name"`
	UnitCode    string  `json:"unit_code"`
	LengthM     float64 `json:"length_m"`
	Central     bool    `json:"central"`
	Underground bool    `json:"underground"`
	Shared      bool    `json:"shared"`
	CompletedOn *string `json:"completed_on"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

type ugImportError struct {
	Error struct {
		Code string `json:"code"`
		Rows []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"rows"`
	} `json:"error"`
}

func ugSegmentBody(street, unit string, length float64, underground bool, completed string) map[string]any {
	b := map[string]any{"street_name": street, "unit_code": unit, "length_m": length, "central": true,
		"underground": underground, "shared": underground}
	if completed != "" {
		b["completed_on"] = completed
	}
	return b
}

func TestStreetSegmentRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		body := ugSegmentBody("Đường 30/4", "916", 650, true, "2024-05-01")

		// Writes: admins and the department; reads: every signed-in role.
		for _, role := range []string{"officer", "operator"} {
			rfWantField(t, a.call("POST", "/api/v1/street-segments", a.token(role), body), 403, "")
		}
		rfWantField(t, a.call("POST", "/api/v1/street-segments", "", body), 401, "")
		var g ugSegmentJSON
		a.mustJSON(a.call("POST", "/api/v1/street-segments", a.token("auditor"), body), 201, &g)
		if g.ID == 0 || g.StreetName != "Đường 30/4" || g.CompletedOn == nil || *g.CompletedOn != "2024-05-01" || !g.Central ||
			!strings.HasSuffix(g.CreatedAt, "Z") {
			t.Fatalf("created %+v", g)
		}
		var g2 ugSegmentJSON
		a.mustJSON(a.call("POST", "/api/v1/street-segments", a.token("admin"), ugSegmentBody("Hòa Bình", "916", 800, false, "")), 201, &g2)
		path := fmt.Sprintf("/api/v1/street-segments/%d", g.ID)
		for _, role := range []string{"admin", "auditor", "officer", "operator"} {
			var got ugSegmentJSON
			a.mustJSON(a.call("GET", path, a.token(role), nil), 200, &got)
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(g)
			if string(gj) != string(wj) {
				t.Fatalf("%s reads %+v", role, got)
			}
			var p struct {
				Items      []ugSegmentJSON `json:"items"`
				NextCursor *string         `json:"next_cursor"`
			}
			a.mustJSON(a.call("GET", "/api/v1/street-segments?limit=1", a.token(role), nil), 200, &p)
			if len(p.Items) != 1 || p.NextCursor == nil {
				t.Fatalf("%s lists %+v", role, p)
			}
			a.mustJSON(a.call("GET", "/api/v1/street-segments?limit=1&cursor="+*p.NextCursor, a.token(role), nil), 200, &p)
			if len(p.Items) != 1 || p.Items[0].ID != g2.ID || p.NextCursor != nil {
				t.Fatalf("%s's second page %+v", role, p)
			}
		}
		var p struct {
			Items []ugSegmentJSON `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/street-segments?street=HOA+BINH&central=true&underground=false&unit=916", a.token("operator"), nil), 200, &p)
		if len(p.Items) != 1 || p.Items[0].ID != g2.ID {
			t.Fatalf("filtered %+v", p.Items)
		}
		rfWantField(t, a.call("GET", "/api/v1/street-segments?central=maybe", a.token("operator"), nil), 422, "central")
		rfWantField(t, a.call("GET", "/api/v1/street-segments?underground=2", a.token("operator"), nil), 422, "underground")
		rfWantField(t, a.call("GET", "/api/v1/street-segments?limit=-3", a.token("operator"), nil), 422, "limit")
		rfWantField(t, a.call("GET", "/api/v1/street-segments?cursor=zzz", a.token("operator"), nil), 422, "cursor")
		rfWantField(t, a.call("GET", "/api/v1/street-segments/999999", a.token("operator"), nil), 404, "")
		rfWantField(t, a.call("GET", "/api/v1/street-segments/abc", a.token("operator"), nil), 404, "")

		// Bad input answers 4xx naming the field.
		for _, c := range []struct {
			body   any
			status int
			field  string
		}{
			{map[string]any{"unit_code": "916", "length_m": 10}, 422, "street_name"},
			{ugSegmentBody("Đường 3/2", "999", 10, false, ""), 422, "unit_code"},
			{ugSegmentBody("Đường 3/2", "916", 0, false, ""), 422, "length_m"},
			{ugSegmentBody("Đường 3/2", "916", 100001, false, ""), 422, "length_m"},
			{ugSegmentBody("Đường 3/2", "916", 10, false, "2024-01-01"), 422, "completed_on"},
			{ugSegmentBody("Đường 3/2", "916", 10, true, "2999-01-01"), 422, "completed_on"},
			{map[string]any{"street_name": "Đường 3/2", "unit_code": "916", "length_m": "10"}, 422, "length_m"},
			{map[string]any{"street_name": "Đường 3/2", "unit_code": "916", "length_m": 10, "central": "có"}, 422, "central"},
			{map[string]any{"street_name": "Đường 3/2", "unit_code": "916", "length_m": 10, "id": 5}, 422, "id"},
			{map[string]any{"street_name": "Đường 3/2", "unit_code": "916", "length_m": 10, "completed_on": "1/5/2024"}, 422, ""},
			{`{"street_name": "x"`, 400, ""},
		} {
			rfWantField(t, a.call("POST", "/api/v1/street-segments", a.token("admin"), c.body), c.status, c.field)
		}

		// PATCH any subset.
		var up ugSegmentJSON
		a.mustJSON(a.call("PATCH", path, a.token("auditor"), map[string]any{"length_m": 700.25}), 200, &up)
		if up.LengthM != 700.25 || up.StreetName != "Đường 30/4" || up.CompletedOn == nil {
			t.Fatalf("patched %+v", up)
		}
		rfWantField(t, a.call("PATCH", path, a.token("auditor"), map[string]any{"underground": false}), 422, "completed_on")
		a.mustJSON(a.call("PATCH", path, a.token("auditor"), map[string]any{"underground": false, "completed_on": nil}), 200, &up)
		if up.Underground || up.CompletedOn != nil {
			t.Fatalf("overhead again %+v", up)
		}
		rfWantField(t, a.call("PATCH", path, a.token("admin"), map[string]any{"length_m": -1}), 422, "length_m")
		rfWantField(t, a.call("PATCH", path, a.token("admin"), map[string]any{"street_name": ""}), 422, "street_name")
		rfWantField(t, a.call("PATCH", path, a.token("admin"), map[string]any{"colour": "red"}), 422, "colour")
		rfWantField(t, a.call("PATCH", path, a.token("operator"), map[string]any{"length_m": 1}), 403, "")
		rfWantField(t, a.call("PATCH", "/api/v1/street-segments/999999", a.token("admin"), map[string]any{"length_m": 1}), 404, "")

		// DELETE.
		rfWantField(t, a.call("DELETE", path, a.token("officer"), nil), 403, "")
		if r := a.call("DELETE", path, a.token("auditor"), nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		rfWantField(t, a.call("GET", path, a.token("auditor"), nil), 404, "")
		rfWantField(t, a.call("DELETE", path, a.token("auditor"), nil), 404, "")
	})
}

func TestStreetSegmentImportRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		csvType := []string{"Content-Type", "text/csv; charset=utf-8"}
		good := "\uFEFFstreet_name,unit_code,length_m,central,underground,shared,completed_on\n" +
			"Đường 30/4,916,500,có,có,có,2024-05-01\n" +
			"\"Nguyễn Văn Cừ, đoạn 2\",919,320.5,1,0,0,\n"
		bad := good + "Mậu Thân,916,abc,true,false,false,\n"

		rfWantField(t, a.call("POST", "/api/v1/street-segments/import", a.token("operator"), good, csvType...), 403, "")
		rfWantField(t, a.call("POST", "/api/v1/street-segments/import", a.token("officer"), good, csvType...), 403, "")
		rfWantField(t, a.call("POST", "/api/v1/street-segments/import", a.token("admin"), good), 415, "")
		rfWantField(t, a.call("POST", "/api/v1/street-segments/import", a.token("admin"), good, "Content-Type", "text/csv; charset=latin1"), 415, "")
		rfWantField(t, a.call("POST", "/api/v1/street-segments/import?dry_run=maybe", a.token("admin"), good, csvType...), 422, "dry_run")

		r := a.call("POST", "/api/v1/street-segments/import", a.token("auditor"), bad, csvType...)
		var e ugImportError
		if r.status != 422 || json.Unmarshal(r.body, &e) != nil || len(e.Error.Rows) != 1 || e.Error.Rows[0].Line != 4 || e.Error.Rows[0].Column != "length_m" {
			t.Fatalf("bad row: %d %s", r.status, r.body)
		}
		var res struct {
			Rows, Created, Updated int
			DryRun                 bool `json:"dry_run"`
		}
		a.mustJSON(a.call("POST", "/api/v1/street-segments/import?dry_run=true", a.token("auditor"), good, csvType...), 200, &res)
		if res.Rows != 2 || res.Created != 2 || !res.DryRun {
			t.Fatalf("dry run %+v", res)
		}
		var p struct {
			Items []ugSegmentJSON `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/street-segments", a.token("auditor"), nil), 200, &p)
		if len(p.Items) != 0 {
			t.Fatalf("a dry run or a refused import wrote %d", len(p.Items))
		}
		a.mustJSON(a.call("POST", "/api/v1/street-segments/import", a.token("admin"), good, csvType...), 200, &res)
		if res.Created != 2 || res.DryRun {
			t.Fatalf("import %+v", res)
		}
		a.mustJSON(a.call("GET", "/api/v1/street-segments?street=nguyen+van+cu", a.token("operator"), nil), 200, &p)
		if len(p.Items) != 1 || p.Items[0].StreetName != "Nguyễn Văn Cừ, đoạn 2" || p.Items[0].LengthM != 320.5 || p.Items[0].Underground {
			t.Fatalf("imported %+v", p.Items)
		}
		rfWantField(t, a.call("POST", "/api/v1/street-segments/import", a.token("admin"), "", csvType...), 400, "")
	})
}

func TestResidentialAreaRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		body := map[string]any{"name": "KĐT Nam Cần Thơ", "unit_code": "919", "kind": "handed_over", "handover_on": "2019-06-01",
			"shared_underground": true, "completed_on": "2024-10-01"}
		rfWantField(t, a.call("POST", "/api/v1/residential-areas", a.token("operator"), body), 403, "")
		var area map[string]any
		a.mustJSON(a.call("POST", "/api/v1/residential-areas", a.token("auditor"), body), 201, &area)
		for k, v := range body {
			if area[k] != v {
				t.Fatalf("%s = %v in %+v", k, area[k], area)
			}
		}
		path := fmt.Sprintf("/api/v1/residential-areas/%v", area["id"])
		a.mustJSON(a.call("GET", path, a.token("officer"), nil), 200, &area)
		var p rfPage
		a.mustJSON(a.call("GET", "/api/v1/residential-areas?kind=handed_over&name=nam+can+tho&shared_underground=true", a.token("operator"), nil), 200, &p)
		if len(p.Items) != 1 {
			t.Fatalf("list %+v", p.Items)
		}
		rfWantField(t, a.call("GET", "/api/v1/residential-areas?kind=old", a.token("operator"), nil), 422, "kind")
		rfWantField(t, a.call("GET", "/api/v1/residential-areas?shared_underground=có", a.token("operator"), nil), 422, "shared_underground")
		for _, c := range []struct {
			mod   map[string]any
			field string
		}{
			{map[string]any{"kind": "old"}, "kind"},
			{map[string]any{"handover_on": nil}, "handover_on"},
			{map[string]any{"shared_underground": false}, "completed_on"},
			{map[string]any{"name": ""}, "name"},
			{map[string]any{"unit_code": "000"}, "unit_code"},
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			for k, v := range c.mod {
				b[k] = v
			}
			rfWantField(t, a.call("POST", "/api/v1/residential-areas", a.token("admin"), b), 422, c.field)
		}
		a.mustJSON(a.call("PATCH", path, a.token("admin"), map[string]any{"kind": "new", "handover_on": nil}), 200, &area)
		if area["kind"] != "new" || area["handover_on"] != nil {
			t.Fatalf("patched %+v", area)
		}
		rfWantField(t, a.call("PATCH", path, a.token("admin"), map[string]any{"kind": "handed_over"}), 422, "handover_on")

		csvType := []string{"Content-Type", "text/csv"}
		csv := "name,unit_code,kind,handover_on,shared_underground,completed_on\nKDC Hồng Loan,919,new,,có,2024-03-01\nKDC 91B,916,handed_over,,không,\n"
		r := a.call("POST", "/api/v1/residential-areas/import", a.token("admin"), csv, csvType...)
		var e ugImportError
		if r.status != 422 || json.Unmarshal(r.body, &e) != nil || len(e.Error.Rows) != 1 || e.Error.Rows[0].Line != 3 || e.Error.Rows[0].Column != "handover_on" {
			t.Fatalf("bad row: %d %s", r.status, r.body)
		}
		rfWantField(t, a.call("POST", "/api/v1/residential-areas/import", a.token("operator"), csv, csvType...), 403, "")
		csv = strings.Replace(csv, "handed_over,,", "handed_over,2018-01-01,", 1)
		var res struct{ Created int }
		a.mustJSON(a.call("POST", "/api/v1/residential-areas/import", a.token("auditor"), csv, csvType...), 200, &res)
		if res.Created != 2 {
			t.Fatalf("import %+v", res)
		}
		rfWantField(t, a.call("DELETE", path, a.token("operator"), nil), 403, "")
		if r := a.call("DELETE", path, a.token("admin"), nil); r.status != 204 {
			t.Fatalf("delete %d %s", r.status, r.body)
		}
		rfWantField(t, a.call("GET", path, a.token("admin"), nil), 404, "")
	})
}

func TestUndergroundingReportRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		admin := a.token("admin")
		// Ninh Kiều: 4 central streets, 3 fully underground by 1 Mar 2025,
		// Trần Hưng Đạo only in part.
		for _, b := range []map[string]any{
			ugSegmentBody("Đường 30/4", "916", 500, true, "2024-05-01"),
			ugSegmentBody("Đường 30/4", "916", 700, true, "2024-08-01"),
			ugSegmentBody("Hòa Bình", "916", 800, true, "2023-12-01"),
			ugSegmentBody("Nguyễn Trãi", "916", 500, true, "2024-01-15"),
			ugSegmentBody("Trần Hưng Đạo", "916", 600, true, "2024-03-01"),
			ugSegmentBody("Trần Hưng Đạo", "916", 900, false, ""),
		} {
			a.mustJSON(a.call("POST", "/api/v1/street-segments", admin, b), 201, nil)
		}
		for _, b := range []map[string]any{
			{"name": "KDC A", "unit_code": "916", "kind": "new", "handover_on": "2024-06-01", "shared_underground": true, "completed_on": "2024-03-01"},
			{"name": "KDC B", "unit_code": "916", "kind": "new"},
			{"name": "KDC D", "unit_code": "916", "kind": "handed_over", "handover_on": "2020-01-01", "shared_underground": true, "completed_on": "2024-10-01"},
		} {
			a.mustJSON(a.call("POST", "/api/v1/residential-areas", admin, b), 201, nil)
		}

		for _, role := range []string{"officer", "operator"} {
			rfWantField(t, a.call("GET", "/api/v1/reports/undergrounding", a.token(role), nil), 403, "")
		}
		rfWantField(t, a.call("GET", "/api/v1/reports/undergrounding", "", nil), 401, "")
		rfWantField(t, a.call("GET", "/api/v1/reports/undergrounding?as_of=1/3/2025", admin, nil), 422, "as_of")
		rfWantField(t, a.call("GET", "/api/v1/reports/undergrounding?as_of=1500-01-01", admin, nil), 422, "as_of")
		rfWantField(t, a.call("GET", "/api/v1/reports/undergrounding?group_by=operator", admin, nil), 422, "group_by")

		type row struct {
			Group struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"group"`
			CentralStreets     int      `json:"central_streets"`
			UndergroundStreets int      `json:"underground_streets"`
			Share              *float64 `json:"share"`
			CentralLengthM     float64  `json:"central_length_m"`
			UndergroundLengthM float64  `json:"underground_length_m"`
			Target             *float64 `json:"target"`
			Gap                *float64 `json:"gap"`
			Areas              struct {
				NewAreas    int      `json:"new_areas"`
				NewUnder    int      `json:"new_areas_undergrounded_before_handover"`
				NewShare    *float64 `json:"new_areas_share"`
				NewTarget   *float64 `json:"new_areas_target"`
				Handed      int      `json:"handed_over_areas"`
				HandedUnder int      `json:"handed_over_areas_undergrounded"`
				HandedShare *float64 `json:"handed_over_areas_share"`
				HandedTgt   *float64 `json:"handed_over_areas_target"`
			} `json:"areas"`
		}
		var rep struct {
			AsOf    string `json:"as_of"`
			GroupBy string `json:"group_by"`
			Rows    []row  `json:"rows"`
			Totals  row    `json:"totals"`
		}
		for _, role := range []string{"auditor", "admin"} {
			a.mustJSON(a.call("GET", "/api/v1/reports/undergrounding?group_by=unit&as_of=2025-03-01", a.token(role), nil), 200, &rep)
			nk := rep.Rows[0]
			if rep.AsOf != "2025-03-01" || rep.GroupBy != "unit" || len(rep.Rows) != 9 || nk.Group.Code != "916" ||
				nk.CentralStreets != 4 || nk.UndergroundStreets != 3 || *nk.Share != 0.75 || *nk.Target != 0.7 || *nk.Gap != -0.05 ||
				nk.CentralLengthM != 4000 || nk.UndergroundLengthM != 3100 {
				t.Fatalf("%s: %+v", role, rep)
			}
			// Areas: A before its handover; B not shared; D undergrounded.
			// 2025's targets: 100 % and 50 %.
			if nk.Areas.NewAreas != 2 || nk.Areas.NewUnder != 1 || *nk.Areas.NewShare != 0.5 || *nk.Areas.NewTarget != 1 ||
				nk.Areas.Handed != 1 || nk.Areas.HandedUnder != 1 || *nk.Areas.HandedShare != 1 || *nk.Areas.HandedTgt != 0.5 {
				t.Fatalf("%s: areas %+v", role, nk.Areas)
			}
			if rep.Rows[1].Share != nil || rep.Rows[1].Gap != nil || *rep.Rows[1].Target != 0.7 {
				t.Fatalf("an empty district: %+v", rep.Rows[1])
			}
			if rep.Totals.Group.Code != "92" || rep.Totals.CentralStreets != 4 || *rep.Totals.Share != 0.75 {
				t.Fatalf("totals %+v", rep.Totals)
			}
		}
		// Before 30/4's second segment was done: 2 of 4.
		a.mustJSON(a.call("GET", "/api/v1/reports/undergrounding?as_of=2024-07-31", admin, nil), 200, &rep)
		if rep.Rows[0].UndergroundStreets != 2 || *rep.Rows[0].Share != 0.5 || rep.Rows[0].UndergroundLengthM != 2400 {
			t.Fatalf("2024-07-31: %+v", rep.Rows[0])
		}
		// as_of defaults to today in Vietnam.
		a.mustJSON(a.call("GET", "/api/v1/reports/undergrounding", admin, nil), 200, &rep)
		if rep.AsOf != auth.Today(infrashare.SystemClock{}).String() {
			t.Fatalf("default as_of %s", rep.AsOf)
		}
	})
}

// TestUndergroundAndReferenceHostileInput: nothing a client sends answers
// 500 — NUL characters (which PostgreSQL refuses in text), broken CSV,
// numbers out of range.
func TestUndergroundAndReferenceHostileInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		tok := a.token("admin")
		csvType := []string{"Content-Type", "text/csv"}
		for _, c := range []struct {
			method, path string
			body         any
			header       []string
			status       int
		}{
			{"GET", "/api/v1/street-segments?unit=%00", nil, nil, 422},
			{"GET", "/api/v1/residential-areas?unit=%00", nil, nil, 422},
			{"GET", "/api/v1/targets?unit=%00&plan=%00", nil, nil, 422},
			{"GET", "/api/v1/street-segments/99999999999999999999", nil, nil, 404},
			{"GET", "/api/v1/street-segments?limit=99999999999999999999", nil, nil, 422},
			{"GET", "/api/v1/holidays?year=99999999999999999999", nil, nil, 422},
			{"GET", "/api/v1/reports/undergrounding?as_of=9999-12-31", nil, nil, 422},
			{"POST", "/api/v1/street-segments", map[string]any{"street_name": "a\u0000b", "unit_code": "916", "length_m": 3}, nil, 422},
			{"POST", "/api/v1/street-segments", map[string]any{"street_name": "ab", "unit_code": "91\u00006", "length_m": 3}, nil, 422},
			{"POST", "/api/v1/street-segments", map[string]any{"street_name": "ab", "unit_code": "916", "length_m": 1e308}, nil, 422},
			{"POST", "/api/v1/street-segments", `{"street_name":"ab","unit_code":"916","length_m":1e999}`, nil, 422},
			{"POST", "/api/v1/residential-areas", map[string]any{"name": "x\u0000", "unit_code": "916", "kind": "new"}, nil, 422},
			{"POST", "/api/v1/residential-areas", map[string]any{"name": "x", "unit_code": "916", "kind": "new", "handover_on": "0001-01-01"}, nil, 422},
			{"PUT", "/api/v1/targets", map[string]any{"targets": []any{map[string]any{"metric": "bts_sharing_ratio", "unit_code": "9\u00002", "year": 2030, "value": 0.5}}}, nil, 422},
			{"PUT", "/api/v1/targets", map[string]any{"targets": []any{map[string]any{"metric": "bts_sharing_ratio", "unit_code": "92", "year": 2030, "value": 0.5, "note": "\u0000"}}}, nil, 422},
			{"PUT", "/api/v1/targets", `{"targets":[{"metric":"bts_sharing_ratio","unit_code":"92","year":99999999999999999999,"value":0.5}]}`, nil, 422},
			{"PUT", "/api/v1/holidays", map[string]any{"year": 2030, "holidays": []any{map[string]any{"day": "2030-01-01", "name": "x\u0000"}}}, nil, 422},
			{"PUT", "/api/v1/settings", map[string]any{"settings": []any{map[string]any{"key": "colocation.reply_days", "value": 3, "legal_basis": "x\u0000"}}}, nil, 422},
			{"PUT", "/api/v1/settings", map[string]any{"settings": []any{map[string]any{"key": "x\u0000", "value": 3}}}, nil, 422},
			{"POST", "/api/v1/street-segments/import", "street_name,unit_code,length_m\na\x00b,916,3\n", csvType, 422},
			{"POST", "/api/v1/street-segments/import", "street_name,unit_code,length_m\nab,91\x006,3\n", csvType, 422},
			{"POST", "/api/v1/street-segments/import", "street_name,unit_code,length_m\n\"ab,916,3\n", csvType, 422},
			{"POST", "/api/v1/street-segments/import", "street_name,unit_code,length_m\nab,916,3\n\"cd,916,4\n", csvType, 422},
			{"POST", "/api/v1/street-segments/import", "street_name,unit_code,length_m\nab,916,NaN\n", csvType, 422},
			{"POST", "/api/v1/street-segments/import", "\xff\xfe,unit_code\n", csvType, 422},
			{"POST", "/api/v1/residential-areas/import", "name,unit_code,kind\na\x00b,916,new\n", csvType, 422},
			{"POST", "/api/v1/residential-areas/import", "name,unit_code,kind,id\nab,916,new,99999999999999999999\n", csvType, 422},
		} {
			r := a.call(c.method, c.path, tok, c.body, c.header...)
			if r.status != c.status {
				t.Errorf("%s %s %v: %d, want %d: %.200s", c.method, c.path, c.body, r.status, c.status, r.body)
			}
		}
		var n int64
		db.Root().Table("street_segments").Count(&n)
		if n != 0 {
			t.Fatalf("hostile input wrote %d segments", n)
		}
	})
}
