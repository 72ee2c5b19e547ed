package web

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// The permission matrix: every route × every role × (own organisation's
// object, another organisation's object, no sign-in), walked against the
// real server on both databases. A route missing from the table fails the
// test, so every new route must say here who may call it.

// matrixRoles are the callers, in the order of a want row.
var matrixRoles = []string{"anon", "admin", "auditor", "officer", "operator"}

// want is the expected status for anon, admin, auditor, officer, operator.
type want [5]int

// Common rows.
var (
	everyone   = want{200, 200, 200, 200, 200}
	signedIn   = want{401, 200, 200, 200, 200}
	adminOnly  = want{401, 200, 403, 403, 403}
	adminWrite = want{401, 201, 403, 403, 403}
	auditors   = want{401, 200, 200, 403, 403}
)

type matrixRow struct {
	method, route string
	// target makes the concrete path for a role and variant (own object or
	// another organisation's); nil means the route itself.
	target func(f *matrixFixture, role string, own bool) string
	// body makes a valid request body for a role and the concrete path;
	// nil sends none.
	body func(f *matrixFixture, role, path string) any
	own  want
	// other is the expectation on another organisation's object; nil when
	// the route has no object.
	other *want
	// fresh signs in anew for this row (it ends the token it uses).
	fresh bool
	// contentType overrides application/json for the body.
	contentType string
}

func ptr(w want) *want { return &w }

