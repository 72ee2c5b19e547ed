package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// assetformForm is the create form's fields with a valid tower, changed by
// the given pairs.
func assetformForm(csrfName, csrf string, pairs ...string) url.Values {
	f := url.Values{csrfName: {csrf}, "kind": {"tower"}, "code": {"CT-NK-F001"}, "status": {"in_service"},
		"lat": {"10.0342"}, "lon": {"105.7851"}, "unit_code": {"916"}, "address": {"12 Hòa Bình, Ninh Kiều"},
		"height_m": {"42,5"}, "class": {"A2b"}, "structure": {"Cột dây co"}, "capacity_total": {"3"},
		"in_service_on": {"2024-05-01"}, "rent_vnd": {"36.000.000"}, "contact": {"NOC VNPT Cần Thơ"}}
	for i := 0; i+1 < len(pairs); i += 2 {
		f.Set(pairs[i], pairs[i+1])
	}
	return f
}

// assetformFind is the VNPT asset with code, through the API, or nil.
func assetformFind(t *testing.T, a *apiClient, code string) *assetJSON {
	t.Helper()
	var out struct {
		Items []assetJSON `json:"items"`
	}
	a.mustJSON(a.call("GET", "/api/v1/assets?owner=VNPT&q="+url.QueryEscape(code), a.token("operator"), nil), 200, &out)
	for i := range out.Items {
		if out.Items[i].Code == code {
			return &out.Items[i]
		}
	}
	return nil
}

// assetformCount is how many assets VNPT has.
func assetformCount(t *testing.T, a *apiClient) int {
	t.Helper()
	var out struct {
		Items []assetJSON `json:"items"`
	}
	a.mustJSON(a.call("GET", "/api/v1/assets?owner=VNPT&limit=500", a.token("operator"), nil), 200, &out)
	return len(out.Items)
}

// assetformPostFile posts a multipart form with one file.
func assetformPostFile(p *pageClient, path string, fields url.Values, filename, content string) pageResp {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			p.t.Fatal(err)
		}
		_, _ = fw.Write([]byte(content))
	}
	if err := mw.Close(); err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", p.base+path, &body)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return p.do(req)
}

