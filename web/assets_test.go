package web

import (
	"encoding/json"
	"fmt"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

type assetJSON struct {
	ID       int64    `json:"id"`
	Code     string   `json:"code"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Address  *string  `json:"address"`
	Coarse   bool     `json:"coarse"`
	Version  int      `json:"version"`
	Capacity struct {
		Total, Reserved, Active, Free int
	} `json:"capacity"`
	Owner struct {
		Code string `json:"code"`
	} `json:"owner"`
}

// The story: an operator registers a tower; a second operator finds
// it nearby with its free slots, cannot change it, cannot see its tenants,
// and sees restricted sites only coarsened.
func TestRegisterFindAndProtectAnAsset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt, viettel := a.token("operator"), a.token("operator2")
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, map[string]any{
			"code": "CT-NK-0101", "kind": "tower", "geometry": map[string]any{"type": "Point", "coordinates": []float64{105.7851, 10.0342}},
			"height_m": 45, "class": "A2b", "structure": "cột dây co", "address": "12 Hòa Bình, Ninh Kiều", "unit_code": "916",
			"rent_vnd": 36000000, "contact": "NOC VNPT Cần Thơ 0292 3800 126", "capacity": map[string]any{"total": 3}}), 201, &tower)
		if tower.Owner.Code != "VNPT" || tower.Capacity.Free != 3 {
			t.Fatalf("created %+v", tower)
		}
		// Its own use, and an existing tenancy of MobiFone.
		a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/assets/%d/allocations", tower.ID), vnpt, map[string]any{"units": 1}), 201, nil)
		a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/assets/%d/allocations", tower.ID), vnpt, map[string]any{
			"units": 1, "purpose": "existing", "tenant": "MOBIFONE", "since": "2020-03-01", "contract_ref": "HĐ-2020-15"}), 201, nil)

		var near struct {
			Items []struct {
				Asset     assetJSON `json:"asset"`
				DistanceM float64   `json:"distance_m"`
			} `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/assets/nearby?lat=10.0335&lon=200&radius_m=500", viettel, nil), 422, nil)
		a.mustJSON(a.call("GET", "/api/v1/assets/nearby?lat=10.0335&lon=105.7851&radius_m=500&kind=tower&min_free=1", viettel, nil), 200, &near)
		if len(near.Items) != 1 || near.Items[0].Asset.ID != tower.ID || near.Items[0].Asset.Capacity.Free != 1 || near.Items[0].DistanceM < 70 || near.Items[0].DistanceM > 85 {
			t.Fatalf("nearby: %+v", near)
		}
		if r := a.call("PATCH", fmt.Sprintf("/api/v1/assets/%d", tower.ID), viettel, map[string]any{"version": 1, "height_m": 10}); r.status != 403 {
			t.Fatalf("viettel patches VNPT's tower: %d", r.status)
		}
		if r := a.call("DELETE", fmt.Sprintf("/api/v1/assets/%d", tower.ID), viettel, nil); r.status != 403 {
			t.Fatalf("viettel deletes VNPT's tower: %d", r.status)
		}
		var allocs struct {
			Items []json.RawMessage `json:"items"`
		}
		a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/assets/%d/allocations", tower.ID), viettel, nil), 200, &allocs)
		if len(allocs.Items) != 0 {
			t.Fatalf("viettel sees VNPT's tenancies: %s", allocs.Items)
		}
		a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/assets/%d/allocations", tower.ID), vnpt, nil), 200, &allocs)
		if len(allocs.Items) != 2 {
			t.Fatalf("owner sees %d allocations", len(allocs.Items))
		}
		if r := a.call("GET", fmt.Sprintf("/api/v1/assets/%d/history", tower.ID), viettel, nil); r.status != 403 {
			t.Fatalf("viettel reads the history: %d", r.status)
		}

		// A restricted site: coarse for Viettel, exact for VNPT and the auditor.
		var secret assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, map[string]any{
			"code": "CT-NK-SEC", "kind": "tower", "lat": 10.04567, "lon": 105.76123, "restricted": true, "address": "Khu vực hạn chế"}), 201, &secret)
		var seen assetJSON
		a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/assets/%d", secret.ID), viettel, nil), 200, &seen)
		if !seen.Coarse || *seen.Lat != 10.05 || *seen.Lon != 105.76 || seen.Address != nil {
			t.Fatalf("viettel sees the restricted site as %+v", seen)
		}
		var exact assetJSON
		a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/assets/%d", secret.ID), a.token("auditor"), nil), 200, &exact)
		if exact.Coarse || *exact.Lat != 10.04567 || exact.Address == nil {
			t.Fatalf("the auditor sees %+v", exact)
		}

		// Optimistic locking through the API.
		a.mustJSON(a.call("PATCH", fmt.Sprintf("/api/v1/assets/%d", tower.ID), vnpt, map[string]any{"version": 1, "status": "in_service", "height_m": 48}), 200, &seen)
		if seen.Version != 2 {
			t.Fatalf("version after patch: %d", seen.Version)
		}
		if r := a.call("PATCH", fmt.Sprintf("/api/v1/assets/%d", tower.ID), vnpt, map[string]any{"version": 1, "height_m": 50}); r.status != 409 {
			t.Fatalf("stale version: %d", r.status)
		}

		// Lists with filters and paging.
		var page struct {
			Items      []assetJSON `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}
		a.mustJSON(a.call("GET", "/api/v1/assets?owner=VNPT&kind=tower&limit=1", viettel, nil), 200, &page)
		if len(page.Items) != 1 || page.NextCursor == nil {
			t.Fatalf("first page %+v", page)
		}
		first := page.Items[0].ID
		a.mustJSON(a.call("GET", "/api/v1/assets?owner=VNPT&kind=tower&limit=1&cursor="+*page.NextCursor, viettel, nil), 200, &page)
		if len(page.Items) != 1 || page.Items[0].ID == first || page.NextCursor != nil {
			t.Fatalf("second page %+v", page)
		}
		for _, bad := range []string{"kind=ufo", "bbox=1,2,3", "min_free=-1", "limit=abc", "cursor=zzz", "status=sleeping"} {
			if r := a.call("GET", "/api/v1/assets?"+bad, viettel, nil); r.status != 422 {
				t.Errorf("%s: %d, want 422", bad, r.status)
			}
		}
		for _, bad := range []string{"/api/v1/assets/abc", "/api/v1/assets/-1", "/api/v1/assets/99999999"} {
			if r := a.call("GET", bad, viettel, nil); r.status != 404 {
				t.Errorf("%s: %d, want 404", bad, r.status)
			}
		}
	})
}
