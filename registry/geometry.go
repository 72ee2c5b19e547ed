package registry

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

// Kinds of assets, by the geometry they have.
var (
	pointKinds = map[string]bool{"tower": true, "pole": true, "manhole": true, "cabinet": true}
	lineKinds  = map[string]bool{"duct": true, "conduit": true, "tunnel": true}
)

// maxLineSpanDeg bounds the extent of one line asset, so that a bounding-box
// search can use the index on the south edge of line boxes. Long routes are
// registered as segments between manholes, as they are built.
const maxLineSpanDeg = 0.05

// maxLineVertices bounds a line asset's vertices.
const maxLineVertices = 10000

// ServiceArea is the box every geometry must lie in (a setting).
type ServiceArea struct {
	MinLat float64 `json:"min_lat"`
	MaxLat float64 `json:"max_lat"`
	MinLon float64 `json:"min_lon"`
	MaxLon float64 `json:"max_lon"`
}

// DefaultServiceArea is Vietnam's box, used when the setting is missing.
var DefaultServiceArea = ServiceArea{MinLat: 8.0, MaxLat: 23.5, MinLon: 102.0, MaxLon: 110.0}

func (a ServiceArea) contains(lon, lat float64) bool {
	return lat >= a.MinLat && lat <= a.MaxLat && lon >= a.MinLon && lon <= a.MaxLon
}

// shape is a checked geometry with what the register derives from it.
type shape struct {
	geom    orb.Geometry
	geojson string
	point   *orb.Point
	bound   orb.Bound
	lengthM *float64
	// mid is where a line's unit is taken: the point halfway along it.
	mid orb.Point
}

// parseShape reads a GeoJSON geometry for an asset of kind and checks it:
// a Point for point kinds, a LineString for line kinds, finite WGS84
// coordinates inside the service area. The reason names what is wrong.
func parseShape(raw json.RawMessage, kind string, area ServiceArea) (shape, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return shape{}, fmt.Errorf("is required")
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return shape{}, fmt.Errorf("is not a GeoJSON geometry")
	}
	return checkShape(g.Geometry(), kind, area)
}

func checkShape(geom orb.Geometry, kind string, area ServiceArea) (shape, error) {
	var pts []orb.Point
	switch g := geom.(type) {
	case orb.Point:
		if !pointKinds[kind] {
			return shape{}, fmt.Errorf("a %s is a line: send a LineString", kind)
		}
		pts = []orb.Point{g}
	case orb.LineString:
		if !lineKinds[kind] {
			return shape{}, fmt.Errorf("a %s is a point: send a Point", kind)
		}
		if len(g) < 2 {
			return shape{}, fmt.Errorf("a LineString needs at least two positions")
		}
		if len(g) > maxLineVertices {
			return shape{}, fmt.Errorf("a LineString may have at most %d positions", maxLineVertices)
		}
		pts = g
	default:
		if pointKinds[kind] {
			return shape{}, fmt.Errorf("must be a GeoJSON Point")
		}
		return shape{}, fmt.Errorf("must be a GeoJSON LineString")
	}
	for _, p := range pts {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return shape{}, fmt.Errorf("has a coordinate that is not a number")
		}
		if !area.contains(p[0], p[1]) {
			return shape{}, fmt.Errorf("outside the service area (lat %.1f–%.1f, lon %.1f–%.1f; positions are [lon, lat])",
				area.MinLat, area.MaxLat, area.MinLon, area.MaxLon)
		}
	}
	s := shape{geom: geom, bound: geom.Bound()}
	if p, ok := geom.(orb.Point); ok {
		s.point, s.mid = &p, p
	} else {
		ls := geom.(orb.LineString)
		if s.bound.Max[1]-s.bound.Min[1] > maxLineSpanDeg || s.bound.Max[0]-s.bound.Min[0] > maxLineSpanDeg {
			return shape{}, fmt.Errorf("a line asset may span at most %.2f° (about 5 km); register long routes as segments between manholes", maxLineSpanDeg)
		}
		l := geo.Length(ls)
		l = math.Round(l*10) / 10
		s.lengthM = &l
		s.mid = alongLine(ls, geo.Length(ls)/2)
	}
	if text, ok := GeoJSONText(geom); ok {
		s.geojson = text
		return s, nil
	}
	raw, err := geojson.NewGeometry(geom).MarshalJSON()
	if err != nil {
		return shape{}, fmt.Errorf("cannot be encoded: %v", err)
	}
	s.geojson = string(raw)
	return s, nil
}

