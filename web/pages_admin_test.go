package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/permits"
	"infrashare/registry"
)

// adminPgPost posts a form with the CSRF token of the page at from.
func adminPgPost(p *pageClient, from, path string, form url.Values) pageResp {
	p.t.Helper()
	name, tok := csrfOf(p.t, p.get(from).body)
	form.Set(name, tok)
	return p.post(path, form)
}

// adminPgUpload posts a multipart form with one file, with the CSRF token
// of the page at from.
func adminPgUpload(p *pageClient, from, path string, fields map[string]string, file string, content []byte) pageResp {
	p.t.Helper()
	name, tok := csrfOf(p.t, p.get(from).body)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField(name, tok)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != "" {
		fw, err := w.CreateFormFile("file", file)
		if err != nil {
			p.t.Fatal(err)
		}
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, err := http.NewRequest("POST", p.base+path, &body)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return p.do(req)
}

// adminPgSignIn signs email in through the form with password and answers
// the form's response.
func adminPgSignIn(p *pageClient, email, password string) pageResp {
	p.t.Helper()
	name, tok := csrfOf(p.t, p.get("/login").body)
	return p.post("/login", url.Values{name: {tok}, "email": {email}, "password": {password}})
}

// adminPgUserID finds a user by e-mail through the service, 0 when none.
func adminPgUserID(t *testing.T, a *apiClient, email string) int64 {
	t.Helper()
	users, _, err := a.srv.auth.ListUsers(dbtest.Context(t), auth.SystemActor, auth.UserFilter{Q: email})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Email == email {
			return u.ID
		}
	}
	return 0
}

// Every admin page is for admins: other roles get the 403 page, on reads
// and on posts, and a signed-out reader is sent to the sign-in form.
func TestPageAdminPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		opID := adminPgUserID(t, a, demoLogins["operator"])
		var org struct{ ID int64 }
		if err := db.Root().Table("organizations").Where("code = ?", "VNPT").Select("id").Scan(&org).Error; err != nil {
			t.Fatal(err)
		}
		pages := []string{"/admin/", "/admin/users", fmt.Sprintf("/admin/users/%d", opID), "/admin/organizations",
			fmt.Sprintf("/admin/organizations/%d", org.ID), "/admin/units", "/admin/targets", "/admin/settings", "/admin/holidays?year=2025"}
		anon := newPageClient(t, a)
		for _, path := range pages {
			wantRedirect(t, anon.get(path), "/login")
		}
		admin := newPageClient(t, a)
		admin.signIn("admin")
		for _, path := range pages {
			wantPage(t, admin.get(path), 200, "Đăng xuất", `href="/admin/"`)
		}
		wantPage(t, admin.get("/admin/"), 200, `href="/admin/users"`, `href="/admin/organizations"`, `href="/admin/units"`,
			`href="/admin/targets"`, `href="/admin/settings"`, `href="/admin/holidays"`)
		wantPage(t, admin.get("/admin/users/999999"), 404, "Không tìm thấy (404)")
		wantPage(t, admin.get("/admin/organizations/abc"), 404)

		for _, role := range []string{"operator", "officer", "auditor"} {
			p := newPageClient(t, a)
			p.signIn(role)
			for _, path := range pages {
				wantPage(t, p.get(path), 403, "Không có quyền truy cập (403)")
			}
			// A post of a role that may not: 403, and nothing changes.
			r := adminPgPost(p, "/", "/admin/users", url.Values{"email": {"sneaky@example.vn"}, "organization": {"VNPT"},
				"roles": {"operator"}, "password": {"long-enough-pw"}})
			wantPage(t, r, 403, "Không có quyền truy cập (403)")
			wantPage(t, adminPgPost(p, "/", fmt.Sprintf("/admin/users/%d/disabled", opID), url.Values{"disabled": {"true"}}), 403)
			wantPage(t, adminPgPost(p, "/", "/admin/holidays/add", url.Values{"day": {"2030-09-03"}, "name": {"x"}}), 403)
		}
		if adminPgUserID(t, a, "sneaky@example.vn") != 0 {
			t.Fatal("an operator created a user")
		}
		if u, _ := a.srv.auth.GetUser(dbtest.Context(t), auth.SystemActor, opID); u.Disabled {
			t.Fatal("an operator disabled a user")
		}
		// Without the CSRF token even an admin's post is refused.
		r := admin.post("/admin/users", url.Values{"email": {"nocsrf@example.vn"}, "organization": {"VNPT"},
			"roles": {"operator"}, "password": {"long-enough-pw"}})
		wantPage(t, r, 403, "403")
		if adminPgUserID(t, a, "nocsrf@example.vn") != 0 {
			t.Fatal("a post without the CSRF token created a user")
		}
	})
}

func TestPageAdminUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		p := newPageClient(t, a)
		p.signIn("admin")
		wantPage(t, p.get("/admin/users"), 200, "<h1>Người dùng</h1>", demoLogins["operator"], demoLogins["officer"],
			`<label for="u-email">`, `<label for="u-org">`, `<label for="u-password">`, `<label for="f-role">`, `<label for="f-disabled">`)

		// A bad e-mail: 422, the message by the field, the values kept, and
		// no user.
		bad := url.Values{"email": {"not-an-address"}, "name": {"Nguyễn Văn A"}, "organization": {"VNPT"},
			"roles": {"operator"}, "password": {"mat-khau-dai-1"}}
		r := adminPgPost(p, "/admin/users", "/admin/users", bad)
		wantPage(t, r, 422, "Chưa lưu được: hãy sửa các ô được đánh dấu.", `id="u-email-err"`, "Phải là một địa chỉ thư điện tử hợp lệ.",
			`value="not-an-address"`, `value="Nguyễn Văn A"`, `<option value="VNPT" selected>`, `value="operator" id="u-role-operator" checked`)
		if strings.Contains(r.body, "mat-khau-dai-1") {
			t.Fatal("the password is sent back")
		}
		if adminPgUserID(t, a, "not-an-address") != 0 {
			t.Fatal("a user with a bad e-mail was created")
		}
		// A role that does not fit the organisation, a short password: 422 inline.
		r = adminPgPost(p, "/admin/users", "/admin/users", url.Values{"email": {"a@vnpt.vn"}, "organization": {"VNPT"},
			"roles": {"officer"}, "password": {"mat-khau-dai-1"}})
		wantPage(t, r, 422, `id="u-roles-err"`, "role officer does not fit")
		r = adminPgPost(p, "/admin/users", "/admin/users", url.Values{"email": {"a@vnpt.vn"}, "organization": {"VNPT"},
			"roles": {"operator"}, "password": {"short"}})
		wantPage(t, r, 422, `id="u-password-err"`, "Mật khẩu phải có ít nhất 10 ký tự.")

		// Created: to the user's page, and the user can sign in.
		good := url.Values{"email": {"Lan.Nguyen@VNPT.vn"}, "name": {"Nguyễn Thị Lan"}, "organization": {"VNPT"},
			"roles": {"operator"}, "password": {"mat-khau-dai-1"}}
		r = adminPgPost(p, "/admin/users", "/admin/users", good)
		id := adminPgUserID(t, a, "lan.nguyen@vnpt.vn")
		if id == 0 {
			t.Fatalf("no user created: %d %s", r.status, r.body)
		}
		wantRedirect(t, r, fmt.Sprintf("/admin/users/%d?done=created", id))
		wantPage(t, p.get(r.header.Get("Location")), 200, "Đã tạo.", "lan.nguyen@vnpt.vn", "Nguyễn Thị Lan", "VNPT Cần Thơ", "Doanh nghiệp viễn thông")
		lan := newPageClient(t, a)
		wantRedirect(t, adminPgSignIn(lan, "lan.nguyen@vnpt.vn", "mat-khau-dai-1"), "/")
		wantPage(t, lan.get("/"), 200, "lan.nguyen@vnpt.vn")

		// The same address again: 409 with a clear message.
		r = adminPgPost(p, "/admin/users", "/admin/users", good)
		wantPage(t, r, 409, "Đã có người dùng với địa chỉ thư điện tử này.", "(409)")

		// Filters.
		r = p.get("/admin/users?organization=VNPT&role=operator")
		wantPage(t, r, 200, "lan.nguyen@vnpt.vn", demoLogins["operator"], `<option value="VNPT" selected>`)
		if strings.Contains(r.body, demoLogins["operator2"]) || strings.Contains(r.body, demoLogins["admin"]+"</a>") {
			t.Fatal("the organisation filter lets others through")
		}
		r = p.get("/admin/users?role=officer")
		wantPage(t, r, 200, demoLogins["officer"])
		if strings.Contains(r.body, "lan.nguyen@vnpt.vn") {
			t.Fatal("the role filter lets an operator through")
		}

		// Disabled: the user is signed out at once and cannot sign in.
		wantRedirect(t, adminPgPost(p, fmt.Sprintf("/admin/users/%d", id), fmt.Sprintf("/admin/users/%d/disabled", id),
			url.Values{"disabled": {"true"}}), fmt.Sprintf("/admin/users/%d?done=saved", id))
		if u, _ := a.srv.auth.GetUser(dbtest.Context(t), auth.SystemActor, id); !u.Disabled {
			t.Fatal("not disabled")
		}
		wantRedirect(t, lan.get("/"), "/login")
		wantPage(t, adminPgSignIn(newPageClient(t, a), "lan.nguyen@vnpt.vn", "mat-khau-dai-1"), 401)
		r = p.get("/admin/users?disabled=true")
		wantPage(t, r, 200, "lan.nguyen@vnpt.vn", "Đã khóa")
		if strings.Contains(r.body, demoLogins["operator"]) {
			t.Fatal("the disabled filter shows an active user")
		}
		if r = p.get("/admin/users?disabled=false"); strings.Contains(r.body, "lan.nguyen@vnpt.vn") {
			t.Fatal("the active filter shows a disabled user")
		}
		wantPage(t, p.get(fmt.Sprintf("/admin/users/%d", id)), 200, "Mở khóa tài khoản")
		// Enabled again, with a new password.
		wantRedirect(t, adminPgPost(p, fmt.Sprintf("/admin/users/%d", id), fmt.Sprintf("/admin/users/%d/disabled", id),
			url.Values{"disabled": {"false"}}), fmt.Sprintf("/admin/users/%d?done=saved", id))
		wantPage(t, adminPgPost(p, fmt.Sprintf("/admin/users/%d", id), fmt.Sprintf("/admin/users/%d/password", id),
			url.Values{"password": {"ngan"}}), 422, "Mật khẩu phải có ít nhất 10 ký tự.")
		wantRedirect(t, adminPgPost(p, fmt.Sprintf("/admin/users/%d", id), fmt.Sprintf("/admin/users/%d/password", id),
			url.Values{"password": {"mat-khau-moi-2"}}), fmt.Sprintf("/admin/users/%d?done=saved", id))
		wantPage(t, adminPgSignIn(newPageClient(t, a), "lan.nguyen@vnpt.vn", "mat-khau-dai-1"), 401)
		wantRedirect(t, adminPgSignIn(newPageClient(t, a), "lan.nguyen@vnpt.vn", "mat-khau-moi-2"), "/")

		// Roles: the auditor becomes an admin too; none ticked is refused.
		audID := adminPgUserID(t, a, demoLogins["auditor"])
		path := fmt.Sprintf("/admin/users/%d", audID)
		wantRedirect(t, adminPgPost(p, path, path, url.Values{"name": {"Kiểm tra viên"}, "roles": {"auditor", "admin"}}), path+"?done=saved")
		u, _ := a.srv.auth.GetUser(dbtest.Context(t), auth.SystemActor, audID)
		if strings.Join(u.Roles, ",") != "admin,auditor" || u.Name != "Kiểm tra viên" {
			t.Fatalf("roles %v, name %q", u.Roles, u.Name)
		}
		wantPage(t, adminPgPost(p, path, path, url.Values{"name": {"Kiểm tra viên"}}), 422, `id="u-roles-err"`, "Chọn ít nhất một vai trò.")
		// An admin cannot disable themself: the page does not offer it, the
		// service refuses it.
		self := fmt.Sprintf("/admin/users/%d", adminPgUserID(t, a, demoLogins["admin"]))
		wantPage(t, p.get(self), 200, "Bạn không thể tự khóa tài khoản của mình.")
		wantPage(t, adminPgPost(p, self, self+"/disabled", url.Values{"disabled": {"true"}}), 422, "you cannot disable yourself")

		// In English.
		p.get("/admin/users?lang=en")
		wantPage(t, p.get("/admin/users"), 200, "<h1>Users</h1>", "New user", "Initial password")
	})
}

