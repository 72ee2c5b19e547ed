package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare/auth"
	"infrashare/permits"
)

// undergroundingHeader names the CSV columns after the report's JSON fields.
var undergroundingHeader = []string{"district_code", "district_name", "central_streets", "underground_streets", "share",
	"central_length_m", "underground_length_m", "target", "gap",
	"new_areas", "new_areas_undergrounded_before_handover", "new_areas_share", "new_areas_target", "new_areas_gap",
	"handed_over_areas", "handed_over_areas_undergrounded", "handed_over_areas_share", "handed_over_areas_target", "handed_over_areas_gap"}

// undergroundingCSV is the undergrounding report as CSV, the districts and
// then the city's totals: the API answers JSON only, and the department
// asked for every report as a file. The file is built whole, so that a
// failure answers an error page rather than half a file.
func (s *Server) undergroundingCSV(c echo.Context, a auth.Actor) error {
	rep, err := s.reportsUndergrounding(c, a, c.QueryParam("as_of"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel reads UTF-8 only with the BOM
	w := csv.NewWriter(&buf)
	if err := w.Write(undergroundingHeader); err != nil {
		return err
	}
	for _, r := range append(append([]permits.UndergroundingRow{}, rep.Rows...), rep.Totals) {
		ar := r.Areas
		rec := []string{csvText(r.Group.Code), csvText(r.Group.Name), strconv.Itoa(r.CentralStreets), strconv.Itoa(r.UndergroundStreets),
			csvFrac(r.Share), csvFloat(r.CentralLengthM), csvFloat(r.UndergroundLengthM), csvFrac(r.Target), csvFrac(r.Gap),
			strconv.Itoa(ar.NewAreas), strconv.Itoa(ar.NewAreasUndergroundedBeforeHandover), csvFrac(ar.NewAreasShare), csvFrac(ar.NewAreasTarget), csvFrac(ar.NewAreasGap),
			strconv.Itoa(ar.HandedOverAreas), strconv.Itoa(ar.HandedOverAreasUndergrounded), csvFrac(ar.HandedOverAreasShare), csvFrac(ar.HandedOverAreasTarget), csvFrac(ar.HandedOverAreasGap)}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="ngam-hoa-`+rep.AsOf.String()+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvText keeps a cell that a spreadsheet would run as a formula inert.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvFrac(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func csvFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