// alongLine is the point d metres along ls.
func alongLine(ls orb.LineString, d float64) orb.Point {
	for i := 1; i < len(ls); i++ {
		seg := geo.Distance(ls[i-1], ls[i])
		if d <= seg && seg > 0 {
			f := d / seg
			return orb.Point{ls[i-1][0] + f*(ls[i][0]-ls[i-1][0]), ls[i-1][1] + f*(ls[i][1]-ls[i-1][1])}
		}
		d -= seg
	}
	return ls[len(ls)-1]
}

// coarse rounds a coordinate to 0.01°, the position other operators see of
// a restricted site.
func coarse(v float64) float64 { return math.Round(v*100) / 100 }

// metresPerDegLat is the length of a degree of latitude, near enough for
// search boxes (the distances themselves are great-circle).
const metresPerDegLat = 111320.0

// searchBox is the lat/lon box that holds every point within r metres of
// (lat, lon).
func searchBox(lat, lon, r float64) orb.Bound {
	dLat := r / metresPerDegLat
	dLon := r / (metresPerDegLat * math.Max(math.Cos(lat*math.Pi/180), 0.01))
	return orb.Bound{Min: orb.Point{lon - dLon, lat - dLat}, Max: orb.Point{lon + dLon, lat + dLat}}
}

// distanceTo is the great-circle distance in metres from p to a point, or
// to the nearest point of a line (found on a local equirectangular plane,
// exact to centimetres over a few kilometres).
func distanceTo(p orb.Point, g orb.Geometry) float64 {
	switch v := g.(type) {
	case orb.Point:
		return geo.Distance(p, v)
	case orb.LineString:
		best := math.Inf(1)
		k := math.Cos(p[1] * math.Pi / 180)
		for i := 1; i < len(v); i++ {
			q := nearestOnSegment(p, v[i-1], v[i], k)
			if d := geo.Distance(p, q); d < best {
				best = d
			}
		}
		return best
	}
	return math.Inf(1)
}

func nearestOnSegment(p, a, b orb.Point, k float64) orb.Point {
	ax, ay := (a[0]-p[0])*k, a[1]-p[1]
	bx, by := (b[0]-p[0])*k, b[1]-p[1]
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = -(ax*dx + ay*dy) / l2
		t = math.Max(0, math.Min(1, t))
	}
	return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
}

// lineOf reads a line asset's stored geometry.
func lineOf(a Asset) (orb.LineString, error) {
	g, err := geojson.UnmarshalGeometry([]byte(a.Geometry))
	if err != nil {
		return nil, err
	}
	ls, ok := g.Geometry().(orb.LineString)
	if !ok {
		return nil, fmt.Errorf("asset %d: not a LineString", a.ID)
	}
	return ls, nil
}

// GeoJSONText encodes a Point or LineString exactly as orb's GeoJSON
// encoder does, without its reflection: the register compares stored texts
// to tell an unchanged position, and bulk writers (gen) write the same
// text. encoding/json writes floats with the shortest 'f' digits unless they
// are tiny or huge; those (never a position in the service area), and other
// geometries, are left to orb (ok false).
func GeoJSONText(g orb.Geometry) (text string, ok bool) {
	var pts []orb.Point
	b := make([]byte, 0, 64)
	switch g := g.(type) {
	case orb.Point:
		pts = []orb.Point{g}
		b = append(b, `{"type":"Point","coordinates":`...)
	case orb.LineString:
		pts = g
		b = append(b, `{"type":"LineString","coordinates":[`...)
	default:
		return "", false
	}
	for i, p := range pts {
		for _, f := range p {
			if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
				return "", false
			}
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
		b = append(b, ']')
	}
	if _, line := g.(orb.LineString); line {
		b = append(b, ']')
	}
	return string(append(b, '}')), true
}
