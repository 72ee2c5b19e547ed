package registry

// Streamed export of the register: CSV, GeoJSON (RFC 7946) and XLSX (issue 4
// point 8).
//
// Decisions, also for the README:
//
//   - What an export shows is what the list shows the same caller: the list
//     filters through scope, each row through view, so a restricted site of
//     another organisation comes out at its rounded position with no
//     address, and the bbox filter uses that rounded position.
//   - Rows are read in keyset batches (WHERE id > last ORDER BY id LIMIT n),
//     one query each and no transaction held between them, so memory stays
//     flat and other requests proceed on SQLite's single connection.
//   - CSV: UTF-8 with a BOM (Excel), CRLF lines, the import's columns (lat,
//     lon for points; geometry as WKT LINESTRING(lon lat, …) for lines; no x,
//     y: an export is WGS84) followed by the read-only columns id, owner,
//     capacity_reserved, capacity_active, capacity_free, length_m, which the
//     import ignores. An export therefore imports again unchanged. Text cells
//     starting with = + - @ get a leading single quote (the import drops it
//     again); numeric columns are never touched, so -5 stays a number.
//   - GeoJSON: a FeatureCollection written feature by feature, coordinates
//     [lon, lat], the asset id as the feature id and the asset's JSON fields
//     (the API's Asset, without geometry) as properties.
//   - XLSX: one sheet "Assets" written with excelize's StreamWriter (rows
//     spill to a temporary file, not memory), bold header, typed cells:
//     numbers as numbers, text as text (a text cell is never a formula in
//     XLSX, so it needs no quote). A sheet holds at most 1 048 575 rows; a
//     larger export is refused before anything is sent.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
)

// exportBatch is the rows read per query. Each query of a box search finds
// the whole box again before it sorts by id, so a box the size of a
// district (a few thousand assets) should take one batch; 10,000 assets
// in memory are a few megabytes. A test lowers it to cross batches.
var exportBatch = 10000

// xlsxMaxRows is a worksheet's row limit, header included.
const xlsxMaxRows = 1_048_576

// Export formats.
const (
	ExportCSV     = "csv"
	ExportGeoJSON = "geojson"
	ExportXLSX    = "xlsx"
)

// exportColumns are the CSV and XLSX columns: the importable ones (without
// the VN-2000 x, y), then the read-only ones.
var exportColumns = []string{"code", "kind", "status", "lat", "lon", "geometry", "height_m", "class", "structure",
	"capacity_unit", "capacity_total", "tubes", "diameter_mm", "address", "unit_code", "in_service_on", "restricted",
	"rent_vnd", "id", "owner", "capacity_reserved", "capacity_active", "capacity_free", "length_m"}

// CheckExportFormat says whether format is one ExportAssets writes ("" is
// csv), so that a handler can refuse a bad one before answering.
func CheckExportFormat(format string) error {
	switch format {
	case "", ExportCSV, ExportGeoJSON, ExportXLSX:
		return nil
	}
	return infrashare.Invalid("format", "must be csv, geojson or xlsx")
}

// exportSink writes one format.
type exportSink interface {
	row(v AssetView) error
	// flush ends a batch: what is buffered goes to the client.
	flush() error
	end() error
	// close frees what the sink holds, whether it ended or not.
	close()
}

// ExportAssets writes every asset the filter selects, as actor may see it,
// in format csv (the default), geojson or xlsx. Nothing is written before
// the filters are checked and the first batch is read, so such errors can
// still be answered properly; an error after that leaves w incomplete.
func (s *Service) ExportAssets(ctx context.Context, actor auth.Actor, f AssetFilter, format string, w io.Writer) error {
	if err := CheckExportFormat(format); err != nil {
		return err
	}
	q, err := s.scope(ctx, actor, f)
	if err != nil {
		return err
	}
	base := q.Session(&gorm.Session{})
	batch, err := s.exportRows(ctx, base, 0)
	if err != nil {
		return err
	}
	var sink exportSink
	switch format {
	case ExportGeoJSON:
		sink, err = newGeoJSONSink(w)
	case ExportXLSX:
		sink, err = newXLSXSink(w)
	default:
		sink, err = newCSVSink(w)
	}
	if err != nil {
		return err
	}
	defer sink.close()
	for len(batch) > 0 {
		for _, a := range batch {
			v, err := s.view(ctx, actor, a)
			if err != nil {
				return err
			}
			if err := sink.row(v); err != nil {
				return err
			}
		}
		if err := sink.flush(); err != nil {
			return err
		}
		if len(batch) < exportBatch {
			break
		}
		if batch, err = s.exportRows(ctx, base, batch[len(batch)-1].ID); err != nil {
			return err
		}
	}
	return sink.end()
}

func (s *Service) exportRows(ctx context.Context, base *gorm.DB, after int64) ([]Asset, error) {
	return s.scanAssets(ctx, base.Where("id > ?", after).Order("id").Limit(exportBatch))
}

// exportCells are the cells of one row, typed: string, float64, int, int64,
// bool or nil (empty).
func exportCells(v AssetView) []any {
	cells := make([]any, 0, len(exportColumns))
	opt := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var lat, lon, wkt any
	if v.Lat != nil && v.Lon != nil {
		lat, lon = *v.Lat, *v.Lon
	} else {
		wkt = wktOf(v.Geometry)
	}
	var tubes, rent, inService, address any
	if v.Tubes != nil {
		tubes = *v.Tubes
	}
	if v.RentVND != nil {
		rent = *v.RentVND
	}
	if v.InServiceOn != nil && !v.InServiceOn.IsZero() {
		inService = v.InServiceOn.String()
	}
	if v.Address != nil {
		address = *v.Address
	}
	cells = append(cells, v.Code, v.Kind, v.Status, lat, lon, wkt, opt(v.HeightM), v.Class, v.Structure,
		v.Capacity.Unit, v.Capacity.Total, tubes, opt(v.DiameterMM), address, v.UnitCode, inService, v.Restricted,
		rent, v.ID, v.Owner.Code, v.Capacity.Reserved, v.Capacity.Active, v.Capacity.Free, opt(v.LengthM))
	return cells
}