func TestPageAssetFormCreate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		wantRedirect(t, newPageClient(t, a).get("/assets/new"), "/login")
		for _, role := range []string{"officer", "auditor", "admin"} {
			p := newPageClient(t, a)
			p.signIn(role)
			wantPage(t, p.get("/assets/new"), 403, "Không có quyền truy cập (403)")
			if strings.Contains(p.get("/assets").body, `href="/assets/new"`) {
				t.Fatalf("%s is offered to add assets", role)
			}
		}

		p := newPageClient(t, a)
		p.signIn("operator")
		list := p.get("/assets")
		wantPage(t, list, 200, `href="/assets/new"`, "Thêm tài sản", `href="/assets/import"`, "Nhập dữ liệu")
		page := p.get("/assets/new")
		wantPage(t, page, 200, "<h1>Đăng ký hạ tầng</h1>", `<label for="af-code">`, `<label for="af-lat">`, `<label for="af-line">`,
			`<label for="af-restricted">`, `<option value="A2b">`, `<option value="916">`, "/static/assetform.js?v=")
		name, tok := csrfOf(t, page.body)

		// Without the CSRF field: refused, nothing written.
		noCSRF := assetformForm(name, tok)
		noCSRF.Del(name)
		wantPage(t, p.post("/assets/new", noCSRF), 403)

		bad := []struct {
			name   string
			pairs  []string
			status int
			want   []string
		}{
			{"outside the service area", []string{"lat", "30.5"}, 422,
				[]string{`id="af-position-err"`, "Vị trí nằm ngoài vùng phục vụ của hệ thống.", `value="30.5"`, `value="12 Hòa Bình, Ninh Kiều"`}},
			{"height not a number", []string{"height_m", "cao"}, 422, []string{`id="af-height-err"`, "Phải là một số", `aria-invalid="true"`}},
			{"height on a manhole", []string{"kind", "manhole"}, 422, []string{`id="af-height-err"`, "Chỉ áp dụng cho cột ăng-ten và cột treo cáp."}},
			{"no code", []string{"code", ""}, 422, []string{`id="af-code-err"`, "Bắt buộc nhập."}},
			{"unknown class", []string{"class", "Z9"}, 422, []string{`id="af-class-err"`, "Phải là một trong: A1a"}},
			{"bad date", []string{"in_service_on", "31/02/2024"}, 422, []string{`id="af-since-err"`, "Ngày không hợp lệ"}},
		}
		for _, tc := range bad {
			r := p.post("/assets/new", assetformForm(name, tok, tc.pairs...))
			wantPage(t, r, tc.status, append([]string{"Chưa lưu được"}, tc.want...)...)
		}
		if n := assetformCount(t, a); n != 0 {
			t.Fatalf("refused forms created %d assets", n)
		}

		r := p.post("/assets/new", assetformForm(name, tok))
		if r.status != http.StatusSeeOther || !regexp.MustCompile(`^/assets/\d+$`).MatchString(r.header.Get("Location")) {
			t.Fatalf("create: %d %q %s", r.status, r.header.Get("Location"), r.body)
		}
		got := assetformFind(t, a, "CT-NK-F001")
		if got == nil || got.Capacity.Total != 3 || got.Lat == nil || *got.Lat != 10.0342 || got.Address == nil || *got.Address != "12 Hòa Bình, Ninh Kiều" {
			t.Fatalf("created %+v", got)
		}
		wantPage(t, p.get(r.header.Get("Location")), 200, "CT-NK-F001", "42,5 m", "A2b", "36.000.000 ₫", "01/05/2024", "NOC VNPT Cần Thơ")
		wantPage(t, p.get("/assets"), 200, "CT-NK-F001")

		// The same code again: a conflict shown at the code.
		wantPage(t, p.post("/assets/new", assetformForm(name, tok)), 409, `id="af-code-err"`, "Doanh nghiệp của bạn đã có hạ tầng với mã này.")

		// A duct by its route, one "lat, lon" per line.
		r = p.post("/assets/new", assetformForm(name, tok, "kind", "duct", "code", "CT-NK-D001", "lat", "", "lon", "",
			"height_m", "", "class", "", "line", "10.0342, 105.7851\n10.0350, 105.7860", "tubes", "4", "capacity_total", ""))
		if r.status != http.StatusSeeOther {
			t.Fatalf("create duct: %d %s", r.status, r.body)
		}
		duct := assetformFind(t, a, "CT-NK-D001")
		if duct == nil || duct.Capacity.Total != 4 {
			t.Fatalf("duct %+v", duct)
		}
		wantPage(t, p.get(r.header.Get("Location")), 200, "Ống cáp CT-NK-D001", "Chiều dài")

		// English.
		p.get("/?lang=en")
		wantPage(t, p.post("/assets/new", assetformForm(name, tok, "code", "CT-NK-F002", "lat", "30.5")), 422,
			"The position lies outside the service area.", "<h1>Register an asset</h1>")
	})
}

