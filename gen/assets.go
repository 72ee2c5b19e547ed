package gen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"

	"infrashare"
	"infrashare/registry"
)

// Kinds and statuses of the generated assets, by index.
const (
	kTower = iota
	kPole
	kManhole
	kCabinet
	kDuct
)

var (
	kinds      = []string{"tower", "pole", "manhole", "cabinet", "duct"}
	kindPrefix = []string{"T", "P", "M", "C", "D"}
	capUnits   = []string{"tenant_slot", "tenant_slot", "cable_slot", "cable_slot", "tube"}
)

const (
	sPlanned = iota
	sUnderConstruction
	sInService
	sDecommissioned
)

var statuses = []string{"planned", "under_construction", "in_service", "decommissioned"}

// ownerCodes are the organisations that own generated assets; ownersByKind
// draws from them (indices), several times where an owner is more common.
var ownerCodes = []string{"VNPT", "VIETTEL", "MOBIFONE", "VNMOBILE", "FPT", "SCTV", "VNTOWER", "EVN"}

const (
	oVNPT = iota
	oViettel
	oMobifone
	oVNMobile
	oFPT
	oSCTV
	oVNTower
	oEVN
)

var ownersByKind = [][]uint8{
	kTower:   {oViettel, oViettel, oVNPT, oVNPT, oMobifone, oMobifone, oVNTower, oVNMobile},
	kPole:    {oEVN, oEVN, oEVN, oVNPT, oViettel, oFPT, oSCTV},
	kManhole: {oVNPT, oViettel, oFPT, oSCTV, oMobifone},
	kCabinet: {oVNPT, oViettel, oFPT, oSCTV, oMobifone},
	kDuct:    {oVNPT, oVNPT, oViettel, oViettel, oFPT, oSCTV, oMobifone},
}

// Shares of the mix. A group of the asset stream is either one point asset
// or, with routeShare, a duct route: 2–8 segments with a manhole at each
// end of each segment (so about 10 % of all assets are duct segments and
// 12 % manholes on routes).
const routeShare = 0.025

var pointMix = []struct {
	kind  int
	share float64
}{{kTower, 0.12}, {kPole, 0.40}, {kManhole, 0.05}, {kCabinet, 0.15}}

// skel is what the plan keeps of an asset: everything the allocations, the
// BTS log and the requests depend on. The text columns are drawn when the
// row is written, from the asset's own random stream.
type skel struct {
	line       orb.LineString // a duct's vertices; nil for a point
	lat, lon   float64        // a point's position
	route      int32          // a duct's route number; -1 for others
	inService  int32          // day number (see dayNum); 0 = none
	rent       int64          // VND per unit (per metre for ducts) a year; 0 = none
	owner      uint8          // index into ownerCodes
	kind       uint8
	status     uint8
	city       uint8
	unit       uint8 // index into generator.unitCodes
	restricted bool
	urban      bool
	capTotal   uint16
	active     uint16 // units active, the sum of the asset's active allocations
}

func (s *skel) free() int { return int(s.capTotal) - int(s.active) }

// dayNum numbers civil days from 1970-01-01 (day 1), so that 0 means none.
func dayNum(d infrashare.Date) int32 { return int32(d.Time().Unix()/86400) + 1 }

func dateOfNum(n int32) infrashare.Date {
	return infrashare.DateOf(time.Unix(int64(n-1)*86400, 0).UTC())
}

// rng is a random stream of the run: stream names what it draws, index
// which one (an asset, a group); the same seed, run, stream and index give
// the same draws whatever else the run generates.
func (g *generator) rng(stream, index uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.opts.Seed*0x9E3779B97F4A7C15+uint64(g.run)*0xBF58476D1CE4E5B9+stream, index))
}

// Streams.
const (
	streamGroups = iota + 1
	streamDetails
	streamAllocations
	streamBTS
	streamRequests
	streamPermits
)

var firstInService = dayNum(infrashare.MustDate("2005-01-01"))