func matrix() []matrixRow {
	return []matrixRow{
		{method: "GET", route: "/healthz", own: everyone},
		{method: "GET", route: "/readyz", own: everyone},
		{method: "GET", route: "/metrics", own: everyone},
		{method: "GET", route: "/api/openapi.json", own: everyone},

		{method: "POST", route: "/api/v1/auth/login", own: want{401, 200, 200, 200, 200},
			body: func(f *matrixFixture, role, _ string) any {
				if role == "anon" {
					return map[string]string{"email": "nobody@example.vn", "password": "wrong-password"}
				}
				return map[string]string{"email": demoLogins[role], "password": demoPassword}
			}},
		{method: "POST", route: "/api/v1/auth/logout", own: signedIn, fresh: true},
		{method: "GET", route: "/api/v1/me", own: signedIn},
		{method: "GET", route: "/api/v1/me/tokens", own: signedIn},
		{method: "POST", route: "/api/v1/me/tokens", own: want{401, 201, 201, 201, 201},
			body: func(*matrixFixture, string, string) any { return map[string]any{"name": "matrix"} }},
		{method: "DELETE", route: "/api/v1/me/tokens/:id", own: want{401, 204, 204, 204, 204}, other: ptr(want{401, 404, 404, 404, 404}),
			target: func(f *matrixFixture, role string, own bool) string {
				owner := role
				if role == "anon" {
					owner = "operator"
				}
				if !own {
					owner = "operator2"
				}
				return fmt.Sprintf("/api/v1/me/tokens/%d", f.newToken(owner))
			}},

		{method: "GET", route: "/api/v1/organizations", own: adminOnly},
		{method: "POST", route: "/api/v1/organizations", own: adminWrite,
			body: func(f *matrixFixture, _, _ string) any {
				return map[string]any{"code": f.unique("ORG"), "name": "Công ty thử", "kind": "operator"}
			}},
		{method: "GET", route: "/api/v1/users", own: adminOnly},
		{method: "POST", route: "/api/v1/users", own: adminWrite,
			body: func(f *matrixFixture, _, _ string) any {
				return map[string]any{"email": strings.ToLower(f.unique("user")) + "@vnpt.example.vn", "organization": "VNPT",
					"roles": []string{"operator"}, "password": "matrix-password-1"}
			}},
		{method: "GET", route: "/api/v1/users/:id", own: adminOnly, other: ptr(adminOnly), target: userTarget},
		{method: "PATCH", route: "/api/v1/users/:id", own: adminOnly, other: ptr(adminOnly), target: userTarget,
			body: func(*matrixFixture, string, string) any { return map[string]any{"name": "Đã đổi tên"} }},
		{method: "GET", route: "/api/v1/policies", own: adminOnly},
		{method: "PUT", route: "/api/v1/policies", own: adminOnly,
			body: func(f *matrixFixture, _, _ string) any { return f.currentPolicies() }},

		{method: "GET", route: "/api/v1/audit-events", own: auditors},
		{method: "GET", route: "/api/v1/audit-events/verify", own: auditors},

		{method: "GET", route: "/api/v1/admin-units", own: signedIn},
		{method: "POST", route: "/api/v1/admin-units", own: adminWrite,
			body: func(f *matrixFixture, _, _ string) any { return f.newUnitBody() }},
		{method: "POST", route: "/api/v1/admin-units/import", own: adminOnly,
			body: func(*matrixFixture, string, string) any {
				return map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{
					"type": "Feature", "properties": map[string]any{"code": "916"},
					"geometry": map[string]any{"type": "Polygon",
						"coordinates": [][][2]float64{{{105.74, 10.00}, {105.80, 10.00}, {105.80, 10.06}, {105.74, 10.06}, {105.74, 10.00}}}},
				}}}
			}},
		{method: "POST", route: "/api/v1/admin-units/:code/retire", own: adminOnly,
			// A fresh unit each time, so that the admin's retirement succeeds.
			target: func(f *matrixFixture, _ string, _ bool) string {
				var u struct {
					Code string `json:"code"`
				}
				f.mustJSON(f.call("POST", "/api/v1/admin-units", f.token("admin"), f.newUnitBody()), 201, &u)
				return "/api/v1/admin-units/" + u.Code + "/retire"
			},
			body: func(*matrixFixture, string, string) any { return map[string]string{"on": "2025-07-01"} }},

		{method: "GET", route: "/api/v1/assets", own: signedIn},
		{method: "POST", route: "/api/v1/assets", own: operatorWrite,
			body: func(f *matrixFixture, _, _ string) any { return towerBody(f.unique("T")) }},
		{method: "GET", route: "/api/v1/assets/nearby", own: signedIn,
			target: func(*matrixFixture, string, bool) string {
				return "/api/v1/assets/nearby?lat=10.03&lon=105.78&radius_m=500"
			}},
		{method: "GET", route: "/api/v1/assets/:id", own: signedIn, other: ptr(signedIn), target: assetTarget("")},
		{method: "PATCH", route: "/api/v1/assets/:id", own: operatorOnly, other: ptr(nobody), target: assetTarget(""),
			body: func(f *matrixFixture, _, path string) any {
				return map[string]any{"version": f.version(path), "height_m": 40}
			}},
		{method: "DELETE", route: "/api/v1/assets/:id", own: want{401, 403, 403, 403, 204}, other: ptr(nobody), target: assetTarget("")},
		{method: "GET", route: "/api/v1/assets/:id/allocations", own: signedIn, other: ptr(signedIn), target: assetTarget("/allocations")},
		{method: "POST", route: "/api/v1/assets/:id/allocations", own: operatorWrite, other: ptr(nobody), target: assetTarget("/allocations"),
			body: func(*matrixFixture, string, string) any { return map[string]any{"units": 1} }},
		{method: "DELETE", route: "/api/v1/assets/:id/allocations/:allocation_id", own: operatorOnly, other: ptr(nobody),
			target: func(f *matrixFixture, role string, own bool) string {
				id, aid := f.allocated(ownerOf(role, own))
				return fmt.Sprintf("/api/v1/assets/%d/allocations/%d", id, aid)
			}},
		{method: "GET", route: "/api/v1/assets/:id/history", own: want{401, 200, 200, 403, 200}, other: ptr(want{401, 200, 200, 403, 403}),
			target: assetTarget("/history")},

		{method: "POST", route: "/api/v1/assets/import", own: operatorOnly, contentType: "text/csv",
			body: func(f *matrixFixture, _, _ string) any {
				return "code,kind,lat,lon,unit_code\n" + f.unique("IMP") + ",tower,10.03,105.78,916\n"
			}},
		{method: "POST", route: "/api/v1/allocations/import", own: operatorOnly, contentType: "text/csv",
			body: func(f *matrixFixture, _, _ string) any {
				code := f.unique("ALI")
				f.mustJSON(f.call("POST", "/api/v1/assets", f.token("operator"), towerBody(code)), 201, nil)
				return "asset_code,tenant,units,since,contract_ref\n" + code + ",VIETTEL,1,2020-03-01,HĐ-2020-15\n"
			}},
		{method: "GET", route: "/api/v1/assets/export", own: signedIn,
			target: func(*matrixFixture, string, bool) string { return "/api/v1/assets/export?format=csv&kind=tower" }},
		{method: "GET", route: "/api/v1/assets.geojson", own: signedIn,
			target: func(*matrixFixture, string, bool) string { return "/api/v1/assets.geojson?bbox=105.7,10.0,105.8,10.1" }},
		{method: "GET", route: "/api/v1/webhooks", own: operatorOnly},
		{method: "POST", route: "/api/v1/webhooks", own: operatorWrite,
			body: func(f *matrixFixture, _, _ string) any {
				return map[string]any{"url": "https://203.0.113.10/" + strings.ToLower(f.unique("hook"))}
			}},
		{method: "DELETE", route: "/api/v1/webhooks/:id", own: want{401, 403, 403, 403, 204}, other: ptr(want{401, 403, 403, 403, 404}),
			target: func(f *matrixFixture, role string, own bool) string {
				return fmt.Sprintf("/api/v1/webhooks/%d", f.webhook(ownerOf(role, own)))
			}},

		{method: "GET", route: "/api/v1/colocation-requests", own: want{401, 200, 200, 403, 200}},
		{method: "POST", route: "/api/v1/colocation-requests", own: operatorWrite,
			body: func(f *matrixFixture, _, _ string) any { return requestBody(f.asset("operator2")) }},
		{method: "GET", route: "/api/v1/colocation-requests/:id", own: want{401, 200, 200, 403, 200},
			other: ptr(want{401, 200, 200, 403, 404}), target: requestTarget("")},
		{method: "POST", route: "/api/v1/colocation-requests/:id/actions", own: want{401, 403, 403, 403, 200},
			other: ptr(want{401, 403, 403, 403, 404}), target: requestTarget("/actions"),
			body: func(*matrixFixture, string, string) any { return map[string]any{"action": "approve"} }},
		{method: "POST", route: "/api/v1/colocation-requests/:id/comments", own: want{401, 403, 201, 403, 201},
			other: ptr(want{401, 403, 201, 403, 404}), target: requestTarget("/comments"),
			body: func(*matrixFixture, string, string) any { return map[string]any{"body": "Ý kiến"} }},

		// Reference data (issue 6 point 8): every signed-in role reads
		// targets and holidays; auditors and admins read settings; admins write.
		{method: "GET", route: "/api/v1/targets", own: signedIn},
		{method: "PUT", route: "/api/v1/targets", own: adminOnly,
			body: func(*matrixFixture, string, string) any {
				return map[string]any{"targets": []map[string]any{
					{"plan": "216/KH-UBND", "metric": "bts_sharing_ratio", "unit_code": "916", "year": 2025, "value": 0.4}}}
			}},
		{method: "GET", route: "/api/v1/holidays", own: signedIn},
		{method: "PUT", route: "/api/v1/holidays", own: adminOnly,
			body: func(*matrixFixture, string, string) any {
				return map[string]any{"year": 2030, "holidays": []map[string]any{{"day": "2030-01-01", "name": "Tết Dương lịch"}}}
			}},
		{method: "GET", route: "/api/v1/settings", own: auditors},
		{method: "PUT", route: "/api/v1/settings", own: adminOnly,
			body: func(*matrixFixture, string, string) any {
				return map[string]any{"settings": []map[string]any{{"key": "colocation.reply_days", "value": 15}}}
			}},

		// Undergrounding (issue 6 point 6): every signed-in role reads;
		// admins and the department write. No object belongs to an
		// organisation, so there is no other's variant.
		{method: "GET", route: "/api/v1/street-segments", own: signedIn},
		{method: "POST", route: "/api/v1/street-segments", own: undergroundWrite,
			body: func(*matrixFixture, string, string) any { return undergroundBody("street-segments") }},
		// The harness sends application/json: an import that passes the
		// role check answers 415 (text/csv only); the refusals are 403.
		{method: "POST", route: "/api/v1/street-segments/import", own: want{401, 200, 200, 403, 403}, contentType: "text/csv",
			body: func(*matrixFixture, string, string) any {
				return "street_name,unit_code,length_m\nĐường 30/4,916,120\n"
			}},
		{method: "GET", route: "/api/v1/street-segments/:id", own: signedIn, target: undergroundTarget("street-segments")},
		{method: "PATCH", route: "/api/v1/street-segments/:id", own: auditors, target: undergroundTarget("street-segments"),
			body: func(*matrixFixture, string, string) any { return map[string]any{"length_m": 150} }},
		{method: "DELETE", route: "/api/v1/street-segments/:id", own: want{401, 204, 204, 403, 403}, target: undergroundTarget("street-segments")},
		{method: "GET", route: "/api/v1/residential-areas", own: signedIn},
		{method: "POST", route: "/api/v1/residential-areas", own: undergroundWrite,
			body: func(*matrixFixture, string, string) any { return undergroundBody("residential-areas") }},
		{method: "POST", route: "/api/v1/residential-areas/import", own: want{401, 200, 200, 403, 403}, contentType: "text/csv",
			body: func(*matrixFixture, string, string) any { return "name,unit_code,kind\nKDC Hồng Loan,919,new\n" }},
		{method: "GET", route: "/api/v1/residential-areas/:id", own: signedIn, target: undergroundTarget("residential-areas")},
		{method: "PATCH", route: "/api/v1/residential-areas/:id", own: auditors, target: undergroundTarget("residential-areas"),
			body: func(*matrixFixture, string, string) any { return map[string]any{"shared_underground": true} }},
		{method: "DELETE", route: "/api/v1/residential-areas/:id", own: want{401, 204, 204, 403, 403}, target: undergroundTarget("residential-areas")},
		{method: "GET", route: "/api/v1/reports/undergrounding", own: auditors},

		{method: "GET", route: "/api/v1/permits", own: signedIn},
		{method: "POST", route: "/api/v1/permits", own: operatorWrite,
			body: func(f *matrixFixture, _, _ string) any { return permitBody("916", f.spot()) }},
		{method: "POST", route: "/api/v1/permits/check", own: operatorOnly,
			body: func(f *matrixFixture, _, _ string) any {
				return map[string]any{"structure_kind": "tower", "height_m": 30, "location": map[string]float64{"lat": 10.03, "lon": 105.78}, "unit_code": "916"}
			}},
		{method: "GET", route: "/api/v1/permits/:id", own: signedIn, other: ptr(want{401, 200, 200, 404, 404}), target: permitTarget("")},
		{method: "POST", route: "/api/v1/permits/:id/actions", own: want{401, 403, 403, 200, 200}, other: ptr(want{401, 403, 403, 404, 404}),
			target: permitTarget("/actions"),
			body: func(_ *matrixFixture, role, _ string) any {
				if role == "operator" {
					return map[string]any{"action": "withdraw"}
				}
				return map[string]any{"action": "approve"}
			}},
		{method: "POST", route: "/api/v1/permits/:id/attachments", own: want{401, 403, 403, 403, 201}, other: ptr(want{401, 403, 403, 403, 404}),
			target: permitTarget("/attachments"),
			body: func(*matrixFixture, string, string) any {
				return []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
			}},
		{method: "GET", route: "/api/v1/permits/:id/attachments/:attachment_id", own: signedIn, other: ptr(want{401, 200, 200, 404, 404}),
			target: func(f *matrixFixture, role string, own bool) string {
				path := permitTarget("")(f, role, own)
				applicant := "operator"
				if !own {
					applicant = "operator2"
				}
				var a struct {
					ID int64 `json:"id"`
				}
				f.mustJSON(f.call("POST", path+"/attachments", f.token(applicant), []byte("%PDF-1.4 test")), 201, &a)
				return fmt.Sprintf("%s/attachments/%d", path, a.ID)
			}},
		{method: "GET", route: "/api/v1/bts", own: signedIn},
		{method: "POST", route: "/api/v1/bts", own: operatorWrite,
			body: func(f *matrixFixture, _, _ string) any { return btsBody(f.unique("BTS"), f.asset("operator")) }},
		{method: "GET", route: "/api/v1/bts/:id", own: signedIn, other: ptr(want{401, 200, 200, 200, 404}), target: btsTarget("")},
		{method: "POST", route: "/api/v1/bts/:id/reclassify", own: want{401, 403, 200, 403, 403}, other: ptr(want{401, 403, 200, 403, 403}),
			target: btsTarget("/reclassify"),
			body: func(*matrixFixture, string, string) any {
				return map[string]any{"classification": "new_structure", "reason": "Cột mới dựng cho trạm này"}
			}},
		{method: "GET", route: "/api/v1/reports/sharing-ratio", own: want{401, 200, 200, 403, 200}},
		{method: "GET", route: "/api/v1/reports/annual", own: auditors,
			target: func(*matrixFixture, string, bool) string { return "/api/v1/reports/annual?year=2025" }},
		// A fresh past year for each call, so that the auditor's freeze succeeds.
		{method: "POST", route: "/api/v1/reports/annual/:year/freeze", own: want{401, 403, 201, 403, 403},
			target: func(f *matrixFixture, _ string, _ bool) string {
				f.n++
				return fmt.Sprintf("/api/v1/reports/annual/%d/freeze", 2000+f.n%26)
			}},
	}
}

