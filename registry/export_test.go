package registry_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/xuri/excelize/v2"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/registry"
)

const exportBOM = "\uFEFF"

// export runs an export as who and returns the bytes.
func (f *fixture) export(who string, filter registry.AssetFilter, format string) []byte {
	f.t.Helper()
	var buf bytes.Buffer
	if err := f.reg.ExportAssets(dbtest.Context(f.t), f.actors[who], filter, format, &buf); err != nil {
		f.t.Fatalf("export %s as %s: %v", format, who, err)
	}
	return buf.Bytes()
}

// csvTable reads an exported CSV (after its BOM) into rows keyed by code,
// each a map of column to cell.
func csvTable(t *testing.T, raw []byte) (header []string, rows map[string]map[string]string) {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte(exportBOM)) {
		t.Fatalf("the CSV has no BOM: %.40q", raw)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw[len(exportBOM):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header = recs[0]
	rows = map[string]map[string]string{}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range header {
			m[c] = r[i]
		}
		rows[m["code"]] = m
	}
	return header, rows
}

// seedExport registers what the export tests look at: VNPT's towers (one
// with a formula-looking address), a duct, and Viettel's restricted site.
func seedExport(t *testing.T, f *fixture) {
	t.Helper()
	body := "code,kind,status,lat,lon,geometry,height_m,class,structure,capacity_total,tubes,diameter_mm,address,unit_code,in_service_on,restricted,rent_vnd\n" +
		`EX-1,tower,in_service,10.0341,105.788,,45.5,A2b,cột tự đứng,3,,,"=HYPERLINK(""http://evil.example/"",""bấm vào"")",916,2020-01-15,false,36000000` + "\n" +
		`EX-2,pole,planned,10.0402,105.7713,,12,,,2,,,"+84 292 3800 126 @Cái Khế",916,,true,` + "\n" +
		`EX-3,duct,in_service,,,"LINESTRING(105.78 10.03, 105.781 10.03, 105.781 10.031)",,,,,6,110,Đường 30/4,916,2018-07-01,false,12000` + "\n"
	if _, err := f.importCSV("vnpt", body); err != nil {
		t.Fatal(err)
	}
	if _, err := f.importCSV("viettel", "code,kind,lat,lon,address,restricted\nVT-SEC,tower,10.04567,105.76123,Khu vực hạn chế,true\n"); err != nil {
		t.Fatal(err)
	}
}

func TestExportCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		seedExport(t, f)

		header, rows := csvTable(t, f.export("vnpt", registry.AssetFilter{}, "csv"))
		if strings.Join(header, ",") != "code,kind,status,lat,lon,geometry,height_m,class,structure,capacity_unit,capacity_total,tubes,diameter_mm,"+
			"address,unit_code,in_service_on,restricted,rent_vnd,id,owner,capacity_reserved,capacity_active,capacity_free,length_m" {
			t.Fatalf("header %v", header)
		}
		ex1 := rows["EX-1"]
		if ex1["address"] != `'=HYPERLINK("http://evil.example/","bấm vào")` {
			t.Fatalf("formula not neutralised: %q", ex1["address"])
		}
		if ex1["lat"] != "10.0341" || ex1["lon"] != "105.788" || ex1["height_m"] != "45.5" || ex1["rent_vnd"] != "36000000" ||
			ex1["owner"] != "VNPT" || ex1["capacity_free"] != "3" || ex1["in_service_on"] != "2020-01-15" || ex1["geometry"] != "" {
			t.Fatalf("EX-1 %v", ex1)
		}
		if rows["EX-2"]["address"] != "'+84 292 3800 126 @Cái Khế" || rows["EX-2"]["restricted"] != "true" {
			t.Fatalf("EX-2 %v", rows["EX-2"])
		}
		duct := rows["EX-3"]
		if duct["geometry"] != "LINESTRING(105.78 10.03, 105.781 10.03, 105.781 10.031)" || duct["lat"] != "" || duct["tubes"] != "6" || duct["length_m"] == "" {
			t.Fatalf("duct %v", duct)
		}
		// Viettel's restricted site: rounded, no address, for VNPT.
		sec := rows["VT-SEC"]
		if sec["lat"] != "10.05" || sec["lon"] != "105.76" || sec["address"] != "" || sec["owner"] != "VIETTEL" {
			t.Fatalf("VNPT sees %v", sec)
		}
		// Its owner and the department see it exactly.
		for _, who := range []string{"viettel", "auditor"} {
			_, exact := csvTable(t, f.export(who, registry.AssetFilter{}, "csv"))
			if exact["VT-SEC"]["lat"] != "10.04567" || exact["VT-SEC"]["address"] != "Khu vực hạn chế" {
				t.Fatalf("%s sees %v", who, exact["VT-SEC"])
			}
		}

		// Numbers are never quoted, even negative ones: widen the service
		// area south of the equator for one site.
		if err := db.Root().Table("settings").Where("key = ?", "service_area").
			Update("value", `{"min_lat":-10,"max_lat":23.5,"min_lon":102.0,"max_lon":110.0}`).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := f.importCSV("vnpt", "code,kind,lat,lon,address\nEX-SOUTH,manhole,-5.5,105.5,-5 m\n"); err != nil {
			t.Fatal(err)
		}
		_, rows = csvTable(t, f.export("vnpt", registry.AssetFilter{Q: "EX-SOUTH"}, "csv"))
		if rows["EX-SOUTH"]["lat"] != "-5.5" || rows["EX-SOUTH"]["address"] != "'-5 m" {
			t.Fatalf("negative number or text: %v", rows["EX-SOUTH"])
		}

		// Filters apply, and are checked before anything is written.
		_, rows = csvTable(t, f.export("vnpt", registry.AssetFilter{Kinds: []string{"duct"}}, "csv"))
		if len(rows) != 1 || rows["EX-3"] == nil {
			t.Fatalf("kind=duct exported %v", rows)
		}
		var buf bytes.Buffer
		err := f.reg.ExportAssets(dbtest.Context(t), f.actors["vnpt"], registry.AssetFilter{Kinds: []string{"ufo"}}, "csv", &buf)
		if infrashare.ErrorCode(err) != infrashare.EINVALID || buf.Len() != 0 {
			t.Fatalf("bad filter: %v, %d bytes written", err, buf.Len())
		}
		err = f.reg.ExportAssets(dbtest.Context(t), f.actors["vnpt"], registry.AssetFilter{}, "pdf", &buf)
		if infrashare.ErrorCode(err) != infrashare.EINVALID || buf.Len() != 0 {
			t.Fatalf("bad format: %v", err)
		}
	})
}

// An exported CSV imports again unchanged: formulas, Vietnamese text, lines,
// dates and the read-only columns included.
func TestExportCSVReimportsUnchanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		seedExport(t, f)
		defer registry.SetExportBatch(2000)()
		if _, err := f.importCSV("vnpt", importTowerCSV("RT", 4500, nil)); err != nil { // several export batches
			t.Fatal(err)
		}
		raw := f.export("vnpt", registry.AssetFilter{Owner: "VNPT"}, "csv")
		_, rows := csvTable(t, raw)
		if len(rows) != 4503 {
			t.Fatalf("exported %d rows, want 4503", len(rows))
		}
		res, err := f.importCSV("vnpt", string(raw))
		if err != nil || res != (registry.ImportResult{Rows: 4503, Unchanged: 4503}) {
			t.Fatalf("re-import: %+v %v", res, err)
		}
		if a := importedAsset(t, db, "VNPT", "EX-1"); a.Address != `=HYPERLINK("http://evil.example/","bấm vào")` || a.Version != 1 {
			t.Fatalf("EX-1 after the round trip: %+v", a)
		}
	})
}

