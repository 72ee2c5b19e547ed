package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/registry"
)

// colocationReq is a request as the JSON API answers it.
type colocationReq struct {
	ID           int64  `json:"id"`
	Number       string `json:"number"`
	State        string `json:"state"`
	OfferRentVND *int64 `json:"offer_rent_vnd"`
	Conditions   string `json:"conditions"`
	Items        []struct {
		AssetID int64 `json:"asset_id"`
		Units   int   `json:"units"`
	} `json:"items"`
	Comments []struct {
		Body string `json:"body"`
	} `json:"comments"`
}

// colocationTower registers a tower of the role's organisation.
func colocationTower(a *apiClient, role, code string, total int) int64 {
	a.t.Helper()
	var tower assetJSON
	a.mustJSON(a.call("POST", "/api/v1/assets", a.token(role), map[string]any{"code": code, "kind": "tower",
		"lat": 10.0342, "lon": 105.7851, "unit_code": "916", "address": "12 Hòa Bình, Ninh Kiều",
		"capacity": map[string]any{"total": total}}), 201, &tower)
	return tower.ID
}

// colocationFile files a request of the role for one unit of the asset.
func colocationFile(a *apiClient, role string, assetID int64) colocationReq {
	a.t.Helper()
	var r colocationReq
	a.mustJSON(a.call("POST", "/api/v1/colocation-requests", a.token(role), requestBody(assetID)), 201, &r)
	return r
}

// colocationAPIAct takes an action through the JSON API.
func colocationAPIAct(a *apiClient, role string, id int64, body map[string]any) {
	a.t.Helper()
	a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/colocation-requests/%d/actions", id), a.token(role), body), 200, nil)
}

// colocationGet reads a request as the auditor sees it.
func colocationGet(a *apiClient, id int64) colocationReq {
	a.t.Helper()
	var r colocationReq
	a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/colocation-requests/%d", id), a.token("auditor"), nil), 200, &r)
	return r
}

// colocationSignedIn is a page client signed in as the role.
func colocationSignedIn(t *testing.T, a *apiClient, role string) *pageClient {
	t.Helper()
	p := newPageClient(t, a)
	p.signIn(role)
	return p
}

// colocationPost posts a form from a page, with that page's CSRF token.
func colocationPost(p *pageClient, from, to string, form url.Values) pageResp {
	p.t.Helper()
	name, tok := csrfOf(p.t, p.get(from).body)
	form.Set(name, tok)
	return p.post(to, form)
}

var colocationActID = regexp.MustCompile(`id="act-([a-z_]+)"`)

