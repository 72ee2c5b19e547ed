package permits_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/permits"
	"infrashare/registry"
)

func ugBool(b bool) *bool    { return &b }
func ugStr(s string) *string { return &s }
func ugDate(s string) infrashare.Date {
	if s == "" {
		return infrashare.Date{}
	}
	return infrashare.MustDate(s)
}

// ugSegment records a segment as the auditor, failing on error.
func (f *refFixture) ugSegment(street, unit string, length float64, central, underground bool, completed string) permits.StreetSegment {
	f.t.Helper()
	g, err := f.svc.CreateStreetSegment(dbtest.Context(f.t), f.actors["auditor"], permits.StreetSegmentInput{
		StreetName: street, UnitCode: unit, LengthM: refFloat(length), Central: central, Underground: underground,
		Shared: underground, CompletedOn: ugDate(completed)})
	if err != nil {
		f.t.Fatalf("segment %s: %v", street, err)
	}
	return g
}

// ugArea records a residential area as the admin, failing on error.
func (f *refFixture) ugArea(name, unit, kind, handover string, shared bool, completed string) permits.ResidentialArea {
	f.t.Helper()
	a, err := f.svc.CreateResidentialArea(dbtest.Context(f.t), f.actors["admin"], permits.ResidentialAreaInput{
		Name: name, UnitCode: unit, Kind: kind, HandoverOn: ugDate(handover), SharedUnderground: shared, CompletedOn: ugDate(completed)})
	if err != nil {
		f.t.Fatalf("area %s: %v", name, err)
	}
	return a
}

