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
	"infrashare/permits"
)

// permitsFixture: a Viettel tower in Ninh Kiều (urban, so a 100 m radius),
// 33 m from the site where VNPT applies, and a tower of VNPT's own.
type permitsFixture struct {
	a         *apiClient
	towerID   int64
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

// permitsApplication is the form of an application at the site near the
// Viettel tower; the latitude is written the Vietnamese way.
func permitsApplication(csrfName, csrf string) url.Values {
	return url.Values{csrfName: {csrf}, "structure_kind": {"tower"}, "class": {"A2b"}, "height_m": {"40"},
		"lat": {"10,0345"}, "lon": {"105.7851"}, "unit_code": {"916"}, "address": {"12 Hòa Bình, Ninh Kiều"},
		"purpose": {"Trạm BTS 5G phủ sóng khu trung tâm"}}
}

// permitsSignedIn is a page client signed in as role, with its CSRF field.
func permitsSignedIn(t *testing.T, a *apiClient, role string) (*pageClient, string, string) {
	t.Helper()
	p := newPageClient(t, a)
	p.signIn(role)
	name, tok := csrfOf(t, p.get("/").body)
	return p, name, tok
}

// permitsAPIGet reads an application through the JSON API as role.
func permitsAPIGet(t *testing.T, a *apiClient, role string, id string) permits.PermitView {
	t.Helper()
	var p permits.PermitView
	a.mustJSON(a.call("GET", "/api/v1/permits/"+id, a.token(role), nil), 200, &p)
	return p
}

var permitsIDPath = regexp.MustCompile(`^/permits/(\d+)$`)

// permitsFile files the application with a justification for the Viettel
// tower and returns its id.
func permitsFile(t *testing.T, f permitsFixture, op *pageClient, name, tok string) string {
	t.Helper()
	form := permitsApplication(name, tok)
	j := fmt.Sprint(f.towerID)
	form.Set("j_reason_"+j, "coverage")
	form.Set("j_text_"+j, "Cột hiện hữu thấp hơn vùng cần phủ, đã đo kiểm")
	r := op.post("/permits/new", form)
	m := permitsIDPath.FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("file: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	return m[1]
}

// TestPagePermitsApplyWithJustifications: the live check lists the tower;
// filing without its justification comes back 422 with the candidate and
// the problem next to it, the values kept; with it the application exists
// with the check frozen.
func TestPagePermitsApplyWithJustifications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := permitsSetup(t, db)
		op, name, tok := permitsSignedIn(t, f.a, "operator")
		tower := fmt.Sprint(f.towerID)

		wantPage(t, op.get("/permits/new"), 200, "<h1>Nộp hồ sơ cấp phép xây dựng công trình</h1>", `<label for="p-lat">`,
			`<label for="p-height">`, `<label for="p-purpose">`, `hx-post="/permits/check"`, `name="op" value="check"`, "Kiểm tra dùng chung")

		// The live check answers a fragment with the candidate and its
		// justification fields.
		frag := op.post("/permits/check", permitsApplication(name, tok))
		if frag.status != 200 || strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, "VT-NK-0201") ||
			!strings.Contains(frag.body, `name="j_reason_`+tower+`"`) || !strings.Contains(frag.body, "33 m") ||
			!strings.Contains(frag.body, "bán kính 100 m") {
			t.Fatalf("check fragment: %d\n%s", frag.status, frag.body)
		}
		// Far from any structure: nothing to justify.
		far := permitsApplication(name, tok)
		far.Set("lat", "10.0200")
		wantPage(t, op.post("/permits/check", far), 200, "Không có công trình nào có thể dùng chung")
		// Without a position yet: what the check needs.
		wantPage(t, op.post("/permits/check", url.Values{name: {tok}, "height_m": {"40"}}), 200, "Nhập vĩ độ, kinh độ và chiều cao")

		// The no-JavaScript check button: the whole form with the candidates.
		form := permitsApplication(name, tok)
		form.Set("op", "check")
		wantPage(t, op.post("/permits/new", form), 200, "<h1>Nộp hồ sơ", "VT-NK-0201", `name="j_text_`+tower+`"`, `value="10,0345"`)

		// Missing justification: 422, the candidate listed with its error,
		// the values kept, nothing filed.
		form.Set("op", "submit")
		r := op.post("/permits/new", form)
		wantPage(t, r, 422, "Hãy nêu lý do không dùng chung cho từng công trình", "VT-NK-0201",
			"Cần nêu lý do không dùng chung công trình này.", "Trạm BTS 5G phủ sóng khu trung tâm", `value="12 Hòa Bình, Ninh Kiều"`)
		var n int64
		if err := db.Root().Table("permits").Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d applications after a refused filing (%v)", n, err)
		}
		// A refusal without the request it cites: the problem inline.
		form.Set("j_reason_"+tower, "refused")
		form.Set("j_text_"+tower, "Viettel từ chối")
		wantPage(t, op.post("/permits/new", form), 422, "Lý do “bị từ chối” cần dẫn chiếu yêu cầu dùng chung đã bị từ chối.",
			`<option value="refused" selected>`)
		// Other problems of the form, inline.
		bad := permitsApplication(name, tok)
		bad.Set("height_m", "cao")
		wantPage(t, op.post("/permits/new", bad), 422, "Chiều cao phải là số lớn hơn 0")
		bad = permitsApplication(name, tok)
		bad.Set("purpose", "")
		wantPage(t, op.post("/permits/new", bad), 422, "Nêu mục đích xây dựng", "VT-NK-0201")

		// With the justification: filed, and the check frozen in it.
		id := permitsFile(t, f, op, name, tok)
		p := permitsAPIGet(t, f.a, "operator", id)
		if p.State != permits.StateSubmitted || p.Authority.Code != "UBND-NK" || len(p.SharingCheck.Candidates) != 1 ||
			p.SharingCheck.Candidates[0].Asset.ID != f.towerID || len(p.Justifications) != 1 || p.Justifications[0].ReasonCode != "coverage" {
			t.Fatalf("filed application: %+v", p)
		}
		page := op.get("/permits/" + id)
		wantPage(t, page, 200, p.Number, "Chờ quyết định", "VT-NK-0201", "Không đáp ứng vùng phủ sóng", "Cột hiện hữu thấp hơn vùng cần phủ",
			"còn 20 ngày làm việc", "Rút hồ sơ", "Nộp hồ sơ", `enctype="multipart/form-data"`)
		if strings.Contains(page.body, `name="permit_no"`) {
			t.Fatal("the applicant is offered the officer's decision")
		}
		wantPage(t, op.get("/permits"), 200, p.Number, "Nộp hồ sơ mới", "UBND-NK", "còn 20 ngày làm việc")
		wantPage(t, op.get("/permits?state=approved"), 200, "Không có hồ sơ nào.")
		wantPage(t, op.get("/permits?state=bogus"), 422, "Bộ lọc không hợp lệ.")

		// Without the CSRF field: refused, nothing filed.
		form = permitsApplication(name, tok)
		form.Del(name)
		wantPage(t, op.post("/permits/new", form), 403)
		// Roles that do not apply: 403.
		off, oname, otok := permitsSignedIn(t, f.a, "officer")
		wantPage(t, off.get("/permits/new"), 403)
		wantPage(t, off.post("/permits/new", permitsApplication(oname, otok)), 403)
		wantPage(t, off.post("/permits/check", permitsApplication(oname, otok)), 403)
		if err := db.Root().Table("permits").Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("%d applications, want 1 (%v)", n, err)
		}

		// English.
		op.get("/?lang=en")
		wantPage(t, op.get("/permits/"+id), 200, "Awaiting decision", "Does not give the coverage", "20 working days left")
	})
}