// colocationOffered are the actions whose forms a detail page shows.
func colocationOffered(body string) []string {
	out := []string{}
	for _, m := range colocationActID.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

func TestPageColocationLists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnptTower := colocationTower(a, "operator", "CT-NK-0701", 3)
		mobiTower := colocationTower(a, "operator3", "MB-NK-0701", 3)
		in := colocationFile(a, "operator2", vnptTower) // Viettel → VNPT
		out := colocationFile(a, "operator", mobiTower) // VNPT → MobiFone
		colocationAPIAct(a, "operator3", out.ID, map[string]any{"action": "approve", "offer_rent_vnd": 30000000})

		vnpt := colocationSignedIn(t, a, "operator")
		r := vnpt.get("/colocation")
		wantPage(t, r, 200, "<h1>Yêu cầu thuê chung hạ tầng</h1>", "Yêu cầu gửi đi", "Yêu cầu nhận được", out.Number,
			"MB-NK-0701", "MobiFone", "Đã chấp thuận", "còn 30 ngày", `<label for="f-state">`, `<th scope="col">`)
		if strings.Contains(r.body, in.Number) {
			t.Fatal("the sent list shows a received request")
		}
		r = vnpt.get("/colocation?box=in")
		wantPage(t, r, 200, in.Number, "CT-NK-0701", "Viettel", "Đã gửi", "còn 15 ngày", `href="/colocation/`+fmt.Sprint(in.ID)+`"`)
		if strings.Contains(r.body, out.Number) {
			t.Fatal("the received list shows a sent request")
		}
		// The state filter, kept in the form.
		r = vnpt.get("/colocation?box=in&state=approved")
		wantPage(t, r, 200, "Không có yêu cầu nào.", `<option value="approved" selected>`)
		wantPage(t, vnpt.get("/colocation?box=in&state=bogus"), 422, "Bộ lọc không hợp lệ.")

		viettel := colocationSignedIn(t, a, "operator2")
		wantPage(t, viettel.get("/colocation?box=out"), 200, in.Number, "VNPT")
		if r := viettel.get("/colocation?box=in"); strings.Contains(r.body, in.Number) || strings.Contains(r.body, out.Number) {
			t.Fatal("Viettel's received list shows others' requests")
		}

		// The department sees all of them, and its own tabs.
		dept := colocationSignedIn(t, a, "auditor")
		r = dept.get("/colocation")
		wantPage(t, r, 200, "Tất cả yêu cầu", "Tranh chấp", "Quá hạn trả lời", in.Number, out.Number)
		if strings.Contains(r.body, "Yêu cầu gửi đi") {
			t.Fatal("the department has a sent list")
		}
		wantPage(t, dept.get("/colocation?box=disputed"), 200, "Không có yêu cầu nào.")

		// Paging by the list's cursor, the tab and filter kept.
		colocationFile(a, "operator3", vnptTower)
		r = vnpt.get("/colocation?box=in&limit=1")
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(r.body)
		if next == nil {
			t.Fatalf("no next link:\n%s", r.body)
		}
		nextURL := strings.ReplaceAll(next[1], "&amp;", "&")
		if !strings.Contains(nextURL, "box=in") || !strings.Contains(nextURL, "cursor=") {
			t.Fatalf("next link %q", nextURL)
		}
		wantPage(t, vnpt.get(nextURL), 200, in.Number, "« Trang đầu")

		// Officers have no requests.
		wantPage(t, colocationSignedIn(t, a, "officer").get("/colocation"), 403, "Không có quyền truy cập (403)")
		vnpt.get("/colocation?lang=en")
		wantPage(t, vnpt.get("/colocation?box=in"), 200, "Co-location requests", "Received requests", "15 days left", "Submitted")
	})
}

