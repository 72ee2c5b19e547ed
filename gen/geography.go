package gen

import (
	"math"
	"math/rand/v2"
	"sort"
)

// City is a centre that a national data set's assets cluster around: its
// GSO province code (as before the 2025 mergers) and its weight, a rough
// share of the country's infrastructure.
type City struct {
	Name     string
	Province string
	Lat, Lon float64
	Weight   float64
}

// Cities are ~60 Vietnamese city centres (provincial capitals and the large
// cities) by their real weights. The register's benchmarks draw from them
// too (registry/bench_test.go).
var Cities = []City{
	{"Hà Nội", "01", 21.0285, 105.8542, 12},
	{"TP. Hồ Chí Minh", "79", 10.7769, 106.7009, 14},
	{"Hải Phòng", "31", 20.8449, 106.6881, 3},
	{"Đà Nẵng", "48", 16.0544, 108.2022, 3},
	{"Cần Thơ", "92", 10.0341, 105.7880, 2.5},
	{"Biên Hòa", "75", 10.9574, 106.8429, 2},
	{"Thủ Dầu Một", "74", 10.9804, 106.6519, 1.5},
	{"Huế", "46", 16.4637, 107.5909, 1.5},
	{"Nha Trang", "56", 12.2388, 109.1967, 1.5},
	{"Vũng Tàu", "77", 10.3460, 107.0843, 1},
	{"Buôn Ma Thuột", "66", 12.6667, 108.0500, 1},
	{"Quy Nhơn", "52", 13.7765, 109.2237, 1},
	{"Vinh", "40", 18.6796, 105.6813, 1},
	{"Thanh Hóa", "38", 19.8067, 105.7852, 1},
	{"Nam Định", "36", 20.4388, 106.1621, 1},
	{"Thái Nguyên", "19", 21.5928, 105.8442, 1},
	{"Hạ Long", "22", 20.9510, 107.0734, 1},
	{"Bắc Ninh", "27", 21.1861, 106.0763, 1},
	{"Hải Dương", "30", 20.9373, 106.3146, 0.8},
	{"Long Xuyên", "89", 10.3864, 105.4352, 0.8},
	{"Mỹ Tho", "82", 10.3600, 106.3600, 0.8},
	{"Rạch Giá", "91", 10.0125, 105.0809, 0.8},
	{"Đà Lạt", "68", 11.9404, 108.4583, 0.8},
	{"Phan Thiết", "60", 10.9289, 108.1021, 0.7},
	{"Pleiku", "64", 13.9833, 108.0000, 0.7},
	{"Cà Mau", "96", 9.1769, 105.1524, 0.7},
	{"Sóc Trăng", "94", 9.6025, 105.9739, 0.5},
	{"Bạc Liêu", "95", 9.2941, 105.7278, 0.5},
	{"Vĩnh Long", "86", 10.2537, 105.9722, 0.5},
	{"Bến Tre", "83", 10.2433, 106.3756, 0.5},
	{"Trà Vinh", "84", 9.9347, 106.3453, 0.5},
	{"Cao Lãnh", "87", 10.4602, 105.6329, 0.5},
	{"Tân An", "80", 10.5359, 106.4137, 0.5},
	{"Tây Ninh", "72", 11.3100, 106.0983, 0.5},
	{"Đồng Xoài", "70", 11.5349, 106.8830, 0.4},
	{"Vị Thanh", "93", 9.7845, 105.4701, 0.3},
	{"Châu Đốc", "89", 10.7008, 105.1167, 0.4},
	{"Phan Rang–Tháp Chàm", "58", 11.5643, 108.9886, 0.5},
	{"Tuy Hòa", "54", 13.0955, 109.3209, 0.5},
	{"Quảng Ngãi", "51", 15.1214, 108.8044, 0.5},
	{"Tam Kỳ", "49", 15.5736, 108.4740, 0.5},
	{"Hội An", "49", 15.8801, 108.3380, 0.4},
	{"Đông Hà", "45", 16.8163, 107.1003, 0.4},
	{"Đồng Hới", "44", 17.4689, 106.6223, 0.4},
	{"Hà Tĩnh", "42", 18.3428, 105.9057, 0.4},
	{"Ninh Bình", "37", 20.2506, 105.9745, 0.5},
	{"Phủ Lý", "35", 20.5411, 105.9139, 0.3},
	{"Thái Bình", "34", 20.4463, 106.3366, 0.5},
	{"Hưng Yên", "33", 20.6464, 106.0511, 0.4},
	{"Việt Trì", "25", 21.3227, 105.4020, 0.5},
	{"Vĩnh Yên", "26", 21.3089, 105.6049, 0.4},
	{"Bắc Giang", "24", 21.2731, 106.1946, 0.4},
	{"Lạng Sơn", "20", 21.8537, 106.7610, 0.3},
	{"Lào Cai", "10", 22.4856, 103.9707, 0.3},
	{"Yên Bái", "15", 21.7229, 104.9113, 0.3},
	{"Tuyên Quang", "08", 21.8233, 105.2180, 0.3},
	{"Hòa Bình", "17", 20.8172, 105.3376, 0.3},
	{"Sơn La", "14", 21.3256, 103.9188, 0.3},
	{"Điện Biên Phủ", "11", 21.3860, 103.0230, 0.2},
	{"Kon Tum", "62", 14.3545, 108.0076, 0.3},
	{"Gia Nghĩa", "67", 12.0045, 107.6907, 0.2},
	{"Cam Ranh", "56", 11.9214, 109.1591, 0.3},
}

// city is a City as gen draws from it.
type city struct {
	name     string
	province string
	lat, lon float64
	weight   float64
}

