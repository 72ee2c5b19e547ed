package web

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/registry"
)

// pageClient is a browser without JavaScript: a cookie jar, forms posted
// as application/x-www-form-urlencoded, redirects not followed.
type pageClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

type pageResp struct {
	status int
	body   string
	header http.Header
}

func newPageClient(t *testing.T, a *apiClient) *pageClient {
	t.Helper()
	srv := httptest.NewServer(a.srv.Handler())
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &pageClient{t: t, base: srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *pageClient) do(req *http.Request) pageResp {
	p.t.Helper()
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return pageResp{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func (p *pageClient) get(path string) pageResp {
	p.t.Helper()
	req, err := http.NewRequest("GET", p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.do(req)
}

func (p *pageClient) post(path string, form url.Values) pageResp {
	p.t.Helper()
	req, err := http.NewRequest("POST", p.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(req)
}

var csrfInput = regexp.MustCompile(`<input type="hidden" name="(csrf[a-z_]*)" value="([^"]*)">`)

// csrfOf reads the CSRF field of a page's form.
func csrfOf(t *testing.T, body string) (name, value string) {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil || m[2] == "" {
		t.Fatalf("no csrf field in:\n%s", body)
	}
	return m[1], html.UnescapeString(m[2])
}

// signIn signs the role's demo account in through the form.
func (p *pageClient) signIn(role string) pageResp {
	p.t.Helper()
	page := p.get("/login")
	name, tok := csrfOf(p.t, page.body)
	r := p.post("/login", url.Values{name: {tok}, "email": {demoLogins[role]}, "password": {demoPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		p.t.Fatalf("sign in as %s: %d %s %s", role, r.status, r.header.Get("Location"), r.body)
	}
	return r
}

func wantPage(t *testing.T, r pageResp, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d:\n%s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); status != http.StatusSeeOther && !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type %q", ct)
	}
	for _, s := range contains {
		if !strings.Contains(r.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, r.body)
		}
	}
	// The CSP forbids inline scripts and styles: the pages must not need them.
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<script>|\sstyle="|<style`).MatchString(r.body) {
		t.Fatalf("inline script or style in:\n%s", r.body)
	}
}

func wantRedirect(t *testing.T, r pageResp, to string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != to {
		t.Fatalf("status %d to %q, want 303 to %s: %s", r.status, r.header.Get("Location"), to, r.body)
	}
}

func TestLoginPageAndLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newPageClient(t, newAPI(t, db))
		wantRedirect(t, p.get("/"), "/login")
		r := p.get("/login")
		wantPage(t, r, 200, "<h1>Đăng nhập</h1>", `name="email"`, `name="password"`, `<label for="email">`, `<label for="password">`,
			`lang="vi"`, "Tiếng Việt", "English", "/static/app.css?v=", "/static/vendor/htmx.min.js?v=")
		if name, _ := csrfOf(t, r.body); !strings.Contains(name, "csrf") {
			t.Fatalf("csrf field %q", name)
		}
		if strings.Contains(r.body, "Đăng xuất") {
			t.Fatal("signed-out page offers to sign out")
		}
		r = p.get("/login?lang=en")
		wantPage(t, r, 200, "<h1>Sign in</h1>", `lang="en"`, `href="/login?lang=vi"`)
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "lang=en") {
			t.Fatalf("no lang cookie: %v", r.header.Values("Set-Cookie"))
		}
		// Remembered by the cookie.
		wantPage(t, p.get("/login"), 200, "<h1>Sign in</h1>")
		wantPage(t, p.get("/no-such-page"), 404, "Not found (404)")
		wantPage(t, p.get("/login?lang=vi"), 200, "<h1>Đăng nhập</h1>")
		wantPage(t, p.get("/no-such-page"), 404, "Không tìm thấy (404)")
		// /api keeps its JSON 404.
		if r := p.get("/api/v1/no-such-thing"); r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "json") {
			t.Fatalf("api 404: %d %s", r.status, r.header.Get("Content-Type"))
		}
	})
}

func TestLoginFormSignsInAndOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		p := newPageClient(t, a)
		page := p.get("/login")
		name, tok := csrfOf(t, page.body)

		// Without the token, or with a wrong one: 403, and no session.
		r := p.post("/login", url.Values{"email": {demoLogins["operator"]}, "password": {demoPassword}})
		wantPage(t, r, 403, "403")
		r = p.post("/login", url.Values{name: {tok + "x"}, "email": {demoLogins["operator"]}, "password": {demoPassword}})
		wantPage(t, r, 403)
		wantRedirect(t, p.get("/"), "/login")
		// A cross-site post is refused even with the token.
		req, _ := http.NewRequest("POST", p.base+"/login", strings.NewReader(url.Values{name: {tok}, "email": {demoLogins["operator"]}, "password": {demoPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantPage(t, p.do(req), 403)

		// A wrong password: the form again, with the error and the e-mail kept.
		r = p.post("/login", url.Values{name: {tok}, "email": {demoLogins["operator"]}, "password": {"wrong-password"}})
		wantPage(t, r, 401, "Thư điện tử hoặc mật khẩu không đúng.", `value="`+demoLogins["operator"]+`"`, "<h1>Đăng nhập</h1>")
		r = p.post("/login", url.Values{name: {tok}, "email": {""}, "password": {""}})
		wantPage(t, r, 422, "Hãy nhập thư điện tử và mật khẩu.")

		r = p.post("/login", url.Values{name: {tok}, "email": {demoLogins["operator"]}, "password": {demoPassword}})
		wantRedirect(t, r, "/")
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "infrashare_session=") {
			t.Fatalf("no session cookie: %v", r.header.Values("Set-Cookie"))
		}
		home := p.get("/")
		wantPage(t, home, 200, "Đăng xuất", "Doanh nghiệp của tôi", "ops@vnpt.demo.infrashare.vn", `action="/logout"`)
		wantRedirect(t, p.get("/login"), "/")
		// The session is the API's too.
		if r := p.get("/api/v1/me"); r.status != 200 {
			t.Fatalf("/api/v1/me with the page session: %d %s", r.status, r.body)
		}
		// GET must not sign out.
		if r := p.get("/logout"); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
			t.Fatalf("GET /logout: %d, Allow %q", r.status, r.header.Get("Allow"))
		}
		wantPage(t, p.get("/"), 200, "Đăng xuất")

		// Sign out: the form's token is required.
		wantPage(t, p.post("/logout", url.Values{}), 403)
		wantPage(t, p.get("/"), 200)
		name, tok = csrfOf(t, home.body)
		wantRedirect(t, p.post("/logout", url.Values{name: {tok}}), "/login")
		wantRedirect(t, p.get("/"), "/login")
		if r := p.get("/api/v1/me"); r.status != 401 {
			t.Fatalf("/api/v1/me after signing out: %d", r.status)
		}
		var n int64
		if err := db.Root().Table("audit_events").Where("action = ?", "auth.logout").Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("logout audited %d times (%v)", n, err)
		}
	})
}

// Each page: signed out it leads to the sign-in form; a role that may not
// see it gets the 403 page.
func TestPagePermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "CT-NK-0001", "kind": "tower",
			"lat": 10.0342, "lon": 105.7851, "unit_code": "916", "capacity": map[string]any{"total": 3}}), 201, &tower)
		pages := []struct {
			path    string
			allowed []string
		}{
			{"/", []string{"admin", "auditor", "officer", "operator"}},
			{"/assets", []string{"admin", "auditor", "officer", "operator"}},
			{fmt.Sprintf("/assets/%d", tower.ID), []string{"admin", "auditor", "officer", "operator", "operator2"}},
			{"/admin/", []string{"admin"}},
		}
		anon := newPageClient(t, a)
		for _, pg := range pages {
			wantRedirect(t, anon.get(pg.path), "/login")
		}
		// Signing out needs a session: without one, back to the form.
		name, tok := csrfOf(t, anon.get("/login").body)
		wantRedirect(t, anon.post("/logout", url.Values{name: {tok}}), "/login")

		for _, role := range []string{"admin", "auditor", "officer", "operator", "operator2"} {
			p := newPageClient(t, a)
			p.signIn(role)
			for _, pg := range pages {
				r := p.get(pg.path)
				allowed := false
				for _, al := range pg.allowed {
					allowed = allowed || al == role
				}
				if pg.path == "/" || pg.path == "/assets" {
					allowed = true // every role
				}
				if allowed {
					wantPage(t, r, 200, "Đăng xuất")
				} else {
					wantPage(t, r, 403, "Không có quyền truy cập (403)", "Đăng xuất")
				}
			}
			wantPage(t, p.get("/assets/999999"), 404, "Không tìm thấy (404)")
			wantPage(t, p.get("/assets/abc"), 404)
			// Admins see the admin link; others do not.
			home := p.get("/")
			if has := strings.Contains(home.body, `href="/admin/"`); has != (role == "admin") {
				t.Fatalf("%s: admin link shown %v", role, has)
			}
		}
		p := newPageClient(t, a)
		p.get("/login?lang=en")
		p.signIn("operator")
		wantPage(t, p.get("/admin/"), 403, "Access denied (403)", "Sign out")
	})
}