func TestPageColocationFile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		tower := colocationTower(a, "operator", "CT-NK-0801", 2)
		form := fmt.Sprintf("/colocation/new?asset=%d", tower)
		viettel := colocationSignedIn(t, a, "operator2")
		r := viettel.get(form)
		wantPage(t, r, 200, "<h1>Gửi yêu cầu thuê chung</h1>", "CT-NK-0801", "VNPT", "2 / 2", `<label for="units">`,
			`<label for="purpose">`, `<label for="ant_type">`, `<label for="cables">`, `<label for="description">`,
			`<label for="message">`, `action="/colocation/new"`, `/static/colocation.js?v=`)

		// The owner cannot ask for its own asset; other roles cannot file.
		owner := colocationSignedIn(t, a, "operator")
		r = owner.get(form)
		wantPage(t, r, 200, "Đây là hạ tầng của doanh nghiệp bạn")
		if strings.Contains(r.body, `action="/colocation/new"`) {
			t.Fatal("the owner is offered the form")
		}
		wantPage(t, colocationSignedIn(t, a, "auditor").get(form), 403)
		wantPage(t, viettel.get("/colocation/new?asset=999999"), 404)
		wantPage(t, viettel.get("/colocation/new"), 200, "Mở sổ hạ tầng")

		good := func() url.Values {
			return url.Values{"asset": {fmt.Sprint(tower)}, "units": {"1"}, "purpose": {"bts"}, "ant_type": {"RRU 4G"},
				"ant_count": {"3"}, "ant_height": {"36,5"}, "ant_azimuths": {"0, 120, 240"}, "ant_weight": {"25"},
				"ant_wind": {"0,45"}, "power_kw": {"4"}, "ground_m2": {"3"}, "desired_start": {"2026-09-01"},
				"message": {"Xin lắp 3 ăng-ten ở độ cao 36 m."}}
		}
		// Without the CSRF token: refused, nothing filed.
		wantPage(t, viettel.post("/colocation/new", good()), 403)

		// Bad input: the form again with each problem beside its field.
		bad := good()
		bad.Set("units", "0")
		r = colocationPost(viettel, form, "/colocation/new", bad)
		wantPage(t, r, 422, "Nhập số vị trí là số nguyên từ 1 đến 10.000.", `id="units-err"`, `value="36,5"`,
			"Xin lắp 3 ăng-ten ở độ cao 36 m.", `aria-invalid="true"`)
		bad = good()
		bad.Set("ant_type", "")
		bad.Set("ant_count", "0")
		r = colocationPost(viettel, form, "/colocation/new", bad)
		wantPage(t, r, 422, "Nhập loại ăng-ten", `id="ant_type-err"`, "Nhập số lượng ăng-ten từ 1 đến 100.", `id="ant_count-err"`)
		bad = good()
		bad.Set("ant_height", "cao")
		bad.Set("desired_start", "31/02/2026")
		r = colocationPost(viettel, form, "/colocation/new", bad)
		wantPage(t, r, 422, "Độ cao lắp đặt là số từ 0 đến 300 m.", "Nhập ngày theo dạng dd/mm/yyyy.", `value="cao"`)
		bad = good()
		bad.Set("purpose", "other")
		r = colocationPost(viettel, form, "/colocation/new", bad)
		wantPage(t, r, 422, "Mô tả nhu cầu (bắt buộc")
		bad = good()
		bad.Set("ant_azimuths", "0, 400")
		wantPage(t, colocationPost(viettel, form, "/colocation/new", bad), 422, "Góc phương vị là các số")

		// More units than are free: 409 with the free count.
		bad = good()
		bad.Set("units", "5")
		r = colocationPost(viettel, form, "/colocation/new", bad)
		wantPage(t, r, 409, "Hạ tầng chỉ còn 2 vị trí trống, ít hơn số bạn yêu cầu (5).")

		var none struct {
			Items []colocationReq `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/colocation-requests", a.token("operator2"), nil), 200, &none)
		if len(none.Items) != 0 {
			t.Fatalf("a refused form filed %d requests", len(none.Items))
		}

		// Filed: to the detail page, the message as the first comment.
		r = colocationPost(viettel, form, "/colocation/new", good())
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/colocation/") {
			t.Fatalf("file: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
		}
		var filed struct {
			Items []colocationReq `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/colocation-requests?box=out", a.token("operator2"), nil), 200, &filed)
		if len(filed.Items) != 1 {
			t.Fatalf("filed %d requests", len(filed.Items))
		}
		got := colocationGet(a, filed.Items[0].ID)
		if got.State != "submitted" || len(got.Items) != 1 || got.Items[0].AssetID != tower || got.Items[0].Units != 1 ||
			len(got.Comments) != 1 || got.Comments[0].Body != "Xin lắp 3 ăng-ten ở độ cao 36 m." {
			t.Fatalf("filed %+v", got)
		}
		wantRedirect(t, r, fmt.Sprintf("/colocation/%d", got.ID))
		r = viettel.get(r.header.Get("Location"))
		wantPage(t, r, 200, got.Number, "Đã gửi", "RRU 4G × 3", "36,5", "0°, 120°, 240°", "0,45", "01/09/2026",
			"Gửi yêu cầu", "Xin lắp 3 ăng-ten ở độ cao 36 m.", "còn 15 ngày")
	})
}