func (f *refFixture) ugCount(table string) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Root().Table(table).Count(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

// ugRows returns the rows of an import's validation error.
func ugRows(t *testing.T, err error) []permits.UndergroundRowError {
	t.Helper()
	e := refWant(t, err, infrashare.EINVALID)
	rows, ok := e.Details["rows"].([]permits.UndergroundRowError)
	if !ok || len(rows) == 0 {
		t.Fatalf("no rows in %v (%#v)", err, e.Details)
	}
	return rows
}

func TestStreetSegmentRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		in := permits.StreetSegmentInput{StreetName: "  Đường 30/4 ", UnitCode: "916", LengthM: refFloat(650.5), Central: true,
			Underground: true, Shared: true, CompletedOn: ugDate("2025-05-01")}

		// Admins and the department write; operators and officers do not.
		for _, role := range []string{"officer", "operator"} {
			_, err := f.svc.CreateStreetSegment(ctx, f.actors[role], in)
			refWant(t, err, infrashare.EFORBIDDEN)
		}
		g, err := f.svc.CreateStreetSegment(ctx, f.actors["auditor"], in)
		if err != nil || g.ID == 0 || g.StreetName != "Đường 30/4" || g.LengthM != 650.5 || g.CompletedOn != ugDate("2025-05-01") ||
			!g.Central || !g.Shared || g.CreatedAt.IsZero() {
			t.Fatalf("created %+v %v", g, err)
		}
		raw, _ := json.Marshal(g)
		for _, k := range []string{`"id":`, `"street_name":"Đường 30/4"`, `"unit_code":"916"`, `"length_m":650.5`, `"central":true`,
			`"underground":true`, `"shared":true`, `"completed_on":"2025-05-01"`, `"created_at":`, `"updated_at":`} {
			if !strings.Contains(string(raw), k) {
				t.Fatalf("JSON %s lacks %s", raw, k)
			}
		}
		overhead, err := f.svc.CreateStreetSegment(ctx, f.actors["admin"], permits.StreetSegmentInput{StreetName: "Hẻm 51", UnitCode: "919", LengthM: refFloat(120)})
		if err != nil || overhead.Underground || !overhead.CompletedOn.IsZero() {
			t.Fatalf("overhead %+v %v", overhead, err)
		}
		if b, _ := json.Marshal(overhead); !strings.Contains(string(b), `"completed_on":null`) {
			t.Fatalf("no completion: %s", b)
		}

		// Each rule names its field.
		for _, c := range []struct {
			mod   func(*permits.StreetSegmentInput)
			field string
		}{
			{func(i *permits.StreetSegmentInput) { i.StreetName = "" }, "street_name"},
			{func(i *permits.StreetSegmentInput) { i.StreetName = "   " }, "street_name"},
			{func(i *permits.StreetSegmentInput) { i.StreetName = strings.Repeat("đ", 201) }, "street_name"},
			{func(i *permits.StreetSegmentInput) { i.UnitCode = "" }, "unit_code"},
			{func(i *permits.StreetSegmentInput) { i.UnitCode = "999" }, "unit_code"},
			{func(i *permits.StreetSegmentInput) { i.LengthM = nil }, "length_m"},
			{func(i *permits.StreetSegmentInput) { i.LengthM = refFloat(0) }, "length_m"},
			{func(i *permits.StreetSegmentInput) { i.LengthM = refFloat(-5) }, "length_m"},
			{func(i *permits.StreetSegmentInput) { i.LengthM = refFloat(100000.5) }, "length_m"},
			{func(i *permits.StreetSegmentInput) { i.LengthM = refFloat(math.NaN()) }, "length_m"},
			{func(i *permits.StreetSegmentInput) { i.Underground = false }, "completed_on"},
			{func(i *permits.StreetSegmentInput) { i.CompletedOn = ugDate("2026-03-11") }, "completed_on"}, // tomorrow
		} {
			bad := in
			c.mod(&bad)
			_, err := f.svc.CreateStreetSegment(ctx, f.actors["admin"], bad)
			refWantField(t, err, c.field)
		}
		// The longest segment allowed.
		in2 := in
		in2.LengthM = refFloat(100000)
		if _, err := f.svc.CreateStreetSegment(ctx, f.actors["admin"], in2); err != nil {
			t.Fatal(err)
		}
		// The unit must be valid on the completion date: a district retired
		// on 1 Jul 2025 takes completions before, not after.
		if _, err := f.units.Retire(ctx, f.actors["admin"], "917", infrashare.MustDate("2025-07-01")); err != nil {
			t.Fatal(err)
		}
		old := permits.StreetSegmentInput{StreetName: "Đường 26/3", UnitCode: "917", LengthM: refFloat(300), Central: true,
			Underground: true, CompletedOn: ugDate("2025-06-30")}
		if _, err := f.svc.CreateStreetSegment(ctx, f.actors["admin"], old); err != nil {
			t.Fatalf("completed while 917 was valid: %v", err)
		}
		old.CompletedOn = ugDate("2025-07-01")
		_, err = f.svc.CreateStreetSegment(ctx, f.actors["admin"], old)
		refWantField(t, err, "unit_code")
		old.CompletedOn, old.Underground = infrashare.Date{}, false
		_, err = f.svc.CreateStreetSegment(ctx, f.actors["admin"], old) // today: 917 is gone
		refWantField(t, err, "unit_code")

		// Every role reads.
		for _, role := range []string{"admin", "auditor", "officer", "operator"} {
			got, err := f.svc.GetStreetSegment(ctx, f.actors[role], g.ID)
			if err != nil || got.ID != g.ID || got.StreetName != "Đường 30/4" {
				t.Fatalf("%s reads %+v %v", role, got, err)
			}
		}
		_, err = f.svc.GetStreetSegment(ctx, f.actors["operator"], 999999)
		refWant(t, err, infrashare.ENOTFOUND)

		// PATCH any subset.
		up, err := f.svc.UpdateStreetSegment(ctx, f.actors["auditor"], g.ID, permits.StreetSegmentPatch{LengthM: refFloat(700)})
		if err != nil || up.LengthM != 700 || up.StreetName != "Đường 30/4" || !up.Underground || up.CompletedOn != ugDate("2025-05-01") {
			t.Fatalf("patch: %+v %v", up, err)
		}
		// Overhead again needs the completion date cleared in the same change.
		_, err = f.svc.UpdateStreetSegment(ctx, f.actors["auditor"], g.ID, permits.StreetSegmentPatch{Underground: ugBool(false)})
		refWantField(t, err, "completed_on")
		var p permits.StreetSegmentPatch
		if err := json.Unmarshal([]byte(`{"underground":false,"completed_on":null}`), &p); err != nil {
			t.Fatal(err)
		}
		up, err = f.svc.UpdateStreetSegment(ctx, f.actors["auditor"], g.ID, p)
		if err != nil || up.Underground || !up.CompletedOn.IsZero() || up.LengthM != 700 {
			t.Fatalf("patch to overhead: %+v %v", up, err)
		}
		_, err = f.svc.UpdateStreetSegment(ctx, f.actors["admin"], g.ID, permits.StreetSegmentPatch{StreetName: ugStr("")})
		refWantField(t, err, "street_name")
		_, err = f.svc.UpdateStreetSegment(ctx, f.actors["admin"], g.ID, permits.StreetSegmentPatch{UnitCode: ugStr("917")})
		refWantField(t, err, "unit_code")
		_, err = f.svc.UpdateStreetSegment(ctx, f.actors["operator"], g.ID, permits.StreetSegmentPatch{LengthM: refFloat(1)})
		refWant(t, err, infrashare.EFORBIDDEN)
		_, err = f.svc.UpdateStreetSegment(ctx, f.actors["admin"], 999999, permits.StreetSegmentPatch{LengthM: refFloat(1)})
		refWant(t, err, infrashare.ENOTFOUND)
		// The segment recorded in 917 keeps its unit when something else changes.
		var kept permits.StreetSegment
		db.Root().Where("unit_code = ?", "917").First(&kept)
		if _, err := f.svc.UpdateStreetSegment(ctx, f.actors["admin"], kept.ID, permits.StreetSegmentPatch{Shared: ugBool(true)}); err != nil {
			t.Fatalf("a retired unit's record: %v", err)
		}

		// Delete.
		refWant(t, f.svc.DeleteStreetSegment(ctx, f.actors["officer"], g.ID), infrashare.EFORBIDDEN)
		if err := f.svc.DeleteStreetSegment(ctx, f.actors["admin"], g.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetStreetSegment(ctx, f.actors["admin"], g.ID)
		refWant(t, err, infrashare.ENOTFOUND)
		refWant(t, f.svc.DeleteStreetSegment(ctx, f.actors["admin"], g.ID), infrashare.ENOTFOUND)

		for action, want := range map[string]int64{"street_segment.create": 4, "street_segment.update": 3, "street_segment.delete": 1} {
			if n := refAuditCount(t, db, action); n != want {
				t.Errorf("%d %s events, want %d", n, action, want)
			}
		}
	})
}