func TestPageAdminOrganizations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		p := newPageClient(t, a)
		p.signIn("admin")
		wantPage(t, p.get("/admin/organizations"), 200, "<h1>Tổ chức</h1>", "UBND-NK", "916", "VNPT Cần Thơ", `<label for="o-code">`)
		r := p.get("/admin/organizations?kind=authority")
		wantPage(t, r, 200, "UBND-NK", "UBND-CR")
		if strings.Contains(r.body, "VNPT Cần Thơ") {
			t.Fatal("the kind filter lets an operator through")
		}

		form := url.Values{"code": {"ITEL"}, "name": {"Itel Cần Thơ"}, "kind": {"operator"}, "contact.email": {"noc@itel.vn"}}
		r = adminPgPost(p, "/admin/organizations", "/admin/organizations", form)
		if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?done=created") {
			t.Fatalf("create: %d %s", r.status, r.header.Get("Location"))
		}
		wantPage(t, p.get(r.header.Get("Location")), 200, "Đã tạo.", "Itel Cần Thơ", "noc@itel.vn")
		wantPage(t, adminPgPost(p, "/admin/organizations", "/admin/organizations", form), 409, "ITEL exists already")
		// An authority needs a jurisdiction of known units.
		r = adminPgPost(p, "/admin/organizations", "/admin/organizations", url.Values{"code": {"UBND-OM"}, "name": {"UBND quận Ô Môn"}, "kind": {"authority"}})
		wantPage(t, r, 422, `id="o-jur-err"`, "an authority needs", `value="UBND-OM"`, `<option value="authority" selected>`)
		r = adminPgPost(p, "/admin/organizations", "/admin/organizations", url.Values{"code": {"bad code"}, "name": {"x"}, "kind": {"operator"}})
		wantPage(t, r, 422, `id="o-code-err"`)
		r = adminPgPost(p, "/admin/organizations", "/admin/organizations", url.Values{"code": {"UBND-OM"}, "name": {"UBND quận Ô Môn"},
			"kind": {"authority"}, "jurisdiction": {"917, 918"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("create authority: %d %s", r.status, r.body)
		}
		orgs, _, err := a.srv.auth.ListOrgs(dbtest.Context(t), auth.SystemActor, auth.OrgFilter{Q: "UBND-OM"})
		if err != nil || len(orgs) != 1 || strings.Join(orgs[0].Jurisdiction, " ") != "917 918" {
			t.Fatalf("authority: %+v %v", orgs, err)
		}

		// Edit: the name, the contact and the jurisdiction; an unknown unit
		// is refused inline.
		path := fmt.Sprintf("/admin/organizations/%d", orgs[0].ID)
		wantPage(t, p.get(path), 200, `value="917 918"`, `<label for="o-jur">`)
		r = adminPgPost(p, path, path, url.Values{"name": {"UBND quận Ô Môn"}, "jurisdiction": {"917 999"}})
		wantPage(t, r, 422, `id="o-jur-err"`, "unknown unit code 999", `value="917 999"`)
		wantRedirect(t, adminPgPost(p, path, path, url.Values{"name": {"Ủy ban nhân dân quận Ô Môn"}, "jurisdiction": {"917"},
			"contact.name": {"Trần Văn B"}}), path+"?done=saved")
		org, err := a.srv.auth.GetOrg(dbtest.Context(t), auth.SystemActor, orgs[0].ID)
		if err != nil || org.Name != "Ủy ban nhân dân quận Ô Môn" || strings.Join(org.Jurisdiction, " ") != "917" || org.Contact.Name != "Trần Văn B" {
			t.Fatalf("after the edit: %+v %v", org, err)
		}
		wantPage(t, adminPgPost(p, path, path, url.Values{"name": {""}, "jurisdiction": {"917"}}), 422, `id="o-name-err"`, "Bắt buộc nhập.")
	})
}