// planAssets draws every asset's skeleton, group by group.
func (g *generator) planAssets(ctx context.Context) error {
	t := time.Now()
	n := g.opts.Assets
	g.skels = make([]skel, 0, n)
	g.unitCodes, g.unitIndex = []string{""}, map[string]uint8{"": 0}
	asOf := dayNum(g.opts.AsOf)
	route := int32(0)
	for group := uint64(0); len(g.skels) < n; group++ {
		rng := g.rng(streamGroups, group)
		lat, lon, ci, urban := g.geo.position(rng)
		base := skel{route: -1, city: uint8(ci), urban: urban, status: sInService}
		switch x := rng.Float64(); {
		case x < 0.04:
			base.status = sPlanned
		case x < 0.07:
			base.status = sUnderConstruction
		case x < 0.11:
			base.status = sDecommissioned
		}
		if base.status == sInService || base.status == sDecommissioned {
			base.inService = firstInService + rng.Int32N(asOf-firstInService-1)
		}
		left := n - len(g.skels)
		if rng.Float64() < routeShare && left >= 5 {
			segs := min(2+rng.IntN(7), (left-1)/2)
			base.owner = pick(rng, ownersByKind[kDuct])
			tubes := []uint16{2, 4, 4, 6, 6, 8, 12}[rng.IntN(7)]
			rent := int64(50_000 + 10_000*rng.IntN(16))
			bearing := rng.Float64() * 2 * math.Pi
			at := orb.Point{lon, lat}
			manhole := func(p orb.Point) {
				m := base
				m.kind, m.lat, m.lon, m.capTotal = kManhole, p[1], p[0], 4
				g.skels = append(g.skels, m)
			}
			manhole(at)
			for s := 0; s < segs; s++ {
				// A segment between two manholes: 60–300 m along a street,
				// with up to two bends.
				length := 60 + rng.Float64()*240
				nv := 2 + rng.IntN(3)
				ls := orb.LineString{at}
				step := length / float64(nv-1)
				for v := 1; v < nv; v++ {
					bearing += (rng.Float64() - 0.5) * 0.6
					p := ls[len(ls)-1]
					dLat := step * math.Cos(bearing) / (kmPerDegLat * 1000)
					dLon := step * math.Sin(bearing) / (kmPerDegLat * 1000 * math.Cos(p[1]*math.Pi/180))
					ls = append(ls, orb.Point{round6(p[0] + dLon), round6(p[1] + dLat)})
				}
				d := base
				d.kind, d.line, d.route, d.capTotal, d.rent = kDuct, ls, route, tubes, rent
				g.skels = append(g.skels, d)
				at = ls[len(ls)-1]
				manhole(at)
			}
			route++
		} else {
			s := base
			s.lat, s.lon = lat, lon
			x := rng.Float64() * 0.72
			s.kind = kCabinet
			acc := 0.0
			for _, m := range pointMix {
				if acc += m.share; x < acc {
					s.kind = uint8(m.kind)
					break
				}
			}
			s.owner = pick(rng, ownersByKind[s.kind])
			switch s.kind {
			case kTower:
				s.capTotal = uint16(2 + rng.IntN(3))
				s.rent = int64(30+rng.IntN(91)) * 1_000_000
				s.restricted = rng.Float64() < 0.06
			case kPole:
				s.capTotal = 2
				s.rent = int64(1+rng.IntN(5)) * 1_000_000
			case kManhole:
				s.capTotal = 4
			case kCabinet:
				s.capTotal = 2
				s.restricted = rng.Float64() < 0.02
			}
			g.skels = append(g.skels, s)
		}
		if group%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	// Units: Can Tho's assets lie in its districts; a loaded boundary
	// decides where it holds the point, as the register's build does.
	for i := range g.skels {
		s := &g.skels[i]
		p := s.position()
		code := ""
		if int(s.city) == canTho {
			code = canThoDistricts[nearestDistrict(p[1], p[0])].code
		}
		found, ok, err := g.units.Locate(ctx, p[0], p[1], g.opts.AsOf)
		if err != nil {
			return err
		}
		if ok {
			code = found
		}
		s.unit = g.unitOf(code)
	}
	g.progress.logf("gen: planned %d assets (%d duct routes) in %s", len(g.skels), route, time.Since(t).Round(time.Millisecond))
	return nil
}

func (g *generator) unitOf(code string) uint8 {
	if k, ok := g.unitIndex[code]; ok {
		return k
	}
	g.unitIndex[code] = uint8(len(g.unitCodes))
	g.unitCodes = append(g.unitCodes, code)
	return g.unitIndex[code]
}

// position is a point's position, or the point halfway along a line (where
// the register takes a line's unit).
func (s *skel) position() orb.Point {
	if s.line == nil {
		return orb.Point{s.lon, s.lat}
	}
	return alongLine(s.line, geo.Length(s.line)/2)
}

// alongLine is the point d metres along ls (registry/geometry.go).
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

func pick(rng *rand.Rand, list []uint8) uint8 { return list[rng.IntN(len(list))] }

// code is asset i's code, unique per owner: owner, province, kind letter
// and number; runs after the first carry their number.
func (g *generator) code(i int) string {
	s := &g.skels[i]
	c := fmt.Sprintf("%s-%s-%s%07d", ownerCodes[s.owner], cities[s.city].province, kindPrefix[s.kind], i+1)
	if g.run > 1 {
		c += "-R" + strconv.Itoa(g.run)
	}
	return c
}

func (g *generator) assetID(i int) int64 { return g.assetBase + int64(i) }

var assetColumns = []string{"id", "owner_id", "code", "kind", "status", "geometry", "lat", "lon", "coarse_lat", "coarse_lon",
	"min_lat", "min_lon", "max_lat", "max_lon", "unit_code", "search_code", "search_address", "address", "in_service_on",
	"height_m", "class", "structure", "tubes", "diameter_mm", "length_m", "restricted", "rent_vnd", "contact",
	"capacity_unit", "capacity_total", "reserved_units", "active_units", "version", "created_at", "updated_at"}

// assetRow is asset i as the register stores it (registry/assets.go
// build): the derived columns computed the same way.
func (g *generator) assetRow(i int, row []any) {
	s := &g.skels[i]
	rng := g.rng(streamDetails, uint64(i))
	no := strconv.Itoa(1 + rng.IntN(300))
	street := streets[rng.IntN(len(streets))]
	place := cities[s.city].name
	if int(s.city) == canTho {
		place = canThoDistricts[nearestDistrict(s.position()[1], s.position()[0])].name + ", Cần Thơ"
	}
	address := "Số " + no + " " + street + ", " + place
	// Fold works rune by rune and the parts meet at ASCII: the folded
	// address is the folded parts.
	searchAddress := "so " + no + " " + foldOnce(street) + ", " + foldOnce(place)
	code := g.code(i)
	var lat, lon, clat, clon, inService, height, tubes, diameter, length, rent any
	var minLat, minLon, maxLat, maxLon float64
	var geometry, class, structure, contact string
	if s.line == nil {
		lat, lon = s.lat, s.lon
		clat, clon = math.Round(s.lat*100)/100, math.Round(s.lon*100)/100
		minLat, minLon, maxLat, maxLon = s.lat, s.lon, s.lat, s.lon
		geometry = pointJSON(s.lon, s.lat)
		contact = "Phòng kỹ thuật — 0" + strconv.Itoa(200+rng.IntN(100)) + " " + strconv.Itoa(1000000+rng.IntN(9000000))
	} else {
		b := s.line.Bound()
		minLat, minLon, maxLat, maxLon = b.Min[1], b.Min[0], b.Max[1], b.Max[0]
		geometry = lineJSON(s.line)
		length = math.Round(geo.Length(s.line)*10) / 10
		tubes = int(s.capTotal)
		diameter = []float64{90, 110, 110, 160}[rng.IntN(4)]
		contact = "Trung tâm hạ tầng ngầm — 1900 " + strconv.Itoa(1000+rng.IntN(9000))
	}
	switch s.kind {
	case kTower:
		height = float64(18 + rng.IntN(43))
		class, structure = towerClasses[rng.IntN(len(towerClasses))], towerStructures[rng.IntN(len(towerStructures))]
	case kPole:
		height = float64(8 + rng.IntN(11))
		class, structure = poleClasses[rng.IntN(len(poleClasses))], poleStructures[rng.IntN(len(poleStructures))]
	}
	if s.inService != 0 {
		inService = dateOfNum(s.inService)
	}
	if s.rent != 0 {
		rent = s.rent
	}
	vals := [...]any{g.assetID(i), g.orgs[g.orgIndex[ownerCodes[s.owner]]].id, code, kinds[s.kind], statuses[s.status], geometry,
		lat, lon, clat, clon, minLat, minLon, maxLat, maxLon, g.unitCodes[s.unit], infrashare.Fold(code), searchAddress, address,
		inService, height, class, structure, tubes, diameter, length, s.restricted, rent, contact,
		capUnits[s.kind], int(s.capTotal), 0, int(s.active), 1, g.now, g.now}
	copy(row, vals[:])
}

var (
	foldMu   sync.Mutex
	foldMemo = map[string]string{}
)

// foldOnce is infrashare.Fold, remembered: the same street and city names
// come again and again.
func foldOnce(s string) string {
	foldMu.Lock()
	defer foldMu.Unlock()
	f, ok := foldMemo[s]
	if !ok {
		f = infrashare.Fold(s)
		foldMemo[s] = f
	}
	return f
}

// pointJSON and lineJSON are GeoJSON exactly as the register stores it.
func pointJSON(lon, lat float64) string { return geoJSONText(orb.Point{lon, lat}) }

func lineJSON(ls orb.LineString) string { return geoJSONText(ls) }

func geoJSONText(g orb.Geometry) string {
	if text, ok := registry.GeoJSONText(g); ok {
		return text
	}
	raw, _ := geojson.NewGeometry(g).MarshalJSON()
	return string(raw)
}