func TestStreetSegmentList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		f.ugSegment("Đường 30/4", "916", 500, true, true, "2025-05-01")
		f.ugSegment("Hòa Bình", "916", 800, true, false, "")
		f.ugSegment("ĐƯỜNG 3/2", "916", 300, false, false, "")
		f.ugSegment("Trần Hưng Đạo", "919", 600, true, true, "2025-03-01")
		f.ugSegment("đường Võ Văn Kiệt", "918", 200, true, false, "")
		names := func(items []permits.StreetSegment) string {
			var out []string
			for _, g := range items {
				out = append(out, g.StreetName)
			}
			return strings.Join(out, "|")
		}
		for _, c := range []struct {
			f    permits.StreetSegmentFilter
			want string
		}{
			{permits.StreetSegmentFilter{}, "Đường 30/4|Hòa Bình|ĐƯỜNG 3/2|Trần Hưng Đạo|đường Võ Văn Kiệt"},
			{permits.StreetSegmentFilter{Unit: "916"}, "Đường 30/4|Hòa Bình|ĐƯỜNG 3/2"},
			{permits.StreetSegmentFilter{Central: ugBool(false)}, "ĐƯỜNG 3/2"},
			{permits.StreetSegmentFilter{Underground: ugBool(true)}, "Đường 30/4|Trần Hưng Đạo"},
			{permits.StreetSegmentFilter{Street: "duong"}, "Đường 30/4|ĐƯỜNG 3/2|đường Võ Văn Kiệt"},
			{permits.StreetSegmentFilter{Street: "TRAN HUNG"}, "Trần Hưng Đạo"},
			{permits.StreetSegmentFilter{Street: "hòa bình", Unit: "916", Central: ugBool(true)}, "Hòa Bình"},
			{permits.StreetSegmentFilter{Street: "không có"}, ""},
		} {
			items, next, err := f.svc.ListStreetSegments(ctx, f.actors["officer"], c.f)
			if err != nil || names(items) != c.want || next != "" {
				t.Errorf("%+v: %q %q %v; want %q", c.f, names(items), next, err, c.want)
			}
		}
		// Pages of two, with and without a folded filter.
		for _, c := range []struct {
			f    permits.StreetSegmentFilter
			want string
		}{
			{permits.StreetSegmentFilter{Limit: 2}, "Đường 30/4|Hòa Bình|ĐƯỜNG 3/2|Trần Hưng Đạo|đường Võ Văn Kiệt"},
			{permits.StreetSegmentFilter{Limit: 2, Street: "đường"}, "Đường 30/4|ĐƯỜNG 3/2|đường Võ Văn Kiệt"},
		} {
			var all []permits.StreetSegment
			pages := 0
			for {
				items, next, err := f.svc.ListStreetSegments(ctx, f.actors["operator"], c.f)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				all = append(all, items...)
				if next == "" {
					break
				}
				c.f.Cursor = next
			}
			if names(all) != c.want || pages < 2 {
				t.Errorf("paged: %q in %d pages; want %q", names(all), pages, c.want)
			}
		}
		_, _, err := f.svc.ListStreetSegments(ctx, f.actors["operator"], permits.StreetSegmentFilter{Cursor: "junk"})
		refWantField(t, err, "cursor")
	})
}

func TestResidentialAreaRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		in := permits.ResidentialAreaInput{Name: "Khu đô thị Nam Cần Thơ", UnitCode: "919", Kind: "handed_over",
			HandoverOn: ugDate("2019-06-01"), SharedUnderground: true, CompletedOn: ugDate("2025-10-01")}
		for _, role := range []string{"officer", "operator"} {
			_, err := f.svc.CreateResidentialArea(ctx, f.actors[role], in)
			refWant(t, err, infrashare.EFORBIDDEN)
		}
		a, err := f.svc.CreateResidentialArea(ctx, f.actors["auditor"], in)
		if err != nil || a.ID == 0 || a.Kind != "handed_over" || a.HandoverOn != ugDate("2019-06-01") {
			t.Fatalf("created %+v %v", a, err)
		}
		raw, _ := json.Marshal(a)
		for _, k := range []string{`"name":"Khu đô thị Nam Cần Thơ"`, `"kind":"handed_over"`, `"handover_on":"2019-06-01"`,
			`"shared_underground":true`, `"completed_on":"2025-10-01"`} {
			if !strings.Contains(string(raw), k) {
				t.Fatalf("JSON %s lacks %s", raw, k)
			}
		}
		// A new area may carry a planned handover date.
		if _, err := f.svc.CreateResidentialArea(ctx, f.actors["admin"], permits.ResidentialAreaInput{Name: "KDC Hồng Loan 6", UnitCode: "919",
			Kind: "new", HandoverOn: ugDate("2027-01-01")}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			mod   func(*permits.ResidentialAreaInput)
			field string
		}{
			{func(i *permits.ResidentialAreaInput) { i.Name = "" }, "name"},
			{func(i *permits.ResidentialAreaInput) { i.UnitCode = "999" }, "unit_code"},
			{func(i *permits.ResidentialAreaInput) { i.Kind = "" }, "kind"},
			{func(i *permits.ResidentialAreaInput) { i.Kind = "old" }, "kind"},
			{func(i *permits.ResidentialAreaInput) { i.HandoverOn = infrashare.Date{} }, "handover_on"},
			{func(i *permits.ResidentialAreaInput) { i.HandoverOn = ugDate("2026-04-01") }, "handover_on"},
			{func(i *permits.ResidentialAreaInput) { i.SharedUnderground = false }, "completed_on"},
			{func(i *permits.ResidentialAreaInput) { i.CompletedOn = ugDate("2026-12-01") }, "completed_on"},
		} {
			bad := in
			c.mod(&bad)
			_, err := f.svc.CreateResidentialArea(ctx, f.actors["admin"], bad)
			refWantField(t, err, c.field)
		}
		// PATCH: turning it into a new area drops the handover requirement;
		// dropping the date of a handed-over area is refused.
		var p permits.ResidentialAreaPatch
		json.Unmarshal([]byte(`{"handover_on":null}`), &p)
		_, err = f.svc.UpdateResidentialArea(ctx, f.actors["admin"], a.ID, p)
		refWantField(t, err, "handover_on")
		p.Kind = ugStr("new")
		up, err := f.svc.UpdateResidentialArea(ctx, f.actors["admin"], a.ID, p)
		if err != nil || up.Kind != "new" || !up.HandoverOn.IsZero() || up.Name != in.Name {
			t.Fatalf("patch: %+v %v", up, err)
		}
		items, _, err := f.svc.ListResidentialAreas(ctx, f.actors["operator"], permits.ResidentialAreaFilter{Kind: "new", Name: "khu do thi"})
		if err != nil || len(items) != 1 || items[0].ID != a.ID {
			t.Fatalf("list: %+v %v", items, err)
		}
		items, _, _ = f.svc.ListResidentialAreas(ctx, f.actors["operator"], permits.ResidentialAreaFilter{SharedUnderground: ugBool(false)})
		if len(items) != 1 || items[0].Name != "KDC Hồng Loan 6" {
			t.Fatalf("list by shared_underground: %+v", items)
		}
		_, _, err = f.svc.ListResidentialAreas(ctx, f.actors["operator"], permits.ResidentialAreaFilter{Kind: "old"})
		refWantField(t, err, "kind")
		if err := f.svc.DeleteResidentialArea(ctx, f.actors["auditor"], a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetResidentialArea(ctx, f.actors["auditor"], a.ID)
		refWant(t, err, infrashare.ENOTFOUND)
		for action, want := range map[string]int64{"residential_area.create": 2, "residential_area.update": 1, "residential_area.delete": 1} {
			if n := refAuditCount(t, db, action); n != want {
				t.Errorf("%d %s events, want %d", n, action, want)
			}
		}
	})
}

// ugSegmentCSV is a header and 19 rows (lines 2–20); bad replaces line 7.
func ugSegmentCSV(bad string) string {
	var b strings.Builder
	b.WriteString("\uFEFFstreet_name,unit_code,length_m,central,underground,shared,completed_on\n")
	for line := 2; line <= 20; line++ {
		if line == 7 && bad != "" {
			b.WriteString(bad + "\n")
			continue
		}
		switch line % 3 {
		case 0:
			fmt.Fprintf(&b, "Đường Nguyễn Văn Cừ %d,916,%d.5,có,có,không,2025-0%d-15\n", line, 100+line, 1+line%9)
		case 1:
			fmt.Fprintf(&b, "\"Hẻm %d, Trần Hưng Đạo\",919,%d,1,0,0,\n", line, 50+line)
		default:
			fmt.Fprintf(&b, "Mậu Thân %d,918,%d,true,false,false,\n", line, 200+line)
		}
	}
	return b.String()
}

func TestImportStreetSegmentsAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		auditor := f.actors["auditor"]

		// A bad row on line 7 of 20: nothing written, line 7 named.
		for _, c := range []struct {
			line, column string
		}{
			{"Đường 3/2,916,-4,true,false,false,", "length_m"},
			{"Đường 3/2,999,40,true,false,false,", "unit_code"},
			{"Đường 3/2,916,40,maybe,false,false,", "central"},
			{"Đường 3/2,916,40,true,false,false,2025-01-01", "completed_on"},
			{"Đường 3/2,916,40,true,true,false,15/01/2025", "completed_on"},
			{",916,40,true,false,false,", "street_name"},
			{"Đường 3/2,916,1e400,true,false,false,", "length_m"},
			{"Đường 3/2,916,40,true", ""}, // too few cells
		} {
			for _, dry := range []bool{false, true} {
				_, err := f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(ugSegmentCSV(c.line)), dry)
				rows := ugRows(t, err)
				if len(rows) != 1 || rows[0].Line != 7 || rows[0].Column != c.column || rows[0].Reason == "" {
					t.Fatalf("%q: rows %+v", c.line, rows)
				}
			}
		}
		if n := f.ugCount("street_segments"); n != 0 || refAuditCount(t, db, "street_segment.import") != 0 {
			t.Fatalf("a refused import wrote %d segments", n)
		}
		// Several bad rows are all listed, in line order.
		bad := ugSegmentCSV("Đường 3/2,916,0,true,false,false,") + "Đường 3/2,916,40,true,false,false,2099-01-01\n"
		rows := ugRows(t, func() error {
			_, err := f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(bad), false)
			return err
		}())
		if len(rows) != 2 || rows[0].Line != 7 || rows[1].Line != 21 {
			t.Fatalf("rows %+v", rows)
		}

		// Operators and officers cannot import.
		for _, role := range []string{"operator", "officer"} {
			_, err := f.svc.ImportStreetSegments(ctx, f.actors[role], strings.NewReader(ugSegmentCSV("")), false)
			refWant(t, err, infrashare.EFORBIDDEN)
		}

		// A dry run counts and writes nothing.
		res, err := f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(ugSegmentCSV("")), true)
		if err != nil || res.Rows != 19 || res.Created != 19 || !res.DryRun || f.ugCount("street_segments") != 0 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		// The good file: 19 segments, Vietnamese kept, booleans read, one event.
		res, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(ugSegmentCSV("")), false)
		if err != nil || res.Rows != 19 || res.Created != 19 || res.Updated != 0 || res.DryRun {
			t.Fatalf("import: %+v %v", res, err)
		}
		if n := f.ugCount("street_segments"); n != 19 {
			t.Fatalf("%d segments", n)
		}
		items, _, _ := f.svc.ListStreetSegments(ctx, auditor, permits.StreetSegmentFilter{Street: "nguyen van cu 6"})
		if len(items) != 1 || items[0].StreetName != "Đường Nguyễn Văn Cừ 6" || !items[0].Central || !items[0].Underground ||
			items[0].Shared || items[0].LengthM != 106.5 || items[0].CompletedOn != ugDate("2025-07-15") {
			t.Fatalf("imported %+v", items)
		}
		items, _, _ = f.svc.ListStreetSegments(ctx, auditor, permits.StreetSegmentFilter{Street: "hem 7, tran"})
		if len(items) != 1 || items[0].StreetName != "Hẻm 7, Trần Hưng Đạo" || !items[0].Central || items[0].Underground {
			t.Fatalf("quoted comma: %+v", items)
		}
		var ev auth.AuditEvent
		if err := db.Root().Where("action = ?", "street_segment.import").First(&ev).Error; err != nil || ev.After == nil ||
			!strings.Contains(*ev.After, `"created":19`) || !strings.Contains(*ev.After, `"sha256":`) {
			t.Fatalf("audit %+v %v", ev, err)
		}
		if n := refAuditCount(t, db, "street_segment.import"); n != 1 || refAuditCount(t, db, "street_segment.create") != 0 {
			t.Fatalf("%d import events", n)
		}

		// An id column updates those records; semicolons as Excel writes them.
		id := items[0].ID
		upd := fmt.Sprintf("id;underground;completed_on;created_at\n%d;0;;2020-01-01T00:00:00Z\n;1;2025-02-02;\n", id)
		_, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(upd), false)
		rows = ugRows(t, err) // line 3 creates: no street name, unit or length
		if rows[0].Line != 3 {
			t.Fatalf("rows %+v", rows)
		}
		upd = fmt.Sprintf("id;underground;shared;length_m\n%d;không;có;77\n", id)
		res, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(upd), false)
		if err != nil || res.Updated != 1 || res.Created != 0 {
			t.Fatalf("update: %+v %v", res, err)
		}
		got, _ := f.svc.GetStreetSegment(ctx, auditor, id)
		if got.Underground || !got.Shared || got.LengthM != 77 || got.StreetName != "Hẻm 7, Trần Hưng Đạo" {
			t.Fatalf("updated %+v", got)
		}
		for _, c := range []struct{ csv, column string }{
			{"id,length_m\n999999,5\n", "id"},
			{fmt.Sprintf("id,length_m\n%d,5\n%d,6\n", id, id), "id"},
			{"id,length_m\nabc,5\n", "id"},
		} {
			_, err := f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(c.csv), false)
			rows := ugRows(t, err)
			if rows[len(rows)-1].Column != c.column {
				t.Fatalf("%q: %+v", c.csv, rows)
			}
		}

		// A wrong header is refused on line 1; an empty file is malformed.
		_, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader("street_name,unit_code,colour\nA,916,red\n"), false)
		if rows := ugRows(t, err); rows[0].Line != 1 || rows[0].Column != "colour" {
			t.Fatalf("header: %+v", rows)
		}
		_, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader(""), false)
		refWant(t, err, infrashare.EMALFORMED)
		_, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader("street_name,unit_code,length_m\n"), false)
		refWantField(t, err, "rows")
		_, err = f.svc.ImportStreetSegments(ctx, auditor, strings.NewReader("street_name,unit_code,length_m\n\"A,916,3\n"), false)
		if rows := ugRows(t, err); rows[0].Line != 2 {
			t.Fatalf("broken quote: %+v", rows)
		}
		if n := f.ugCount("street_segments"); n != 19 {
			t.Fatalf("%d segments after refused imports", n)
		}
	})
}