// spot is a fresh position in Ninh Kiều away from the matrix's towers, so
// that the sharing check finds nothing to share.
func (f *matrixFixture) spot() [2]float64 {
	f.n++
	return [2]float64{10.045 + float64(f.n%50)*0.0005, 105.74}
}

func permitBody(unit string, at [2]float64) map[string]any {
	return map[string]any{"structure_kind": "tower", "class": "A2b", "height_m": 36, "unit_code": unit,
		"location": map[string]float64{"lat": at[0], "lon": at[1]}, "purpose": "Trạm BTS mới"}
}

// permitTarget is VNPT's application in Ninh Kiều (the operator's own, the
// Ninh Kiều officer's queue) or Viettel's in Cái Răng (neither's).
func permitTarget(suffix string) func(f *matrixFixture, role string, own bool) string {
	return func(f *matrixFixture, _ string, own bool) string {
		applicant, body := "operator", permitBody("916", f.spot())
		if !own {
			applicant, body = "operator2", permitBody("919", [2]float64{9.99, 105.78 + float64(f.n%50)*0.0005})
		}
		var p struct {
			ID int64 `json:"id"`
		}
		f.mustJSON(f.call("POST", "/api/v1/permits", f.token(applicant), body), 201, &p)
		return fmt.Sprintf("/api/v1/permits/%d%s", p.ID, suffix)
	}
}