// TestPagePermitsOfficerReview: the officer of the jurisdiction sees the
// application in the queue and approves it with a number; an officer of
// another jurisdiction gets 404, the applicant 403 on deciding, and a
// second decision 409.
func TestPagePermitsOfficerReview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := permitsSetup(t, db)
		op, name, tok := permitsSignedIn(t, f.a, "operator")
		id := permitsFile(t, f, op, name, tok)
		number := permitsAPIGet(t, f.a, "operator", id).Number

		// The applicant may not decide: 403, and nothing changes.
		wantPage(t, op.post("/permits/"+id+"/actions", url.Values{name: {tok}, "action": {"approve"}}), 403)
		// An officer of another jurisdiction does not know it exists.
		cr, crName, crTok := permitsSignedIn(t, f.a, "officer2")
		wantPage(t, cr.get("/permits/"+id), 404)
		wantPage(t, cr.post("/permits/"+id+"/actions", url.Values{crName: {crTok}, "action": {"approve"}}), 404)
		if strings.Contains(cr.get("/permits").body, number) {
			t.Fatal("Cái Răng's queue lists a Ninh Kiều application")
		}
		// Another operator neither.
		vt, _, _ := permitsSignedIn(t, f.a, "operator2")
		wantPage(t, vt.get("/permits/"+id), 404)

		off, oname, otok := permitsSignedIn(t, f.a, "officer")
		q := off.get("/permits")
		wantPage(t, q, 200, "Hồ sơ cấp phép cần xử lý", "Chờ quyết định (theo hạn)", number, "VNPT")
		if strings.Contains(q.body, "Nộp hồ sơ mới") {
			t.Fatal("the officer is offered to apply")
		}
		page := off.get("/permits/" + id)
		proposed := fmt.Sprintf(`placeholder="UBND-NK-%d-0001"`, permitsToday(t, f).Year)
		wantPage(t, page, 200, "Quyết định", `name="permit_no"`, proposed, `name="dossier_code"`, "Trả hồ sơ", "Từ chối", "VT-NK-0201")
		if strings.Contains(page.body, `value="withdraw"`) || strings.Contains(page.body, `action="/permits/`+id+`/attachments"`) {
			t.Fatal("the officer is offered the applicant's actions")
		}
		// A return needs what is missing; a rejection its reason.
		wantPage(t, off.post("/permits/"+id+"/actions", url.Values{oname: {otok}, "action": {"return"}}), 422, "Cần nêu lý do.")
		wantPage(t, off.post("/permits/"+id+"/actions", url.Values{oname: {otok}, "action": {"reject"}, "reason": {" "}}), 422, "Cần nêu lý do.")

		r := off.post("/permits/"+id+"/actions", url.Values{oname: {otok}, "action": {"approve"}, "permit_no": {"123/GP-UBND"},
			"dossier_code": {"000.00.25.H13-260101-0001"}})
		wantRedirect(t, r, "/permits/"+id)
		p := permitsAPIGet(t, f.a, "officer", id)
		if p.State != permits.StateApproved || p.PermitNo != "123/GP-UBND" || p.DossierCode != "000.00.25.H13-260101-0001" {
			t.Fatalf("after approval: %s %q %q", p.State, p.PermitNo, p.DossierCode)
		}
		wantPage(t, off.get("/permits/"+id), 200, "Đã cấp phép", "123/GP-UBND", "Cấp phép")
		// A second decision, as after a race: 409 with a clear message.
		wantPage(t, off.post("/permits/"+id+"/actions", url.Values{oname: {otok}, "action": {"reject"}, "reason": {"Trễ"}}), 409,
			"Hồ sơ vừa được người khác thay đổi (xung đột)")
		wantPage(t, op.get("/permits?state=approved"), 200, number, "Đã cấp phép")
		// The department sees it too, without the decision forms.
		aud, _, _ := permitsSignedIn(t, f.a, "auditor")
		r = aud.get("/permits/" + id)
		wantPage(t, r, 200, number, "123/GP-UBND")
		if strings.Contains(r.body, `name="permit_no"`) {
			t.Fatal("the auditor is offered the officer's decision")
		}
	})
}

