package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

// reportsDemoAPI is the API on the whole demo: BTS records of 2023–2026,
// street segments, residential areas and their audit events.
func reportsDemoAPI(t *testing.T, db *database.DB) *apiClient {
	t.Helper()
	a := newAPI(t, db)
	if _, err := migrations.SeedDemo(dbtest.Context(t), db, demoPassword); err != nil {
		t.Fatal(err)
	}
	return a
}

// reportsRatioJSON is the API's sharing-ratio report, as far as the page
// shows it.
type reportsRatioJSON struct {
	Rows []struct {
		Group struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"group"`
		Year       int      `json:"year"`
		Total      int      `json:"total"`
		Shared     int      `json:"shared"`
		Ratio      *float64 `json:"ratio"`
		RatioBroad *float64 `json:"ratio_broad"`
		Target     *float64 `json:"target"`
		Forecast   *float64 `json:"forecast"`
		Records    string   `json:"records"`
	} `json:"rows"`
	Totals struct {
		Total int `json:"total"`
	} `json:"totals"`
}

// reportsRowHTML is the table row of the page that starts with the header
// cell head.
func reportsRowHTML(t *testing.T, body, head string) string {
	t.Helper()
	i := strings.Index(body, head)
	if i < 0 {
		t.Fatalf("no row %q in:\n%s", head, body)
	}
	row := body[i:]
	return row[:strings.Index(row, "</tr>")]
}

// reportsLink is the unescaped href of the link whose text is label.
func reportsLink(t *testing.T, body, label string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)"[^>]*>` + regexp.QuoteMeta(label) + `</a>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link %q in:\n%s", label, body)
	}
	return html.UnescapeString(m[1])
}

func TestPageReportsSharingRatio(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := reportsDemoAPI(t, db)
		const period = "from=2023-01-01&to=2026-12-31"
		aud := newPageClient(t, a)
		aud.signIn("auditor")

		// By year: the chart with its target lines, and every row of the
		// API's answer in the table with its figures and records link.
		var api reportsRatioJSON
		a.mustJSON(a.call("GET", "/api/v1/reports/sharing-ratio?"+period, a.token("auditor"), nil), 200, &api)
		if len(api.Rows) < 3 {
			t.Fatalf("the demo has too few years: %+v", api)
		}
		r := aud.get("/reports/sharing-ratio?" + period)
		wantPage(t, r, 200, "<h1>Tỷ lệ dùng chung hạ tầng trạm BTS</h1>", "<svg", `role="img"`, `<line class="target"`,
			`<rect class="bar strict"`, `<rect class="bar broad"`, "<caption>", `<th scope="col" class="num">Chỉ tiêu</th>`,
			"Tỷ lệ chính thức: nghĩa hẹp", `value="2023-01-01"`, `value="2026-12-31"`)
		if strings.Count(r.body, `<line class="target"`) < len(api.Rows) {
			t.Fatalf("fewer target lines than years:\n%s", r.body)
		}
		for _, row := range api.Rows {
			got := reportsRowHTML(t, r.body, fmt.Sprintf(`<th scope="row">%d</th>`, row.Year))
			for _, want := range []string{">" + fmtNum(row.Total) + "<", ">" + fmtNum(row.Shared) + "<", ">" + fmtPct(row.Ratio) + "<",
				">" + fmtPct(row.RatioBroad) + "<", fmtPct(row.Target), fmtPct(row.Forecast),
				`href="/bts?year=` + fmt.Sprint(row.Year) + `"`,
				`href="/bts?year=` + fmt.Sprint(row.Year) + `&amp;classification=shared">` + fmtNum(row.Shared) + `</a>`} {
				if !strings.Contains(got, want) {
					t.Fatalf("row %d lacks %q (API %+v):\n%s", row.Year, want, row, got)
				}
			}
		}
		last := api.Rows[len(api.Rows)-1]
		if last.Forecast != nil && !strings.Contains(r.body, `<rect class="bar forecast"`) {
			t.Fatal("no forecast bar")
		}
		if !strings.Contains(reportsRowHTML(t, r.body, "<tfoot>"), ">"+fmtNum(api.Totals.Total)+"<") {
			t.Fatal("the totals row differs from the API's")
		}

		// The downloads are the API's files, fetched with the session.
		for _, f := range []struct{ label, ctype, starts string }{
			{"CSV", "text/csv", "\ufeff"},
			{"Excel (XLSX)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "PK"},
		} {
			link := reportsLink(t, r.body, f.label)
			if !strings.HasPrefix(link, "/api/v1/reports/sharing-ratio?") || !strings.Contains(link, "from=2023-01-01") {
				t.Fatalf("%s link %s", f.label, link)
			}
			got := aud.get(link)
			if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), f.ctype) ||
				!strings.HasPrefix(got.body, f.starts) || !strings.Contains(got.header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("%s download: %d %q %q", f.label, got.status, got.header.Get("Content-Type"), got.body[:min(len(got.body), 40)])
			}
		}

		// By unit and by operator: a bar per group and year, rows linking
		// the BTS log with the same filters.
		var byUnit reportsRatioJSON
		a.mustJSON(a.call("GET", "/api/v1/reports/sharing-ratio?group_by=unit&"+period, a.token("auditor"), nil), 200, &byUnit)
		r = aud.get("/reports/sharing-ratio?group_by=unit&" + period)
		wantPage(t, r, 200, `<option value="unit" selected>`, `<th scope="col">Đơn vị hành chính</th>`, `<rect class="bar y0"`)
		for _, row := range byUnit.Rows {
			want := html.EscapeString(fmt.Sprintf("/bts?unit=%s&year=%d", row.Group.Code, row.Year))
			if !strings.Contains(r.body, `href="`+want+`"`) {
				t.Fatalf("no records link %s", want)
			}
		}
		r = aud.get("/reports/sharing-ratio?group_by=operator&" + period)
		wantPage(t, r, 200, "VNPT", "VIETTEL", "MOBIFONE", html.EscapeString("/bts?operator=VNPT&year=2025"))

		// An operator sees its own figures only, as the API gives them.
		op := newPageClient(t, a)
		op.signIn("operator")
		var own reportsRatioJSON
		a.mustJSON(a.call("GET", "/api/v1/reports/sharing-ratio?group_by=operator&"+period, a.token("operator"), nil), 200, &own)
		r = op.get("/reports/sharing-ratio?group_by=operator&" + period)
		wantPage(t, r, 200, "VNPT", "<svg")
		for _, other := range []string{"VIETTEL", "MOBIFONE"} {
			if strings.Contains(r.body, other) {
				t.Fatalf("VNPT's report shows %s", other)
			}
		}
		for _, row := range own.Rows {
			if row.Group.Code != "VNPT" {
				t.Fatalf("the API gave VNPT the row of %s", row.Group.Code)
			}
			if !strings.Contains(r.body, html.EscapeString(fmt.Sprintf("/bts?operator=VNPT&year=%d", row.Year))) {
				t.Fatalf("no VNPT row for %d", row.Year)
			}
		}
		idx := op.get("/reports")
		wantPage(t, idx, 200, `href="/reports/sharing-ratio"`)
		if strings.Contains(idx.body, "/reports/undergrounding") || strings.Contains(idx.body, "/api/v1/reports/annual") {
			t.Fatal("the operator is offered the department's reports")
		}

		// Bad filters: the form again with what is wrong.
		wantPage(t, aud.get("/reports/sharing-ratio?from=2026-01-01&to=2025-01-01"), 422, `role="alert"`, "from")
		wantPage(t, aud.get("/reports/sharing-ratio?from=01/01/2025"), 422, `role="alert"`, `value="01/01/2025"`)
		wantPage(t, aud.get("/reports/sharing-ratio?group_by=street"), 422, `role="alert"`, "group_by")

		// Officers have no reports; signed out goes to sign in.
		off := newPageClient(t, a)
		off.signIn("officer")
		wantPage(t, off.get("/reports"), 403, "Không có quyền truy cập (403)")
		wantPage(t, off.get("/reports/sharing-ratio"), 403)
		anon := newPageClient(t, a)
		wantRedirect(t, anon.get("/reports/sharing-ratio"), "/login")

		// The department's index, in English too.
		idx = aud.get("/reports")
		wantPage(t, idx, 200, "<h1>Báo cáo</h1>", `href="/reports/undergrounding"`, `action="/api/v1/reports/annual"`, `href="/audit"`)
		wantPage(t, aud.get("/reports/sharing-ratio?lang=en"), 200, "BTS infrastructure sharing ratio", "Strict ratio", "Target")
	})
}

func TestPageReportsUndergrounding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := reportsDemoAPI(t, db)
		aud := newPageClient(t, a)
		aud.signIn("auditor")
		var api struct {
			Rows []struct {
				Group struct {
					Code string `json:"code"`
					Name string `json:"name"`
				} `json:"group"`
				CentralStreets     int      `json:"central_streets"`
				UndergroundStreets int      `json:"underground_streets"`
				Share              *float64 `json:"share"`
				Target             *float64 `json:"target"`
				CentralLengthM     float64  `json:"central_length_m"`
			} `json:"rows"`
		}
		a.mustJSON(a.call("GET", "/api/v1/reports/undergrounding?as_of=2026-06-30", a.token("auditor"), nil), 200, &api)
		r := aud.get("/reports/undergrounding?as_of=2026-06-30")
		wantPage(t, r, 200, "<h1>Ngầm hóa cáp viễn thông</h1>", "<svg", `<line class="target"`, "Ninh Kiều", "70 %", "<caption>",
			"Toàn thành phố", "Khu dân cư có hạ tầng ngầm dùng chung", "30/06/2026")
		if len(api.Rows) != 9 {
			t.Fatalf("%d districts", len(api.Rows))
		}
		for _, row := range api.Rows {
			got := reportsRowHTML(t, r.body, `<th scope="row">`+row.Group.Name+` <span class="muted">`+row.Group.Code)
			for _, want := range []string{">" + fmtNum(row.CentralStreets) + "<", ">" + fmtNum(row.UndergroundStreets) + "<",
				">" + fmtPct(row.Share) + "<", fmtNum(row.CentralLengthM) + " m", ">" + fmtPct(row.Target) + "<"} {
				if !strings.Contains(got, want) {
					t.Fatalf("%s lacks %q:\n%s", row.Group.Name, want, got)
				}
			}
		}
		csvURL := reportsLink(t, r.body, "CSV")
		got := aud.get(csvURL)
		if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(got.body, "\ufeffdistrict_code,") {
			t.Fatalf("csv: %d %s %q", got.status, got.header.Get("Content-Type"), got.body[:min(40, len(got.body))])
		}
		if lines := strings.Count(strings.TrimSpace(got.body), "\n"); lines != len(api.Rows)+1 {
			t.Fatalf("csv has %d lines after the header, want %d districts and the totals", lines, len(api.Rows)+1)
		}
		if !strings.Contains(got.body, "\n916,"+api.Rows[0].Group.Name+","+fmt.Sprint(api.Rows[0].CentralStreets)+",") {
			t.Fatalf("csv lacks Ninh Kiều's row:\n%s", got.body)
		}

		wantPage(t, aud.get("/reports/undergrounding?as_of=tomorrow"), 422, `role="alert"`, "as_of")
		op := newPageClient(t, a)
		op.signIn("operator")
		wantPage(t, op.get("/reports/undergrounding"), 403)
		if r := op.get("/reports/undergrounding.csv"); r.status != 403 {
			t.Fatalf("operator csv: %d", r.status)
		}
		wantPage(t, aud.get("/reports/undergrounding?lang=en"), 200, "Telecom cable undergrounding", "Whole city")
	})
}

func TestPageReportsAuditLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := reportsDemoAPI(t, db)
		for _, role := range []string{"operator", "officer"} {
			p := newPageClient(t, a)
			p.signIn(role)
			wantPage(t, p.get("/audit"), 403, "Không có quyền truy cập (403)")
			name, tok := csrfOf(t, p.get("/").body)
			wantPage(t, p.post("/audit/verify", url.Values{name: {tok}}), 403)
		}

		aud := newPageClient(t, a)
		aud.signIn("auditor")
		r := aud.get("/audit")
		wantPage(t, r, 200, "<h1>Nhật ký kiểm toán</h1>", "Kiểm tra chuỗi", `action="/audit/verify"`, "<caption>", `rel="next"`,
			`<label for="a-action">`, `<label for="a-from">`)
		if !regexp.MustCompile(`<td class="nowrap">\d\d/\d\d/\d{4} \d\d:\d\d:\d\d</td>`).MatchString(r.body) {
			t.Fatalf("no event time as dd/mm/yyyy HH:MM:SS:\n%s", r.body)
		}
		if !strings.Contains(r.body, "auditor@demo.infrashare.vn · DEPT") {
			t.Fatal("the actors are not named")
		}
		// Keyset paging: the next page starts below the first.
		seqs := regexp.MustCompile(`<th scope="row" class="num">(\d+)</th>`)
		first := seqs.FindAllStringSubmatch(r.body, -1)
		next := aud.get(reportsLink(t, r.body, "Trang sau"))
		wantPage(t, next, 200, "Trang đầu")
		second := seqs.FindAllStringSubmatch(next.body, -1)
		seqAt := func(m [][]string, i int) int {
			n, _ := strconv.Atoi(m[i][1])
			return n
		}
		if len(first) != auditPageSize || len(second) == 0 || seqAt(second, 0) != seqAt(first, len(first)-1)-1 {
			t.Fatalf("pages: %d then %d events (%v … %v)", len(first), len(second), first[len(first)-1], second[0])
		}
		// Filters, as the API applies them.
		var api struct {
			Items []struct {
				Seq int64 `json:"seq"`
			} `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events?action=street_segment.create&limit=500", a.token("auditor"), nil), 200, &api)
		r = aud.get("/audit?action=street_segment.create")
		wantPage(t, r, 200, "street_segment.create", `value="street_segment.create"`)
		if got := len(seqs.FindAllString(r.body, -1)); got != min(len(api.Items), auditPageSize) || got == 0 {
			t.Fatalf("%d events shown, the API has %d", got, len(api.Items))
		}
		if strings.Contains(r.body, "<code>asset.create</code>") {
			t.Fatal("the action filter let other actions through")
		}
		wantPage(t, aud.get("/audit?from=2000-01-01&to=2000-01-02"), 200, "Không có sự kiện nào khớp bộ lọc.")
		wantPage(t, aud.get("/audit?actor_id=abc"), 422, `role="alert"`, "actor_id")

		// Verify: without the CSRF token refused; with it, the result
		// after the redirect, matching the service's count.
		wantPage(t, aud.post("/audit/verify", nil), 403)
		var res struct {
			OK     bool  `json:"ok"`
			Events int64 `json:"events"`
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events/verify", a.token("auditor"), nil), 200, &res)
		if !res.OK {
			t.Fatalf("the fresh demo's chain is broken: %+v", res)
		}
		name, tok := csrfOf(t, r.body)
		wantRedirect(t, aud.post("/audit/verify", url.Values{name: {tok}}), "/audit#verify")
		r = aud.get("/audit")
		wantPage(t, r, 200, fmt.Sprintf("Chuỗi nhật ký toàn vẹn: đã kiểm tra %s sự kiện.", fmtNum(res.Events)))
		// Shown once.
		if strings.Contains(aud.get("/audit").body, "Chuỗi nhật ký toàn vẹn") {
			t.Fatal("the result stays after it was shown")
		}

		// A changed event: the check names it.
		reportsTamper(t, db, `UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 3`)
		wantRedirect(t, aud.post("/audit/verify", url.Values{name: {tok}}), "/audit#verify")
		r = aud.get("/audit")
		wantPage(t, r, 200, "Chuỗi nhật ký bị phá vỡ!", "Sự kiện đầu tiên không khớp: số 3.", "Số sự kiện hợp lệ trước đó: 2.")
		bad := aud.get(reportsLink(t, r.body, "Xem nhật ký từ sự kiện này"))
		if m := seqs.FindStringSubmatch(bad.body); m == nil || m[1] != "3" {
			t.Fatalf("the link to the broken event starts at %v", m)
		}
		if r := aud.get("/audit?lang=en"); r.status != http.StatusOK || !strings.Contains(r.body, "Verify the chain") {
			t.Fatalf("english: %d", r.status)
		}
	})
}

