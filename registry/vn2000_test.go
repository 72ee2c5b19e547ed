package registry

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vn2000RefPoint is one row of testdata/vn2000_reference.csv, computed with
// PROJ's cs2cs (see the comment lines at the top of that file).
type vn2000RefPoint struct {
	name     string
	lon0     float64
	lat, lon float64 // WGS84, degrees
	x, y     float64 // VN-2000 TM: x = northing, y = easting, metres
}

func vn2000LoadReference(tb testing.TB) []vn2000RefPoint {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "vn2000_reference.csv"))
	if err != nil {
		tb.Fatalf("open fixtures: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = 6
	rows, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("read fixtures: %v", err)
	}
	if len(rows) < 2 {
		tb.Fatalf("fixtures: no data rows")
	}
	want := []string{"name", "lon0", "lat", "lon", "x_northing", "y_easting"}
	for i, h := range want {
		if rows[0][i] != h {
			tb.Fatalf("fixtures: header column %d is %q, want %q", i, rows[0][i], h)
		}
	}
	var pts []vn2000RefPoint
	for _, row := range rows[1:] {
		var v [5]float64
		for i := range v {
			v[i], err = strconv.ParseFloat(row[i+1], 64)
			if err != nil {
				tb.Fatalf("fixtures: row %v: %v", row, err)
			}
		}
		pts = append(pts, vn2000RefPoint{name: row[0], lon0: v[0], lat: v[1], lon: v[2], x: v[3], y: v[4]})
	}
	return pts
}

func TestVN2000ReferenceFixtures(t *testing.T) {
	pts := vn2000LoadReference(t)
	perZone := map[float64]int{}
	for _, p := range pts {
		perZone[p.lon0]++
	}
	for _, zone := range []float64{105, 105.75} {
		if perZone[zone] < 10 {
			t.Errorf("fixtures: only %d points for lon0 = %g, want at least 10", perZone[zone], zone)
		}
	}

	const tolMetres = 0.05
	const tolDegrees = 5e-7
	var worstMetres, worstDegrees float64
	defer func() {
		t.Logf("%d PROJ points: worst %.2e m (WGS84→VN-2000), %.2e° (VN-2000→WGS84)", len(pts), worstMetres, worstDegrees)
	}()
	for _, p := range pts {
		t.Run(fmt.Sprintf("%s/lon0=%g", p.name, p.lon0), func(t *testing.T) {
			x, y, err := WGS84ToVN2000(p.lat, p.lon, p.lon0)
			if err != nil {
				t.Fatalf("WGS84ToVN2000(%v, %v, %v): %v", p.lat, p.lon, p.lon0, err)
			}
			dx, dy := math.Abs(x-p.x), math.Abs(y-p.y)
			worstMetres = math.Max(worstMetres, math.Max(dx, dy))
			if dx > tolMetres || dy > tolMetres {
				t.Errorf("WGS84ToVN2000(%v, %v, %v) = x %.4f, y %.4f; PROJ x %.4f, y %.4f (off by %.4f m, %.4f m)",
					p.lat, p.lon, p.lon0, x, y, p.x, p.y, x-p.x, y-p.y)
			}

			lat, lon, err := VN2000ToWGS84(p.x, p.y, p.lon0)
			if err != nil {
				t.Fatalf("VN2000ToWGS84(%v, %v, %v): %v", p.x, p.y, p.lon0, err)
			}
			dlat, dlon := math.Abs(lat-p.lat), math.Abs(lon-p.lon)
			worstDegrees = math.Max(worstDegrees, math.Max(dlat, dlon))
			if dlat > tolDegrees || dlon > tolDegrees {
				t.Errorf("VN2000ToWGS84(%v, %v, %v) = lat %.9f, lon %.9f; PROJ lat %.9f, lon %.9f (off by %.2e°, %.2e°)",
					p.x, p.y, p.lon0, lat, lon, p.lat, p.lon, lat-p.lat, lon-p.lon)
			}
		})
	}
}