func permitsToday(t *testing.T, f permitsFixture) struct{ Year int } {
	t.Helper()
	return struct{ Year int }{f.a.srv.settings.Today().Year}
}

// TestPagePermitsReturnResubmitAttach: the officer returns the
// application; the applicant attaches a document and resubmits it with its
// justification kept; the proposed number is assigned without one given.
func TestPagePermitsReturnResubmitAttach(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := permitsSetup(t, db)
		op, name, tok := permitsSignedIn(t, f.a, "operator")
		id := permitsFile(t, f, op, name, tok)
		off, oname, otok := permitsSignedIn(t, f.a, "officer")
		wantRedirect(t, off.post("/permits/"+id+"/actions", url.Values{oname: {otok}, "action": {"return"},
			"reason": {"Thiếu bản vẽ thiết kế"}}), "/permits/"+id)

		page := op.get("/permits/" + id)
		wantPage(t, page, 200, "Trả lại để bổ sung", "Thiếu bản vẽ thiết kế", "tạm dừng", "Nộp lại hồ sơ", `value="resubmit"`,
			`<option value="coverage" selected>`)

		// Upload: a PDF is taken, anything else is not.
		upload := func(p *pageClient, csrfName, csrf, filename string, content []byte) pageResp {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			_ = mw.WriteField(csrfName, csrf)
			fw, _ := mw.CreateFormFile("file", filename)
			_, _ = fw.Write(content)
			_ = mw.Close()
			req, _ := http.NewRequest("POST", p.base+"/permits/"+id+"/attachments", &body)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			return p.do(req)
		}
		pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
		wantPage(t, upload(op, name, tok, "ghi-chu.txt", []byte("not a pdf")), 422, "Chọn một tệp PDF, PNG hoặc JPEG.")
		wantRedirect(t, upload(op, name, tok, "ban-ve.pdf", pdf), "/permits/"+id+"#attachments")
		wantPage(t, op.get("/permits/"+id), 200, "ban-ve.pdf", "/api/v1/permits/"+id+"/attachments/", "Đính kèm tài liệu")
		// Only the applicant uploads.
		wantPage(t, upload(off, oname, otok, "x.pdf", pdf), 403)
		if n := len(permitsAPIGet(t, f.a, "operator", id).Attachments); n != 1 {
			t.Fatalf("%d attachments", n)
		}

		// Resubmit with the form's justification: back in the queue.
		tower := fmt.Sprint(f.towerID)
		wantRedirect(t, op.post("/permits/"+id+"/actions", url.Values{name: {tok}, "action": {"resubmit"},
			"j_reason_" + tower: {"structural"}, "j_text_" + tower: {"Cột không chịu thêm tải"}, "reason": {"Đã bổ sung bản vẽ"}}), "/permits/"+id)
		p := permitsAPIGet(t, f.a, "operator", id)
		if p.State != permits.StateSubmitted || len(p.Justifications) != 1 || p.Justifications[0].ReasonCode != "structural" {
			t.Fatalf("after resubmission: %s %+v", p.State, p.Justifications)
		}
		wantPage(t, op.get("/permits/"+id), 200, "Nộp lại", "Kết cấu không chịu được tải")

		// Approve without a number: the proposed one.
		wantRedirect(t, off.post("/permits/"+id+"/actions", url.Values{oname: {otok}, "action": {"approve"}}), "/permits/"+id)
		p = permitsAPIGet(t, f.a, "officer", id)
		if want := fmt.Sprintf("UBND-NK-%d-0001", permitsToday(t, f).Year); p.State != permits.StateApproved || p.PermitNo != want {
			t.Fatalf("approved %s with %q, want %s", p.State, p.PermitNo, want)
		}

		// Withdrawal after the decision: 409 on the page.
		wantPage(t, op.post("/permits/"+id+"/actions", url.Values{name: {tok}, "action": {"withdraw"}}), 409, "xung đột")
	})
}

