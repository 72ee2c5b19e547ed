package registry

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
)

// The API answers with AppendJSON where it can and with encoding/json
// elsewhere; a client must not be able to tell which. Every view here is
// encoded both ways and the bytes must be equal.
func TestAssetViewAppendJSONMatchesEncodingJSON(t *testing.T) {
	texts := []string{"", "VNPT-CT-0001", "Đường 3/2, phường Xuân Khánh, quận Ninh Kiều", `say "hi"`, `back\slash`,
		"<script>alert(1)</script>", "a & b", "tab\there", "line\nbreak", "\x01\x1f", "bad \xff utf-8", "sep\u2028\u2029",
		"emoji 📡", "\u00a0nbsp", "trạm BTS Cái Răng"}
	floats := []float64{0, 1, -1, 10.0331234, 105.78123456789, 123.456, 1e-7, -2.5e-9, 1e21, 3.4e25, 999999999999999,
		0.000001, 0.1 + 0.2, 42}
	geoms := []json.RawMessage{nil, json.RawMessage(`{"type":"Point","coordinates":[105.78,10.03]}`),
		json.RawMessage(`{"type":"LineString","coordinates":[[105.7,10.0],[105.71,10.01]]}`),
		json.RawMessage(`{ "type" : "Point", "coordinates" : [1e-7, -2E+3] }`),
		json.RawMessage(`{"type":"Point","name":"<b>&"}`), json.RawMessage(`{"type":"Point","coordinates":[1,2]}` + "\n")}
	times := []time.Time{time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), time.Date(2021, 1, 2, 3, 4, 5, 123456789, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 100000000, time.UTC), {}}
	rng := rand.New(rand.NewPCG(1, 2))
	text := func() string { return texts[rng.IntN(len(texts))] }
	fl := func() float64 { return floats[rng.IntN(len(floats))] }
	flp := func() *float64 {
		if rng.IntN(3) == 0 {
			return nil
		}
		f := fl()
		return &f
	}
	for i := 0; i < 3000; i++ {
		v := AssetView{ID: rng.Int64N(1 << 40), Code: text(), Kind: text(), Status: text(),
			Owner:    auth.OrgRef{ID: rng.Int64N(100), Code: text(), Name: text()},
			Geometry: geoms[rng.IntN(len(geoms))], Lat: flp(), Lon: flp(), UnitCode: text(), HeightM: flp(),
			Class: text(), Structure: text(), DiameterMM: flp(), LengthM: flp(), Restricted: rng.IntN(2) == 0,
			Coarse: rng.IntN(2) == 0, Contact: text(),
			Capacity: Capacity{Unit: text(), Total: rng.IntN(50), Reserved: rng.IntN(5), Active: -rng.IntN(5), Free: rng.IntN(9)},
			Version:  rng.IntN(1000), CreatedAt: times[rng.IntN(len(times))], UpdatedAt: times[rng.IntN(len(times))]}
		if rng.IntN(2) == 0 {
			v.Owner.Kind = text()
		}
		if rng.IntN(2) == 0 {
			a := text()
			v.Address = &a
		}
		if rng.IntN(2) == 0 {
			n := rng.IntN(200)
			v.Tubes = &n
		}
		if rng.IntN(2) == 0 {
			r := rng.Int64N(1e12)
			v.RentVND = &r
		}
		switch rng.IntN(3) {
		case 0:
			d := infrashare.Date{Year: 2020 + rng.IntN(7), Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}
			v.InServiceOn = &d
		case 1:
			v.InServiceOn = &infrashare.Date{}
		}
		item := NearbyItem{Asset: v, DistanceM: fl()}
		want, err := json.Marshal(item)
		if err != nil {
			t.Fatal(err)
		}
		if got := item.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("view %d:\nAppendJSON    %s\nencoding/json %s", i, got, want)
		}
		// A GeoJSON feature's properties: the view without its geometry.
		props, err := json.Marshal(struct {
			AssetView
			Geometry json.RawMessage `json:"geometry,omitempty"`
		}{AssetView: v})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.appendJSON(nil, false); !bytes.Equal(got, props) {
			t.Fatalf("properties %d:\nappendJSON    %s\nencoding/json %s", i, got, props)
		}
	}
}

func BenchmarkAssetViewJSON(b *testing.B) {
	lat, lon, h := 10.0331234, 105.78123456789, 42.0
	addr := "Đường 3/2, phường Xuân Khánh, quận Ninh Kiều"
	items := make([]NearbyItem, 41)
	for i := range items {
		items[i] = NearbyItem{DistanceM: float64(i) * 11.5, Asset: AssetView{ID: int64(1000 + i), Code: "VNPT-CT-0001",
			Kind: "tower", Status: "in_service", Owner: auth.OrgRef{ID: 3, Code: "VNPT", Name: "VNPT Cần Thơ", Kind: "operator"},
			Geometry: json.RawMessage(`{"type":"Point","coordinates":[105.78123456789,10.0331234]}`), Lat: &lat, Lon: &lon,
			UnitCode: "31101", Address: &addr, HeightM: &h, Class: "A", Contact: "0292 3 812 345",
			Capacity: Capacity{Unit: "tenant_slot", Total: 4, Reserved: 1, Active: 1, Free: 2}, Version: 3,
			CreatedAt: time.Date(2026, 11, 28, 12, 0, 0, 123000000, time.UTC), UpdatedAt: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}}
	}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(items); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = buf[:0]
			for _, it := range items {
				buf = it.AppendJSON(buf)
			}
		}
	})
}
