package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

func TestSignInMeAndSignOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		for role, email := range demoLogins {
			var me struct {
				User struct {
					Email string `json:"email"`
				} `json:"user"`
				Organization struct {
					Code         string   `json:"code"`
					Jurisdiction []string `json:"jurisdiction"`
				} `json:"organization"`
				Roles []string `json:"roles"`
			}
			a.mustJSON(a.call("GET", "/api/v1/me", a.token(role), nil), 200, &me)
			if me.User.Email != email || len(me.Roles) != 1 || me.Organization.Code == "" {
				t.Errorf("%s: /me %+v", role, me)
			}
		}
		var me struct {
			Organization struct {
				Code         string   `json:"code"`
				Jurisdiction []string `json:"jurisdiction"`
			} `json:"organization"`
			Roles []string `json:"roles"`
		}
		a.mustJSON(a.call("GET", "/api/v1/me", a.token("officer"), nil), 200, &me)
		if me.Organization.Code != "UBND-NK" || len(me.Organization.Jurisdiction) != 1 || me.Organization.Jurisdiction[0] != "916" || me.Roles[0] != "officer" {
			t.Fatalf("officer /me: %+v", me)
		}

		// The login answer carries no secret but the token.
		r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "OPS@VNPT.demo.infrashare.vn ", "password": demoPassword})
		if r.status != 200 || strings.Contains(strings.ToLower(r.String()), "password") || strings.Contains(r.String(), "$2a$") {
			t.Fatalf("login: %d %s", r.status, r.body)
		}
		cookie := r.header.Get("Set-Cookie")
		if !strings.Contains(cookie, "infrashare_session=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
			t.Fatalf("session cookie %q", cookie)
		}
		if strings.Contains(cookie, "Secure") {
			t.Fatalf("cookie is Secure without an https base URL: %q", cookie)
		}

		// No token: 401. A junk token: 401.
		if r := a.call("GET", "/api/v1/me", "", nil); r.status != 401 {
			t.Fatalf("no token: %d", r.status)
		}
		if r := a.call("GET", "/api/v1/me", "isk_not-a-token", nil); r.status != 401 {
			t.Fatalf("junk token: %d", r.status)
		}
		if r := a.call("GET", "/api/v1/me", "", nil, "Authorization", "Basic YWRtaW46eA=="); r.status != 401 {
			t.Fatalf("basic auth: %d", r.status)
		}

		// After logout the token is dead.
		tok := a.token("operator2")
		if r := a.call("POST", "/api/v1/auth/logout", tok, nil); r.status != 200 {
			t.Fatalf("logout: %d %s", r.status, r.body)
		}
		if r := a.call("GET", "/api/v1/me", tok, nil); r.status != 401 {
			t.Fatalf("token after logout: %d", r.status)
		}
	})
}

// The browser's way: the session cookie signs in, and logout ends it.
func TestSessionCookie(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": demoLogins["auditor"], "password": demoPassword})
		if r.status != 200 {
			t.Fatal(r)
		}
		cookie := strings.Split(r.header.Get("Set-Cookie"), ";")[0]
		var issued struct {
			Token string `json:"token"`
		}
		a.mustJSON(r, 200, &issued)
		if r := a.call("GET", "/api/v1/me", "", nil, "Cookie", cookie); r.status != 200 {
			t.Fatalf("me with the cookie: %d %s", r.status, r.body)
		}
		// A state change through the cookie from another site is refused.
		if r := a.call("POST", "/api/v1/me/tokens", "", map[string]string{"name": "x"}, "Cookie", cookie, "Sec-Fetch-Site", "cross-site"); r.status != 403 {
			t.Fatalf("cross-site POST with the cookie: %d", r.status)
		}
		if r := a.call("POST", "/api/v1/auth/logout", "", nil, "Cookie", cookie); r.status != 200 {
			t.Fatalf("logout: %d %s", r.status, r.body)
		}
		if r := a.call("GET", "/api/v1/me", "", nil, "Cookie", cookie); r.status != 401 {
			t.Fatalf("me after logout: %d", r.status)
		}
		// The token of the same sign-in ends with the session.
		if r := a.call("GET", "/api/v1/me", issued.Token, nil); r.status != 401 {
			t.Fatalf("the sign-in's token after the session's logout: %d", r.status)
		}
	})
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	a := newAPI(t, db)
	srv, err := New(dbtest.Context(t), Config{BaseURL: "https://infrashare.cantho.gov.vn"}, db, a.srv.log)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"`+demoLogins["admin"]+`","password":"`+demoPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
		t.Fatalf("%d, cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

func TestSixthWrongPasswordGets429(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		wrong := map[string]string{"email": demoLogins["operator"], "password": "wrong-password-x"}
		for i := 1; i <= 5; i++ {
			if r := a.call("POST", "/api/v1/auth/login", "", wrong); r.status != 401 {
				t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
			}
		}
		r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": demoLogins["operator"], "password": demoPassword})
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("sixth attempt with the right password: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
		// Another account is not locked by it.
		if r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": demoLogins["operator2"], "password": demoPassword}); r.status != 200 {
			t.Fatalf("other account: %d", r.status)
		}
		// Bad bodies are 4xx naming the problem.
		for _, c := range []struct {
			body   string
			status int
		}{
			{`{"email": "a@b.vn"}`, 422},
			{`{"email": 5, "password": "x"}`, 422},
			{`not json`, 400},
			{``, 400},
			{`{"email":"a@b.vn","password":"0123456789","extra":1}`, 422},
		} {
			if r := a.call("POST", "/api/v1/auth/login", "", c.body); r.status != c.status {
				t.Errorf("%q: %d, want %d (%s)", c.body, r.status, c.status, r.body)
			}
		}
	})
}

func TestPersonalTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		var created struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}
		a.mustJSON(a.call("POST", "/api/v1/me/tokens", a.token("operator"), map[string]any{"name": "GIS sync", "expires_in_days": 30}), 201, &created)
		if !strings.HasPrefix(created.Token, "isk_") {
			t.Fatalf("token %q", created.Token)
		}
		if r := a.call("GET", "/api/v1/me", created.Token, nil); r.status != 200 {
			t.Fatalf("the new token works: %d", r.status)
		}
		var list struct {
			Items []map[string]any `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/me/tokens", a.token("operator"), nil), 200, &list)
		if strings.Contains(string(mustMarshal(list)), created.Token) || len(list.Items) < 2 {
			t.Fatalf("token list shows the secret or misses tokens: %+v", list)
		}
		// Another user's token is not found, and stays alive.
		if r := a.call("DELETE", "/api/v1/me/tokens/"+itoa(created.ID), a.token("operator2"), nil); r.status != 404 {
			t.Fatalf("revoke another's token: %d", r.status)
		}
		if r := a.call("DELETE", "/api/v1/me/tokens/"+itoa(created.ID), a.token("operator"), nil); r.status != 204 {
			t.Fatalf("revoke own token: %d %s", r.status, r.body)
		}
		if r := a.call("GET", "/api/v1/me", created.Token, nil); r.status != 401 {
			t.Fatalf("revoked token: %d", r.status)
		}
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"expires_in_days": 3}, "name"},
			{map[string]any{"name": "x", "expires_in_days": 5000}, "expires_in_days"},
			{map[string]any{"name": "x", "expires_in_days": "soon"}, "expires_in_days"},
		} {
			r := a.call("POST", "/api/v1/me/tokens", a.token("operator"), c.body)
			var e errorJSON
			_ = json.Unmarshal(r.body, &e)
			if r.status != 422 || e.Error.Fields[c.field] == "" {
				t.Errorf("%v: %d %s, want 422 naming %s", c.body, r.status, r.body, c.field)
			}
		}
	})
}

func TestAdminManagesOrganisationsAndUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		admin := a.token("admin")
		var org struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		}
		a.mustJSON(a.call("POST", "/api/v1/organizations", admin, map[string]any{
			"code": "FPT", "name": "FPT Telecom Cần Thơ", "kind": "operator", "group": "FPT",
			"contact": map[string]string{"name": "Nguyễn Văn A", "email": "noc@fpt.example.vn", "phone": "0292 1234"}}), 201, &org)
		if r := a.call("POST", "/api/v1/organizations", admin, map[string]any{"code": "FPT", "name": "again", "kind": "operator"}); r.status != 409 {
			t.Fatalf("duplicate code: %d", r.status)
		}
		if r := a.call("POST", "/api/v1/organizations", admin, map[string]any{"code": "UBND-XX", "name": "x", "kind": "authority", "jurisdiction": []string{"999"}}); r.status != 422 {
			t.Fatalf("unknown unit: %d %s", r.status, r.body)
		}
		var u struct {
			ID    int64    `json:"id"`
			Roles []string `json:"roles"`
		}
		a.mustJSON(a.call("POST", "/api/v1/users", admin, map[string]any{
			"email": "Ops@FPT.example.vn", "name": "FPT ops", "organization": "FPT", "roles": []string{"operator"}, "password": "fpt-password-1"}), 201, &u)
		r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "ops@fpt.example.vn", "password": "fpt-password-1"})
		var login struct {
			Token string `json:"token"`
		}
		a.mustJSON(r, 200, &login)

		// Roles must fit the organisation.
		if r := a.call("PATCH", "/api/v1/users/"+itoa(u.ID), admin, map[string]any{"roles": []string{"officer"}}); r.status != 422 {
			t.Fatalf("officer role in an operator: %d", r.status)
		}
		// Disabling ends the user's sign-ins at once.
		if r := a.call("PATCH", "/api/v1/users/"+itoa(u.ID), admin, map[string]any{"disabled": true}); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if r := a.call("GET", "/api/v1/me", login.Token, nil); r.status != 401 {
			t.Fatalf("disabled user's token: %d", r.status)
		}
		if r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "ops@fpt.example.vn", "password": "fpt-password-1"}); r.status != 401 {
			t.Fatalf("disabled user signs in: %d", r.status)
		}
		// Reset the password and enable again.
		if r := a.call("PATCH", "/api/v1/users/"+itoa(u.ID), admin, map[string]any{"disabled": false, "password": "new-fpt-password"}); r.status != 200 {
			t.Fatalf("enable: %d %s", r.status, r.body)
		}
		if r := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "ops@fpt.example.vn", "password": "new-fpt-password"}); r.status != 200 {
			t.Fatalf("sign in with the new password: %d", r.status)
		}
		var users struct {
			Items []struct {
				Email string `json:"email"`
			} `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/users?organization=FPT", admin, nil), 200, &users)
		if len(users.Items) != 1 || users.Items[0].Email != "ops@fpt.example.vn" {
			t.Fatalf("users of FPT: %+v", users)
		}
		// An operator gets 403 on the admin API.
		if r := a.call("GET", "/api/v1/users", a.token("operator"), nil); r.status != http.StatusForbidden {
			t.Fatalf("operator on /users: %d", r.status)
		}
		// Every change is in the audit log.
		var events struct {
			Items []struct {
				Action string `json:"action"`
			} `json:"items"`
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events?object_type=user&object_id="+itoa(u.ID), a.token("auditor"), nil), 200, &events)
		actions := map[string]int{}
		for _, e := range events.Items {
			actions[e.Action]++
		}
		if actions["user.create"] != 1 || actions["user.update"] != 2 || actions["auth.login"] != 2 || actions["auth.login_failed"] != 1 {
			t.Fatalf("audit of the user: %v", actions)
		}
		var v struct {
			OK     bool  `json:"ok"`
			Events int64 `json:"events"`
		}
		a.mustJSON(a.call("GET", "/api/v1/audit-events/verify", a.token("auditor"), nil), 200, &v)
		if !v.OK || v.Events < 10 {
			t.Fatalf("verify: %+v", v)
		}
	})
}

func TestPoliciesThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		admin := a.token("admin")
		var set struct {
			Version  int64            `json:"version"`
			Policies []map[string]any `json:"policies"`
			Groups   []map[string]any `json:"groups"`
		}
		a.mustJSON(a.call("GET", "/api/v1/policies", admin, nil), 200, &set)
		// Take /me away from operators: every other role keeps it.
		operator := a.token("operator")
		if r := a.call("GET", "/api/v1/me", operator, nil); r.status != 200 {
			t.Fatalf("operator on /me before: %d", r.status)
		}
		var kept []map[string]any
		for _, p := range set.Policies {
			if p["path"] == "/api/v1/me" && p["method"] == "GET" {
				continue
			}
			kept = append(kept, p)
		}
		for _, role := range []string{"admin", "auditor", "officer"} {
			kept = append(kept, map[string]any{"role": role, "path": "/api/v1/me", "method": "GET"})
		}
		var after struct {
			Version int64 `json:"version"`
		}
		a.mustJSON(a.call("PUT", "/api/v1/policies", admin, map[string]any{"policies": kept, "groups": set.Groups}), 200, &after)
		if after.Version != set.Version+1 {
			t.Fatalf("version %d → %d", set.Version, after.Version)
		}
		if r := a.call("GET", "/api/v1/me", operator, nil); r.status != 403 {
			t.Fatalf("operator on /me after the change: %d", r.status)
		}
		if r := a.call("GET", "/api/v1/me", a.token("officer"), nil); r.status != 200 {
			t.Fatalf("officer on /me after the change: %d", r.status)
		}
		// Locking admins out is refused.
		if r := a.call("PUT", "/api/v1/policies", admin, map[string]any{"policies": []map[string]string{{"role": "admin", "path": "/api/v1/me", "method": "GET"}}}); r.status != 422 {
			t.Fatalf("lock-out policy: %d %s", r.status, r.body)
		}
		if r := a.call("PUT", "/api/v1/policies", admin, map[string]any{"policies": []map[string]string{{"role": "admin", "path": "/x", "method": "FETCH"}}}); r.status != 422 {
			t.Fatalf("bad method: %d", r.status)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func mustMarshal(v any) []byte { b, _ := json.Marshal(v); return b }