func TestVN2000RoundTripGrid(t *testing.T) {
	const tolMetres = 0.001
	const metresPerDegree = 111320.0
	worst := 0.0
	n := 0
	for _, lon0 := range []float64{102, 104.5, 105, 105.75, 107.75, 110} {
		for lat := 8.5; lat <= 23.5; lat += 0.5 {
			for lon := 102.0; lon <= 109.5; lon += 0.25 {
				x, y, err := WGS84ToVN2000(lat, lon, lon0)
				if err != nil {
					t.Fatalf("WGS84ToVN2000(%v, %v, %v): %v", lat, lon, lon0, err)
				}
				lat2, lon2, err := VN2000ToWGS84(x, y, lon0)
				if err != nil {
					t.Fatalf("VN2000ToWGS84(%v, %v, %v) from (%v, %v): %v", x, y, lon0, lat, lon, err)
				}
				dn := (lat2 - lat) * metresPerDegree
				de := (lon2 - lon) * metresPerDegree * math.Cos(lat*math.Pi/180)
				d := math.Hypot(dn, de)
				worst = math.Max(worst, d)
				n++
				if d > tolMetres {
					t.Errorf("round trip lat %v, lon %v, lon0 %v came back as %.10f, %.10f: %.4f m off", lat, lon, lon0, lat2, lon2, d)
				}
			}
		}
	}
	t.Logf("%d round trips, worst %.2e m", n, worst)
}

// VN-2000 values a user imports must come back unchanged when exported.
func TestVN2000RoundTripGridFromVN2000(t *testing.T) {
	const tolMetres = 0.001
	worst := 0.0
	for _, lon0 := range []float64{103, 105, 105.75, 108.5} {
		for x := 1000000.0; x <= 2600000; x += 50000 {
			for y := 300000.0; y <= 700000; y += 25000 {
				lat, lon, err := VN2000ToWGS84(x, y, lon0)
				if err != nil {
					t.Fatalf("VN2000ToWGS84(%v, %v, %v): %v", x, y, lon0, err)
				}
				x2, y2, err := WGS84ToVN2000(lat, lon, lon0)
				if err != nil {
					t.Fatalf("WGS84ToVN2000(%v, %v, %v): %v", lat, lon, lon0, err)
				}
				d := math.Hypot(x2-x, y2-y)
				worst = math.Max(worst, d)
				if d > tolMetres {
					t.Errorf("round trip x %v, y %v, lon0 %v came back as %.4f, %.4f: %.4f m off", x, y, lon0, x2, y2, d)
				}
			}
		}
	}
	t.Logf("worst %.2e m", worst)
}

