package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
)

// reportPages registers the report pages and the audit log.
func (s *Server) reportPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/reports", s.signedInPage(s.reportsPage), mw...)
	e.GET("/reports/sharing-ratio", s.signedInPage(s.ratioReportPage), mw...)
	e.GET("/reports/undergrounding", s.signedInPage(s.undergroundingPage), mw...)
	e.GET("/reports/undergrounding.csv", s.signedInPage(s.undergroundingCSV), mw...)
	e.GET("/audit", s.signedInPage(s.auditPage), mw...)
	e.POST("/audit/verify", s.signedInPage(s.auditVerify), mw...)
}

// reportsIndex is the report cards a role may open.
type reportsIndex struct {
	Department bool
	Year       int
	LastYear   int
}

// reportsPage lists the reports: operators see their own sharing ratio;
// the department and admins see every report. Officers have no reports.
func (s *Server) reportsPage(c echo.Context, a auth.Actor) error {
	if !a.SeesEverything() && !a.Has(auth.RoleOperator) {
		return infrashare.Forbidden("reports are for the department, admins and operators")
	}
	today := s.settings.Today()
	d := reportsIndex{Department: a.SeesEverything(), Year: today.Year, LastYear: today.Year - 1}
	return s.render(c, http.StatusOK, "reports", s.newView(c, "reports.title", d))
}

// ratioGroupings are the groupings of the sharing-ratio report.
var ratioGroupings = []string{"year", "unit", "operator"}

// ratioRow is a report row with the link to the BTS records behind it.
type ratioRow struct {
	permits.RatioRow
	RecordsURL string
	// ClassURL links each classification's count to its records.
	ClassURL map[string]string
	Official *float64
	Met      bool
}

type ratioPageData struct {
	From, To, GroupBy string
	Groupings         []string
	Shown             bool
	Official          string
	Rows              []ratioRow
	Totals            ratioRow
	Chart             reportChart
	CSVURL, XLSXURL   string
	FromDate, ToDate  infrashare.Date
}

// ratioReportPage draws the sharing ratio of the period by year, unit or
// operator against the targets, from the same service as the API, whose
// CSV and XLSX it links to.
func (s *Server) ratioReportPage(c echo.Context, a auth.Actor) error {
	d := ratioPageData{From: c.QueryParam("from"), To: c.QueryParam("to"), GroupBy: c.QueryParam("group_by"), Groupings: ratioGroupings}
	if d.GroupBy == "" {
		d.GroupBy = "year"
	}
	v := s.newView(c, "reports.ratio.title", &d)
	fields := infrashare.FieldErrors{}
	q := permits.RatioQuery{GroupBy: d.GroupBy,
		From: reportDate(d.From, "from", fields), To: reportDate(d.To, "to", fields)}
	err := fields.Err()
	var rep permits.RatioReport
	if err == nil {
		rep, err = s.permits.SharingRatio(c.Request().Context(), a, q)
	}
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("reports.error.filter") + " " + fieldText(err)
		return s.render(c, http.StatusUnprocessableEntity, "reports_ratio", v)
	}
	d.Shown, d.Official, d.FromDate, d.ToDate = true, rep.Official, rep.From, rep.To
	d.From, d.To = rep.From.String(), rep.To.String()
	for _, r := range rep.Rows {
		d.Rows = append(d.Rows, newRatioRow(r, rep.Official))
	}
	d.Totals = newRatioRow(rep.Totals, rep.Official)
	d.Totals.RecordsURL = "/bts"
	file := url.Values{"from": {d.From}, "to": {d.To}, "group_by": {rep.GroupBy}}
	file.Set("format", "csv")
	d.CSVURL = "/api/v1/reports/sharing-ratio?" + file.Encode()
	file.Set("format", "xlsx")
	d.XLSXURL = "/api/v1/reports/sharing-ratio?" + file.Encode()
	if rep.GroupBy == "year" {
		d.Chart = ratioYearChart(v.l, d.Rows)
	} else {
		d.Chart = ratioGroupChart(v.l, d.Rows)
	}
	return s.render(c, http.StatusOK, "reports_ratio", v)
}

