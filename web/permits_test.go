package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

type permitJSON struct {
	ID           int64  `json:"id"`
	State        string `json:"state"`
	PermitNo     string `json:"permit_no"`
	SharingCheck struct {
		Candidates []struct {
			Asset struct {
				ID int64 `json:"id"`
			} `json:"asset"`
			DistanceM float64 `json:"distance_m"`
		} `json:"candidates"`
	} `json:"sharing_check"`
	Attachments []struct {
		ID          int64  `json:"id"`
		Filename    string `json:"filename"`
		ContentType string `json:"content_type"`
	} `json:"attachments"`
}

// An application 80 m from a VNPT tower with a free slot is refused without
// a justification and accepted with one; the Ninh Kiều officer approves it;
// the Cái Răng officer cannot see it.
func TestPermitThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt, viettel := a.token("operator"), a.token("operator2")
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, map[string]any{"code": "CT-NK-1", "kind": "tower", "lat": 10.0300, "lon": 105.7800,
			"height_m": 40, "unit_code": "916", "in_service_on": "2015-01-01", "capacity": map[string]any{"total": 3}}), 201, &tower)
		body := map[string]any{"structure_kind": "tower", "class": "A2b", "height_m": 40, "unit_code": "916",
			"location": map[string]float64{"lat": 10.03072, "lon": 105.7800}, "purpose": "Trạm BTS mới"}
		r := a.call("POST", "/api/v1/permits", viettel, body)
		var refused struct {
			Error struct {
				Code       string            `json:"code"`
				Fields     map[string]string `json:"fields"`
				Candidates []struct {
					Asset struct {
						ID int64 `json:"id"`
					} `json:"asset"`
					DistanceM float64 `json:"distance_m"`
					Free      int     `json:"free"`
				} `json:"candidates"`
			} `json:"error"`
		}
		a.mustJSON(r, 422, &refused)
		if len(refused.Error.Candidates) != 1 || refused.Error.Candidates[0].Asset.ID != tower.ID || refused.Error.Candidates[0].Free != 3 ||
			refused.Error.Fields["justifications"] == "" {
			t.Fatalf("refusal %s", r.body)
		}
		body["justifications"] = []map[string]any{{"asset_id": tower.ID, "reason_code": "structural", "text": "Cột không chịu thêm tải anten 5G"}}
		var p permitJSON
		a.mustJSON(a.call("POST", "/api/v1/permits", viettel, body), 201, &p)
		path := fmt.Sprintf("/api/v1/permits/%d", p.ID)
		if r := a.call("GET", path, a.token("officer2"), nil); r.status != 404 {
			t.Fatalf("the Cái Răng officer reads it: %d", r.status)
		}
		if r := a.call("POST", path+"/actions", a.token("officer2"), map[string]any{"action": "approve"}); r.status != 404 {
			t.Fatalf("the Cái Răng officer approves it: %d", r.status)
		}
		// A drawing, as a form upload; a text file is refused.
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "../../bản vẽ.pdf")
		fw.Write([]byte("%PDF-1.4\n% bản vẽ móng cột\n%%EOF\n"))
		mw.Close()
		up := a.call("POST", path+"/attachments", viettel, form.Bytes(), "Content-Type", mw.FormDataContentType())
		var att struct {
			ID       int64  `json:"id"`
			Filename string `json:"filename"`
		}
		a.mustJSON(up, 201, &att)
		if att.Filename != "bản vẽ.pdf" {
			t.Fatalf("file name %q: path tricks must go", att.Filename)
		}
		if r := a.call("POST", path+"/attachments", viettel, []byte("#!/bin/sh\nrm -rf /\n"), "Content-Type", "application/pdf"); r.status != 422 {
			t.Fatalf("a script as a PDF: %d", r.status)
		}
		if r := a.call("POST", path+"/attachments", vnpt, []byte("%PDF-1.4"), "Content-Type", "application/pdf"); r.status != 404 {
			t.Fatalf("another operator attaches: %d", r.status)
		}
		dl := a.call("GET", fmt.Sprintf("%s/attachments/%d", path, att.ID), a.token("officer"), nil)
		if dl.status != 200 || dl.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(dl.body, []byte("%PDF")) {
			t.Fatalf("download %d %q", dl.status, dl.header.Get("Content-Type"))
		}
		a.mustJSON(a.call("POST", path+"/actions", a.token("officer"), map[string]any{"action": "approve"}), 200, &p)
		if p.State != "approved" || !strings.HasPrefix(p.PermitNo, "UBND-NK-") {
			t.Fatalf("approved %+v", p)
		}
		for _, c := range []struct {
			body   any
			status int
		}{
			{map[string]any{"action": "approve"}, 409},
			{map[string]any{"action": "bless"}, 422},
			{`{"action":`, 400},
		} {
			if r := a.call("POST", path+"/actions", a.token("officer"), c.body); r.status != c.status {
				t.Errorf("%v: %d, want %d", c.body, r.status, c.status)
			}
		}
	})
}

func TestSharingRatioDownloads(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	a := newAPI(t, db)
	var tower assetJSON
	a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), towerBody("CT-1")), 201, &tower)
	a.mustJSON(a.call("POST", "/api/v1/bts", a.token("operator"), btsBody("VNPT-1", tower.ID)), 201, nil)
	auditor := a.token("auditor")
	var rep struct {
		Rows []struct {
			Total  int      `json:"total"`
			Target *float64 `json:"target"`
		} `json:"rows"`
	}
	a.mustJSON(a.call("GET", "/api/v1/reports/sharing-ratio?from=2026-01-01&to=2026-12-31", auditor, nil), 200, &rep)
	if len(rep.Rows) != 1 || rep.Rows[0].Total != 1 || rep.Rows[0].Target == nil || *rep.Rows[0].Target != 0.5 {
		t.Fatalf("report %+v", rep)
	}
	csv := a.call("GET", "/api/v1/reports/sharing-ratio?from=2026-01-01&to=2026-12-31&format=csv", auditor, nil)
	if csv.status != 200 || !strings.HasPrefix(string(csv.body), "\ufeffgroup_code,") || !strings.Contains(csv.header.Get("Content-Disposition"), ".csv") {
		t.Fatalf("csv %d %q", csv.status, csv.body)
	}
	xlsx := a.call("GET", "/api/v1/reports/sharing-ratio?format=xlsx", auditor, nil)
	if xlsx.status != 200 || !bytes.HasPrefix(xlsx.body, []byte("PK")) {
		t.Fatalf("xlsx %d", xlsx.status)
	}
	for _, bad := range []string{"format=pdf", "from=yesterday", "group_by=moon", "from=2026-05-01&to=2026-01-01"} {
		if r := a.call("GET", "/api/v1/reports/sharing-ratio?"+bad, auditor, nil); r.status != 422 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
}
