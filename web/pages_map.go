package web

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// The map (/map) and the nearby search (/nearby) of DESIGN §5. The map is
// drawn by web/static/map.js with the vendored Leaflet: assets come from the
// API's GeoJSON by bounding box (the session cookie signs those requests
// in), unit boundaries from /map/units.geojson. The nearby search is an
// ordinary GET form and works without JavaScript.

// Settings of the map. A missing setting is the default: no tile layer,
// since the city network may not reach a tile server.
const (
	mapTileURLSetting         = "map.tile_url"
	mapTileAttributionSetting = "map.tile_attribution"
)

// Where the map opens: the centre of Can Tho's urban districts.
const (
	mapCentreLat = 10.045
	mapCentreLon = 105.72
	mapZoom      = 12
	// mapPointZoom shows a few streets around a point.
	mapPointZoom = 16
)

// mapNearbyRadiusM is the radius the form starts with; mapNearbyLimit the
// rows the page shows, nearest first.
const (
	mapNearbyRadiusM = 500
	mapNearbyLimit   = 100
)

// mapFreeClasses are the free-capacity classes the map colours by.
var mapFreeClasses = []string{"none", "little", "plenty"}

func (s *Server) mapPages(mw []echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/map", s.signedInPage(s.mapPage), mw...)
	e.GET("/map/units.geojson", s.signedInPage(s.mapUnitsGeoJSON), mw...)
	e.GET("/nearby", s.signedInPage(s.nearbyPage), mw...)
}

// mapData is what the map page and its script need.
type mapData struct {
	CentreLat, CentreLon string
	Zoom                 int
	TileURL              string
	TileAttribution      string
	// Mark is the point the map was opened on, with the radius searched
	// around it (0: none).
	Mark        bool
	MarkRadiusM float64
	Kinds       []string
	FreeClasses []string
}

func (s *Server) mapPage(c echo.Context, _ auth.Actor) error {
	ctx := c.Request().Context()
	d := mapData{CentreLat: strconv.FormatFloat(mapCentreLat, 'f', -1, 64), CentreLon: strconv.FormatFloat(mapCentreLon, 'f', -1, 64),
		Zoom: mapZoom, Kinds: assetKinds, FreeClasses: mapFreeClasses}
	// From the nearby search: open on its point.
	lat, errLat := strconv.ParseFloat(c.QueryParam("lat"), 64)
	lon, errLon := strconv.ParseFloat(c.QueryParam("lon"), 64)
	if errLat == nil && errLon == nil && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		d.CentreLat, d.CentreLon, d.Zoom = strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lon, 'f', 6, 64), mapPointZoom
		d.Mark = true
		if r, err := strconv.ParseFloat(c.QueryParam("radius_m"), 64); err == nil && r >= 1 && r <= 50000 {
			d.MarkRadiusM = r
		}
	}
	tiles, origin, err := s.mapTileURL(ctx)
	if err != nil {
		return err
	}
	if tiles != "" {
		d.TileURL = tiles
		if err := s.settings.Get(ctx, mapTileAttributionSetting, &d.TileAttribution); err != nil {
			return err
		}
		// The tiles are images from another origin: this page alone lets
		// them in.
		h := c.Response().Header()
		h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"),
			"img-src 'self' data:", "img-src 'self' data: "+origin, 1))
	}
	return s.render(c, http.StatusOK, "map", s.newView(c, "map.title", d))
}

// mapTileURL is the tile server's URL template from the settings with the
// origin its images come from, or "" for none. A template that is not a
// plain http(s) URL is ignored rather than trusted into the CSP.
func (s *Server) mapTileURL(ctx context.Context) (tmpl, origin string, err error) {
	if err := s.settings.Get(ctx, mapTileURLSetting, &tmpl); err != nil {
		return "", "", err
	}
	tmpl = strings.TrimSpace(tmpl)
	if tmpl == "" {
		return "", "", nil
	}
	origin, ok := mapTileOrigin(tmpl)
	if !ok {
		s.log.Warn("setting map.tile_url is not an http(s) URL template; the map shows no tiles", "value", tmpl)
		return "", "", nil
	}
	return tmpl, origin, nil
}

// mapTileOrigin is the CSP source of a Leaflet URL template such as
// https://{s}.tile.example.org/{z}/{x}/{y}.png: its {s} subdomain becomes
// a wildcard.
func mapTileOrigin(tmpl string) (string, bool) {
	scheme, rest, ok := strings.Cut(tmpl, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return "", false
	}
	host, _, _ := strings.Cut(rest, "/")
	host = strings.Replace(host, "{s}.", "*.", 1)
	if host == "" || strings.HasPrefix(host, ".") {
		return "", false
	}
	for i, r := range host {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' ||
			(r == '*' && i == 0)
		if !ok {
			return "", false
		}
	}
	return scheme + "://" + host, true
}