func TestPageDashboards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		// A request in to VNPT (from Viettel) and an application to Ninh Kiều.
		var tower assetJSON
		a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), map[string]any{"code": "CT-NK-0101", "kind": "tower",
			"lat": 10.0342, "lon": 105.7851, "unit_code": "916", "capacity": map[string]any{"total": 3}}), 201, &tower)
		var req struct {
			Number string `json:"number"`
		}
		a.mustJSON(a.call("POST", "/api/v1/colocation-requests", a.token("operator2"), requestBody(tower.ID)), 201, &req)
		var permit struct {
			Number string `json:"number"`
		}
		a.mustJSON(a.call("POST", "/api/v1/permits", a.token("operator3"), map[string]any{"structure_kind": "tower", "class": "A2b",
			"height_m": 40, "unit_code": "916", "location": map[string]float64{"lat": 10.0500, "lon": 105.7300}, "purpose": "Trạm BTS mới"}), 201, &permit)

		op := newPageClient(t, a)
		op.signIn("operator")
		wantPage(t, op.get("/"), 200, "Doanh nghiệp của tôi", "Hạ tầng của tôi", "Yêu cầu đến – hạn gần nhất", req.Number, "Đã gửi",
			`href="/assets?owner=VNPT"`)
		op2 := newPageClient(t, a)
		op2.signIn("operator2")
		wantPage(t, op2.get("/"), 200, "Yêu cầu đi – hạn gần nhất", req.Number)

		off := newPageClient(t, a)
		off.signIn("officer")
		home := off.get("/")
		wantPage(t, home, 200, "Hồ sơ cấp phép chờ xử lý", permit.Number, "1 hồ sơ chờ quyết định, 0 quá hạn.")
		if strings.Contains(home.body, "Doanh nghiệp của tôi") || strings.Contains(home.body, "<svg") {
			t.Fatal("the officer sees other roles' cards")
		}
		off2 := newPageClient(t, a)
		off2.signIn("officer2")
		wantPage(t, off2.get("/"), 200, "Không có hồ sơ nào chờ xử lý.")

		for _, role := range []string{"auditor", "admin"} {
			p := newPageClient(t, a)
			p.signIn(role)
			r := p.get("/")
			wantPage(t, r, 200, "Tỷ lệ dùng chung hạ tầng so với chỉ tiêu", "<svg", `role="img"`, "Yêu cầu dùng chung quá hạn", "Tranh chấp")
			year := fmt.Sprint(time.Now().In(time.FixedZone("ICT", 7*3600)).Year())
			if !strings.Contains(r.body, "<th scope=\"row\">"+year+"</th>") {
				t.Fatalf("%s: no row for %s", role, year)
			}
			p.get("/?lang=en")
			wantPage(t, p.get("/"), 200, "Infrastructure sharing ratio against the target", "Sign out", "Disputes")
		}
	})
}

