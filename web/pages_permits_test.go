package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// permitsFixture is a Viettel tower in Ninh Kiều (urban: a 100 m radius)
// and a site 33 m from it, where VNPT applies.
type permitsFixture struct {
	a        *apiClient
	towerID  int64
	vnptTower int64
}

func permitsSetup(t *testing.T, db *database.DB) permitsFixture {
	t.Helper()
	a := newAPI(t, db)
	var tower, own assetJSON
	a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator2"), map[string]any{"code": "VT-NK-0201", "kind": "tower",
		"lat": 10.0342, "lon": 105.7851, "unit_code": "916", "height_m": 45, "in_service_on": "2015-05-01",
		"capacity": map[string]any{"total": 3}}), 201, &tower)
	a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "VNPT-NK-0301", "kind": "tower",
		"lat": 10.0500, "lon": 105.7300, "unit_code": "916", "height_m": 40, "in_service_on": "2014-02-01",
		"capacity": map[string]any{"total": 3}}), 201, &own)
	return permitsFixture{a: a, towerID: tower.ID, vnptTower: own.ID}
}

// permitsForm is the application at the site near the Viettel tower.
func permitsForm(csrfName, csrf string) url.Values {
	return url.Values{csrfName: {csrf}, "structure_kind": {"tower"}, "class": {"A2b"}, "height_m": {"40"},
		"lat": {"10,0345"}, "lon": {"105.7851"}, "unit_code": {"916"}, "address": {"12 Hòa Bình, Ninh Kiều"},
		"purpose": {"Trạm BTS 5G phủ sóng khu trung tâm"}}
}

func permitsSignedIn(t *testing.T, a *apiClient, role string) (*pageClient, string, string) {
	t.Helper()
	p := newPageClient(t, a)
	p.signIn(role)
	name, tok := csrfOf(t, p.get("/").body)
	return p, name, tok
}

func TestPagePermitsSmoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := permitsSetup(t, db)
		op, name, tok := permitsSignedIn(t, f.a, "operator")
		r := op.get("/permits/new")
		wantPage(t, r, 200)
		form := permitsForm(name, tok)
		r = op.post("/permits/check", form)
		t.Log(r.status, r.body)
		form.Set("op", "check")
		r = op.post("/permits/new", form)
		t.Log(r.status, r.body)
		form.Set("op", "submit")
		r = op.post("/permits/new", form)
		t.Log(r.status, r.body)
		_ = fmt.Sprint
		_ = bytes.NewBuffer
		_ = multipart.NewWriter
		_ = http.StatusOK
		_ = strings.Contains
	})
}