// adminPgBoundary is a square around central Ninh Kiều.
const adminPgBoundary = `{"type":"Polygon","coordinates":[[[105.70,10.00],[105.80,10.00],[105.80,10.08],[105.70,10.08],[105.70,10.00]]]}`

func TestPageAdminUnits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ctx := dbtest.Context(t)
		p := newPageClient(t, a)
		p.signIn("admin")
		wantPage(t, p.get("/admin/units"), 200, "<h1>Đơn vị hành chính</h1>", "Quận Ninh Kiều", "01/01/2004", "còn hiệu lực",
			`<label for="n-code">`, `<label for="r-on">`, `<label for="i-file">`, `enctype="multipart/form-data"`)

		// Created, then retired: the list shows both dates.
		form := url.Values{"code": {"31999"}, "name": {"Phường Thử Nghiệm"}, "level": {"commune"}, "parent_code": {"916"},
			"urban": {"true"}, "valid_from": {"2025-07-01"}}
		wantRedirect(t, adminPgPost(p, "/admin/units", "/admin/units", form), "/admin/units?done=created&q=31999")
		r := p.get("/admin/units?q=31999&done=created")
		wantPage(t, r, 200, "Đã tạo.", "Phường Thử Nghiệm", "01/07/2025", "còn hiệu lực", `href="/admin/units?retire=31999#retire"`)
		wantPage(t, adminPgPost(p, "/admin/units", "/admin/units", form), 409, "exists already")
		wantPage(t, p.get("/admin/units?retire=31999"), 200, `id="r-code" name="code" required value="31999"`)
		wantRedirect(t, adminPgPost(p, "/admin/units", "/admin/units/retire", url.Values{"code": {"31999"}, "on": {"01/01/2026"}}),
			"/admin/units?done=retired&q=31999")
		r = p.get("/admin/units?q=31999&done=retired")
		wantPage(t, r, 200, "Đã cho đơn vị hết hiệu lực.", "01/07/2025", "01/01/2026")
		if strings.Contains(r.body, "còn hiệu lực</span>") {
			t.Fatal("a retired unit shows as open-ended")
		}
		units, _, err := a.srv.units.List(ctx, auth.SystemActor, registry.UnitFilter{Q: "31999"})
		if err != nil || len(units) != 1 || units[0].ValidTo != infrashare.MustDate("2026-01-01") {
			t.Fatalf("after retiring: %+v %v", units, err)
		}
		// Valid on a day: before its start it is not listed.
		if r = p.get("/admin/units?q=31999&on=2025-06-30"); strings.Contains(r.body, "Phường Thử Nghiệm") {
			t.Fatal("the on filter shows a unit not yet valid")
		}
		wantPage(t, p.get("/admin/units?on=abc"), 422, "Bộ lọc không hợp lệ:")

		// Refusals inline: nothing valid that day, a bad parent, a bad date.
		wantPage(t, adminPgPost(p, "/admin/units", "/admin/units/retire", url.Values{"code": {"31999"}, "on": {"2026-03-01"}}),
			422, `id="r-code-err"`, "Không có đơn vị mã 31999 còn hiệu lực vào ngày 01/03/2026.")
		wantPage(t, adminPgPost(p, "/admin/units", "/admin/units/retire", url.Values{"code": {"916"}, "on": {"soon"}}),
			422, `id="r-on-err"`, "Phải là một ngày")
		r = adminPgPost(p, "/admin/units", "/admin/units", url.Values{"code": {"31998"}, "name": {"Phường Mới"}, "level": {"commune"},
			"parent_code": {"555"}, "valid_from": {"2025-07-01"}})
		wantPage(t, r, 422, `id="n-parent-err"`, "no unit with code 555", `value="Phường Mới"`, `<option value="commune" selected>`)

		// Import: a bad feature refuses the whole file and lists it.
		fc := func(features ...string) []byte {
			return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`)
		}
		good := `{"type":"Feature","properties":{"code":"916"},"geometry":` + adminPgBoundary + `}`
		badFeat := `{"type":"Feature","properties":{"code":"404404"},"geometry":` + adminPgBoundary + `}`
		r = adminPgUpload(p, "/admin/units", "/admin/units/import", nil, "units.geojson", fc(good, badFeat))
		wantPage(t, r, 422, "Không nhập gì cả.", "<th scope=\"row\">2</th>")
		if units, _, _ := a.srv.units.List(ctx, auth.SystemActor, registry.UnitFilter{Q: "Ninh Kiều"}); len(units) != 1 || units[0].HasBoundary {
			t.Fatalf("a refused import wrote: %+v", units)
		}
		wantPage(t, adminPgUpload(p, "/admin/units", "/admin/units/import", nil, "", nil), 422, `id="i-file-err"`, "Hãy chọn một tệp.")
		wantPage(t, adminPgUpload(p, "/admin/units", "/admin/units/import", nil, "x.geojson", []byte("{")), 422, "Không nhập gì cả.", "not valid JSON")
		// A dry run checks and writes nothing; the real import writes.
		r = adminPgUpload(p, "/admin/units", "/admin/units/import", map[string]string{"dry_run": "true"}, "units.geojson", fc(good))
		wantPage(t, r, 200, "Kiểm tra xong, tệp hợp lệ (chưa ghi): 1 đơn vị sẽ được cập nhật, 0 đơn vị sẽ được thêm.")
		r = adminPgUpload(p, "/admin/units", "/admin/units/import", nil, "units.geojson", fc(good))
		wantRedirect(t, r, "/admin/units?created=0&done=imported&updated=1")
		wantPage(t, p.get(r.header.Get("Location")), 200, "Đã nhập: 1 đơn vị được cập nhật ranh giới, 0 đơn vị được thêm.")
		if units, _, _ := a.srv.units.List(ctx, auth.SystemActor, registry.UnitFilter{Q: "Ninh Kiều"}); len(units) != 1 || !units[0].HasBoundary {
			t.Fatalf("the import did not write: %+v", units)
		}
	})
}

func TestPageAdminTargets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ctx := dbtest.Context(t)
		p := newPageClient(t, a)
		p.signIn("admin")
		wantPage(t, p.get("/admin/targets"), 200, "<h1>Chỉ tiêu</h1>", "Tỷ lệ dùng chung trạm BTS", "216/KH-UBND", `<label for="t-value">`)
		r := p.get("/admin/targets?metric=bts_sharing_ratio&year=2030")
		wantPage(t, r, 200, "50 %", "set.metric=bts_sharing_ratio")
		if strings.Contains(r.body, "Ngầm hóa") && strings.Contains(r.body, "<th scope=\"row\">Ngầm hóa") {
			t.Fatal("the metric filter lets another metric through")
		}

		set := url.Values{"plan": {""}, "metric": {"bts_sharing_ratio"}, "unit_code": {"916"}, "year": {"2027"}, "value": {"45,5"}, "note": {"Thử"}}
		wantRedirect(t, adminPgPost(p, "/admin/targets", "/admin/targets", set), "/admin/targets?done=saved&metric=bts_sharing_ratio")
		rows, err := a.srv.permits.Targets(ctx, auth.SystemActor, permits.TargetFilter{Metric: "bts_sharing_ratio", Unit: "916", Year: 2027})
		if err != nil || len(rows) != 1 || *rows[0].Value != 0.455 || rows[0].Plan != permits.Plan216 {
			t.Fatalf("target: %+v %v", rows, err)
		}
		wantPage(t, p.get("/admin/targets?unit=916"), 200, "45,5 %", "Thử")
		// Changed: the same key replaces the value.
		set.Set("value", "48")
		wantRedirect(t, adminPgPost(p, "/admin/targets", "/admin/targets", set), "/admin/targets?done=saved&metric=bts_sharing_ratio")
		if v, found, err := a.srv.permits.TargetFor(ctx, "bts_sharing_ratio", "916", 2027); err != nil || !found || v != 0.48 {
			t.Fatalf("TargetFor: %v %v %v", v, found, err)
		}
		for value, want := range map[string]string{"150": "must be a fraction", "abc": "Phải là một tỷ lệ phần trăm"} {
			set.Set("value", value)
			wantPage(t, adminPgPost(p, "/admin/targets", "/admin/targets", set), 422, `id="t-value-err"`, want, `value="`+value+`"`)
		}
		set.Set("value", "40")
		set.Set("unit_code", "00000")
		wantPage(t, adminPgPost(p, "/admin/targets", "/admin/targets", set), 422, `id="t-unit-err"`, "Không có đơn vị hành chính với mã này.")
		set.Set("unit_code", "916")
		set.Set("year", "năm sau")
		wantPage(t, adminPgPost(p, "/admin/targets", "/admin/targets", set), 422, `id="t-year-err"`)
	})
}

func TestPageAdminSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ctx := dbtest.Context(t)
		p := newPageClient(t, a)
		p.signIn("admin")
		wantPage(t, p.get("/admin/settings"), 200, "<h1>Thiết lập</h1>", "colocation.reply_days", "Thời hạn trả lời yêu cầu dùng chung",
			"permits.exempt_classes", "Luật Xây dựng", "đang áp dụng", `<label for="s-value">`)
		wantPage(t, p.get("/admin/settings?edit=colocation.reply_days"), 200,
			`<option value="colocation.reply_days" selected>`, `class="adminpg-json" aria-describedby="s-value-hint">15</textarea>`)

		// Changed from today: the service applies it at once.
		wantRedirect(t, adminPgPost(p, "/admin/settings", "/admin/settings", url.Values{"key": {"colocation.reply_days"},
			"valid_from": {""}, "value": {" 20 "}, "legal_basis": {"Quyết định của Sở"}}), "/admin/settings?done=saved")
		var days int
		if err := a.srv.settings.Get(ctx, "colocation.reply_days", &days); err != nil || days != 20 {
			t.Fatalf("reply days %d (%v)", days, err)
		}
		wantPage(t, p.get("/admin/settings?done=saved"), 200, "Đã lưu thay đổi.", "Quyết định của Sở")
		// A later value is scheduled: shown, not yet in force.
		wantRedirect(t, adminPgPost(p, "/admin/settings", "/admin/settings", url.Values{"key": {"colocation.reply_days"},
			"valid_from": {"01/01/2099"}, "value": {"25"}}), "/admin/settings?done=saved")
		wantPage(t, p.get("/admin/settings"), 200, "01/01/2099", "sẽ áp dụng")
		if err := a.srv.settings.Get(ctx, "colocation.reply_days", &days); err != nil || days != 20 {
			t.Fatalf("a future value applies today: %d (%v)", days, err)
		}
		// A JSON-valued setting as JSON.
		wantRedirect(t, adminPgPost(p, "/admin/settings", "/admin/settings", url.Values{"key": {"permits.exempt_classes"},
			"value": {"[\"A1a\", \"A1b\", \"A1c\"]"}}), "/admin/settings?done=saved")
		var exempt []string
		if err := a.srv.settings.Get(ctx, "permits.exempt_classes", &exempt); err != nil || strings.Join(exempt, ",") != "A1a,A1b,A1c" {
			t.Fatalf("exempt classes %v (%v)", exempt, err)
		}

		// Refusals inline, the text kept.
		for _, tc := range []struct{ key, value, from, field, want string }{
			{"colocation.reply_days", "{", "", "s-value-err", "Không phải JSON hợp lệ."},
			{"colocation.reply_days", `"thirty"`, "", "s-value-err", "must be a JSON number"},
			{"no.such.key", "1", "", "s-key-err", "is not a setting this server knows"},
			{"colocation.reply_days", "30", "32/13/2025", "s-from-err", "Phải là một ngày"},
		} {
			r := adminPgPost(p, "/admin/settings", "/admin/settings", url.Values{"key": {tc.key}, "value": {tc.value}, "valid_from": {tc.from}})
			wantPage(t, r, 422, `id="`+tc.field+`"`, tc.want, "Chưa lưu được")
			if !strings.Contains(r.body, ">"+strings.ReplaceAll(tc.value, `"`, "&#34;")+"</textarea>") {
				t.Fatalf("%s: the value is not kept:\n%s", tc.value, r.body)
			}
		}
		if err := a.srv.settings.Get(ctx, "colocation.reply_days", &days); err != nil || days != 20 {
			t.Fatalf("a refused change applied: %d (%v)", days, err)
		}
	})
}