func TestImportResidentialAreas(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		file := func(bad string) string {
			var b strings.Builder
			b.WriteString("kind,name,unit_code,handover_on,shared_underground,completed_on\n")
			for line := 2; line <= 20; line++ {
				switch {
				case line == 7 && bad != "":
					b.WriteString(bad + "\n")
				case line%2 == 0:
					fmt.Fprintf(&b, "new,KDC Nam Long %d,919,,có,2025-11-%02d\n", line, line)
				default:
					fmt.Fprintf(&b, "handed_over,Khu tái định cư %d,916,2018-05-01,không,\n", line)
				}
			}
			return b.String()
		}
		for _, c := range []struct{ line, column string }{
			{"handed_over,KTĐC Cồn Khương,916,,không,", "handover_on"},
			{"old,KTĐC Cồn Khương,916,2018-05-01,không,", "kind"},
			{"new,KTĐC Cồn Khương,916,,không,2025-01-01", "completed_on"},
			{"new,,916,,không,", "name"},
		} {
			_, err := f.svc.ImportResidentialAreas(ctx, f.actors["admin"], strings.NewReader(file(c.line)), false)
			rows := ugRows(t, err)
			if len(rows) != 1 || rows[0].Line != 7 || rows[0].Column != c.column {
				t.Fatalf("%q: %+v", c.line, rows)
			}
		}
		if n := f.ugCount("residential_areas"); n != 0 {
			t.Fatalf("%d areas after refused imports", n)
		}
		_, err := f.svc.ImportResidentialAreas(ctx, f.actors["operator"], strings.NewReader(file("")), false)
		refWant(t, err, infrashare.EFORBIDDEN)
		res, err := f.svc.ImportResidentialAreas(ctx, f.actors["admin"], strings.NewReader(file("")), false)
		if err != nil || res.Created != 19 {
			t.Fatalf("import: %+v %v", res, err)
		}
		items, _, _ := f.svc.ListResidentialAreas(ctx, f.actors["officer"], permits.ResidentialAreaFilter{Name: "tai dinh cu 7"})
		if len(items) != 1 || items[0].Kind != "handed_over" || items[0].HandoverOn != ugDate("2018-05-01") || items[0].SharedUnderground {
			t.Fatalf("imported %+v", items)
		}
		if n := refAuditCount(t, db, "residential_area.import"); n != 1 {
			t.Fatalf("%d import events", n)
		}
	})
}

// ugFigures is a report row's figures, for comparing.
type ugFigures struct {
	central, under     int
	share              any // float64 or nil
	length, underLen   float64
	target, gap        any
	newAreas, newUnder int
	newShare           any
	handed, handedDone int
	handedShare        any
	newTarget          any
	handedTarget       any
}

