package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

type annualJSON struct {
	Year        int       `json:"year"`
	GeneratedAt time.Time `json:"generated_at"`
	Frozen      *struct {
		At     time.Time `json:"at"`
		SHA256 string    `json:"sha256"`
		By     struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"by"`
	} `json:"frozen"`
	SharingRatio *struct {
		ByUnit []struct {
			Group struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"group"`
			Total  int      `json:"total"`
			Ratio  *float64 `json:"ratio"`
			Target *float64 `json:"target"`
		} `json:"by_unit"`
		ByOperator []struct {
			Group struct {
				Code string `json:"code"`
			} `json:"group"`
			Target *float64 `json:"target"`
		} `json:"by_operator"`
		Total *struct {
			Total  int      `json:"total"`
			Target *float64 `json:"target"`
		} `json:"total"`
	} `json:"sharing_ratio"`
	Undergrounding *struct {
		AsOf string `json:"as_of"`
		Rows []any  `json:"rows"`
	} `json:"undergrounding"`
	Colocation *struct {
		Filed            *int           `json:"filed"`
		RejectedByReason map[string]int `json:"rejected_by_reason"`
	} `json:"colocation"`
	Permits *struct {
		Filed                *int `json:"filed"`
		DecisionDeadlineDays int  `json:"decision_deadline_days"`
	} `json:"permits"`
	Restatements []struct {
		Path    string `json:"path"`
		Frozen  any    `json:"frozen"`
		Current any    `json:"current"`
	} `json:"restatements"`
}

