package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// Hostile input (issue 9 point 4): every write route of the API, taken from
// the permission matrix (so a new route is covered as soon as the matrix
// names it), gets malformed bodies, wrong types, huge numbers, NaN, NUL,
// invalid UTF-8, injection strings and oversized text in every field. Each
// answer must be a client error or a success, never 5xx; a refusal must
// change nothing (the audit chain, which every write extends, keeps its
// length) and must not leak a stack, a Go file or SQL.

// leakMarkers are strings that only internals would put in a body.
var leakMarkers = []string{"goroutine", ".go:", "SELECT", "INSERT", "UPDATE ", "pq:", "SQLSTATE", "sqlite", "gorm", "panic"}

// checkNoLeak fails when a response body carries internals, or when it is
// not JSON on an API route.
func checkNoLeak(t *testing.T, what string, r response) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s: status %d: %.300s", what, r.status, r.body)
	}
	if r.status >= 400 {
		var e errorJSON
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
			t.Errorf("%s: %d with a body that is not the JSON error: %.300s", what, r.status, r.body)
		}
		for _, m := range leakMarkers {
			if strings.Contains(string(r.body), m) {
				t.Errorf("%s: %d body leaks %q: %.300s", what, r.status, m, r.body)
			}
		}
	}
}

// writeState is a digest of what a refused request must not change: every
// write appends to the audit chain, and these tables hold what writes make.
func writeState(t *testing.T, db *database.DB) string {
	t.Helper()
	var b strings.Builder
	tables := []string{"audit_events", "assets", "allocations", "colocation_requests", "permits", "bts_deployments", "users", "organizations"}
	parts := make([]string, 0, len(tables)+1)
	for _, table := range tables {
		parts = append(parts, "(SELECT COUNT(*) FROM "+table+")")
	}
	parts = append(parts, "(SELECT COALESCE(SUM(version), 0) FROM assets)")
	counts := make([]int64, len(parts))
	dest := make([]any, len(parts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	// One round trip: this runs around thousands of requests.
	if err := db.Root().Raw("SELECT " + strings.Join(parts, ", ")).Row().Scan(dest...); err != nil {
		t.Fatal(err)
	}
	for i, table := range append(tables, "asset_versions") {
		fmt.Fprintf(&b, "%s=%d ", table, counts[i])
	}
	return b.String()
}

// writeRoute is one write route of the matrix with a caller who may use it,
// a concrete path and a valid JSON body (as a generic tree).
type writeRoute struct {
	method, route, path, role string
	body                      any // nil: the route takes no JSON body
}

// writeRoutes turns the matrix's write rows into concrete requests: the
// first role whose expected status is a success, on its own object.
func writeRoutes(t testing.TB, f *matrixFixture) []writeRoute {
	t.Helper()
	var out []writeRoute
	for _, row := range matrix() {
		if row.method == "GET" || row.fresh || row.contentType != "" {
			continue // reads; logout (ends its token); CSV bodies (fuzzed in registry)
		}
		role := ""
		for i, r := range matrixRoles {
			if r != "anon" && row.own[i] >= 200 && row.own[i] < 300 {
				role = r
				break
			}
		}
		if role == "" {
			t.Fatalf("%s %s: no role may call it", row.method, row.route)
		}
		path := row.route
		if row.target != nil {
			path = row.target(f, role, true)
		}
		w := writeRoute{method: row.method, route: row.route, path: path, role: role}
		if row.body != nil {
			b := row.body(f, role, path)
			if _, raw := b.([]byte); raw {
				continue // attachments: file bytes, tested in TestHostileAttachmentNames
			}
			w.body = generic(t, b)
		}
		out = append(out, w)
	}
	return out
}

// generic is v as encoding/json's tree (map[string]any, []any, …).
func generic(t testing.TB, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// leaf is the path of a string or number in a body tree.
type leaf struct {
	path []any // string keys and int indexes
	kind string
}

func leaves(v any, path []any, out *[]leaf) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			leaves(t[k], append(append([]any(nil), path...), k), out)
		}
	case []any:
		for i, e := range t {
			leaves(e, append(append([]any(nil), path...), i), out)
		}
	case string:
		*out = append(*out, leaf{path: path, kind: "string"})
	case float64:
		*out = append(*out, leaf{path: path, kind: "number"})
	case bool:
		*out = append(*out, leaf{path: path, kind: "bool"})
	}
}

// replaced is a deep copy of tree with the leaf at path set to v.
func replaced(t testing.TB, tree any, path []any, v any) any {
	cp := generic(t, tree)
	var cur any = cp
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				m[k] = v
			}
			cur = m[k]
		case int:
			s := cur.([]any)
			if last {
				s[k] = v
			}
			cur = s[k]
		}
	}
	return cp
}