// mapUnitsGeoJSON answers the boundaries of the units valid today as a
// GeoJSON FeatureCollection, for the map's unit layer.
func (s *Server) mapUnitsGeoJSON(c echo.Context, a auth.Actor) error {
	ctx := c.Request().Context()
	units, _, err := collect(func(cursor string) ([]registry.UnitView, string, error) {
		return s.units.List(ctx, a, registry.UnitFilter{On: s.settings.Today(), Boundary: true, Limit: auth.MaxLimit, Cursor: cursor})
	})
	if err != nil {
		return err
	}
	type unitProps struct {
		Code  string `json:"code"`
		Name  string `json:"name"`
		Level string `json:"level"`
	}
	type feature struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties unitProps       `json:"properties"`
	}
	out := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, u := range units {
		if len(u.Boundary) == 0 {
			continue
		}
		out.Features = append(out.Features, feature{Type: "Feature", ID: u.Code, Geometry: u.Boundary,
			Properties: unitProps{Code: u.Code, Name: u.Name, Level: u.Level}})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/geo+json", b)
}

// mapNearbyData is the nearby search: the form's values as typed, the
// field errors, and the results once searched.
type mapNearbyData struct {
	Lat, Lon, RadiusM, Kind, MinFree string
	RadiusShown                      string
	Kinds                            []string
	Errors                           map[string]string
	Searched                         bool
	Items                            []registry.NearbyItem
	Limited                          bool
	MapURL                           string
}

// nearbyPage searches around a point (from the form, or a click on the
// map); without a point it is the empty form.
func (s *Server) nearbyPage(c echo.Context, a auth.Actor) error {
	d := mapNearbyData{Lat: strings.TrimSpace(c.QueryParam("lat")), Lon: strings.TrimSpace(c.QueryParam("lon")),
		RadiusM: strings.TrimSpace(c.QueryParam("radius_m")), Kind: c.QueryParam("kind"),
		MinFree: strings.TrimSpace(c.QueryParam("min_free")), Kinds: assetKinds, Errors: map[string]string{}, MapURL: "/map"}
	if d.RadiusM == "" {
		d.RadiusM = strconv.Itoa(mapNearbyRadiusM)
	}
	v := s.newView(c, "map.nearby.title", &d)
	if d.Lat == "" && d.Lon == "" {
		return s.render(c, http.StatusOK, "map_nearby", v)
	}
	q, fields := mapNearbyQuery(d)
	if len(fields) == 0 {
		items, err := s.registry.Nearby(c.Request().Context(), a, q)
		switch {
		case err == nil:
			d.Searched, d.Items, d.Limited = true, items, len(items) == mapNearbyLimit
			d.RadiusShown = fmtNum(q.RadiusM)
			d.MapURL = "/map?" + url.Values{"lat": {strconv.FormatFloat(q.Lat, 'f', -1, 64)},
				"lon": {strconv.FormatFloat(q.Lon, 'f', -1, 64)}, "radius_m": {strconv.FormatFloat(q.RadiusM, 'f', -1, 64)}}.Encode()
			return s.render(c, http.StatusOK, "map_nearby", v)
		case infrashare.ErrorCode(err) == infrashare.EINVALID:
			fields = mapErrorFields(err)
		default:
			return err
		}
	}
	for name, msg := range fields {
		// The service words its checks in English: the page says its own
		// for the fields it knows.
		if key := "map.nearby.error." + name; v.l.T(key) != "["+key+"]" {
			msg = v.l.T(key)
		}
		d.Errors[name] = msg
	}
	v.Error = v.l.T("map.nearby.error.summary")
	return s.render(c, http.StatusUnprocessableEntity, "map_nearby", v)
}

// mapNearbyQuery reads the form; a field that is not a number is an error
// of that field.
func mapNearbyQuery(d mapNearbyData) (registry.NearbyQuery, map[string]string) {
	fields := map[string]string{}
	q := registry.NearbyQuery{Limit: mapNearbyLimit}
	for name, f := range map[string]struct {
		raw string
		dst *float64
	}{"lat": {d.Lat, &q.Lat}, "lon": {d.Lon, &q.Lon}, "radius_m": {d.RadiusM, &q.RadiusM}} {
		n, err := strconv.ParseFloat(strings.Replace(f.raw, ",", ".", 1), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			fields[name] = "must be a number"
			continue
		}
		*f.dst = n
	}
	if d.MinFree != "" {
		n, err := strconv.Atoi(d.MinFree)
		if err != nil {
			fields["min_free"] = "must be a whole number"
		}
		q.MinFree = n
	}
	if d.Kind != "" {
		q.Kinds = []string{d.Kind}
	}
	return q, fields
}

// mapErrorFields is a validation error's field messages.
func mapErrorFields(err error) map[string]string {
	out := map[string]string{}
	var de *infrashare.Error
	if errors.As(err, &de) {
		for k, msg := range de.Fields {
			out[k] = msg
		}
		if len(out) == 0 {
			out["form"] = de.Message
		}
	}
	return out
}
