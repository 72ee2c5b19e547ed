package registry

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"infrashare"
)

// AppendJSON appends v as encoding/json would encode it, byte for byte
// (assets_json_test.go compares the two). Nearby searches and list pages
// encode tens of views per request many times a second, and
// encoding/json's reflection was the largest part of the API's own time
// per search (docs/performance.md).
func (v AssetView) AppendJSON(b []byte) []byte { return v.appendJSON(b, true) }

// appendJSON without the geometry is a GeoJSON feature's properties.
func (v AssetView) appendJSON(b []byte, geometry bool) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, v.ID, 10)
	b = appendJSONField(b, "code", v.Code)
	b = appendJSONField(b, "kind", v.Kind)
	b = appendJSONField(b, "status", v.Status)
	b = append(b, `,"owner":{"id":`...)
	b = strconv.AppendInt(b, v.Owner.ID, 10)
	b = appendJSONField(b, "code", v.Owner.Code)
	b = appendJSONField(b, "name", v.Owner.Name)
	if v.Owner.Kind != "" {
		b = appendJSONField(b, "kind", v.Owner.Kind)
	}
	b = append(b, '}')
	if geometry {
		b = append(b, `,"geometry":`...)
		b = appendJSONRaw(b, v.Geometry)
	}
	if v.Lat != nil {
		b = append(b, `,"lat":`...)
		b = appendJSONFloat(b, *v.Lat)
	}
	if v.Lon != nil {
		b = append(b, `,"lon":`...)
		b = appendJSONFloat(b, *v.Lon)
	}
	b = appendJSONField(b, "unit_code", v.UnitCode)
	b = append(b, `,"address":`...)
	if v.Address == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *v.Address)
	}
	b = append(b, `,"height_m":`...)
	b = appendJSONFloatPtr(b, v.HeightM)
	b = appendJSONField(b, "class", v.Class)
	b = appendJSONField(b, "structure", v.Structure)
	b = append(b, `,"tubes":`...)
	if v.Tubes == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*v.Tubes), 10)
	}
	b = append(b, `,"diameter_mm":`...)
	b = appendJSONFloatPtr(b, v.DiameterMM)
	b = append(b, `,"length_m":`...)
	b = appendJSONFloatPtr(b, v.LengthM)
	b = append(b, `,"in_service_on":`...)
	b = appendJSONDate(b, v.InServiceOn)
	b = append(b, `,"restricted":`...)
	b = strconv.AppendBool(b, v.Restricted)
	if v.Coarse {
		b = append(b, `,"coarse":true`...)
	}
	b = append(b, `,"rent_vnd":`...)
	if v.RentVND == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *v.RentVND, 10)
	}
	b = appendJSONField(b, "contact", v.Contact)
	b = append(b, `,"capacity":{"unit":`...)
	b = appendJSONString(b, v.Capacity.Unit)
	for _, f := range [...]struct {
		name string
		n    int
	}{{"total", v.Capacity.Total}, {"reserved", v.Capacity.Reserved}, {"active", v.Capacity.Active}, {"free", v.Capacity.Free}} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(f.n), 10)
	}
	b = append(b, `},"version":`...)
	b = strconv.AppendInt(b, int64(v.Version), 10)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, v.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, v.UpdatedAt)
	return append(b, '}')
}

// AppendJSON appends it as encoding/json would encode it.
func (it NearbyItem) AppendJSON(b []byte) []byte {
	b = append(b, `{"asset":`...)
	b = it.Asset.AppendJSON(b)
	b = append(b, `,"distance_m":`...)
	b = appendJSONFloat(b, it.DistanceM)
	return append(b, '}')
}

func appendJSONField(b []byte, name, s string) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendJSONString(b, s)
}

// appendJSONString writes text that needs no escaping as it is and hands
// anything else (quotes, control characters, <>&, invalid UTF-8, U+2028
// and U+2029) to encoding/json, so that escaping has one definition.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendJSONMarshal(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return appendJSONMarshal(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendJSONMarshal(b []byte, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		// Only values encoding/json refuses (NaN, a year past 9999) get
		// here; the response carries null rather than failing.
		return append(b, "null"...)
	}
	return append(b, out...)
}

// appendJSONRaw writes stored GeoJSON, which the register writes compact
// and plain after parsing it (so it is valid: not checked again here);
// anything else goes through encoding/json, which compacts and escapes it.
func appendJSONRaw(b []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(b, "null"...)
	}
	for _, c := range raw {
		plain := (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			c == '"' || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '.' || c == '-' || c == '+'
		if !plain {
			return appendJSONMarshal(b, raw)
		}
	}
	return append(b, raw...)
}

// appendJSONFloat formats f as encoding/json does: the shortest decimal
// that reads back the same, in exponent form only for very small or very
// large magnitudes, with a one-digit negative exponent.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func appendJSONFloatPtr(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	return appendJSONFloat(b, *f)
}

func appendJSONDate(b []byte, d *infrashare.Date) []byte {
	if d == nil || d.IsZero() {
		return append(b, "null"...)
	}
	return appendJSONString(b, d.String())
}

func appendJSONTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return appendJSONMarshal(b, t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