func pathName(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

// badUTF8 stands in a marshalled body for bytes that are not UTF-8.
const badUTF8 = "@@not-utf8@@"

// Injection strings: SQL and markup. Stored, they must come back as the
// same text; refused, they must be a 4xx.
var injections = []string{
	`'; DROP TABLE assets; --`,
	`1' OR '1'='1`,
	`Robert'); DROP TABLE users;--`,
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`{{.Secret}} ${7*7} %s%n`,
}

// hostileValue is one replacement for a leaf: a Go value (a
// json.RawMessage for numbers Go cannot hold) and whether it must be
// refused.
type hostileValue struct {
	name    string
	v       any
	refused bool
}

func hostileValues(kind string) []hostileValue {
	switch kind {
	case "string":
		vals := []hostileValue{
			{"NUL", "a\x00b", true},
			{"invalid UTF-8", badUTF8, true},
			{"1 MB string", strings.Repeat("Đ", 1<<19), false},
			{"a number 1e309", json.RawMessage(`1e309`), false},
		}
		// Three of the injections per field keep the suite within its
		// time; TestHostileTextStoredLiterally stores all of them.
		for _, s := range []string{injections[0], injections[4], injections[5]} {
			vals = append(vals, hostileValue{"injection " + s, s, false})
		}
		return vals
	case "number":
		return []hostileValue{
			{"1e309", json.RawMessage(`1e309`), false},
			{"9999999999999999999", json.RawMessage(`9999999999999999999`), false},
			{"-1e308", json.RawMessage(`-1e308`), false},
			{"NaN as a string", "NaN", false},
			{"Infinity as a string", "Infinity", false},
			{"null", nil, false},
			{"an object", map[string]any{"$gt": ""}, false},
		}
	}
	return []hostileValue{{"a string", "true", false}, {"null", nil, false}}
}

// wholeBodies are bodies that are wrong as a whole.
var wholeBodies = []struct {
	name   string
	body   string
	status []int
}{
	{"empty", "", []int{400}},
	{"not JSON", "{", []int{400}},
	{"a list", "[]", []int{400, 422}},
	{"a string", `"x"`, []int{400, 422}},
	{"null", "null", []int{400, 422}},
	{"two values", `{}{}`, []int{400, 422}},
	{"NaN literal", `{"x": NaN}`, []int{400}},
	{"Infinity literal", `{"x": Infinity}`, []int{400}},
	{"unknown field", `{"no_such_field_here": 1}`, []int{422}},
	{"deep nesting", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), []int{400, 422}},
	{"invalid UTF-8", "{\"x\": \"\xff\xfe\"}", []int{400}},
	{"NUL escape in a key", `{"a\u0000b": 1}`, []int{422}},
}

func TestHostileWriteBodies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := &matrixFixture{apiClient: newAPI(t, db)}
		routes := writeRoutes(t, f)
		cases := 0
		for _, w := range routes {
			tok := f.token(w.role)
			send := func(what string, body any, wantStatus []int) {
				t.Helper()
				cases++
				before := writeState(t, db)
				r := f.call(w.method, w.path, tok, body)
				label := fmt.Sprintf("%s %s as %s, %s", w.method, w.route, w.role, what)
				checkNoLeak(t, label, r)
				// A failed sign-in is audited on purpose: the login route
				// is exempt from "nothing changed".
				if r.status >= 400 && r.status < 500 && w.route != "/api/v1/auth/login" {
					if after := writeState(t, db); after != before {
						t.Errorf("%s: refused with %d but changed %s → %s", label, r.status, before, after)
					}
				}
				if wantStatus != nil && !containsInt(wantStatus, r.status) {
					t.Errorf("%s: status %d, want one of %v: %.300s", label, r.status, wantStatus, r.body)
				}
			}
			if w.body == nil {
				// A route without a body must not choke on one either.
				send("unexpected body", `{"x": "\u0000"}`, nil)
				continue
			}
			for _, wb := range wholeBodies {
				send(wb.name, wb.body, wb.status)
			}
			if bodyLimitFor(w.path) == jsonBodyLimit {
				// Over the 10 MiB JSON limit: 413 from the Content-Length.
				send("11 MB body", `{"x": "`+strings.Repeat("a", 11<<20)+`"}`, []int{413})
			}
			var ls []leaf
			leaves(w.body, nil, &ls)
			for _, l := range ls {
				for _, hv := range hostileValues(l.kind) {
					raw, err := json.Marshal(replaced(t, w.body, l.path, hv.v))
					if err != nil {
						t.Fatal(err)
					}
					raw = bytes.ReplaceAll(raw, []byte(badUTF8), []byte("\xff\xfe"))
					var want []int
					if hv.refused {
						want = []int{400, 422}
					}
					send(pathName(l.path)+" = "+hv.name, raw, want)
				}
			}
		}
		t.Logf("%d routes, %d hostile requests", len(routes), cases)
	})
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// A NUL in a JSON string is refused naming the field, on both databases
// (PostgreSQL cannot store it: a 500 before).
func TestHostileNULNamesTheField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		body := towerBody("NUL-1")
		body["address"] = "Số 1\x00 Hòa Bình"
		r := a.call("POST", "/api/v1/assets", a.token("operator"), body)
		var e errorJSON
		a.mustJSON(r, 422, &e)
		if _, ok := e.Error.Fields["address"]; !ok {
			t.Errorf("NUL refusal does not name address: %s", r.body)
		}
		req := requestBody(1)
		req["technical"] = map[string]any{"antennas": []map[string]any{{"type": "RRU\x00", "count": 1}}}
		r = a.call("POST", "/api/v1/colocation-requests", a.token("operator"), req)
		a.mustJSON(r, 422, &e)
		if _, ok := e.Error.Fields["technical.antennas[0].type"]; !ok {
			t.Errorf("NUL refusal does not name technical.antennas[0].type: %s", r.body)
		}
	})
}

