package permits

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// ratioHeader is the column row of the CSV and XLSX forms of the report.
var ratioHeader = []string{"group_code", "group_name", "year", "total", "shared", "own_existing", "new_structure",
	"ratio", "ratio_broad", "target", "target_year", "gap", "forecast"}

func ratioCells(r RatioRow) []any {
	f := func(v *float64) any {
		if v == nil {
			return ""
		}
		return *v
	}
	ty := any("")
	if r.TargetYear != 0 {
		ty = r.TargetYear
	}
	return []any{r.Group.Code, r.Group.Name, r.Year, r.Total, r.Shared, r.OwnExisting, r.NewStructure,
		f(r.Ratio), f(r.RatioBroad), f(r.Target), ty, f(r.Gap), f(r.Forecast)}
}

// WriteRatioCSV writes the report as CSV with a BOM, for Excel.
func WriteRatioCSV(w io.Writer, rep RatioReport) error {
	if _, err := w.Write([]byte("\ufeff")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ratioHeader); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		cells := ratioCells(r)
		rec := make([]string, len(cells))
		for i, c := range cells {
			rec[i] = safeCell(fmt.Sprint(c))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell keeps text that a spreadsheet would run as a formula inert;
// numbers (which may start with -) are left as they are.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// WriteRatioXLSX writes the report as a workbook with one sheet.
func WriteRatioXLSX(w io.Writer, rep RatioReport) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Tỷ lệ dùng chung"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	head := make([]any, len(ratioHeader))
	for i, h := range ratioHeader {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, r := range rep.Rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, ratioCells(r)); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}
