package registry

import (
	"math"
	"testing"
)

// FuzzVN2000RoundTrip: any WGS84 position inside the converter's box (which
// holds Vietnam with a margin) in any zone 102°–110° converts to VN-2000 and
// back to within a millimetre; anything else is refused with a message and
// zeros, never NaN or a silent wrong answer. FuzzVN2000ToWGS84 (in
// vn2000_test.go) walks the other direction.
func FuzzVN2000RoundTrip(f *testing.F) {
	for i, p := range vn2000LoadReference(f) {
		if i%2 == 0 {
			f.Add(p.lat, p.lon, p.lon0)
		}
	}
	f.Add(10.0341, 105.788, 105.75) // Ninh Kiều, Can Tho
	f.Add(23.3926, 105.3224, 105.5) // Lũng Cú, the northern tip
	f.Add(8.5596, 104.7199, 104.5)  // Mũi Cà Mau, the southern tip
	f.Add(5.0, 100.0, 110.0)        // the box's corner, 10° off the meridian
	f.Add(25.0, 112.0, 102.0)
	f.Add(math.NaN(), 105.0, 105.0)
	f.Add(10.0, math.Inf(-1), 105.0)
	f.Add(10.0, 105.0, 101.999999)
	f.Add(105.788, 10.0341, 105.75) // lat and lon swapped
	f.Add(-0.0, -0.0, 0.0)
	f.Add(1e308, -1e308, 1e308)
	f.Fuzz(func(t *testing.T, lat, lon, lon0 float64) {
		x, y, err := WGS84ToVN2000(lat, lon, lon0)
		valid := vn2000Finite(lat) && vn2000Finite(lon) && vn2000CheckLon0(lon0) == nil && vn2000InBox(lat, lon)
		if err != nil {
			if valid {
				t.Fatalf("WGS84ToVN2000(%v, %v, %v) refused a position inside the box: %v", lat, lon, lon0, err)
			}
			if err.Error() == "" || x != 0 || y != 0 {
				t.Fatalf("WGS84ToVN2000(%v, %v, %v) = %v, %v, %q: a refusal must say why and return zeros", lat, lon, lon0, x, y, err)
			}
			return
		}
		if !valid {
			t.Fatalf("WGS84ToVN2000(%v, %v, %v) = %v, %v accepted a position it should refuse", lat, lon, lon0, x, y)
		}
		if !vn2000Finite(x) || !vn2000Finite(y) {
			t.Fatalf("WGS84ToVN2000(%v, %v, %v) = %v, %v with nil error", lat, lon, lon0, x, y)
		}
		lat2, lon2, err := VN2000ToWGS84(x, y, lon0)
		if err != nil {
			t.Fatalf("VN2000ToWGS84(%v, %v, %v), back from (%v, %v): %v", x, y, lon0, lat, lon, err)
		}
		const metresPerDegree = 111320.0
		dn := (lat2 - lat) * metresPerDegree
		de := (lon2 - lon) * metresPerDegree * math.Cos(lat*math.Pi/180)
		if d := math.Hypot(dn, de); !(d <= 0.001) {
			t.Fatalf("round trip lat %v, lon %v, lon0 %v came back as %.10f, %.10f: %.6f m off", lat, lon, lon0, lat2, lon2, d)
		}
	})
}