func btsBody(station string, assetID int64) map[string]any {
	return map[string]any{"station_code": station, "technologies": []string{"4G"}, "on_air_on": "2026-01-15", "mounted_on_asset_id": assetID}
}

// btsTarget is a BTS record of VNPT, or of Viettel.
func btsTarget(suffix string) func(f *matrixFixture, role string, own bool) string {
	return func(f *matrixFixture, role string, own bool) string {
		owner := ownerOf(role, own)
		var d struct {
			ID int64 `json:"id"`
		}
		f.mustJSON(f.call("POST", "/api/v1/bts", f.token(owner), btsBody(f.unique("BTS"), f.asset(owner))), 201, &d)
		return fmt.Sprintf("/api/v1/bts/%d%s", d.ID, suffix)
	}
}

// requestBody asks for one slot on a tower for a BTS.
func requestBody(assetID int64) map[string]any {
	return map[string]any{"items": []map[string]any{{"asset_id": assetID, "units": 1}}, "purpose": "bts",
		"technical": map[string]any{"antennas": []map[string]any{{"type": "RRU", "count": 1}}}}
}

// requestTarget is a request to VNPT (the operator's own organisation) from
// Viettel, or one between Viettel and MobiFone.
func requestTarget(suffix string) func(f *matrixFixture, role string, own bool) string {
	return func(f *matrixFixture, _ string, own bool) string {
		owner, requester := "operator", "operator2"
		if !own {
			owner, requester = "operator3", "operator2"
		}
		var r struct {
			ID int64 `json:"id"`
		}
		f.mustJSON(f.call("POST", "/api/v1/colocation-requests", f.token(requester), requestBody(f.asset(owner))), 201, &r)
		return fmt.Sprintf("/api/v1/colocation-requests/%d%s", r.ID, suffix)
	}
}