// canThoWeight: Can Tho, the city the service is built for, weighs as much
// as a big city in gen's data sets, since its share carries the BTS log and
// the permits.
const canThoWeight = 10

var cities = func() []city {
	out := make([]city, len(Cities))
	for i, c := range Cities {
		w := c.Weight
		if c.Province == "92" {
			w = canThoWeight
		}
		out[i] = city{c.Name, c.Province, c.Lat, c.Lon, w}
	}
	return out
}()

// canTho is the index of Can Tho in cities.
var canTho = func() int {
	for i, c := range cities {
		if c.province == "92" {
			return i
		}
	}
	panic("gen: Can Tho missing from cities")
}()

// canThoDistricts are Can Tho's nine pre-2025 districts (the units the
// migrations seed) with a point near each centre; urban ones are the quận.
var canThoDistricts = []struct {
	code     string
	name     string
	lat, lon float64
}{
	{"916", "Ninh Kiều", 10.0310, 105.7680}, {"917", "Ô Môn", 10.1180, 105.6270},
	{"918", "Bình Thủy", 10.0710, 105.7430}, {"919", "Cái Răng", 9.9990, 105.7780},
	{"923", "Thốt Nốt", 10.2670, 105.5300}, {"924", "Vĩnh Thạnh", 10.2000, 105.4000},
	{"925", "Cờ Đỏ", 10.0980, 105.4300}, {"926", "Phong Điền", 9.9980, 105.6700},
	{"927", "Thới Lai", 10.0650, 105.5600},
}

// Density and mix. A city's assets are a dense core (a Gaussian whose peak
// density is coreDensity assets per km², the same in every city) and a
// suburban ring three times as wide; ruralShare of all assets are spread
// around the cities with a sigma of ruralSigmaKm.
const (
	coreDensity  = 46.0
	coreShare    = 0.60
	ruralShare   = 0.12
	ruralSigmaKm = 25.0
	kmPerDegLat  = 111.32
)

// geography draws positions around the cities.
type geography struct {
	cum       []float64 // cumulative weights
	totalW    float64
	sigmaCore []float64 // km, per city
}

func newGeography(n int) *geography {
	g := &geography{}
	for _, c := range cities {
		g.totalW += c.weight
		g.cum = append(g.cum, g.totalW)
	}
	urban := float64(max(n, 1000)) * (1 - ruralShare)
	for _, c := range cities {
		nc := urban * c.weight / g.totalW
		g.sigmaCore = append(g.sigmaCore, math.Sqrt(coreShare*nc/(2*math.Pi*coreDensity)))
	}
	return g
}

func (g *geography) city(rng *rand.Rand) int {
	return min(sort.SearchFloat64s(g.cum, rng.Float64()*g.totalW), len(cities)-1)
}

// offset moves (lat, lon) by a Gaussian of sigma km.
func offset(rng *rand.Rand, lat, lon, sigmaKm float64) (float64, float64) {
	dy, dx := rng.NormFloat64()*sigmaKm, rng.NormFloat64()*sigmaKm
	lat += dy / kmPerDegLat
	lon += dx / (kmPerDegLat * math.Cos(lat*math.Pi/180))
	return lat, lon
}

// Inside the default service area (Vietnam's box) with a margin, so that a
// duct route starting near the edge stays inside.
const (
	areaMinLat, areaMaxLat = 8.0 + 0.05, 23.5 - 0.05
	areaMinLon, areaMaxLon = 102.0 + 0.05, 110.0 - 0.05
)

// position draws where an asset (or a duct route) starts, the city it
// belongs to, and whether it is in the city's core or ring (urban) rather
// than the rural spread.
func (g *geography) position(rng *rand.Rand) (lat, lon float64, ci int, urban bool) {
	for {
		ci = g.city(rng)
		c := cities[ci]
		switch r := rng.Float64(); {
		case r < ruralShare:
			lat, lon = offset(rng, c.lat, c.lon, ruralSigmaKm)
		case r < ruralShare+(1-ruralShare)*coreShare:
			lat, lon, urban = offset2(rng, c, g.sigmaCore[ci])
		default:
			lat, lon, urban = offset2(rng, c, 3*g.sigmaCore[ci])
		}
		if areaMinLat < lat && lat < areaMaxLat && areaMinLon < lon && lon < areaMaxLon {
			return round6(lat), round6(lon), ci, urban
		}
	}
}

func offset2(rng *rand.Rand, c city, sigma float64) (float64, float64, bool) {
	lat, lon := offset(rng, c.lat, c.lon, sigma)
	return lat, lon, true
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// nearestDistrict is the Can Tho district whose centre is nearest.
func nearestDistrict(lat, lon float64) int {
	best, bd := 0, math.Inf(1)
	for i, d := range canThoDistricts {
		if dd := math.Hypot(d.lat-lat, d.lon-lon); dd < bd {
			best, bd = i, dd
		}
	}
	return best
}

// Street names, structures and classes for the generated rows.
var (
	streets = []string{"Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ",
		"Nguyễn Trãi", "Hùng Vương", "Trần Hưng Đạo", "Quang Trung", "Lê Duẩn", "Võ Văn Kiệt", "Nguyễn Văn Cừ",
		"Cách Mạng Tháng Tám", "Phạm Văn Đồng", "30 Tháng 4", "3 Tháng 2", "Mậu Thân", "Nguyễn Văn Linh", "Lê Hồng Phong"}
	towerStructures = []string{"cột tự đứng", "cột dây co", "cột monopole", "cột trên mái nhà"}
	poleStructures  = []string{"cột bê tông ly tâm", "cột thép", "cột điện lực dùng chung"}
	towerClasses    = []string{"A2a", "A2b", "A2c", "A2d", "A1c", "A1d"}
	poleClasses     = []string{"A1a", "A1b", "A1c"}
)