func newRatioRow(r permits.RatioRow, official string) ratioRow {
	row := ratioRow{RatioRow: r, Official: r.Ratio}
	if official == "broad" {
		row.Official = r.RatioBroad
	}
	row.Met = row.Official != nil && r.Target != nil && *row.Official >= *r.Target
	// The service links the API list; the page links the BTS log page with
	// the same filters.
	if _, query, ok := strings.Cut(r.Records, "?"); ok {
		row.RecordsURL = "/bts?" + query
		row.ClassURL = map[string]string{}
		for _, class := range []string{permits.ClassShared, permits.ClassOwnExisting, permits.ClassNewStructure} {
			row.ClassURL[class] = row.RecordsURL + "&classification=" + class
		}
	}
	return row
}

// reportDate reads an optional YYYY-MM-DD field of a report's form.
func reportDate(v, name string, fields infrashare.FieldErrors) infrashare.Date {
	if v == "" {
		return infrashare.Date{}
	}
	d, err := infrashare.ParseDate(v)
	if err != nil {
		fields.Add(name, "must be a date YYYY-MM-DD")
	}
	return d
}

// ratioYearChart: per year the strict and broad ratios with the year's
// target, then the least-squares forecast for the target year of the last
// year against that target.
func ratioYearChart(l localizer, rows []ratioRow) reportChart {
	var groups []chartGroup
	for _, r := range rows {
		y := strconv.Itoa(r.Year)
		groups = append(groups, chartGroup{Label: y, Target: r.Target,
			TargetTitle: l.T("reports.chart.target_of", y, fmtPct(r.Target)),
			Bars: []chartValue{
				{Value: r.Ratio, Class: "bar strict", Title: l.T("reports.chart.strict_of", y, fmtPct(r.Ratio))},
				{Value: r.RatioBroad, Class: "bar broad", Title: l.T("reports.chart.broad_of", y, fmtPct(r.RatioBroad))},
			}})
	}
	legend := []chartLegend{{Class: "bar strict", Text: l.T("reports.ratio.strict")}, {Class: "bar broad", Text: l.T("reports.ratio.broad")}}
	if n := len(rows); n > 0 && rows[n-1].Forecast != nil && rows[n-1].TargetYear != 0 {
		last := rows[n-1]
		ty := strconv.Itoa(last.TargetYear)
		groups = append(groups, chartGroup{Label: l.T("reports.chart.forecast_label", ty), Target: last.Target,
			TargetTitle: l.T("reports.chart.target_of", ty, fmtPct(last.Target)),
			Bars:        []chartValue{{Value: last.Forecast, Class: "bar forecast", Title: l.T("reports.chart.forecast_of", ty, fmtPct(last.Forecast))}}})
		legend = append(legend, chartLegend{Class: "bar forecast", Text: l.T("reports.ratio.forecast")})
	}
	legend = append(legend, chartLegend{Target: true, Text: l.T("reports.ratio.target")})
	return layoutChart(groups, legend)
}

// yearClasses shade the years of a grouped chart.
const yearClasses = 5