// TestPagePermitsBTSLog: an operator logs a station on its own tower
// (own_existing) and sees it; a station on another's tower without an
// allocation is refused inline; only the department reclassifies.
func TestPagePermitsBTSLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := permitsSetup(t, db)
		op, name, tok := permitsSignedIn(t, f.a, "operator")
		wantPage(t, op.get("/bts/new"), 200, "<h1>Ghi nhận trạm BTS mới</h1>", `<label for="b-station">`, `<label for="b-tech-5G"`,
			`<label for="b-asset">`, `<label for="b-onair">`)

		form := url.Values{name: {tok}, "station_code": {"CTO-NK-5G-001"}, "technologies": {"4G", "5G"}, "on_air_on": {"2025-03-10"},
			"mounted_on_asset_id": {fmt.Sprint(f.vnptTower)}}
		r := op.post("/bts/new", form)
		m := regexp.MustCompile(`^/bts/(\d+)$`).FindStringSubmatch(r.header.Get("Location"))
		if r.status != http.StatusSeeOther || m == nil {
			t.Fatalf("log: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
		}
		id := m[1]
		wantPage(t, op.get("/bts/"+id), 200, "CTO-NK-5G-001", "4G, 5G", "10/03/2025", "Hạ tầng sẵn có của doanh nghiệp",
			"Công trình có sẵn của doanh nghiệp hoặc cùng tập đoàn.", "VNPT-NK-0301")
		list := op.get("/bts")
		wantPage(t, list, 200, "<h1>Nhật ký trạm BTS</h1>", "CTO-NK-5G-001", "Hạ tầng sẵn có của doanh nghiệp", "Ghi nhận trạm mới")
		wantPage(t, op.get("/bts?year=2025&classification=own_existing"), 200, "CTO-NK-5G-001")
		if strings.Contains(op.get("/bts?year=2024").body, "CTO-NK-5G-001") || strings.Contains(op.get("/bts?classification=shared").body, "CTO-NK-5G-001") {
			t.Fatal("the filters let the station through")
		}
		wantPage(t, op.get("/bts?year=abc"), 422, "Bộ lọc không hợp lệ")
		// The same code again: 409 inline.
		wantPage(t, op.post("/bts/new", form), 409, "Doanh nghiệp đã ghi nhận mã trạm này.", `value="CTO-NK-5G-001"`)
		// On Viettel's tower without an allocation: the service's 422 inline.
		shared := url.Values{name: {tok}, "station_code": {"CTO-NK-4G-002"}, "technologies": {"4G"}, "on_air_on": {"2025-04-01"},
			"mounted_on_asset_id": {fmt.Sprint(f.towerID)}}
		wantPage(t, op.post("/bts/new", shared), 422, "cần phân bổ đang hiệu lực", `value="CTO-NK-4G-002"`, `<input id="b-tech-4G" type="checkbox" name="technologies" value="4G" checked>`)
		// Neither structure nor technology: inline.
		wantPage(t, op.post("/bts/new", url.Values{name: {tok}, "station_code": {"X"}, "on_air_on": {"2025-04-01"}}), 422, "Chọn ít nhất một công nghệ.")

		// Another operator does not see it; the department does.
		vt, _, _ := permitsSignedIn(t, f.a, "operator2")
		wantPage(t, vt.get("/bts/"+id), 404)
		if strings.Contains(vt.get("/bts").body, "CTO-NK-5G-001") {
			t.Fatal("another operator's log lists the station")
		}
		// Only the department reclassifies.
		if strings.Contains(op.get("/bts/"+id).body, "/reclassify") {
			t.Fatal("the operator is offered to reclassify")
		}
		wantPage(t, op.post("/bts/"+id+"/reclassify", url.Values{name: {tok}, "classification": {"shared"}, "reason": {"x"}}), 403)
		aud, aname, atok := permitsSignedIn(t, f.a, "auditor")
		wantPage(t, aud.get("/bts"), 200, "CTO-NK-5G-001", "VNPT")
		wantPage(t, aud.get("/bts/"+id), 200, "Phân loại lại (Sở)", `action="/bts/`+id+`/reclassify"`)
		wantPage(t, aud.post("/bts/"+id+"/reclassify", url.Values{aname: {atok}, "classification": {"shared"}, "reason": {""}}), 422,
			"Cần nêu lý do phân loại lại.")
		wantRedirect(t, aud.post("/bts/"+id+"/reclassify", url.Values{aname: {atok}, "classification": {"new_structure"},
			"reason": {"Cột được thay mới năm 2025"}}), "/bts/"+id)
		var dep permits.DeploymentView
		f.a.mustJSON(f.a.call("GET", "/api/v1/bts/"+id, f.a.token("operator"), nil), 200, &dep)
		if dep.Classification != permits.ClassNewStructure || !dep.Reclassified {
			t.Fatalf("after reclassifying: %+v", dep)
		}
		wantPage(t, op.get("/bts/"+id), 200, "Xây dựng mới", "đã phân loại lại")
		// Officers and the department do not log stations.
		wantPage(t, aud.get("/bts/new"), 403)
		wantPage(t, aud.post("/bts/new", url.Values{aname: {atok}}), 403)
		op.get("/?lang=en")
		wantPage(t, op.get("/bts"), 200, "BTS log", "New structure")
	})
}