// Each side sees the forms of exactly the actions it may take in the
// request's state; others see none.
func TestPageColocationActionsPerSideAndState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		tower := colocationTower(a, "operator", "CT-NK-0901", 10)
		type step struct {
			role string
			body map[string]any
		}
		approve := step{"operator", map[string]any{"action": "approve", "offer_rent_vnd": 36000000}}
		accept := step{"operator2", map[string]any{"action": "accept"}}
		activate := step{"operator2", map[string]any{"action": "activate"}}
		reject := step{"operator", map[string]any{"action": "reject", "reason_code": "structural"}}
		states := []struct {
			state string
			steps []step
		}{
			{"submitted", nil},
			{"info_requested", []step{{"operator", map[string]any{"action": "request_info", "reason": "Bản vẽ"}}}},
			{"approved", []step{approve}},
			{"agreed", []step{approve, accept}},
			{"active", []step{approve, accept, activate}},
			{"rejected", []step{reject}},
			{"disputed", []step{reject, {"operator2", map[string]any{"action": "escalate", "reason": "Cột còn chỗ"}}}},
			{"withdrawn", []step{{"operator2", map[string]any{"action": "withdraw"}}}},
		}
		ids := map[string]int64{}
		for _, st := range states {
			r := colocationFile(a, "operator2", tower)
			for _, s := range st.steps {
				colocationAPIAct(a, s.role, r.ID, s.body)
			}
			if got := colocationGet(a, r.ID).State; got != st.state {
				t.Fatalf("set up %s: got %s", st.state, got)
			}
			ids[st.state] = r.ID
		}
		cases := []struct {
			state, role string
			want        []string
		}{
			{"submitted", "operator", []string{"approve", "reject", "request_info"}},
			{"submitted", "operator2", []string{"withdraw"}},
			{"submitted", "auditor", []string{}},
			{"submitted", "admin", []string{}},
			{"info_requested", "operator", []string{}},
			{"info_requested", "operator2", []string{"answer_info", "withdraw"}},
			{"approved", "operator", []string{}},
			{"approved", "operator2", []string{"accept", "escalate", "withdraw"}},
			{"agreed", "operator2", []string{"activate"}},
			{"agreed", "operator", []string{}},
			{"active", "operator", []string{"terminate"}},
			{"active", "operator2", []string{"terminate"}},
			{"rejected", "operator2", []string{"escalate"}},
			{"rejected", "operator", []string{}},
			{"disputed", "auditor", []string{"resolve"}},
			{"disputed", "operator", []string{}},
			{"disputed", "operator2", []string{}},
			{"withdrawn", "operator2", []string{}},
		}
		clients := map[string]*pageClient{}
		for _, c := range cases {
			p, ok := clients[c.role]
			if !ok {
				p = colocationSignedIn(t, a, c.role)
				clients[c.role] = p
			}
			r := p.get(fmt.Sprintf("/colocation/%d", ids[c.state]))
			wantPage(t, r, 200, "Diễn biến")
			if got := colocationOffered(r.body); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("%s as %s: offered %v, want %v", c.state, c.role, got, c.want)
			}
		}
		// The forms of a state carry what the action needs.
		wantPage(t, clients["operator"].get(fmt.Sprintf("/colocation/%d", ids["submitted"])), 200,
			`<label for="approve-rent">`, `<label for="approve-conditions">`, `<label for="reject-code">`,
			`<option value="planned_own_use">`, `<label for="request_info-reason">`)
		wantPage(t, clients["auditor"].get(fmt.Sprintf("/colocation/%d", ids["disputed"])), 200,
			`<label for="resolve-decision">`, `<option value="order_sharing"`, "khiếu nại việc từ chối", "Không đảm bảo kết cấu")
	})
}