func TestPageAdminHolidays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ctx := dbtest.Context(t)
		p := newPageClient(t, a)
		p.signIn("admin")
		wantPage(t, p.get("/admin/holidays?year=2031"), 200, "<h1>Lịch nghỉ lễ 2031</h1>", "Năm này chưa có ngày nghỉ lễ nào.",
			`href="/admin/holidays?year=2030"`, `href="/admin/holidays?year=2032"`, `<label for="h-day">`)

		// Tuesday 2 September 2031 becomes a holiday: the service counts it.
		before, err := a.srv.permits.WorkingDaysBetween(ctx, infrashare.MustDate("2031-09-01"), infrashare.MustDate("2031-09-03"))
		if err != nil || before != 2 {
			t.Fatalf("working days before: %d %v", before, err)
		}
		add := url.Values{"year": {"2031"}, "day": {"2031-09-02"}, "name": {"Quốc khánh"}}
		wantRedirect(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/add", add), "/admin/holidays?done=saved&year=2031")
		wantRedirect(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/add",
			url.Values{"day": {"01/09/2031"}, "name": {"Nghỉ bù"}}), "/admin/holidays?done=saved&year=2031")
		days, err := a.srv.permits.Holidays(ctx, auth.SystemActor, 2031)
		if err != nil || len(days) != 2 || days[1].Name != "Quốc khánh" {
			t.Fatalf("holidays: %+v %v", days, err)
		}
		if n, _ := a.srv.permits.WorkingDaysBetween(ctx, infrashare.MustDate("2031-08-29"), infrashare.MustDate("2031-09-03")); n != 1 {
			t.Fatalf("working days after: %d", n)
		}
		wantPage(t, p.get("/admin/holidays?year=2031"), 200, "01/09/2031", "02/09/2031", "Quốc khánh", `action="/admin/holidays/remove"`)

		// Refusals inline.
		wantPage(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/add", add), 422, `id="h-day-err"`, "Ngày này đã là ngày nghỉ: Quốc khánh.")
		wantPage(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/add", url.Values{"year": {"2031"}, "day": {"2031-10-01"}, "name": {" "}}),
			422, `id="h-name-err"`, "Bắt buộc nhập.", `value="2031-10-01"`)
		wantPage(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/add", url.Values{"year": {"2031"}, "day": {"mai"}, "name": {"x"}}),
			422, `id="h-day-err"`)
		if days, _ := a.srv.permits.Holidays(ctx, auth.SystemActor, 2031); len(days) != 2 {
			t.Fatalf("a refused add wrote: %+v", days)
		}

		// Removed.
		wantRedirect(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/remove", url.Values{"day": {"2031-09-01"}}),
			"/admin/holidays?done=removed&year=2031")
		days, _ = a.srv.permits.Holidays(ctx, auth.SystemActor, 2031)
		if len(days) != 1 || days[0].Day != infrashare.MustDate("2031-09-02") {
			t.Fatalf("after removing: %+v", days)
		}
		wantPage(t, adminPgPost(p, "/admin/holidays?year=2031", "/admin/holidays/remove", url.Values{"day": {"2031-09-01"}}), 404)
		p.get("/admin/holidays?lang=en")
		wantPage(t, p.get("/admin/holidays?year=2031"), 200, "Holiday calendar 2031", "Add a holiday")
	})
}

// The keys the admin templates build with printf exist in both languages.
func TestPageAdminCatalogueKeys(t *testing.T) {
	var keys []string
	for _, r := range adminRoles {
		keys = append(keys, "adminpg.role."+r)
	}
	for _, k := range adminOrgKinds {
		keys = append(keys, "adminpg.kind."+k)
	}
	for _, l := range adminUnitLevels {
		keys = append(keys, "adminpg.level."+l)
	}
	for _, m := range permits.TargetMetrics {
		keys = append(keys, "adminpg.metric."+m)
	}
	for _, why := range adminReasons {
		keys = append(keys, why)
	}
	for _, k := range keys {
		for _, lang := range []string{langVI, langEN} {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}