// wktOf writes a stored GeoJSON line as WKT LINESTRING(lon lat, …).
func wktOf(raw json.RawMessage) any {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil
	}
	var b strings.Builder
	write := func(pts []orb.Point) {
		for i, p := range pts {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(formatNumber(p[0]))
			b.WriteByte(' ')
			b.WriteString(formatNumber(p[1]))
		}
	}
	switch t := g.Geometry().(type) {
	case orb.LineString:
		b.WriteString("LINESTRING(")
		write(t)
	case orb.Point:
		b.WriteString("POINT(")
		write([]orb.Point{t})
	default:
		return nil
	}
	b.WriteByte(')')
	return b.String()
}

// formatNumber is the shortest text that reads back as the same float, in
// plain notation (no exponent, which spreadsheets mangle).
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// neutralise makes a text cell safe to open in a spreadsheet: a leading
// = + - @ would start a formula, so it gets a single quote in front.
func neutralise(s string) string {
	if s != "" && strings.IndexByte("=+-@", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// ---- CSV ----

type csvSink struct {
	bw  *bufio.Writer
	cw  *csv.Writer
	rec []string
}

func newCSVSink(w io.Writer) (*csvSink, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(exportColumns); err != nil {
		return nil, err
	}
	return &csvSink{bw: bw, cw: cw, rec: make([]string, len(exportColumns))}, nil
}

func (c *csvSink) row(v AssetView) error {
	for i, cell := range exportCells(v) {
		switch t := cell.(type) {
		case nil:
			c.rec[i] = ""
		case string:
			c.rec[i] = neutralise(t) // only text can carry a formula
		case float64:
			c.rec[i] = formatNumber(t)
		case int:
			c.rec[i] = strconv.Itoa(t)
		case int64:
			c.rec[i] = strconv.FormatInt(t, 10)
		case bool:
			c.rec[i] = strconv.FormatBool(t)
		default:
			c.rec[i] = fmt.Sprint(t)
		}
	}
	return c.cw.Write(c.rec)
}

func (c *csvSink) flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

func (c *csvSink) end() error { return c.flush() }

func (c *csvSink) close() {}

// ---- GeoJSON ----

type geojsonSink struct {
	bw    *bufio.Writer
	first bool
	buf   []byte
}

func newGeoJSONSink(w io.Writer) (*geojsonSink, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(`{"type":"FeatureCollection","features":[`); err != nil {
		return nil, err
	}
	return &geojsonSink{bw: bw, first: true}, nil
}

func (g *geojsonSink) row(v AssetView) error {
	b := g.buf[:0]
	if !g.first {
		b = append(b, ',')
	}
	g.first = false
	b = append(b, "\n{\"type\":\"Feature\",\"id\":"...)
	b = strconv.AppendInt(b, v.ID, 10)
	b = append(b, `,"geometry":`...)
	b = append(b, v.Geometry...)
	b = append(b, `,"properties":`...)
	b = v.appendJSON(b, false)
	b = append(b, '}')
	g.buf = b
	_, err := g.bw.Write(b)
	return err
}

func (g *geojsonSink) flush() error { return g.bw.Flush() }

func (g *geojsonSink) close() {}

func (g *geojsonSink) end() error {
	if _, err := g.bw.WriteString("\n]}\n"); err != nil {
		return err
	}
	return g.bw.Flush()
}

// ---- XLSX ----

type xlsxSink struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	next int // the next row number
}

func newXLSXSink(w io.Writer) (*xlsxSink, error) {
	f := excelize.NewFile()
	fail := func(err error) (*xlsxSink, error) {
		_ = f.Close()
		return nil, fmt.Errorf("xlsx export: %w", err)
	}
	if err := f.SetSheetName("Sheet1", "Assets"); err != nil {
		return fail(err)
	}
	sw, err := f.NewStreamWriter("Assets")
	if err != nil {
		return fail(err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fail(err)
	}
	header := make([]any, len(exportColumns))
	for i, c := range exportColumns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fail(err)
	}
	if err := sw.SetRow("A1", header); err != nil {
		return fail(err)
	}
	return &xlsxSink{w: w, f: f, sw: sw, next: 2}, nil
}

func (x *xlsxSink) row(v AssetView) error {
	if x.next > xlsxMaxRows {
		return infrashare.Invalid("format", fmt.Sprintf("a spreadsheet holds at most %d assets: narrow the filters, or export CSV or GeoJSON", xlsxMaxRows-1))
	}
	cell, err := excelize.CoordinatesToCellName(1, x.next)
	if err != nil {
		return err
	}
	x.next++
	return x.sw.SetRow(cell, exportCells(v))
}

func (x *xlsxSink) flush() error { return nil } // the file is written whole at the end

func (x *xlsxSink) close() { _ = x.f.Close() } // removes the temporary files

func (x *xlsxSink) end() error {
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("xlsx export: %w", err)
	}
	_, err := x.f.WriteTo(x.w)
	return err
}