func TestExportGeoJSON(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		seedExport(t, f)
		raw := f.export("vnpt", registry.AssetFilter{}, "geojson")
		fc, err := geojson.UnmarshalFeatureCollection(raw)
		if err != nil {
			t.Fatalf("not a FeatureCollection: %v\n%.300s", err, raw)
		}
		byCode := map[string]*geojson.Feature{}
		for _, ft := range fc.Features {
			byCode[ft.Properties.MustString("code")] = ft
		}
		if len(byCode) != 4 {
			t.Fatalf("%d features", len(byCode))
		}
		ex1 := byCode["EX-1"]
		if p, ok := ex1.Geometry.(orb.Point); !ok || p != (orb.Point{105.788, 10.0341}) {
			t.Fatalf("EX-1 geometry %v: want [lon, lat]", ex1.Geometry)
		}
		a := importedAsset(t, db, "VNPT", "EX-1")
		if fmt.Sprint(ex1.ID) != fmt.Sprint(a.ID) || ex1.Properties["geometry"] != nil || ex1.Properties.MustString("address") == "" {
			t.Fatalf("EX-1 feature %+v", ex1)
		}
		if ls, ok := byCode["EX-3"].Geometry.(orb.LineString); !ok || len(ls) != 3 || ls[0] != (orb.Point{105.78, 10.03}) {
			t.Fatalf("duct geometry %v", byCode["EX-3"].Geometry)
		}
		sec := byCode["VT-SEC"]
		if p := sec.Geometry.(orb.Point); p != (orb.Point{105.76, 10.05}) || sec.Properties["address"] != nil || sec.Properties["coarse"] != true {
			t.Fatalf("restricted site for VNPT: %v %v", sec.Geometry, sec.Properties)
		}
		// The bbox filter places the restricted site by its rounded position.
		raw = f.export("vnpt", registry.AssetFilter{BBox: &orb.Bound{Min: orb.Point{105.7612, 10.0456}, Max: orb.Point{105.7613, 10.0457}}}, "geojson")
		fc, err = geojson.UnmarshalFeatureCollection(raw)
		if err != nil || len(fc.Features) != 0 {
			t.Fatalf("the exact position finds the restricted site: %v %s", err, raw)
		}
		raw = f.export("vnpt", registry.AssetFilter{BBox: &orb.Bound{Min: orb.Point{105.75, 10.04}, Max: orb.Point{105.78, 10.06}}}, "geojson")
		fc, _ = geojson.UnmarshalFeatureCollection(raw)
		if len(fc.Features) != 2 { // EX-2 and the rounded VT-SEC
			t.Fatalf("bbox: %d features", len(fc.Features))
		}
		// An empty result is still a valid collection.
		raw = f.export("vnpt", registry.AssetFilter{Kinds: []string{"tunnel"}}, "geojson")
		var empty struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal(raw, &empty); err != nil || empty.Type != "FeatureCollection" || empty.Features == nil {
			t.Fatalf("empty export %s: %v", raw, err)
		}
		// The GeoJSON export imports again unchanged too.
		raw = f.export("vnpt", registry.AssetFilter{Owner: "VNPT"}, "geojson")
		res, err := f.reg.ImportAssets(dbtest.Context(t), f.actors["vnpt"], bytes.NewReader(raw), registry.ImportOptions{Format: "geojson"})
		if err != nil || res != (registry.ImportResult{Rows: 3, Unchanged: 3}) {
			t.Fatalf("GeoJSON re-import %+v %v", res, err)
		}
	})
}

func TestExportXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		seedExport(t, f)
		raw := f.export("vnpt", registry.AssetFilter{}, "xlsx")
		x, err := excelize.OpenReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, err := x.GetRows("Assets")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 || rows[0][0] != "code" || rows[0][23] != "length_m" {
			t.Fatalf("sheet %v", rows)
		}
		style, _ := x.GetCellStyle("Assets", "A1")
		if st, err := x.GetStyle(style); err != nil || st.Font == nil || !st.Font.Bold {
			t.Fatalf("the header is not bold: %+v %v", st, err)
		}
		col := map[string]int{}
		for i, c := range rows[0] {
			col[c] = i
		}
		for _, r := range rows[1:] {
			switch r[0] {
			case "EX-1":
				if r[col["lat"]] != "10.0341" || r[col["address"]] != `=HYPERLINK("http://evil.example/","bấm vào")` {
					t.Fatalf("EX-1 %v", r)
				}
				// A text cell, not a formula.
				if fm, _ := x.GetCellFormula("Assets", fmt.Sprintf("N%d", 2)); fm != "" {
					t.Fatalf("a formula in the sheet: %q", fm)
				}
			case "VT-SEC":
				if r[col["lat"]] != "10.05" || r[col["lon"]] != "105.76" || (len(r) > col["address"] && r[col["address"]] != "") {
					t.Fatalf("restricted site for VNPT: %v", r)
				}
			}
		}
		typ, _ := x.GetCellType("Assets", "D2")
		if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Fatalf("lat is stored as %v, want a number", typ)
		}
	})
}