func TestPageColocationActionPosts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		tower := colocationTower(a, "operator", "CT-NK-1001", 1)
		req := colocationFile(a, "operator2", tower)
		rival := colocationFile(a, "operator3", tower)
		detail := fmt.Sprintf("/colocation/%d", req.ID)
		acts := detail + "/actions"
		owner := colocationSignedIn(t, a, "operator")
		requester := colocationSignedIn(t, a, "operator2")

		// Without the CSRF token: refused, and the request unchanged.
		wantPage(t, owner.post(acts, url.Values{"action": {"approve"}}), 403)
		if got := colocationGet(a, req.ID).State; got != "submitted" {
			t.Fatalf("a CSRF-less post changed the state to %s", got)
		}
		// A bad form comes back beside its fields.
		r := colocationPost(owner, detail, acts, url.Values{"action": {"reject"}, "reason_code": {"other"}, "reason": {""}})
		wantPage(t, r, 422, "Hãy nhập nội dung này.", `id="reject-reason-err"`)
		r = colocationPost(owner, detail, acts, url.Values{"action": {"approve"}, "offer_rent_vnd": {"ba mươi triệu"}})
		wantPage(t, r, 422, "Giá thuê là số tiền bằng chữ số", `value="ba mươi triệu"`)
		// The wrong side may not act.
		wantPage(t, colocationPost(requester, detail, acts, url.Values{"action": {"approve"}}), 403)

		// Approve with rent and conditions: through the service, back to the page.
		r = colocationPost(owner, detail, acts, url.Values{"action": {"approve"}, "offer_rent_vnd": {"42.000.000"},
			"conditions": {"Lắp đặt trong 60 ngày"}})
		wantRedirect(t, r, detail)
		got := colocationGet(a, req.ID)
		if got.State != "approved" || got.OfferRentVND == nil || *got.OfferRentVND != 42000000 || got.Conditions != "Lắp đặt trong 60 ngày" {
			t.Fatalf("after approval %+v", got)
		}
		wantPage(t, requester.get(detail), 200, "Đã chấp thuận", "42.000.000 ₫", "Lắp đặt trong 60 ngày", "còn 30 ngày",
			`id="act-accept"`)

		// The state moved on meanwhile: a clear 409 with the page as it is now.
		r = colocationPost(owner, detail, acts, url.Values{"action": {"request_info"}, "reason": {"Bản vẽ"}})
		wantPage(t, r, 409, "Yêu cầu vừa được thay đổi", "Đã chấp thuận")
		// The room is gone: the rival cannot be approved.
		rivalPage := fmt.Sprintf("/colocation/%d", rival.ID)
		r = colocationPost(owner, rivalPage, rivalPage+"/actions", url.Values{"action": {"approve"}})
		wantPage(t, r, 409, "Không đủ chỗ trống: hạ tầng chỉ còn 0 vị trí trống.")
		if got := colocationGet(a, rival.ID).State; got != "submitted" {
			t.Fatalf("rival %s", got)
		}

		wantRedirect(t, colocationPost(requester, detail, acts, url.Values{"action": {"accept"}}), detail)
		if got := colocationGet(a, req.ID).State; got != "agreed" {
			t.Fatalf("after acceptance: %s", got)
		}
		r = requester.get(detail)
		wantPage(t, r, 200, "Đã thỏa thuận", "Chấp nhận điều kiện", `id="act-activate"`)
		if n := strings.Count(r.body, `<li class="colo-event">`); n != 3 {
			t.Fatalf("timeline has %d events, want 3 (submit, approve, accept)", n)
		}
		if !regexp.MustCompile(`<time datetime="[^"]+">\d\d/\d\d/\d{4} \d\d:\d\d</time>`).MatchString(r.body) {
			t.Fatal("timeline times are not dd/mm/yyyy HH:MM")
		}

		// Comments: empty refused beside the field, then posted.
		comments := detail + "/comments"
		wantPage(t, colocationPost(owner, detail, comments, url.Values{"body": {"  "}}), 422, "Nhập nội dung trao đổi")
		wantRedirect(t, colocationPost(owner, detail, comments, url.Values{"body": {"Hẹn khảo sát thứ Hai"}}), detail)
		wantPage(t, requester.get(detail), 200, "Hẹn khảo sát thứ Hai", "bình luận")

		// A third operator knows nothing of it.
		third := colocationSignedIn(t, a, "operator3")
		wantPage(t, third.get(detail), 404, "Không tìm thấy (404)")
		wantPage(t, colocationPost(third, "/colocation", acts, url.Values{"action": {"withdraw"}}), 404)
		wantPage(t, colocationPost(third, "/colocation", comments, url.Values{"body": {"xin chào"}}), 404)
		wantPage(t, third.get("/colocation/abc"), 404)
		if got := colocationGet(a, req.ID).State; got != "agreed" {
			t.Fatalf("the third operator changed the state to %s", got)
		}
		wantPage(t, requester.get(detail+"?lang=en"), 200, "Timeline", "Your actions", "Start using", "42.000.000 ₫",
			"Accepted the terms")
	})
}