// ratioGroupChart: per unit or operator one bar a year (the official
// ratio), each with the target in force that year.
func ratioGroupChart(l localizer, rows []ratioRow) reportChart {
	var years []int
	seen := map[int]bool{}
	for _, r := range rows {
		if !seen[r.Year] {
			seen[r.Year] = true
			years = append(years, r.Year)
		}
	}
	sort.Ints(years)
	shade := map[int]string{}
	var legend []chartLegend
	for i, y := range years {
		shade[y] = "bar y" + strconv.Itoa(i%yearClasses)
		legend = append(legend, chartLegend{Class: shade[y], Text: strconv.Itoa(y)})
	}
	legend = append(legend, chartLegend{Target: true, Text: l.T("reports.ratio.target")})
	// One slot a year in every group, so that the years line up; a year
	// without records stays empty.
	var groups []chartGroup
	for _, r := range rows {
		label := r.Group.Code
		if r.Group.Name != "" {
			label = r.Group.Name
		}
		if n := len(groups); n == 0 || groups[n-1].Label != label {
			g := chartGroup{Label: label, Bars: make([]chartValue, len(years))}
			for i, y := range years {
				g.Bars[i] = chartValue{Class: shade[y], Title: l.T("reports.chart.group_none", label, strconv.Itoa(y))}
			}
			groups = append(groups, g)
		}
		y := strconv.Itoa(r.Year)
		g := &groups[len(groups)-1]
		g.Bars[sort.SearchInts(years, r.Year)] = chartValue{Value: r.Official, Class: shade[r.Year],
			Title:  l.T("reports.chart.group_of", label, y, fmtPct(r.Official)),
			Target: r.Target, TargetTitle: l.T("reports.chart.target_of", y, fmtPct(r.Target))}
	}
	return layoutChart(groups, legend)
}

// undergroundingData is the undergrounding report as of a day.
type undergroundingData struct {
	AsOf   string
	Report permits.UndergroundingView
	Rows   []undgRow
	Totals undgRow
	Chart  reportChart
	CSVURL string
}

// undergroundingPage shows, per pre-2025 district, the share of central
// streets fully underground against the 2030 target, and the residential
// areas' shares against theirs; for the department and admins.
func (s *Server) undergroundingPage(c echo.Context, a auth.Actor) error {
	d := undergroundingData{AsOf: c.QueryParam("as_of")}
	v := s.newView(c, "reports.underground.title", &d)
	rep, err := s.reportsUndergrounding(c, a, d.AsOf)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("reports.error.filter") + " " + fieldText(err)
		return s.render(c, http.StatusUnprocessableEntity, "reports_undergrounding", v)
	}
	d.Report, d.AsOf = rep, rep.AsOf.String()
	for _, r := range rep.Rows {
		d.Rows = append(d.Rows, newUndgRow(r))
	}
	d.Totals = newUndgRow(rep.Totals)
	d.CSVURL = "/reports/undergrounding.csv?" + url.Values{"as_of": {d.AsOf}}.Encode()
	var groups []chartGroup
	for _, r := range append(append([]permits.UndergroundingRow{}, rep.Rows...), rep.Totals) {
		label := r.Group.Name
		if r.Group.Code == rep.Totals.Group.Code {
			label = v.l.T("reports.underground.city")
		}
		groups = append(groups, chartGroup{Label: label, Target: r.Target,
			TargetTitle: v.l.T("reports.chart.target_of", label, fmtPct(r.Target)),
			Bars: []chartValue{{Value: r.Share, Class: "bar strict",
				Title: v.l.T("reports.chart.streets_of", label, fmtPct(r.Share), r.UndergroundStreets, r.CentralStreets)}}})
	}
	d.Chart = layoutChart(groups, []chartLegend{{Class: "bar strict", Text: v.l.T("reports.underground.share")},
		{Target: true, Text: v.l.T("reports.underground.target_legend", rep.StreetTargetYear)}})
	return s.render(c, http.StatusOK, "reports_undergrounding", v)
}

// undgRow is a district of the undergrounding report, with whether its
// streets meet their target.
type undgRow struct {
	permits.UndergroundingRow
	Met bool
}

func newUndgRow(r permits.UndergroundingRow) undgRow {
	return undgRow{UndergroundingRow: r, Met: r.Share != nil && r.Target != nil && *r.Share >= *r.Target}
}

func (s *Server) reportsUndergrounding(c echo.Context, a auth.Actor, asOfText string) (permits.UndergroundingView, error) {
	fields := infrashare.FieldErrors{}
	asOf := reportDate(asOfText, "as_of", fields)
	if err := fields.Err(); err != nil {
		return permits.UndergroundingView{}, err
	}
	if asOf.IsZero() {
		asOf = auth.Today(s.cfg.Clock)
	}
	return s.permits.UndergroundingReport(c.Request().Context(), a, asOf, "unit")
}