// The annual report routes end to end on the full demo: JSON, XLSX and
// HTML for the department and admins, 403 for officers and operators, a
// freeze once (201, then 409), and 422 for bad years and formats.
func TestAnnualReportRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ctx := dbtest.Context(t)
		if _, err := migrations.SeedDemo(ctx, db, demoPassword); err != nil {
			t.Fatal(err)
		}
		auditor, admin := a.token("auditor"), a.token("admin")

		var rep annualJSON
		a.mustJSON(a.call("GET", "/api/v1/reports/annual?year=2025", auditor, nil), 200, &rep)
		if rep.Year != 2025 || rep.Frozen != nil || rep.GeneratedAt.IsZero() || rep.SharingRatio == nil || rep.Undergrounding == nil ||
			rep.Colocation == nil || rep.Permits == nil || rep.Restatements == nil || len(rep.Restatements) != 0 {
			t.Fatalf("report %+v", rep)
		}
		if len(rep.SharingRatio.ByUnit) < 9 || len(rep.SharingRatio.ByOperator) < 3 || rep.SharingRatio.Total == nil || rep.SharingRatio.Total.Total == 0 {
			t.Fatalf("sharing ratio %+v", rep.SharingRatio)
		}
		sum := 0
		for _, r := range rep.SharingRatio.ByUnit {
			sum += r.Total
			if r.Target == nil || *r.Target != 0.4 || r.Ratio == nil || r.Group.Name == "" {
				t.Errorf("unit row %+v", r)
			}
		}
		if sum != rep.SharingRatio.Total.Total || rep.SharingRatio.Total.Target == nil || *rep.SharingRatio.Total.Target != 0.4 {
			t.Errorf("units add up to %d, the city total is %d", sum, rep.SharingRatio.Total.Total)
		}
		for _, r := range rep.SharingRatio.ByOperator {
			if r.Target == nil || *r.Target != 0.4 {
				t.Errorf("operator row %+v", r)
			}
		}
		if rep.Undergrounding.AsOf != "2025-12-31" || len(rep.Undergrounding.Rows) != 9 {
			t.Errorf("undergrounding as of %s, %d rows", rep.Undergrounding.AsOf, len(rep.Undergrounding.Rows))
		}
		if rep.Colocation.Filed == nil || len(rep.Colocation.RejectedByReason) != 5 || rep.Permits.Filed == nil || rep.Permits.DecisionDeadlineDays != 20 {
			t.Errorf("co-location %+v, permits %+v", rep.Colocation, rep.Permits)
		}
		a.mustJSON(a.call("GET", "/api/v1/reports/annual?year=2025&format=json", admin, nil), 200, nil)

		// The workbook.
		x := a.call("GET", "/api/v1/reports/annual?year=2025&format=xlsx", auditor, nil)
		if x.status != 200 || x.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			x.header.Get("Content-Disposition") != `attachment; filename="bao-cao-nam-2025.xlsx"` {
			t.Fatalf("xlsx %d %v", x.status, x.header)
		}
		wb, err := excelize.OpenReader(bytes.NewReader(x.body))
		if err != nil {
			t.Fatal(err)
		}
		sheets := wb.GetSheetList()
		wb.Close()
		if len(sheets) != 7 || sheets[1] != "Tỷ lệ dùng chung - đơn vị" || sheets[6] != "Điều chỉnh" {
			t.Errorf("sheets %q", sheets)
		}

		// The printable page.
		h := a.call("GET", "/api/v1/reports/annual?year=2025&format=html", admin, nil)
		page := string(h.body)
		if h.status != 200 || !strings.HasPrefix(h.header.Get("Content-Type"), "text/html") || !strings.Contains(page, "<!DOCTYPE html>") ||
			!strings.Contains(page, "Báo cáo năm 2025") || !strings.Contains(page, "Báo cáo chưa chốt") || strings.Contains(strings.ToLower(page), "<script") ||
			!strings.Contains(h.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("html %d %v\n%.400s", h.status, h.header, page)
		}

		// Who may read.
		for role, status := range map[string]int{"anon": 401, "officer": 403, "officer2": 403, "operator": 403, "operator2": 403} {
			for _, format := range []string{"json", "xlsx", "html"} {
				if r := a.call("GET", "/api/v1/reports/annual?year=2025&format="+format, a.token(role), nil); r.status != status {
					t.Errorf("%s reads the %s report: %d %s", role, format, r.status, r.body)
				}
			}
		}

		// Bad years and formats.
		for _, q := range []string{"", "?year=", "?year=1999", "?year=2101", "?year=abc", "?year=2025.5", "?year=%00", "?year=99999999999999999999",
			"?year=2025&format=pdf", "?year=2025&format=XLSX", "?format=xlsx"} {
			r := a.call("GET", "/api/v1/reports/annual"+q, auditor, nil)
			if r.status != 422 {
				t.Errorf("GET %s: %d %s", q, r.status, r.body)
				continue
			}
			field := "year"
			if strings.Contains(q, "format=") && strings.Contains(q, "year=2025") {
				field = "format"
			}
			if !strings.Contains(string(r.body), `"`+field+`"`) {
				t.Errorf("GET %s does not name %s: %s", q, field, r.body)
			}
		}

		// Freezing: the department's auditors only, once, never a future year.
		for role, status := range map[string]int{"anon": 401, "admin": 403, "officer": 403, "operator": 403, "operator2": 403} {
			if r := a.call("POST", "/api/v1/reports/annual/2025/freeze", a.token(role), nil); r.status != status {
				t.Errorf("%s freezes: %d %s", role, r.status, r.body)
			}
		}
		future := auth.Today(infrashare.SystemClock{}).Year + 1
		for _, y := range []string{fmt.Sprint(future), "1999", "2101", "abc", "0", "-2025", "2025x"} {
			r := a.call("POST", "/api/v1/reports/annual/"+y+"/freeze", auditor, nil)
			if r.status != 422 || !strings.Contains(string(r.body), `"year"`) {
				t.Errorf("freezing %s: %d %s", y, r.status, r.body)
			}
		}
		var fr struct {
			Year     int       `json:"year"`
			FrozenAt time.Time `json:"frozen_at"`
			SHA256   string    `json:"sha256"`
		}
		a.mustJSON(a.call("POST", "/api/v1/reports/annual/2025/freeze", auditor, nil), 201, &fr)
		if fr.Year != 2025 || fr.FrozenAt.IsZero() || len(fr.SHA256) != 64 {
			t.Fatalf("frozen %+v", fr)
		}
		if r := a.call("POST", "/api/v1/reports/annual/2025/freeze", auditor, nil); r.status != 409 {
			t.Fatalf("a second freeze: %d %s", r.status, r.body)
		}
		var content string
		db.Root().Table("report_snapshots").Where("year = ?", 2025).Pluck("content", &content)
		if h := sha256.Sum256([]byte(content)); hex.EncodeToString(h[:]) != fr.SHA256 {
			t.Fatal("the answered hash is not the stored content's")
		}
		var events struct {
			Items []struct {
				Action string  `json:"action"`
				After  *string `json:"after"`
			} `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events?action=report.freeze", auditor, nil), 200, &events)
		if len(events.Items) != 1 || events.Items[0].After == nil || !strings.Contains(*events.Items[0].After, fr.SHA256) {
			t.Fatalf("audit events %+v", events)
		}

		// The frozen report reads back with its hash, nothing restated.
		var frozen annualJSON
		a.mustJSON(a.call("GET", "/api/v1/reports/annual?year=2025", admin, nil), 200, &frozen)
		if frozen.Frozen == nil || frozen.Frozen.SHA256 != fr.SHA256 || frozen.Frozen.By.Email != demoLogins["auditor"] ||
			len(frozen.Restatements) != 0 || len(frozen.SharingRatio.ByUnit) != len(rep.SharingRatio.ByUnit) {
			t.Fatalf("frozen %+v", frozen)
		}
		h = a.call("GET", "/api/v1/reports/annual?year=2025&format=html", auditor, nil)
		if h.status != 200 || !strings.Contains(string(h.body), fr.SHA256) || !strings.Contains(string(h.body), "Báo cáo đã chốt") {
			t.Fatalf("frozen html %d", h.status)
		}

		// A correction after freezing shows as restatements.
		var bts struct {
			ID       int64
			UnitCode string
		}
		db.Root().Table("bts_deployments").Select("id, unit_code").Where("on_air_on >= ? AND on_air_on <= ? AND classification = ?",
			"2025-01-01", "2025-12-31", "new_structure").Order("id").Limit(1).Scan(&bts)
		a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/bts/%d/reclassify", bts.ID), auditor,
			map[string]any{"classification": "shared", "reason": "Lắp trên cột hiện hữu của doanh nghiệp khác"}), 200, nil)
		var later annualJSON
		a.mustJSON(a.call("GET", "/api/v1/reports/annual?year=2025", auditor, nil), 200, &later)
		found := false
		for _, r := range later.Restatements {
			if r.Path == "sharing_ratio.by_unit["+bts.UnitCode+"].shared" {
				found = fmt.Sprint(r.Current) != fmt.Sprint(r.Frozen)
			}
		}
		if !found || later.Frozen == nil || later.Frozen.SHA256 != fr.SHA256 {
			t.Fatalf("restatements %+v", later.Restatements)
		}
		x = a.call("GET", "/api/v1/reports/annual?year=2025&format=xlsx", auditor, nil)
		wb, err = excelize.OpenReader(bytes.NewReader(x.body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := wb.GetRows("Điều chỉnh")
		wb.Close()
		if len(rows) < 4+len(later.Restatements) {
			t.Errorf("the restatement sheet has %d rows for %d restatements", len(rows), len(later.Restatements))
		}
	})
}