func TestPageAssetFormEdit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "CT-NK-E001", "kind": "tower",
			"lat": 10.0342, "lon": 105.7851, "unit_code": "916", "address": "1 Trần Phú", "height_m": 30,
			"capacity": map[string]any{"total": 3}}), 201, &tower)
		edit := fmt.Sprintf("/assets/%d/edit", tower.ID)

		p := newPageClient(t, a)
		p.signIn("operator")
		page := p.get(edit)
		wantPage(t, page, 200, "Sửa hạ tầng CT-NK-E001", `name="version" value="1"`, `value="1 Trần Phú"`, `value="10.0342"`, `value="30"`)
		name, tok := csrfOf(t, page.body)
		form := func(pairs ...string) url.Values {
			f := url.Values{name: {tok}, "version": {"1"}, "status": {"in_service"}, "lat": {"10.0342"}, "lon": {"105.7851"},
				"unit_code": {"916"}, "address": {"1 Trần Phú"}, "height_m": {"30"}, "capacity_total": {"3"}, "capacity_unit": {"tenant_slot"}}
			for i := 0; i+1 < len(pairs); i += 2 {
				f.Set(pairs[i], pairs[i+1])
			}
			return f
		}
		// Emptying a stored number is refused, not silently ignored.
		wantPage(t, p.post(edit, form("height_m", "")), 422, `id="af-height-err"`, "Không thể xóa trống")

		wantRedirect(t, p.post(edit, form("address", "5 Trần Phú", "height_m", "36")), fmt.Sprintf("/assets/%d", tower.ID))
		got := assetformFind(t, a, "CT-NK-E001")
		if got.Version != 2 || got.Address == nil || *got.Address != "5 Trần Phú" {
			t.Fatalf("after edit: %+v", got)
		}
		// A form opened at version 1 is stale now: 409, nothing changed.
		r := p.post(edit, form("address", "9 Trần Phú"))
		wantPage(t, r, 409, "xung đột phiên bản", `href="`+edit+`"`, "Tải lại biểu mẫu")
		if got := assetformFind(t, a, "CT-NK-E001"); got.Version != 2 || *got.Address != "5 Trần Phú" {
			t.Fatalf("a stale form changed the asset: %+v", got)
		}
		// The capacity cannot drop below what is in use.
		a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/assets/%d/allocations", tower.ID), a.token("operator"), map[string]any{"units": 2}), 201, nil)
		wantPage(t, p.post(edit, form("version", "2", "capacity_total", "1")), 409, `id="af-captotal-err"`, "Không thể nhỏ hơn")

		// Another operator: 403 on the form and on the post; nothing changes.
		other := newPageClient(t, a)
		other.signIn("operator2")
		wantPage(t, other.get(edit), 403)
		oname, otok := csrfOf(t, other.get("/assets").body)
		wantPage(t, other.post(edit, url.Values{oname: {otok}, "version": {"2"}, "address": {"hijack"}}), 403)
		if got := assetformFind(t, a, "CT-NK-E001"); *got.Address != "5 Trần Phú" {
			t.Fatalf("another operator changed the asset: %+v", got)
		}
		wantPage(t, p.get("/assets/999999/edit"), 404)

		// A duct's route comes back as "lat, lon" lines; a new route is saved.
		var duct assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "CT-NK-E002", "kind": "duct",
			"geometry": map[string]any{"type": "LineString", "coordinates": [][]float64{{105.7851, 10.0342}, {105.786, 10.035}}}, "tubes": 4}), 201, &duct)
		ductEdit := fmt.Sprintf("/assets/%d/edit", duct.ID)
		wantPage(t, p.get(ductEdit), 200, "10.0342, 105.7851\n10.035, 105.786</textarea>")
		wantRedirect(t, p.post(ductEdit, url.Values{name: {tok}, "version": {"1"}, "status": {"in_service"}, "tubes": {"4"},
			"capacity_total": {"4"}, "line": {"10.0342, 105.7851\r\n10.0342, 105.7951"}}), fmt.Sprintf("/assets/%d", duct.ID))
		if got := assetformFind(t, a, "CT-NK-E002"); got.Version != 2 {
			t.Fatalf("duct after edit: %+v", got)
		}
		wantPage(t, p.get(fmt.Sprintf("/assets/%d", duct.ID)), 200, "<dt>Chiều dài</dt><dd>1.096,2 m</dd>")
		off := newPageClient(t, a)
		off.signIn("officer")
		wantPage(t, off.get(edit), 403)
	})
}

func TestPageAssetFormDetailActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "CT-NK-A001", "kind": "tower",
			"lat": 10.0342, "lon": 105.7851, "unit_code": "916", "capacity": map[string]any{"total": 3}}), 201, &tower)
		detail := fmt.Sprintf("/assets/%d", tower.ID)
		nearby := `href="/nearby?lat=10.034200&amp;lon=105.785100"`
		request := fmt.Sprintf(`href="/colocation/new?asset=%d"`, tower.ID)

		owner := newPageClient(t, a)
		owner.signIn("operator")
		page := owner.get(detail)
		wantPage(t, page, 200, `href="`+detail+`/edit"`, ">Sửa<", nearby, "Ghi nhận sử dụng của chính doanh nghiệp", `<label for="ou-units">`)
		if strings.Contains(page.body, request) {
			t.Fatal("the owner is offered to request its own asset")
		}
		name, tok := csrfOf(t, page.body)
		wantRedirect(t, owner.post(detail+"/allocations", url.Values{name: {tok}, "units": {"2"}, "note": {"Trạm VNPT"}}), detail)
		if got := assetformFind(t, a, "CT-NK-A001"); got.Capacity.Active != 2 || got.Capacity.Free != 1 {
			t.Fatalf("after own use: %+v", got.Capacity)
		}
		wantPage(t, owner.get(detail), 200, "tự sử dụng", "Đang dùng", "3 tổng, 0 giữ chỗ, 2 đang dùng, 1 còn trống")
		wantPage(t, owner.post(detail+"/allocations", url.Values{name: {tok}, "units": {"5"}}), 409, "Không đủ sức chứa còn trống")
		wantPage(t, owner.post(detail+"/allocations", url.Values{name: {tok}, "units": {"0"}}), 422, `id="ou-units-err"`)

		other := newPageClient(t, a)
		other.signIn("operator2")
		page = other.get(detail)
		wantPage(t, page, 200, request, "Yêu cầu dùng chung", nearby)
		if strings.Contains(page.body, detail+"/edit") || strings.Contains(page.body, `action="`+detail+`/allocations"`) {
			t.Fatal("another operator is offered the owner's actions")
		}
		oname, otok := csrfOf(t, page.body)
		wantPage(t, other.post(detail+"/allocations", url.Values{oname: {otok}, "units": {"1"}}), 403)

		// Full: no request link.
		a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/assets/%d/allocations", tower.ID), a.token("operator"), map[string]any{"units": 1}), 201, nil)
		if strings.Contains(other.get(detail).body, request) {
			t.Fatal("a full asset offers a request")
		}
		off := newPageClient(t, a)
		off.signIn("officer")
		page = off.get(detail)
		wantPage(t, page, 200, nearby)
		if strings.Contains(page.body, "/colocation/new") || strings.Contains(page.body, "/edit") {
			t.Fatal("an officer is offered operator actions")
		}
	})
}

func TestPageAssetFormImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		off := newPageClient(t, a)
		off.signIn("officer")
		wantPage(t, off.get("/assets/import"), 403)

		p := newPageClient(t, a)
		p.signIn("operator")
		page := p.get("/assets/import")
		wantPage(t, page, 200, "<h1>Nhập dữ liệu hạ tầng</h1>", `enctype="multipart/form-data"`, `<label for="ai-file">`,
			`<label for="ai-crs-vn2000">`, `<label for="ai-lon0">`)
		name, tok := csrfOf(t, page.body)
		fields := url.Values{name: {tok}, "step": {"preview"}, "crs": {"wgs84"}, "lon0": {"105.75"}}

		// Bad rows: every one listed with its line and column; nothing written.
		badCSV := "code,kind,lat,lon,capacity_total\n" +
			"CT-NK-I001,tower,10.0342,105.7851,3\n" +
			"CT-NK-I002,tower,abc,105.7852,3\n" +
			"CT-NK-I003,spaceship,10.0344,105.7853,3\n"
		r := assetformPostFile(p, "/assets/import", fields, "bad.csv", badCSV)
		wantPage(t, r, 422, "Tệp có lỗi", "Chưa có gì được ghi", "<th scope=\"col\" class=\"num\">Dòng</th>",
			`<td class="num">3</td><td><code>lat</code></td>`, `<td class="num">4</td><td><code>kind</code></td>`)
		if strings.Contains(r.body, `name="step" value="confirm"`) {
			t.Fatal("a refused file may be confirmed")
		}
		if n := assetformCount(t, a); n != 0 {
			t.Fatalf("the dry run wrote %d assets", n)
		}
		// No file; an unknown column; VN-2000 without a meridian.
		wantPage(t, assetformPostFile(p, "/assets/import", fields, "", ""), 422, `id="ai-file-err"`, "Hãy chọn một tệp")
		wantPage(t, assetformPostFile(p, "/assets/import", fields, "x.csv", "code,kind,lat,lon,colour\nA,tower,10,105,red\n"), 422,
			"<code>colour</code>", `<td class="num">1</td>`)
		vn := url.Values{name: {tok}, "step": {"preview"}, "crs": {"vn2000"}, "lon0": {""}}
		wantPage(t, assetformPostFile(p, "/assets/import", vn, "x.csv", "code,kind,x,y\nA,tower,1109000,587000\n"), 422, `id="ai-lon0-err"`)

		// A clean file: the preview counts, nothing written until confirmed.
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "CT-NK-I001", "kind": "tower",
			"lat": 10.0342, "lon": 105.7851, "capacity": map[string]any{"total": 2}}), 201, nil)
		goodCSV := "code,kind,lat,lon,capacity_total,address\n" +
			"CT-NK-I001,tower,10.0342,105.7851,3,1 Hòa Bình\n" +
			"CT-NK-I002,tower,10.0343,105.7852,3,2 Hòa Bình\n" +
			"CT-NK-I003,pole,10.0344,105.7853,2,3 Hòa Bình\n"
		r = assetformPostFile(p, "/assets/import", fields, "vnpt.csv", goodCSV)
		wantPage(t, r, 200, "Kết quả kiểm tra", "vnpt.csv", "Không có dòng lỗi.", `name="step" value="confirm"`, ">Nhập</button>",
			"<dt>Thêm mới</dt><dd>2</dd>", "<dt>Cập nhật</dt><dd>1</dd>")
		if n := assetformCount(t, a); n != 1 {
			t.Fatalf("the preview wrote: %d assets", n)
		}
		confirm := url.Values{}
		confirmForm := r.body[strings.Index(r.body, `class="ai-confirm"`):]
		confirmForm = confirmForm[:strings.Index(confirmForm, "</form>")]
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(confirmForm, -1) {
			confirm.Set(m[1], m[2])
		}
		if confirm.Get("step") != "confirm" || confirm.Get("content") == "" {
			t.Fatalf("confirm form %v", confirm)
		}
		// The confirm needs the CSRF token like every form.
		noTok := url.Values{}
		for k, v := range confirm {
			noTok[k] = v
		}
		noTok.Del(name)
		wantPage(t, p.post("/assets/import", noTok), 403)
		if n := assetformCount(t, a); n != 1 {
			t.Fatalf("a refused confirm wrote: %d assets", n)
		}

		wantRedirect(t, p.post("/assets/import", confirm), "/assets?owner=VNPT")
		if n := assetformCount(t, a); n != 3 {
			t.Fatalf("after confirm: %d assets", n)
		}
		if got := assetformFind(t, a, "CT-NK-I001"); got.Capacity.Total != 3 {
			t.Fatalf("the update was not written: %+v", got)
		}
		wantPage(t, p.get("/assets?owner=VNPT"), 200, "Đã nhập 3 dòng: 2 thêm mới, 1 cập nhật, 0 không đổi.", "CT-NK-I003")
		if strings.Contains(p.get("/assets?owner=VNPT").body, "Đã nhập") {
			t.Fatal("the import notice shows twice")
		}

		// A tampered confirm is refused without writing.
		confirm.Set("content", "not-base64!")
		wantPage(t, p.post("/assets/import", confirm), 400)

		// GeoJSON by its extension, checked the same way.
		geo := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[105.79,10.04]},"properties":{"code":"CT-NK-G001","kind":"pole"}},` +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[105.79,50.04]},"properties":{"code":"CT-NK-G002","kind":"pole"}}]}`
		wantPage(t, assetformPostFile(p, "/assets/import", fields, "poles.geojson", geo), 422, `<td class="num">2</td>`)
		if assetformFind(t, a, "CT-NK-G001") != nil {
			t.Fatal("a refused GeoJSON import wrote a row")
		}
	})
}
