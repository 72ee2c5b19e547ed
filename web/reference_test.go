package web

import (
	"encoding/json"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// rfError is an error body with its fields.
type rfError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// rfWantField fails unless r has the status and, when field is given,
// names it.
func rfWantField(t *testing.T, r response, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if field == "" {
		return
	}
	var e rfError
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Fields[field] == "" {
		t.Fatalf("want field %q named: %s", field, r.body)
	}
}

type rfPage struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

func TestReferenceTargetRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		if r := a.call("GET", "/api/v1/targets", "", nil); r.status != 401 {
			t.Fatalf("anonymous: %d", r.status)
		}
		for _, role := range []string{"admin", "auditor", "officer", "operator"} {
			var p rfPage
			a.mustJSON(a.call("GET", "/api/v1/targets", a.token(role), nil), 200, &p)
			if len(p.Items) != 7 || p.NextCursor != nil {
				t.Fatalf("%s: %d targets", role, len(p.Items))
			}
		}
		var p rfPage
		a.mustJSON(a.call("GET", "/api/v1/targets?metric=bts_sharing_ratio&year=2030&unit=92", a.token("operator"), nil), 200, &p)
		if len(p.Items) != 1 || p.Items[0]["value"] != 0.5 || p.Items[0]["plan"] != "216/KH-UBND" || p.Items[0]["unit_code"] != "92" {
			t.Fatalf("filtered: %+v", p.Items)
		}
		rfWantField(t, a.call("GET", "/api/v1/targets?year=next", a.token("operator"), nil), 422, "year")
		rfWantField(t, a.call("GET", "/api/v1/targets?metric=junk", a.token("operator"), nil), 422, "metric")

		body := map[string]any{"targets": []map[string]any{
			{"plan": "216/KH-UBND", "metric": "central_street_underground", "unit_code": "916", "year": 2030, "value": 0.8, "note": "Ninh Kiều"},
		}}
		for _, role := range []string{"auditor", "officer", "operator"} {
			rfWantField(t, a.call("PUT", "/api/v1/targets", a.token(role), body), 403, "")
		}
		rfWantField(t, a.call("PUT", "/api/v1/targets", "", body), 401, "")
		a.mustJSON(a.call("PUT", "/api/v1/targets", a.token("admin"), body), 200, &p)
		if len(p.Items) != 1 || p.Items[0]["value"] != 0.8 {
			t.Fatalf("put: %+v", p.Items)
		}
		a.mustJSON(a.call("GET", "/api/v1/targets?unit=916", a.token("officer"), nil), 200, &p)
		if len(p.Items) != 1 || p.Items[0]["note"] != "Ninh Kiều" {
			t.Fatalf("after put: %+v", p.Items)
		}

		// Bad input answers 4xx naming the field.
		bad := func(row map[string]any) map[string]any { return map[string]any{"targets": []map[string]any{row}} }
		for _, c := range []struct {
			body   any
			status int
			field  string
		}{
			{bad(map[string]any{"metric": "central_street_underground", "unit_code": "916", "year": 2030, "value": 80}), 422, "targets[0].value"},
			{bad(map[string]any{"metric": "junk", "unit_code": "916", "year": 2030, "value": 0.8}), 422, "targets[0].metric"},
			{bad(map[string]any{"metric": "central_street_underground", "unit_code": "000", "year": 2030, "value": 0.8}), 422, "targets[0].unit_code"},
			{bad(map[string]any{"metric": "central_street_underground", "unit_code": "916", "year": 3000, "value": 0.8}), 422, "targets[0].year"},
			{bad(map[string]any{"metric": "central_street_underground", "unit_code": "916", "year": "2030", "value": 0.8}), 422, "targets.year"},
			{bad(map[string]any{"metric": "central_street_underground", "unit_code": "916", "year": 2030, "value": 0.8, "colour": "red"}), 422, "colour"},
			{map[string]any{"targets": []any{}}, 422, "targets"},
			{map[string]any{}, 422, "targets"},
			{`{"targets": [`, 400, ""},
			{`[]`, 400, ""},
		} {
			rfWantField(t, a.call("PUT", "/api/v1/targets", a.token("admin"), c.body), c.status, c.field)
		}
		rfWantField(t, a.call("PUT", "/api/v1/targets", a.token("admin"), "targets=1", "Content-Type", "text/plain"), 415, "")
	})
}

func TestReferenceHolidayRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var p rfPage
		a.mustJSON(a.call("GET", "/api/v1/holidays?year=2026", a.token("operator"), nil), 200, &p)
		if len(p.Items) != 11 || p.Items[1]["day"] != "2026-02-16" || p.Items[1]["name"] != "Tết Nguyên đán" {
			t.Fatalf("2026: %+v", p.Items)
		}
		a.mustJSON(a.call("GET", "/api/v1/holidays", a.token("officer"), nil), 200, &p) // this year
		rfWantField(t, a.call("GET", "/api/v1/holidays?year=1800", a.token("officer"), nil), 422, "year")
		rfWantField(t, a.call("GET", "/api/v1/holidays?year=abc", a.token("officer"), nil), 422, "year")
		rfWantField(t, a.call("GET", "/api/v1/holidays", "", nil), 401, "")

		body := map[string]any{"year": 2027, "holidays": []map[string]any{
			{"day": "2027-01-01", "name": "Tết Dương lịch"}, {"day": "2027-02-08", "name": "Tết Nguyên đán"},
		}}
		for _, role := range []string{"auditor", "officer", "operator"} {
			rfWantField(t, a.call("PUT", "/api/v1/holidays", a.token(role), body), 403, "")
		}
		a.mustJSON(a.call("PUT", "/api/v1/holidays", a.token("admin"), body), 200, &p)
		if len(p.Items) != 2 || p.Items[0]["day"] != "2027-01-01" {
			t.Fatalf("put: %+v", p.Items)
		}
		a.mustJSON(a.call("GET", "/api/v1/holidays?year=2027", a.token("operator"), nil), 200, &p)
		if len(p.Items) != 2 || p.Items[1]["name"] != "Tết Nguyên đán" {
			t.Fatalf("2027: %+v", p.Items)
		}
		for _, c := range []struct {
			body   any
			status int
			field  string
		}{
			{map[string]any{"year": 2027, "holidays": []map[string]any{{"day": "2028-01-01", "name": "Tết"}}}, 422, "holidays[0].day"},
			{map[string]any{"year": 2027, "holidays": []map[string]any{{"day": "2027-01-01", "name": ""}}}, 422, "holidays[0].name"},
			{map[string]any{"year": 2027, "holidays": []map[string]any{{"day": "2027-01-01"}, {"day": "2027-01-01", "name": "x"}}}, 422, "holidays[0].name"},
			{map[string]any{"holidays": []map[string]any{}}, 422, "year"},
			{map[string]any{"year": 2027, "holidays": []map[string]any{{"day": "01/01/2027", "name": "Tết"}}}, 422, ""},
			{map[string]any{"year": 2027, "days": []any{}}, 422, "days"},
		} {
			rfWantField(t, a.call("PUT", "/api/v1/holidays", a.token("admin"), c.body), c.status, c.field)
		}
	})
}

func TestReferenceSettingRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		for _, role := range []string{"officer", "operator"} {
			rfWantField(t, a.call("GET", "/api/v1/settings", a.token(role), nil), 403, "")
		}
		var p rfPage
		a.mustJSON(a.call("GET", "/api/v1/settings", a.token("auditor"), nil), 200, &p)
		if len(p.Items) < 10 {
			t.Fatalf("%d settings", len(p.Items))
		}
		smtp := map[string]any{"host": "smtp.cantho.gov.vn", "port": 587, "from": "thongbao@cantho.gov.vn",
			"username": "mailer", "password": "s3cret-pw", "starttls": true}
		body := map[string]any{"settings": []map[string]any{
			{"key": "notify.smtp", "valid_from": "2000-01-01", "value": smtp, "legal_basis": ""},
		}}
		rfWantField(t, a.call("PUT", "/api/v1/settings", a.token("auditor"), body), 403, "")
		r := a.call("PUT", "/api/v1/settings", a.token("admin"), body)
		if r.status != 200 || strings.Contains(r.String(), "s3cret") || !strings.Contains(r.String(), `"password":"********"`) {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
		for _, role := range []string{"auditor", "admin"} {
			r := a.call("GET", "/api/v1/settings", a.token(role), nil)
			if r.status != 200 || strings.Contains(r.String(), "s3cret") || !strings.Contains(r.String(), `"password":"********"`) {
				t.Fatalf("%s reads %d %s", role, r.status, r.body)
			}
		}
		// What was read goes back unchanged, the password kept.
		var all struct {
			Items []map[string]any `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/settings", a.token("admin"), nil), 200, &all)
		a.mustJSON(a.call("PUT", "/api/v1/settings", a.token("admin"), map[string]any{"settings": all.Items}), 200, nil)
		var vals []string
		db.Root().Table("settings").Where("key = ?", "notify.smtp").Pluck("value", &vals)
		if len(vals) != 1 || !strings.Contains(vals[0], "s3cret-pw") {
			t.Fatalf("stored: %v", vals)
		}
		for _, c := range []struct {
			row   map[string]any
			field string
		}{
			{map[string]any{"key": "no.such.key", "value": 1}, "settings[0].key"},
			{map[string]any{"key": "colocation.reply_days", "value": "15"}, "settings[0].value"},
			{map[string]any{"key": "colocation.reply_days"}, "settings[0].value"},
			{map[string]any{"key": "colocation.reply_days", "value": 15, "valid_from": "1990-01-01"}, "settings[0].valid_from"},
		} {
			rfWantField(t, a.call("PUT", "/api/v1/settings", a.token("admin"), map[string]any{"settings": []any{c.row}}), 422, c.field)
		}
		// A future row is listed beside the one in force.
		a.mustJSON(a.call("PUT", "/api/v1/settings", a.token("admin"), map[string]any{"settings": []any{
			map[string]any{"key": "colocation.reply_days", "valid_from": "2099-01-01", "value": 10, "legal_basis": "Nghị định"},
		}}), 200, &p)
		n := 0
		for _, it := range p.Items {
			if it["key"] == "colocation.reply_days" {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%d rows of colocation.reply_days", n)
		}
	})
}