// reportsTamper changes audit_events behind the log's back: on PostgreSQL
// with its append-only trigger switched off for the moment.
func reportsTamper(t *testing.T, db *database.DB, stmts ...string) {
	t.Helper()
	g := db.Root().WithContext(dbtest.Context(t))
	if db.IsPostgres() {
		stmts = append(append([]string{"ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"}, stmts...),
			"ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
	}
	for _, q := range stmts {
		if err := g.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestReportsChartLayout: bars stand on the 0 % line at their height, the
// targets sit at their value, a value label never crosses its target line,
// and neighbouring group labels leave room for their text.
func TestReportsChartLayout(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name   string
		groups []chartGroup
	}{
		{"years", []chartGroup{
			{Label: "2025", Target: f(0.4), Bars: []chartValue{{Value: f(0.352)}, {Value: f(0.648)}}},
			{Label: "2026", Target: f(0.5), Bars: []chartValue{{Value: f(0.5)}, {Value: nil}}},
		}},
		{"districts", []chartGroup{
			{Label: "Huyện Vĩnh Thạnh", Target: f(0.7), Bars: []chartValue{{Value: f(0.68)}}},
			{Label: "Huyện Phong Điền", Target: f(0.7), Bars: []chartValue{{Value: f(1)}}},
		}},
		{"per-bar targets", []chartGroup{
			{Label: "VNPT", Bars: []chartValue{{Value: f(0.39), Target: f(0.4)}, {Value: f(0.2), Target: f(0.5)}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := layoutChart(tc.groups, nil)
			i := 0
			for _, g := range tc.groups {
				for _, b := range g.Bars {
					bar := ch.Bars[i]
					i++
					want := 0
					if b.Value != nil {
						want = int(*b.Value*chartPlot + 0.5)
					}
					if bar.H != want || bar.Y+bar.H != ch.Base {
						t.Fatalf("bar %+v for %v: height %d, want %d", bar, b.Value, bar.H, want)
					}
					for _, tg := range ch.Targets {
						if tg.X1 <= bar.ValueX && bar.ValueX <= tg.X2 && tg.Y >= bar.ValueY-11 && tg.Y <= bar.ValueY+1 {
							t.Fatalf("the value of %+v crosses the target at %d", bar, tg.Y)
						}
					}
				}
			}
			for j := 1; j < len(ch.Labels); j++ {
				room := ch.Labels[j].X - ch.Labels[j-1].X
				need := chartCharW * (len([]rune(ch.Labels[j].Text)) + len([]rune(ch.Labels[j-1].Text))) / 2
				if room < need {
					t.Fatalf("labels %q and %q are %d apart, need %d", ch.Labels[j-1].Text, ch.Labels[j].Text, room, need)
				}
			}
			if ch.Width < ch.Right || ch.Ticks[0].Y != ch.Base || ch.Ticks[4].Y != ch.Base-chartPlot {
				t.Fatalf("frame %+v", ch)
			}
		})
	}
}
