package web

import (
	"fmt"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

type requestJSON struct {
	ID           int64  `json:"id"`
	State        string `json:"state"`
	OfferRentVND *int64 `json:"offer_rent_vnd"`
	Events       []struct {
		Action string `json:"action"`
	} `json:"events"`
}

// Viettel asks for a slot on a VNPT tower, VNPT approves with a rent offer,
// Viettel accepts and activates, and the tower's free slots drop by one.
func TestColocationThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt, viettel, mobifone := a.token("operator"), a.token("operator2"), a.token("operator3")
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, towerBody("CT-NK-0200")), 201, &tower)
		var r requestJSON
		a.mustJSON(a.call("POST", "/api/v1/colocation-requests", viettel, requestBody(tower.ID)), 201, &r)
		path := fmt.Sprintf("/api/v1/colocation-requests/%d", r.ID)

		for _, c := range []struct {
			token  string
			body   any
			status int
		}{
			{viettel, map[string]any{"action": "approve"}, 403},  // wrong side
			{vnpt, map[string]any{"action": "accept"}, 403},      // wrong side
			{viettel, map[string]any{"action": "activate"}, 409}, // wrong state
			{vnpt, map[string]any{"action": "reject"}, 422},      // no reason code
			{vnpt, map[string]any{"action": "reject", "reason_code": "bored"}, 422},
			{vnpt, map[string]any{"action": "launch"}, 422},                 // unknown action
			{vnpt, `{"action": "approve", "offer_rent_vnd": "cheap"}`, 422}, // wrong type
			{mobifone, map[string]any{"action": "approve"}, 404},            // a stranger
		} {
			if got := a.call("POST", path+"/actions", c.token, c.body); got.status != c.status {
				t.Errorf("%v: %d, want %d: %s", c.body, got.status, c.status, got.body)
			}
		}
		if got := a.call("GET", path, mobifone, nil); got.status != 404 {
			t.Fatalf("a stranger reads the request: %d", got.status)
		}
		a.mustJSON(a.call("POST", path+"/actions", vnpt, map[string]any{"action": "approve", "offer_rent_vnd": 40000000, "conditions": "Lắp đặt trong 60 ngày"}), 200, &r)
		if r.State != "approved" || *r.OfferRentVND != 40000000 {
			t.Fatalf("approved %+v", r)
		}
		a.mustJSON(a.call("POST", path+"/actions", viettel, map[string]any{"action": "accept"}), 200, &r)
		a.mustJSON(a.call("POST", path+"/actions", viettel, map[string]any{"action": "activate"}), 200, &r)
		var after assetJSON
		a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/assets/%d", tower.ID), viettel, nil), 200, &after)
		if r.State != "active" || after.Capacity.Free != tower.Capacity.Free-1 || after.Capacity.Active != 1 {
			t.Fatalf("state %s, free %d → %d", r.State, tower.Capacity.Free, after.Capacity.Free)
		}
		a.mustJSON(a.call("POST", path+"/comments", a.token("auditor"), map[string]any{"body": "Sở đã ghi nhận"}), 201, nil)
		var list struct {
			Items []requestJSON `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/colocation-requests?box=in&state=active", vnpt, nil), 200, &list)
		if len(list.Items) != 1 || list.Items[0].ID != r.ID {
			t.Fatalf("VNPT's incoming active requests: %+v", list)
		}
		a.mustJSON(a.call("GET", "/api/v1/colocation-requests", mobifone, nil), 200, &list)
		if len(list.Items) != 0 {
			t.Fatalf("MobiFone sees others' requests: %+v", list)
		}
		for _, bad := range []string{"box=sideways", "state=dreaming", "overdue=maybe", "asset=x"} {
			if got := a.call("GET", "/api/v1/colocation-requests?"+bad, vnpt, nil); got.status != 422 {
				t.Errorf("%s: %d", bad, got.status)
			}
		}
		// Asking for one's own asset, or more than is free.
		if got := a.call("POST", "/api/v1/colocation-requests", vnpt, requestBody(tower.ID)); got.status != 422 {
			t.Fatalf("own asset: %d", got.status)
		}
		big := requestBody(tower.ID)
		big["items"] = []map[string]any{{"asset_id": tower.ID, "units": 9}}
		if got := a.call("POST", "/api/v1/colocation-requests", viettel, big); got.status != 409 {
			t.Fatalf("more than free: %d %s", got.status, got.body)
		}
	})
}