func TestPageAssetList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt := a.token("operator")
		var ids []int64
		for i, kind := range []string{"tower", "pole", "pole"} {
			var as assetJSON
			a.mustJSON(a.call("POST", "/api/v1/assets", vnpt, map[string]any{"code": fmt.Sprintf("CT-NK-%04d", i+1), "kind": kind,
				"lat": 10.0342 + float64(i)*0.001, "lon": 105.7851, "unit_code": "916", "address": fmt.Sprintf("%d Hòa Bình, Ninh Kiều", 10+i),
				"rent_vnd": 36000000, "capacity": map[string]any{"total": 3}}), 201, &as)
			ids = append(ids, as.ID)
		}
		a.mustJSON(a.call("POST", fmt.Sprintf("/api/v1/assets/%d/allocations", ids[0]), vnpt, map[string]any{
			"units": 1, "purpose": "existing", "tenant": "MOBIFONE", "since": "2020-03-01", "contract_ref": "HĐ-2020-15"}), 201, nil)

		p := newPageClient(t, a)
		p.signIn("operator2")
		r := p.get("/assets")
		wantPage(t, r, 200, "<h1>Sổ hạ tầng</h1>", "CT-NK-0001", "CT-NK-0002", "CT-NK-0003", "Cột ăng-ten", "Cột treo cáp",
			`<label for="f-kind">`, `<label for="f-q">`, `<label for="f-owner">`, `<label for="f-unit">`, `<label for="f-status">`)
		r = p.get("/assets?kind=pole")
		wantPage(t, r, 200, "CT-NK-0002", "CT-NK-0003", `<option value="pole" selected>`)
		if strings.Contains(r.body, "CT-NK-0001") {
			t.Fatal("the kind filter lets a tower through")
		}
		r = p.get("/assets?q=0003&owner=VNPT&unit=916&status=planned")
		if r.status != 200 || strings.Contains(r.body, "CT-NK-0003") {
			t.Fatalf("status=planned shows an in-service asset: %d", r.status)
		}
		r = p.get("/assets?q=0003&owner=VNPT&unit=916")
		wantPage(t, r, 200, "CT-NK-0003")
		if strings.Contains(r.body, "CT-NK-0002") {
			t.Fatal("q does not filter")
		}
		wantPage(t, p.get("/assets?status=bogus"), 422, "Bộ lọc không hợp lệ:")

		// Paging by the list's cursor, the filters kept.
		r = p.get("/assets?limit=2&owner=VNPT")
		wantPage(t, r, 200, "CT-NK-0001", "CT-NK-0002", "Trang sau »")
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(r.body)
		if next == nil {
			t.Fatal("no next link")
		}
		nextURL := html.UnescapeString(next[1])
		if !strings.Contains(nextURL, "owner=VNPT") || !strings.Contains(nextURL, "cursor=") {
			t.Fatalf("next link %q", nextURL)
		}
		r = p.get(nextURL)
		wantPage(t, r, 200, "CT-NK-0003", "« Trang đầu")
		if strings.Contains(r.body, "CT-NK-0001") || strings.Contains(r.body, `rel="next"`) {
			t.Fatal("second page")
		}

		// Detail: another operator sees the public face, not the tenants or
		// the history; the owner sees both; numbers and dates the Vietnamese way.
		r = p.get(fmt.Sprintf("/assets/%d", ids[0]))
		wantPage(t, r, 200, "CT-NK-0001", "10 Hòa Bình, Ninh Kiều", "36.000.000 ₫", "3 tổng, 0 giữ chỗ, 1 đang dùng, 2 còn trống")
		if strings.Contains(r.body, "Lịch sử thay đổi") || strings.Contains(r.body, "HĐ-2020-15") {
			t.Fatal("another operator sees the history or the tenants")
		}
		owner := newPageClient(t, a)
		owner.signIn("operator")
		r = owner.get(fmt.Sprintf("/assets/%d", ids[0]))
		wantPage(t, r, 200, "Đơn vị đang sử dụng", "HĐ-2020-15", "01/03/2020", "Lịch sử thay đổi", "asset.create")
		owner.get("/?lang=en")
		wantPage(t, owner.get(fmt.Sprintf("/assets/%d", ids[0])), 200, "Tenants", "History", "Antenna tower")
	})
}

func TestPageStaticAssets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newPageClient(t, newAPI(t, db))
		for path, ct := range map[string]string{"/static/app.css": "text/css", "/static/vendor/htmx.min.js": "javascript"} {
			r := p.get(path + "?v=" + staticVersion)
			if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), ct) || !strings.Contains(r.header.Get("Cache-Control"), "max-age=31536000") || len(r.body) < 1000 {
				t.Fatalf("%s: %d %v", path, r.status, r.header)
			}
		}
		for _, path := range []string{"/static/", "/static/vendor/", "/static/nothing.js", "/static/../pages.go"} {
			if r := p.get(path); r.status != 404 {
				t.Fatalf("%s: %d", path, r.status)
			}
		}
	})
}