// Query strings of the list routes: injection, NUL, invalid UTF-8, huge
// and negative numbers. Never 5xx, never a leak; NUL and invalid UTF-8 are
// refused naming the parameter.
func TestHostileQueryParameters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var lists []string
		for _, r := range a.srv.echo.Routes() {
			if r.Method == "GET" && strings.HasPrefix(r.Path, "/api/v1/") && !strings.Contains(r.Path, ":") {
				lists = append(lists, r.Path)
			}
		}
		sort.Strings(lists)
		params := []string{"q", "kind", "owner", "unit", "status", "bbox", "limit", "cursor", "lat", "lon", "radius_m",
			"min_free", "from", "to", "group_by", "format", "as_of", "year", "state", "lang"}
		values := []string{"'; DROP TABLE assets; --", "<script>alert(1)</script>", "%_\\", "1e309",
			"-1", "NaN", "2147483648", strings.Repeat("9", 5000), "1,2,3,NaN"}
		n := 0
		for _, p := range lists {
			for _, param := range params {
				for _, v := range values {
					n++
					r := a.call("GET", p+"?"+param+"="+url.QueryEscape(v), a.token("admin"), nil)
					checkNoLeak(t, fmt.Sprintf("GET %s?%s=%q", p, param, v), r)
				}
				for _, raw := range []string{"%00", "a%00b", "%FF%FE", "%C3%28"} {
					n++
					r := a.call("GET", p+"?"+param+"="+raw, a.token("admin"), nil)
					checkNoLeak(t, fmt.Sprintf("GET %s?%s=%s", p, param, raw), r)
					var e errorJSON
					if r.status != 422 || json.Unmarshal(r.body, &e) != nil || e.Error.Fields[param] == "" {
						t.Errorf("GET %s?%s=%s: %d, want 422 naming the parameter: %.200s", p, param, raw, r.status, r.body)
					}
				}
			}
		}
		t.Logf("%d list routes, %d query cases", len(lists), n)
	})
}

// Path tricks in ids: every :id route with ids that are not ids answers a
// 4xx (404 mostly), never 5xx, and changes nothing.
func TestHostilePathIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		ids := []string{"1;DROP", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", "-1", "0", "9223372036854775808", "9223372036854775807",
			"18446744073709551616", "1e3", "0x1F", "%00", "1%00", "%FF", strings.Repeat("9", 10000), "1%20OR%201=1", "%27", "%3Cscript%3E"}
		a.token("admin") // signing in is audited: before the first digest
		n := 0
		for _, rt := range a.srv.echo.Routes() {
			if !strings.HasPrefix(rt.Path, "/api/v1/") || !strings.Contains(rt.Path, ":") || rt.Method == echo.RouteNotFound {
				continue
			}
			for _, id := range ids {
				path := rt.Path
				for _, seg := range strings.Split(rt.Path, "/") {
					if strings.HasPrefix(seg, ":") {
						path = strings.Replace(path, seg, id, 1)
					}
				}
				before := writeState(t, db)
				var body any
				if rt.Method != "GET" && rt.Method != "DELETE" {
					body = map[string]any{}
				}
				r := a.call(rt.Method, path, a.token("admin"), body)
				n++
				label := fmt.Sprintf("%s %s", rt.Method, path)
				if len(label) > 120 {
					label = label[:120] + "…"
				}
				checkNoLeak(t, label, r)
				if r.status < 400 {
					t.Errorf("%s: %d, want a 4xx: %.200s", label, r.status, r.body)
				}
				if after := writeState(t, db); after != before {
					t.Errorf("%s: changed %s → %s", label, before, after)
				}
			}
		}
		t.Logf("%d path cases", n)
	})
}