var (
	operatorWrite = want{401, 403, 403, 403, 201}
	operatorOnly  = want{401, 403, 403, 403, 200}
	nobody        = want{401, 403, 403, 403, 403}
)

// ownerOf: the operator's own organisation (VNPT) or another (Viettel); the
// other roles own no assets and see VNPT's as "own".
func ownerOf(role string, own bool) string {
	if own {
		return "operator"
	}
	return "operator2"
}

func towerBody(code string) map[string]any {
	return map[string]any{"code": code, "kind": "tower", "lat": 10.03, "lon": 105.78, "unit_code": "916", "capacity": map[string]any{"total": 3}}
}

// assetTarget is a fresh tower of the owner, with a suffix path.
func assetTarget(suffix string) func(f *matrixFixture, role string, own bool) string {
	return func(f *matrixFixture, role string, own bool) string {
		return fmt.Sprintf("/api/v1/assets/%d%s", f.asset(ownerOf(role, own)), suffix)
	}
}

func (f *matrixFixture) asset(owner string) int64 {
	var a struct {
		ID int64 `json:"id"`
	}
	f.mustJSON(f.call("POST", "/api/v1/assets", f.token(owner), towerBody(f.unique("M"))), 201, &a)
	return a.ID
}

func (f *matrixFixture) allocated(owner string) (int64, int64) {
	id := f.asset(owner)
	var al struct {
		ID int64 `json:"id"`
	}
	f.mustJSON(f.call("POST", fmt.Sprintf("/api/v1/assets/%d/allocations", id), f.token(owner), map[string]any{"units": 1}), 201, &al)
	return id, al.ID
}