func TestPageFormatting(t *testing.T) {
	f := 0.4251
	for got, want := range map[string]string{
		fmtNum(1234567):         "1.234.567",
		fmtNum(int64(-1234)):    "-1.234",
		fmtNum(0):               "0",
		fmtNum(999):             "999",
		fmtNum(1234.5):          "1.234,5",
		fmtNum((*int64)(nil)):   "–",
		fmtPct(&f):              "42,5 %",
		fmtPct((*float64)(nil)): "–",
		fmtDate(time.Date(2025, 12, 31, 20, 0, 0, 0, time.UTC)):     "01/01/2026",
		fmtDate(infrashare.Date{Year: 2024, Month: 3, Day: 5}):      "05/03/2024",
		fmtDateTime(time.Date(2025, 12, 31, 20, 5, 0, 0, time.UTC)): "01/01/2026 03:05",
		fmtDate((*time.Time)(nil)):                                  "–",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestCatalogues: both catalogues have the same keys, and every key the
// templates and the page code use exists.
func TestCatalogues(t *testing.T) {
	keysOf := func(lang string) []string {
		var out []string
		for k := range catalogues[lang] {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	vi, en := keysOf(langVI), keysOf(langEN)
	if strings.Join(vi, "\n") != strings.Join(en, "\n") {
		onlyIn := func(a, b map[string]string) (out []string) {
			for k := range a {
				if _, ok := b[k]; !ok {
					out = append(out, k)
				}
			}
			sort.Strings(out)
			return out
		}
		t.Fatalf("catalogues differ: only in vi %v, only in en %v", onlyIn(catalogues[langVI], catalogues[langEN]), onlyIn(catalogues[langEN], catalogues[langVI]))
	}
	// The files are plain JSON objects without duplicate keys.
	var files []string
	for _, lang := range []string{langVI, langEN} {
		matched, _ := filepath.Glob(filepath.Join("i18n", lang, "*.json"))
		files = append(files, matched...)
	}
	for _, file := range files {
		lang := filepath.Base(filepath.Dir(file))
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		seen := map[string]bool{}
		depth := 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch v := tok.(type) {
			case json.Delim:
				if v == '{' {
					depth++
				}
			case string:
				if depth == 1 && dec.More() {
					if seen[v] {
						t.Errorf("%s: key %q twice", file, v)
					}
					seen[v] = true
					if _, err := dec.Token(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for k, msg := range catalogues[lang] {
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			if strings.Count(msg, "%") != strings.Count(catalogues[langVI][k], "%") {
				t.Errorf("%q: the languages take different arguments", k)
			}
		}
	}
	// The Vietnamese catalogue is Vietnamese: a sample carries its diacritics.
	for k, want := range map[string]string{"login.title": "Đăng nhập", "nav.logout": "Đăng xuất", "lang.vi": "Tiếng Việt"} {
		if catalogues[langVI][k] != want {
			t.Errorf("vi %s = %q", k, catalogues[langVI][k])
		}
	}

	used := map[string]string{}
	static := regexp.MustCompile(`\bT "([^"]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range static.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	goKeys := regexp.MustCompile(`\.T\("([^"]+)"`)
	goFiles, _ := filepath.Glob("pages*.go")
	for _, f := range append(goFiles, "i18n.go") {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKeys.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = f
		}
		for _, m := range regexp.MustCompile(`newView\(c, "([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = f
		}
	}
	// Keys the templates build with printf.
	for _, k := range assetKinds {
		used["kind."+k] = "printf kind.%s"
	}
	for _, st := range assetStatuses {
		used["status."+st] = "printf status.%s"
	}
	for _, st := range []string{registry.StateSubmitted, registry.StateInfoRequested, registry.StateApproved, registry.StateAgreed,
		registry.StateActive, registry.StateTerminated, registry.StateRejected, registry.StateDisputed, registry.StateOverdue,
		registry.StateWithdrawn, registry.StateExpired, registry.StateClosed} {
		used["reqstate."+st] = "printf reqstate.%s"
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use; is the scan broken?", len(used))
	}
	for k, where := range used {
		if _, ok := catalogues[langVI][k]; !ok {
			t.Errorf("%s uses %q, which the catalogues lack", where, k)
		}
	}
}