// Injection strings stored through the API come back as the same text,
// and the HTML pages show them escaped.
func TestHostileTextStoredLiterally(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		for i, s := range injections {
			body := towerBody(fmt.Sprintf("INJ-%d", i))
			body["address"], body["contact"], body["structure"] = s, s, s
			var out struct {
				ID      int64  `json:"id"`
				Address string `json:"address"`
			}
			a.mustJSON(a.call("POST", "/api/v1/assets", a.token("operator"), body), 201, &out)
			var got map[string]any
			a.mustJSON(a.call("GET", fmt.Sprintf("/api/v1/assets/%d", out.ID), a.token("operator2"), nil), 200, &got)
			for _, k := range []string{"address", "contact", "structure"} {
				if got[k] != s {
					t.Errorf("%s stored as %q, want %q", k, got[k], s)
				}
			}
		}
		var n int64
		if err := db.Root().Table("assets").Where("code LIKE ?", "INJ-%").Count(&n).Error; err != nil || n != int64(len(injections)) {
			t.Fatalf("injection assets: %d, %v", n, err)
		}
		// The pages: the asset detail and the list escape the text.
		p := newPageClient(t, a)
		p.signIn("operator2")
		var ids []int64
		db.Root().Table("assets").Where("code LIKE ?", "INJ-%").Order("id").Pluck("id", &ids)
		for i, id := range ids {
			page := p.get(fmt.Sprintf("/assets/%d", id))
			if page.status != http.StatusOK {
				t.Fatalf("asset page %d: %d", id, page.status)
			}
			if raw := injections[i]; strings.ContainsAny(raw, "<>\"") && strings.Contains(page.body, raw) {
				t.Errorf("asset page shows %q unescaped", raw)
			}
			if !strings.Contains(html.UnescapeString(page.body), injections[i]) {
				t.Errorf("asset page lacks the text %q", injections[i])
			}
		}
		list := p.get("/assets?q=" + url.QueryEscape("<script>"))
		if strings.Contains(list.body, "<script>alert(1)</script>") {
			t.Errorf("asset list shows a script unescaped")
		}
	})
}

// Attachment file names: path tricks, NUL and newlines are stored
// sanitised and nothing is written outside the storage (the attachment
// bytes live in the database: no file appears anywhere near).
func TestHostileAttachmentNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := &matrixFixture{apiClient: newAPI(t, db)}
		path := permitTarget("/attachments")(f, "operator", true)
		cwd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		before := dirSnapshot(t, filepath.Dir(cwd))
		names := []string{"../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "a\x00.pdf", "a\nb\r\nSet-Cookie: x=1.pdf",
			"%2e%2e%2fsecret.pdf", "<script>alert(1)</script>.pdf", strings.Repeat("x", 5000) + ".pdf", "", ".", "..", "\xff\xfe.pdf"}
		stored := 0
		for _, name := range names {
			// As the raw body with ?filename=, and as a multipart form.
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="`+strings.NewReplacer(`"`, "", "\r", "", "\n", "").Replace(name)+`"`)
			h.Set("Content-Type", "application/pdf")
			part, err := mw.CreatePart(h)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = part.Write([]byte("%PDF-1.4 test"))
			_ = mw.Close()
			for _, r := range []response{
				f.call("POST", path+"?filename="+url.QueryEscape(name), f.token("operator"), []byte("%PDF-1.4 test"), "Content-Type", "application/pdf"),
				f.call("POST", path, f.token("operator"), form.Bytes(), "Content-Type", mw.FormDataContentType()),
			} {
				label := fmt.Sprintf("attachment named %q", name)
				if len(label) > 100 {
					label = label[:100] + "…"
				}
				checkNoLeak(t, label, r)
				if r.status != 201 {
					continue
				}
				var att struct {
					Filename string `json:"filename"`
				}
				if err := json.Unmarshal(r.body, &att); err != nil {
					t.Fatal(err)
				}
				stored++
				if att.Filename == "" || strings.ContainsAny(att.Filename, "/\\\x00\r\n") || strings.HasPrefix(att.Filename, ".") || !utf8.ValidString(att.Filename) {
					t.Errorf("%s stored as %q", label, att.Filename)
				}
			}
		}
		if stored < len(names) {
			t.Errorf("only %d of %d hostile names were stored (sanitised): the rest refused", stored, 2*len(names))
		}
		if after := dirSnapshot(t, filepath.Dir(cwd)); after != before {
			t.Errorf("files changed outside the storage:\n%s\n→\n%s", before, after)
		}
	})
}

// dirSnapshot lists the names under dir (two levels), to see that nothing
// was written beside the code.
func dirSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	for _, pat := range []string{"*", "*/*"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m...)
	}
	sort.Strings(names)
	return strings.Join(names, "\n")
}