func (f *matrixFixture) version(path string) int {
	var a struct {
		Version int `json:"version"`
	}
	f.mustJSON(f.call("GET", path, f.token("admin"), nil), 200, &a)
	return a.Version
}

// userTarget is a user of the caller's own organisation, or of another.
func userTarget(f *matrixFixture, role string, own bool) string {
	owner := role
	if role == "anon" {
		owner = "operator"
	}
	if !own {
		owner = "operator2"
		if role == "operator" || role == "anon" {
			owner = "officer"
		}
	}
	return fmt.Sprintf("/api/v1/users/%d", f.userID(owner))
}

type matrixFixture struct {
	*apiClient
	n int
}

func (f *matrixFixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", strings.ToUpper(prefix), f.n)
}

func (f *matrixFixture) userID(role string) int64 {
	var me struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	f.mustJSON(f.call("GET", "/api/v1/me", f.token(role), nil), 200, &me)
	return me.User.ID
}

func (f *matrixFixture) newToken(role string) int64 {
	var tok struct {
		ID int64 `json:"id"`
	}
	f.mustJSON(f.call("POST", "/api/v1/me/tokens", f.token(role), map[string]any{"name": "to revoke"}), 201, &tok)
	return tok.ID
}

func (f *matrixFixture) currentPolicies() any {
	var set map[string]any
	f.mustJSON(f.call("GET", "/api/v1/policies", f.token("admin"), nil), 200, &set)
	delete(set, "version")
	return set
}

func TestPermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := &matrixFixture{apiClient: newAPI(t, db)}
		rows := matrix()
		checkMatrixCoversRoutes(t, f.srv.echo, rows)
		for _, row := range rows {
			for i, role := range matrixRoles {
				variants := []bool{true}
				if row.other != nil && role != "anon" {
					variants = append(variants, false)
				}
				for _, own := range variants {
					expect := row.own[i]
					variant := "own"
					if !own {
						expect, variant = row.other[i], "other's"
					}
					path := row.route
					if row.target != nil {
						path = row.target(f, role, own)
					}
					var body any
					if row.body != nil {
						body = row.body(f, role, path)
					}
					token := f.token(role)
					if row.fresh && role != "anon" {
						delete(f.tokens, role)
						token = f.token(role)
						delete(f.tokens, role)
					}
					var header []string
					if row.contentType != "" {
						header = []string{"Content-Type", row.contentType}
					}
					r := f.call(row.method, path, token, body, header...)
					if r.status != expect {
						t.Errorf("%s %s as %s (%s object): %d, want %d: %.200s", row.method, row.route, role, variant, r.status, expect, r.body)
					}
				}
			}
		}
	})
}

func checkMatrixCoversRoutes(t *testing.T, e *echo.Echo, rows []matrixRow) {
	t.Helper()
	inTable := map[string]bool{}
	for _, r := range rows {
		inTable[r.method+" "+r.route] = true
	}
	var missing []string
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || !isAPIRoute(r.Method+" "+r.Path) {
			continue // HTML pages check roles themselves; their tests cover them
		}
		if !inTable[r.Method+" "+r.Path] {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes missing from the permission matrix: %v", missing)
	}
}

// newUnitBody is a new commune under Ninh Kiều with a fresh code.
func (f *matrixFixture) newUnitBody() map[string]any {
	f.n++
	return map[string]any{"code": fmt.Sprintf("M%d", f.n), "name": "Phường thử", "level": "commune",
		"parent_code": "916", "valid_from": "2020-01-01"}
}

// webhook registers a webhook of the operator's organisation (203.0.113.0/24
// is a public documentation range: no DNS, no allowlist needed).
func (f *matrixFixture) webhook(owner string) int64 {
	var w struct {
		ID int64 `json:"id"`
	}
	f.mustJSON(f.call("POST", "/api/v1/webhooks", f.token(owner),
		map[string]any{"url": "https://203.0.113.10/" + strings.ToLower(f.unique("hook"))}), 201, &w)
	return w.ID
}

// undergroundWrite: admins and the department's auditors create.
var undergroundWrite = want{401, 201, 201, 403, 403}

// undergroundBody is a valid street segment or residential area.
func undergroundBody(kind string) map[string]any {
	if kind == "street-segments" {
		return map[string]any{"street_name": "Đường 30/4", "unit_code": "916", "length_m": 120, "central": true}
	}
	return map[string]any{"name": "KDC Hồng Loan", "unit_code": "919", "kind": "new"}
}

// undergroundTarget is a fresh record, made by the admin, for each call.
func undergroundTarget(kind string) func(f *matrixFixture, role string, own bool) string {
	return func(f *matrixFixture, _ string, _ bool) string {
		var o struct {
			ID int64 `json:"id"`
		}
		f.mustJSON(f.call("POST", "/api/v1/"+kind, f.token("admin"), undergroundBody(kind)), 201, &o)
		return fmt.Sprintf("/api/v1/%s/%d", kind, o.ID)
	}
}