// TestPagePermitsCatalogueKeys: the keys the permit pages build at run
// time exist in both languages.
func TestPagePermitsCatalogueKeys(t *testing.T) {
	var keys []string
	for _, st := range permitStates {
		keys = append(keys, "permits.state."+st)
	}
	for _, r := range permits.JustificationReasons {
		keys = append(keys, "permits.reason."+r)
	}
	for _, c := range btsClassifications {
		keys = append(keys, "permits.bts.class."+c)
	}
	for _, a := range []string{"submit", "return", "resubmit", "approve", "reject", "withdraw", "attach"} {
		keys = append(keys, "permits.action.permit."+a)
	}
	for _, field := range []string{"station_code", "technologies", "on_air_on", "mounted_on_asset_id", "permit_id", "colocation_request_id",
		"location", "unit_code", "classification", "reason"} {
		keys = append(keys, "permits.bts.err."+field)
	}
	for _, k := range []string{"permits.bts.rule.permit", "permits.bts.rule.shared", "permits.bts.rule.window", "permits.bts.rule.own"} {
		keys = append(keys, k)
	}
	for _, key := range permitsFieldMessages {
		keys = append(keys, key)
	}
	for _, lang := range []string{langVI, langEN} {
		for _, k := range keys {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}

// TestPagePermitsRefusalCitesRequest: the form offers VNPT's rejected
// request on the tower, and a refusal citing it is accepted.
func TestPagePermitsRefusalCitesRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := permitsSetup(t, db)
		var req struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
		}
		f.a.mustJSON(f.a.call("POST", "/api/v1/colocation-requests", f.a.token("operator"), requestBody(f.towerID)), 201, &req)
		f.a.mustJSON(f.a.call("POST", fmt.Sprintf("/api/v1/colocation-requests/%d/actions", req.ID), f.a.token("operator2"),
			map[string]any{"action": "reject", "reason_code": "no_capacity", "reason": "Cột đã kín vị trí"}), 200, nil)

		op, name, tok := permitsSignedIn(t, f.a, "operator")
		tower := fmt.Sprint(f.towerID)
		wantPage(t, op.post("/permits/check", permitsApplication(name, tok)), 200,
			fmt.Sprintf(`<option value="%d">%s – Bị từ chối</option>`, req.ID, req.Number))
		form := permitsApplication(name, tok)
		form.Set("j_reason_"+tower, "refused")
		form.Set("j_text_"+tower, "Viettel từ chối cho thuê vị trí")
		form.Set("j_request_"+tower, "999999")
		wantPage(t, op.post("/permits/new", form), 422, "Không có yêu cầu dùng chung này.")
		form.Set("j_request_"+tower, fmt.Sprint(req.ID))
		r := op.post("/permits/new", form)
		m := permitsIDPath.FindStringSubmatch(r.header.Get("Location"))
		if r.status != http.StatusSeeOther || m == nil {
			t.Fatalf("file: %d\n%s", r.status, r.body)
		}
		p := permitsAPIGet(t, f.a, "operator", m[1])
		if len(p.Justifications) != 1 || p.Justifications[0].ColocationRequestID == nil || *p.Justifications[0].ColocationRequestID != req.ID {
			t.Fatalf("justifications %+v", p.Justifications)
		}
		wantPage(t, op.get("/permits/"+m[1]), 200, "Chủ sở hữu từ chối cho thuê", fmt.Sprintf(`href="/colocation/%d"`, req.ID))
	})
}
