package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
)

// box is minLon, minLat, maxLon, maxLat in degrees, the API's bbox order.
type box struct{ minLon, minLat, maxLon, maxLat float64 }

func (b box) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	return f(b.minLon) + "," + f(b.minLat) + "," + f(b.maxLon) + "," + f(b.maxLat)
}

// namedAreas are the areas -area knows by name.
var namedAreas = map[string]box{
	// Can Tho city (code 92, the nine pre-2025 districts).
	"cantho": {105.22, 9.92, 105.87, 10.33},
	// Vietnam's mainland, for registers filled by `infrashare gen`.
	"vietnam": {102.14, 8.38, 109.47, 23.39},
}

// parseArea reads -area: "auto" (nil: the whole register), a name, or
// minLon,minLat,maxLon,maxLat.
func parseArea(s string) (*box, error) {
	if s == "" || s == "auto" {
		return nil, nil
	}
	if b, ok := namedAreas[strings.ToLower(s)]; ok {
		return &b, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, fmt.Errorf("-area %q: give auto, cantho, vietnam or minLon,minLat,maxLon,maxLat", s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("-area %q: %q is not a number", s, p)
		}
		v[i] = f
	}
	b := box{v[0], v[1], v[2], v[3]}
	if b.minLon >= b.maxLon || b.minLat >= b.maxLat || b.minLat < -90 || b.maxLat > 90 || b.minLon < -180 || b.maxLon > 180 {
		return nil, fmt.Errorf("-area %q: need min < max, in degrees", s)
	}
	return &b, nil
}

const metresPerDegLat = 111320.0

// around is the box of half-side r metres centred on (lat, lon).
func around(lat, lon, r float64) box {
	dLat := r / metresPerDegLat
	dLon := r / (metresPerDegLat * math.Max(math.Cos(lat*math.Pi/180), 0.01))
	return box{lon - dLon, lat - dLat, lon + dLon, lat + dLat}
}

// points gives query points: near the positions of real assets when the
// register has some, else uniform over the area.
type points struct {
	positions [][2]float64 // lat, lon of sampled point assets
	area      box
	jitterM   float64
}

// next is a query point: a sampled asset's position moved up to jitterM
// metres in each direction, so that searches land among real assets
// without sitting on them; or a uniform point of the area.
func (p *points) next(rng *rand.Rand) (lat, lon float64) {
	if len(p.positions) == 0 {
		return p.area.minLat + rng.Float64()*(p.area.maxLat-p.area.minLat),
			p.area.minLon + rng.Float64()*(p.area.maxLon-p.area.minLon)
	}
	pos := p.positions[rng.IntN(len(p.positions))]
	b := around(pos[0], pos[1], p.jitterM)
	return b.minLat + rng.Float64()*(b.maxLat-b.minLat), b.minLon + rng.Float64()*(b.maxLon-b.minLon)
}

// cursorAfter is the list cursor that starts after asset id. It mirrors
// auth.EncodeCursor (base64 of the decimal id); a server that no longer
// accepts it answers 422 and sampling falls back to the first pages.
func cursorAfter(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// listAssets reads one page of GET /api/v1/assets.
func (c *client) listAssets(ctx context.Context, token string, q url.Values) (list[assetItem], error) {
	var page list[assetItem]
	_, err := c.do(ctx, token, "GET", "/api/v1/assets?"+q.Encode(), nil, &page)
	return page, err
}

// sampleAssets reads about want assets spread over the whole register (or
// the area): it finds the highest asset id, then reads pages that start
// after random ids. A register of a million rows is sampled in a few dozen
// requests, wherever `infrashare gen` put its assets.
func (c *client) sampleAssets(ctx context.Context, token string, area *box, want int, rng *rand.Rand) ([]assetItem, error) {
	base := url.Values{}
	if area != nil {
		base.Set("bbox", area.String())
	}
	page := func(after int64, limit int) (list[assetItem], error) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(limit))
		if after > 0 {
			q.Set("cursor", cursorAfter(after))
		}
		return c.listAssets(ctx, token, q)
	}
	first, err := page(0, 500)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var out []assetItem
	keep := func(items []assetItem) {
		for _, a := range items {
			if !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
	}
	keep(first.Items)
	if first.NextCursor == "" || len(first.Items) >= want {
		return out, nil
	}
	// The highest id: double past the last id seen until nothing follows,
	// then halve the gap.
	lo := first.Items[len(first.Items)-1].ID // an id that exists
	hi := lo * 2
	for {
		p, err := page(hi, 1)
		if err != nil {
			return out, nil // minted cursors refused: keep the first page
		}
		if len(p.Items) == 0 {
			break
		}
		lo, hi = p.Items[0].ID, p.Items[0].ID*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		p, err := page(mid, 1)
		if err != nil {
			return out, nil
		}
		if len(p.Items) == 0 {
			hi = mid
		} else {
			lo = p.Items[0].ID
		}
	}
	const pageSize = 100
	for tries := 0; len(out) < want && tries < 4*want/pageSize+4; tries++ {
		p, err := page(rng.Int64N(hi), pageSize)
		if err != nil {
			return out, err
		}
		keep(p.Items)
	}
	return out, nil
}