func ugVal(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func ugFiguresOf(r permits.UndergroundingRow) ugFigures {
	return ugFigures{central: r.CentralStreets, under: r.UndergroundStreets, share: ugVal(r.Share), length: r.CentralLengthM,
		underLen: r.UndergroundLengthM, target: ugVal(r.Target), gap: ugVal(r.Gap),
		newAreas: r.Areas.NewAreas, newUnder: r.Areas.NewAreasUndergroundedBeforeHandover, newShare: ugVal(r.Areas.NewAreasShare),
		handed: r.Areas.HandedOverAreas, handedDone: r.Areas.HandedOverAreasUndergrounded, handedShare: ugVal(r.Areas.HandedOverAreasShare),
		newTarget: ugVal(r.Areas.NewAreasTarget), handedTarget: ugVal(r.Areas.HandedOverAreasTarget)}
}

// ugReportData is the hand-made data set of the report test.
//
// Ninh Kiều (916), central streets:
//   - Đường 30/4: 500 m done 2025-05-01 + 700 m done 2025-08-01
//   - Hòa Bình: 800 m done 2024-12-01
//   - Nguyễn Trãi: 400 m done 2025-01-15 + "nguyễn  trãi" 100 m done 2025-02-01 (the same street), the latter in a
//     commune of Ninh Kiều
//   - Trần Hưng Đạo: 600 m done 2025-03-01 + 900 m overhead
//   - and Hẻm 51, not central, underground.
//
// Cái Răng (919): Võ Nguyên Giáp 1000 m underground without a date, Trần Hoàng Na 300 m overhead.
// A post-2025 ward (parent 92): Đường Cách Mạng Tháng Tám 250 m done 2025-09-01.
//
// Areas: 916 new A (done 2025-03-01, handover 2025-06-01), new B (done 2025-09-01, after its handover 2025-06-01),
// new C (not shared), handed-over D (2020-01-01, done 2025-10-01), handed-over E (2019-05-01, not shared);
// 919 new F (done 2026-01-10, no handover yet).
func ugReportData(f *refFixture) {
	ctx := dbtest.Context(f.t)
	if _, err := f.units.Create(ctx, f.actors["admin"], registry.NewUnit{Code: "31117", Name: "Phường Xuân Khánh",
		Level: "commune", ParentCode: "916", ValidFrom: "2004-01-01"}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.units.Create(ctx, f.actors["admin"], registry.NewUnit{Code: "31120", Name: "Phường Ninh Kiều",
		Level: "commune", ParentCode: "92", ValidFrom: "2025-07-01"}); err != nil {
		f.t.Fatal(err)
	}
	f.ugSegment("Đường 30/4", "916", 500, true, true, "2025-05-01")
	f.ugSegment("Đường 30/4", "916", 700, true, true, "2025-08-01")
	f.ugSegment("Hòa Bình", "916", 800, true, true, "2024-12-01")
	f.ugSegment("Nguyễn Trãi", "916", 400, true, true, "2025-01-15")
	f.ugSegment("nguyễn  trãi", "31117", 100, true, true, "2025-02-01")
	f.ugSegment("Trần Hưng Đạo", "916", 600, true, true, "2025-03-01")
	f.ugSegment("Trần Hưng Đạo", "916", 900, true, false, "")
	f.ugSegment("Hẻm 51", "916", 150, false, true, "2024-01-01")
	f.ugSegment("Võ Nguyên Giáp", "919", 1000, true, true, "")
	f.ugSegment("Trần Hoàng Na", "919", 300, true, false, "")
	f.ugSegment("Đường Cách Mạng Tháng Tám", "31120", 250, true, true, "2025-09-01")

	f.ugArea("KDC A", "916", "new", "2025-06-01", true, "2025-03-01")
	f.ugArea("KDC B", "916", "new", "2025-06-01", true, "2025-09-01")
	f.ugArea("KDC C", "916", "new", "", false, "")
	f.ugArea("KDC D", "916", "handed_over", "2020-01-01", true, "2025-10-01")
	f.ugArea("KDC E", "916", "handed_over", "2019-05-01", false, "")
	f.ugArea("KDC F", "919", "new", "", true, "2026-01-10")
}

func TestUndergroundingReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		ugReportData(f)
		// Cái Răng has a goal of its own.
		if _, err := f.svc.PutTargets(ctx, f.actors["admin"], []permits.TargetRow{
			{Metric: permits.MetricCentralStreetUndg, UnitCode: "919", Year: 2030, Value: refFloat(0.60)},
		}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"officer", "operator"} {
			_, err := f.svc.UndergroundingReport(ctx, f.actors[role], infrashare.Date{}, "unit")
			refWant(t, err, infrashare.EFORBIDDEN)
		}
		_, err := f.svc.UndergroundingReport(ctx, f.actors["auditor"], infrashare.Date{}, "operator")
		refWantField(t, err, "group_by")

		byCode := func(rep permits.UndergroundingView) map[string]permits.UndergroundingRow {
			m := map[string]permits.UndergroundingRow{}
			for _, r := range rep.Rows {
				m[r.Group.Code] = r
			}
			return m
		}
		check := func(what string, got permits.UndergroundingRow, want ugFigures) {
			t.Helper()
			g := ugFiguresOf(got)
			if fmt.Sprint(g) != fmt.Sprint(want) {
				t.Errorf("%s:\n got %+v\nwant %+v", what, g, want)
			}
		}

		// As of 1 Mar 2026.
		rep, err := f.svc.UndergroundingReport(ctx, f.actors["auditor"], infrashare.MustDate("2026-03-01"), "")
		if err != nil {
			t.Fatal(err)
		}
		if rep.GroupBy != "unit" || rep.AsOf != ugDate("2026-03-01") || len(rep.Rows) != 9 || rep.Rows[0].Group.Code != "916" ||
			rep.Rows[0].Group.Name != "Quận Ninh Kiều" || rep.Rows[8].Group.Code != "927" {
			t.Fatalf("report: %+v", rep)
		}
		rows := byCode(rep)
		// Ninh Kiều: 4 central streets, 3 fully underground (Trần Hưng Đạo only in part): 0.75 against 0.70.
		check("916 on 2026-03-01", rows["916"], ugFigures{central: 4, under: 3, share: 0.75, length: 4000, underLen: 3100,
			target: 0.70, gap: -0.05, newAreas: 3, newUnder: 1, newShare: 0.3333, handed: 2, handedDone: 1, handedShare: 0.5,
			newTarget: 1.0, handedTarget: 1.0})
		// Cái Răng: an underground segment without a date does not count.
		check("919 on 2026-03-01", rows["919"], ugFigures{central: 2, under: 0, share: 0.0, length: 1300, underLen: 0,
			target: 0.60, gap: 0.60, newAreas: 1, newUnder: 1, newShare: 1.0, handed: 0, handedDone: 0, handedShare: nil,
			newTarget: 1.0, handedTarget: 1.0})
		// Nothing recorded: nothing to share.
		check("923 on 2026-03-01", rows["923"], ugFigures{target: 0.70, newTarget: 1.0, handedTarget: 1.0})
		// The city: the districts and the post-2025 ward.
		check("city on 2026-03-01", rep.Totals, ugFigures{central: 7, under: 4, share: 0.5714, length: 5550, underLen: 3350,
			target: 0.70, gap: 0.1286, newAreas: 4, newUnder: 2, newShare: 0.5, handed: 2, handedDone: 1, handedShare: 0.5,
			newTarget: 1.0, handedTarget: 1.0})
		if rep.Totals.Group.Code != "92" || rep.Totals.Group.Name != "Thành phố Cần Thơ" {
			t.Fatalf("totals group %+v", rep.Totals.Group)
		}

		// As of 30 Jun 2025: 30/4's second segment, D and F are not done
		// yet; the areas' targets are 2025's.
		rep, err = f.svc.UndergroundingReport(ctx, f.actors["admin"], infrashare.MustDate("2025-06-30"), "unit")
		if err != nil {
			t.Fatal(err)
		}
		rows = byCode(rep)
		check("916 on 2025-06-30", rows["916"], ugFigures{central: 4, under: 2, share: 0.5, length: 4000, underLen: 2400,
			target: 0.70, gap: 0.2, newAreas: 3, newUnder: 1, newShare: 0.3333, handed: 2, handedDone: 0, handedShare: 0.0,
			newTarget: 1.0, handedTarget: 0.5})
		check("city on 2025-06-30", rep.Totals, ugFigures{central: 7, under: 2, share: 0.2857, length: 5550, underLen: 2400,
			target: 0.70, gap: 0.4143, newAreas: 4, newUnder: 1, newShare: 0.25, handed: 2, handedDone: 0, handedShare: 0.0,
			newTarget: 1.0, handedTarget: 0.5})

		// The day before the first completion: nothing is underground.
		rep, _ = f.svc.UndergroundingReport(ctx, f.actors["admin"], infrashare.MustDate("2024-11-30"), "unit")
		if r := byCode(rep)["916"]; r.UndergroundStreets != 0 || r.UndergroundLengthM != 0 || *r.Share != 0 {
			t.Fatalf("2024-11-30: %+v", r)
		}
		// The day of the last completion of 30/4 counts it.
		rep, _ = f.svc.UndergroundingReport(ctx, f.actors["admin"], infrashare.MustDate("2025-08-01"), "unit")
		if r := byCode(rep)["916"]; r.UndergroundStreets != 3 {
			t.Fatalf("2025-08-01: %+v", r)
		}
		// Today by default.
		rep, err = f.svc.UndergroundingReport(ctx, f.actors["admin"], infrashare.Date{}, "")
		if err != nil || rep.AsOf != ugDate("2026-03-10") {
			t.Fatalf("default as_of: %v %v", rep.AsOf, err)
		}
		raw, _ := json.Marshal(rep)
		for _, k := range []string{`"group":{"code":"916","name":"Quận Ninh Kiều"}`, `"central_streets":4`, `"underground_streets":3`,
			`"share":0.75`, `"central_length_m":4000`, `"underground_length_m":3100`, `"target":0.7`, `"gap":-0.05`,
			`"new_areas":3`, `"new_areas_undergrounded_before_handover":1`, `"handed_over_areas":2`, `"handed_over_areas_undergrounded":1`,
			`"share":null`, `"totals":`} {
			if !strings.Contains(string(raw), k) {
				t.Errorf("report JSON lacks %s", k)
			}
		}
	})
}