func TestColocationCountdown(t *testing.T) {
	vi, en := localizer{lang: langVI}, localizer{lang: langEN}
	// 10:00 in Vietnam on 10 March 2026.
	now := time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		deadline time.Time
		vi, en   string
		late     bool
	}{
		{now.Add(3 * 24 * time.Hour), "còn 3 ngày", "3 days left", false},
		{now.Add(2 * time.Hour), "hết hạn hôm nay", "due today", false},
		// 23:30 tonight in Vietnam is still today; 00:30 is tomorrow.
		{time.Date(2026, 3, 10, 16, 30, 0, 0, time.UTC), "hết hạn hôm nay", "due today", false},
		{time.Date(2026, 3, 10, 17, 30, 0, 0, time.UTC), "còn 1 ngày", "1 day left", false},
		{now.Add(-time.Hour), "quá hạn từ hôm nay", "passed today", true},
		{now.Add(-2 * 24 * time.Hour), "quá hạn 2 ngày", "2 days overdue", true},
	}
	for _, c := range cases {
		if got, late := colocationCountdown(vi, c.deadline, now); got != c.vi || late != c.late {
			t.Errorf("%v: %q %v, want %q %v", c.deadline, got, late, c.vi, c.late)
		}
		if got, _ := colocationCountdown(en, c.deadline, now); got != c.en {
			t.Errorf("%v: %q, want %q", c.deadline, got, c.en)
		}
	}
	// The clock of a request follows its state.
	r := registry.RequestView{State: registry.StateInfoRequested, ReplyDeadline: now.Add(-time.Hour)}
	if ck := colocationClockOf(vi, r, now); !ck.Paused || ck.Late || ck.Countdown != "tạm dừng chờ bổ sung thông tin" {
		t.Errorf("info requested: %+v", ck)
	}
	r = registry.RequestView{State: registry.StateOverdue, ReplyDeadline: now.Add(-3 * 24 * time.Hour)}
	if ck := colocationClockOf(vi, r, now); !ck.Late || ck.Countdown != "quá hạn 3 ngày" {
		t.Errorf("overdue: %+v", ck)
	}
	if ck := colocationClockOf(vi, registry.RequestView{State: registry.StateActive}, now); ck.LabelKey != "" {
		t.Errorf("active: %+v", ck)
	}
}

// The keys the co-location pages build at run time exist in both
// languages.
func TestCatalogueColocationKeys(t *testing.T) {
	var keys []string
	for _, st := range colocationStates {
		keys = append(keys, "reqstate."+st)
	}
	for _, p := range []string{"bts", "fiber", "other"} {
		keys = append(keys, "colocation.purpose."+p)
	}
	for _, b := range []string{"out", "in", "all", "disputed", "overdue"} {
		keys = append(keys, "colocation.tab."+b)
	}
	for _, act := range []string{"approve", "request_info", "reject", "answer_info", "accept", "activate", "escalate",
		"resolve", "withdraw", "terminate"} {
		keys = append(keys, "colocation.action."+act, "colocation.action."+act+".help", "colocation.event."+act)
	}
	keys = append(keys, "colocation.event.submit", "colocation.event.overdue", "colocation.event.expired")
	for _, why := range []string{"reject", "escalate", "resolve", "request_info", "answer_info"} {
		keys = append(keys, "colocation.why."+why)
	}
	for _, code := range registry.RejectReasons {
		keys = append(keys, "colocation.reason."+code)
	}
	for _, k := range []string{"rejection", "overdue", "terms"} {
		keys = append(keys, "colocation.dispute."+k)
	}
	for _, u := range []string{"tenant_slot", "tube", "cable_slot"} {
		keys = append(keys, "colocation.unit."+u)
	}
	for _, f := range colocationFormFields {
		if f != "alert" {
			keys = append(keys, "colocation.err."+f)
		}
	}
	for _, name := range []string{"ant_type", "ant_count", "ant_height", "ant_azimuths", "ant_weight", "ant_wind", "power_kw",
		"ground_m2", "cables", "cable_diameter", "tubes"} {
		keys = append(keys, "colocation.tech."+name, "colocation.err."+name)
	}
	for _, k := range []string{"reason", "reason_code", "decision", "conditions", "offer_rent_vnd", "message"} {
		keys = append(keys, "colocation.err."+k)
	}
	for _, k := range keys {
		for _, lang := range []string{langVI, langEN} {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s: no %q", lang, k)
			}
		}
	}
}