func TestVN2000BadInputs(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	// Can Tho in zone 105°45'.
	const x, y, lat, lon = 1109627.9510, 503969.8473, 10.0341, 105.788
	tests := []struct {
		name    string
		toWGS84 bool // VN2000ToWGS84 if true, else WGS84ToVN2000
		a, b    float64
		lon0    float64
	}{
		{"vn2000 NaN x", true, nan, y, 105.75},
		{"vn2000 NaN y", true, x, nan, 105.75},
		{"vn2000 +Inf x", true, inf, y, 105.75},
		{"vn2000 -Inf y", true, x, -inf, 105.75},
		{"vn2000 NaN lon0", true, x, y, nan},
		{"vn2000 +Inf lon0", true, x, y, inf},
		{"vn2000 lon0 = 0", true, x, y, 0},
		{"vn2000 lon0 = 111", true, x, y, 111},
		{"vn2000 lon0 = 101.99", true, x, y, 101.99},
		{"vn2000 point in Europe", true, 5412000, 500000, 105},
		{"vn2000 zero point", true, 0, 0, 105},
		{"vn2000 huge easting", true, x, 1e12, 105},
		{"vn2000 huge northing", true, 1e12, y, 105},
		{"vn2000 x and y swapped", true, y, x, 105.75},
		{"wgs84 NaN lat", false, nan, lon, 105.75},
		{"wgs84 NaN lon", false, lat, nan, 105.75},
		{"wgs84 +Inf lat", false, inf, lon, 105.75},
		{"wgs84 -Inf lon", false, lat, -inf, 105.75},
		{"wgs84 NaN lon0", false, lat, lon, nan},
		{"wgs84 lon0 = 0", false, lat, lon, 0},
		{"wgs84 lon0 = 180", false, lat, lon, 180},
		{"wgs84 point in Europe (Paris)", false, 48.8566, 2.3522, 105},
		{"wgs84 lat and lon swapped", false, lon, lat, 105},
		{"wgs84 south of Vietnam", false, 4.9, 105, 105},
		{"wgs84 north pole", false, 90, 105, 105},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r1, r2 float64
			var err error
			if tc.toWGS84 {
				r1, r2, err = VN2000ToWGS84(tc.a, tc.b, tc.lon0)
			} else {
				r1, r2, err = WGS84ToVN2000(tc.a, tc.b, tc.lon0)
			}
			if err == nil {
				t.Fatalf("no error; got %v, %v", r1, r2)
			}
			if err.Error() == "" {
				t.Fatalf("empty error message")
			}
			if r1 != 0 || r2 != 0 {
				t.Errorf("on error want 0, 0; got %v, %v", r1, r2)
			}
			t.Log(err)
		})
	}
}

func TestVN2000SwapHint(t *testing.T) {
	// Easting and northing given in GIS order.
	_, _, err := VN2000ToWGS84(503969.8473, 1109627.9510, 105.75)
	if err == nil {
		t.Fatal("want an error for swapped x/y")
	}
	if got := err.Error(); !strings.Contains(got, "swapped") || !strings.Contains(got, "northing") {
		t.Errorf("error %q should say x and y look swapped", got)
	}
}

func FuzzVN2000ToWGS84(f *testing.F) {
	for i, p := range vn2000LoadReference(f) {
		if i%3 == 0 {
			f.Add(p.x, p.y, p.lon0)
		}
	}
	f.Add(math.NaN(), 500000.0, 105.0)
	f.Add(0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, x, y, lon0 float64) {
		lat, lon, err := VN2000ToWGS84(x, y, lon0)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("VN2000ToWGS84(%v, %v, %v): empty error message", x, y, lon0)
			}
			return
		}
		if math.IsNaN(lat) || math.IsInf(lat, 0) || math.IsNaN(lon) || math.IsInf(lon, 0) {
			t.Fatalf("VN2000ToWGS84(%v, %v, %v) = %v, %v with nil error", x, y, lon0, lat, lon)
		}
		if lat < 5 || lat > 25 || lon < 100 || lon > 112 {
			t.Fatalf("VN2000ToWGS84(%v, %v, %v) = %v, %v outside Vietnam with nil error", x, y, lon0, lat, lon)
		}
		// The way back must work too and give finite metres.
		x2, y2, err := WGS84ToVN2000(lat, lon, lon0)
		if err != nil {
			t.Fatalf("WGS84ToVN2000(%v, %v, %v) after a good forward conversion: %v", lat, lon, lon0, err)
		}
		if math.IsNaN(x2) || math.IsInf(x2, 0) || math.IsNaN(y2) || math.IsInf(y2, 0) {
			t.Fatalf("WGS84ToVN2000(%v, %v, %v) = %v, %v with nil error", lat, lon, lon0, x2, y2)
		}
		// And land where it started: VN-2000 values imported and exported
		// again must come back unchanged (to a millimetre).
		if d := math.Hypot(x2-x, y2-y); !(d <= 0.001) {
			t.Fatalf("round trip x %v, y %v, lon0 %v came back as %.4f, %.4f: %.6f m off", x, y, lon0, x2, y2, d)
		}
	})
}
