package auth_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

func TestCreateOrgValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		orgs, units, evs := count(t, db, &auth.Organization{}), count(t, db, &auth.Jurisdiction{}), count(t, db, "audit_events")
		cases := []struct {
			name  string
			in    auth.NewOrg
			code  string
			field string
		}{
			{"lower-case code with a space", auth.NewOrg{Code: "vnpt lower", Name: "x", Kind: auth.KindOperator}, infrashare.EINVALID, "code"},
			{"lower-case code", auth.NewOrg{Code: "vnpt", Name: "x", Kind: auth.KindOperator}, infrashare.EINVALID, "code"},
			{"code starting with a hyphen", auth.NewOrg{Code: "-VNPT", Name: "x", Kind: auth.KindOperator}, infrashare.EINVALID, "code"},
			{"code too short", auth.NewOrg{Code: "V", Name: "x", Kind: auth.KindOperator}, infrashare.EINVALID, "code"},
			{"code too long", auth.NewOrg{Code: strings.Repeat("V", 33), Name: "x", Kind: auth.KindOperator}, infrashare.EINVALID, "code"},
			{"no name", auth.NewOrg{Code: "GTEL", Kind: auth.KindOperator}, infrashare.EINVALID, "name"},
			{"unknown kind", auth.NewOrg{Code: "GTEL", Name: "x", Kind: "vendor"}, infrashare.EINVALID, "kind"},
			{"lower-case group", auth.NewOrg{Code: "GTEL", Name: "x", Kind: auth.KindOperator, Group: "gtel"}, infrashare.EINVALID, "group"},
			{"bad contact e-mail", auth.NewOrg{Code: "GTEL", Name: "x", Kind: auth.KindOperator, Contact: auth.Contact{Email: "not-an-address"}}, infrashare.EINVALID, "contact.email"},
			{"authority without jurisdiction", auth.NewOrg{Code: "UBND-OM", Name: "UBND Ô Môn", Kind: auth.KindAuthority}, infrashare.EINVALID, "jurisdiction"},
			{"operator with a jurisdiction", auth.NewOrg{Code: "GTEL", Name: "x", Kind: auth.KindOperator, Jurisdiction: []string{"916"}}, infrashare.EINVALID, "jurisdiction"},
			{"unknown unit code", auth.NewOrg{Code: "UBND-OM", Name: "UBND Ô Môn", Kind: auth.KindAuthority, Jurisdiction: []string{"917", "99999"}}, infrashare.EINVALID, "jurisdiction"},
			{"duplicate code", auth.NewOrg{Code: "VNPT", Name: "VNPT again", Kind: auth.KindOperator}, infrashare.ECONFLICT, ""},
			{"duplicate code with spaces", auth.NewOrg{Code: " VIETTEL ", Name: "Viettel again", Kind: auth.KindOperator}, infrashare.ECONFLICT, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.CreateOrg(e.ctx, admin, c.in)
				if c.field != "" {
					wantField(t, err, c.field)
				} else {
					wantCode(t, err, c.code)
				}
			})
		}
		if n := count(t, db, &auth.Organization{}); n != orgs {
			t.Errorf("%d organisations after refused creations, want %d as before", n, orgs)
		}
		if n := count(t, db, &auth.Jurisdiction{}); n != units {
			t.Errorf("%d jurisdiction rows after refused creations, want %d as before", n, units)
		}
		if n := count(t, db, "audit_events"); n != evs {
			t.Errorf("%d audit events after refusals, want %d as before", n, evs)
		}
	})
}

func TestCreateOrgStoresAnAuthorityWithItsJurisdiction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		v, err := e.svc.CreateOrg(e.ctx, admin, auth.NewOrg{Code: " UBND-OM ", Name: " UBND quận Ô Môn ", Kind: auth.KindAuthority,
			Jurisdiction: []string{"923", "917", "917"}, Contact: auth.Contact{Name: "Phòng QLĐT", Email: "qldt@omon.vn", Phone: "0292 1"}})
		if err != nil {
			t.Fatal(err)
		}
		if v.ID == 0 || v.Code != "UBND-OM" || v.Name != "UBND quận Ô Môn" || fmt.Sprint(v.Jurisdiction) != "[917 923]" ||
			v.Contact.Email != "qldt@omon.vn" || v.Group != nil {
			t.Fatalf("created %+v", v)
		}
		tower, err := e.svc.CreateOrg(e.ctx, admin, auth.NewOrg{Code: "VNPT-TOWERS", Name: "VNPT Towers", Kind: auth.KindOperator, Group: "VNPT"})
		if err != nil || tower.Group == nil || *tower.Group != "VNPT" || len(tower.Jurisdiction) != 0 || tower.Jurisdiction == nil {
			t.Fatalf("tower company %+v %v", tower, err)
		}
		orgs, _, err := e.svc.ListOrgs(e.ctx, admin, auth.OrgFilter{Kind: auth.KindAuthority, Limit: auth.MaxLimit})
		if err != nil || len(orgs) < 3 {
			t.Fatalf("authorities %+v %v", orgs, err)
		}
		if last := orgs[len(orgs)-1]; last.Code != "UBND-OM" || fmt.Sprint(last.Jurisdiction) != "[917 923]" {
			t.Fatalf("the newest authority %+v, want UBND-OM with [917 923]", last)
		}
		for _, o := range orgs {
			if o.Kind != auth.KindAuthority {
				t.Errorf("%s of kind %s listed among authorities", o.Code, o.Kind)
			}
		}
		// An officer of the new authority carries its jurisdiction.
		u, err := e.svc.CreateUser(e.ctx, admin, auth.NewUser{Email: "officer@omon.vn", Org: "ubnd-om", Roles: []string{"officer"}, Password: "officer-password"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.svc.Authenticate(e.ctx, e.login(t, u.Email, "officer-password", "192.0.2.1").Token)
		if err != nil || a.OrgCode != "UBND-OM" || fmt.Sprint(a.UnitCodes) != "[917 923]" {
			t.Fatalf("officer actor %+v %v", a, err)
		}
		evs := eventsWith(t, db, "organization.create")
		if len(evs) != 2 || evs[0].ObjectID != strconv.FormatInt(v.ID, 10) || !strings.Contains(*evs[0].After, `"jurisdiction":["917","923"]`) {
			t.Fatalf("organization.create events %+v", evs)
		}
	})
}

func TestCreateUserValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		users := count(t, db, &auth.User{})
		ok := auth.NewUser{Email: "new@vnpt.vn", Name: "New", Org: "VNPT", Roles: []string{"operator"}, Password: "long-enough-pw"}
		with := func(f func(*auth.NewUser)) auth.NewUser { u := ok; f(&u); return u }
		cases := []struct {
			name  string
			in    auth.NewUser
			code  string
			field string
		}{
			{"operator role in an authority", with(func(u *auth.NewUser) { u.Org = "UBND-NK" }), infrashare.EINVALID, "roles"},
			{"officer role in an operator", with(func(u *auth.NewUser) { u.Roles = []string{"officer"} }), infrashare.EINVALID, "roles"},
			{"admin role in an operator", with(func(u *auth.NewUser) { u.Roles = []string{"operator", "admin"} }), infrashare.EINVALID, "roles"},
			{"auditor role in the system organisation", with(func(u *auth.NewUser) { u.Org = "ADMIN"; u.Roles = []string{"auditor"} }), infrashare.EINVALID, "roles"},
			{"unknown role", with(func(u *auth.NewUser) { u.Roles = []string{"root"} }), infrashare.EINVALID, "roles[0]"},
			{"no role", with(func(u *auth.NewUser) { u.Roles = nil }), infrashare.EINVALID, "roles"},
			{"short password", with(func(u *auth.NewUser) { u.Password = "short-pw" }), infrashare.EINVALID, "password"},
			{"password of 9 characters in more bytes", with(func(u *auth.NewUser) { u.Password = "mậtkhẩuơi" }), infrashare.EINVALID, "password"},
			{"password over 72 bytes", with(func(u *auth.NewUser) { u.Password = strings.Repeat("p", 73) }), infrashare.EINVALID, "password"},
			{"no password", with(func(u *auth.NewUser) { u.Password = "" }), infrashare.EINVALID, "password"},
			{"not an e-mail", with(func(u *auth.NewUser) { u.Email = "new-at-vnpt" }), infrashare.EINVALID, "email"},
			{"unknown organisation", with(func(u *auth.NewUser) { u.Org = "NOPE" }), infrashare.EINVALID, "organization"},
			{"duplicate e-mail", with(func(u *auth.NewUser) { u.Email = vnptEmail }), infrashare.ECONFLICT, ""},
			{"duplicate e-mail in another case", with(func(u *auth.NewUser) { u.Email = " OPS@VNPT.Demo.InfraShare.vn" }), infrashare.ECONFLICT, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.CreateUser(e.ctx, admin, c.in)
				if c.field != "" {
					wantField(t, err, c.field)
				} else {
					wantCode(t, err, c.code)
				}
			})
		}
		if n := count(t, db, &auth.User{}); n != users {
			t.Fatalf("%d users after refused creations, want %d as before", n, users)
		}

		// The good one, with an e-mail in mixed case and a long Vietnamese password.
		in := with(func(u *auth.NewUser) { u.Email = " New.User@VNPT.vn "; u.Password = "mật khẩu dài đủ" })
		v, err := e.svc.CreateUser(e.ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		if v.Email != "new.user@vnpt.vn" || v.Organization.Code != "VNPT" || fmt.Sprint(v.Roles) != "[operator]" || v.Disabled {
			t.Fatalf("created %+v", v)
		}
		body, _ := json.Marshal(v)
		if strings.Contains(strings.ToLower(string(body)), "password") || strings.Contains(string(body), "$2a$") {
			t.Errorf("the user view shows the password hash: %s", body)
		}
		var stored auth.User
		db.Root().Where("id = ?", v.ID).First(&stored)
		if stored.PasswordHash == in.Password || !auth.PasswordMatches(stored.PasswordHash, in.Password) || stored.Demo {
			t.Errorf("stored user %+v: password not hashed, or flagged demo", stored)
		}
		e.login(t, "NEW.USER@vnpt.vn", in.Password, "192.0.2.1")
		ev := eventsWith(t, db, "user.create")
		if len(ev) != 1 || ev[0].ObjectID != strconv.FormatInt(v.ID, 10) || strings.Contains(*ev[0].After, "$2a$") ||
			strings.Contains(*ev[0].After, in.Password) {
			t.Errorf("user.create events %+v", ev)
		}
		// Admins fit the department too.
		if _, err := e.svc.CreateUser(e.ctx, admin, auth.NewUser{Email: "boss@dept.vn", Org: "DEPT", Roles: []string{"admin", "auditor"}, Password: "long-enough-pw"}); err != nil {
			t.Fatalf("admin and auditor in the department: %v", err)
		}
	})
}

func TestIdentityAdministrationIsForAdmins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		vnptID := e.userID(t, vnptEmail)
		evs := count(t, db, "audit_events")
		name := "renamed"
		for _, email := range []string{vnptEmail, auditorEmail, officerEmail} {
			a := e.actor(t, email)
			calls := map[string]error{}
			_, calls["CreateOrg"] = e.svc.CreateOrg(e.ctx, a, auth.NewOrg{Code: "GTEL", Name: "Gtel", Kind: auth.KindOperator})
			_, _, calls["ListOrgs"] = e.svc.ListOrgs(e.ctx, a, auth.OrgFilter{})
			_, calls["CreateUser"] = e.svc.CreateUser(e.ctx, a, auth.NewUser{Email: "x@vnpt.vn", Org: "VNPT", Roles: []string{"operator"}, Password: "long-enough-pw"})
			_, _, calls["ListUsers"] = e.svc.ListUsers(e.ctx, a, auth.UserFilter{})
			_, calls["GetUser"] = e.svc.GetUser(e.ctx, a, vnptID)
			_, calls["UpdateUser"] = e.svc.UpdateUser(e.ctx, a, vnptID, auth.UserPatch{Name: &name})
			for call, err := range calls {
				if infrashare.ErrorCode(err) != infrashare.EFORBIDDEN {
					t.Errorf("%s as %s: %v, want forbidden", call, email, err)
				}
			}
		}
		var n int64
		db.Root().Model(&auth.Organization{}).Where("code = ?", "GTEL").Count(&n)
		var renamed int64
		db.Root().Model(&auth.User{}).Where("name = ?", name).Count(&renamed)
		if n != 0 || renamed != 0 || count(t, db, "audit_events") != evs {
			t.Error("a refused call changed something")
		}
	})
}

func TestListUsersFiltersAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		for _, u := range []auth.NewUser{
			{Email: "an.nguyen@vnpt.vn", Name: "Nguyễn Văn An", Org: "VNPT", Roles: []string{"operator"}, Password: "long-enough-pw"},
			{Email: "percent_100@vnpt.vn", Name: "100% Tester", Org: "VNPT", Roles: []string{"operator"}, Password: "long-enough-pw"},
			{Email: "boss@dept.vn", Name: "Boss", Org: "DEPT", Roles: []string{"admin", "auditor"}, Password: "long-enough-pw"},
		} {
			if _, err := e.svc.CreateUser(e.ctx, admin, u); err != nil {
				t.Fatal(err)
			}
		}
		emails := func(us []auth.UserView) string {
			var out []string
			for _, u := range us {
				out = append(out, u.Email)
			}
			return strings.Join(out, " ")
		}
		cases := []struct {
			name string
			f    auth.UserFilter
			want string
		}{
			{"organisation", auth.UserFilter{Org: "VNPT"}, "ops@vnpt.demo.infrashare.vn an.nguyen@vnpt.vn percent_100@vnpt.vn"},
			{"organisation in lower case", auth.UserFilter{Org: "dept"}, "auditor@demo.infrashare.vn boss@dept.vn"},
			{"unknown organisation", auth.UserFilter{Org: "NOPE"}, ""},
			{"role", auth.UserFilter{Role: "admin"}, "admin@demo.infrashare.vn boss@dept.vn"},
			{"role among several", auth.UserFilter{Role: "auditor"}, "auditor@demo.infrashare.vn boss@dept.vn"},
			{"role and organisation", auth.UserFilter{Role: "officer", Org: "UBND-CR"}, "officer.cairang@demo.infrashare.vn"},
			{"text in the e-mail, any case", auth.UserFilter{Q: "NGUYEN"}, "an.nguyen@vnpt.vn"},
			{"text in the name", auth.UserFilter{Q: "văn an"}, "an.nguyen@vnpt.vn"},
			{"wildcards are literal", auth.UserFilter{Q: "_"}, "percent_100@vnpt.vn"},
			{"percent is literal", auth.UserFilter{Q: "0%"}, "percent_100@vnpt.vn"},
		}
		for _, c := range cases {
			got, next, err := e.svc.ListUsers(e.ctx, admin, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if emails(got) != c.want || next != "" {
				t.Errorf("%s: %q next %q, want %q", c.name, emails(got), next, c.want)
			}
		}
		_, _, err := e.svc.ListUsers(e.ctx, admin, auth.UserFilter{Role: "root"})
		wantField(t, err, "role")
		_, _, err = e.svc.ListUsers(e.ctx, admin, auth.UserFilter{Cursor: "garbage!"})
		wantField(t, err, "cursor")

		// Pages of four by id cover every user once.
		total := count(t, db, &auth.User{})
		var all []auth.UserView
		cursor, pages := "", 0
		for {
			got, next, err := e.svc.ListUsers(e.ctx, admin, auth.UserFilter{Limit: 4, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(got) > 4 {
				t.Fatalf("page of %d, want at most 4", len(got))
			}
			all = append(all, got...)
			if next == "" {
				break
			}
			cursor = next
			if pages > 100 {
				t.Fatal("the cursor never runs out")
			}
		}
		if want := int((total + 3) / 4); pages != want || int64(len(all)) != total {
			t.Fatalf("%d pages with %d users, want %d pages with %d", pages, len(all), want, total)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID <= all[i-1].ID {
				t.Fatalf("users not in id order across pages: %d after %d", all[i].ID, all[i-1].ID)
			}
		}
		for _, u := range all {
			if u.Organization.Code == "" {
				t.Errorf("user %s listed without its organisation", u.Email)
			}
		}
	})
}

func TestUpdateUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		yes := true
		_, err := e.svc.UpdateUser(e.ctx, admin, admin.UserID, auth.UserPatch{Disabled: &yes})
		wantField(t, err, "disabled")
		_, err = e.svc.UpdateUser(e.ctx, admin, admin.UserID, auth.UserPatch{Roles: &[]string{}})
		wantField(t, err, "roles")
		short := "short"
		_, err = e.svc.UpdateUser(e.ctx, admin, admin.UserID, auth.UserPatch{Password: &short})
		wantField(t, err, "password")
		_, err = e.svc.UpdateUser(e.ctx, admin, 999999, auth.UserPatch{Disabled: &yes})
		wantCode(t, err, infrashare.ENOTFOUND)
		// Still an enabled admin who can sign in.
		res := e.login(t, adminEmail, demoPassword, "192.0.2.1")
		if res.User.Disabled || fmt.Sprint(res.User.Roles) != "[admin]" {
			t.Fatalf("the admin after refused changes: %+v", res.User)
		}

		// A second admin in the department may not strip the first of admin
		// through a role that does not fit, but may rename and re-role fitting ones.
		dept, err := e.svc.CreateUser(e.ctx, admin, auth.NewUser{Email: "boss@dept.vn", Org: "DEPT", Roles: []string{"admin"}, Password: "long-enough-pw"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.UpdateUser(e.ctx, admin, dept.ID, auth.UserPatch{Roles: &[]string{"operator"}})
		wantField(t, err, "roles")
		name := "  Trưởng phòng  "
		v, err := e.svc.UpdateUser(e.ctx, admin, dept.ID, auth.UserPatch{Name: &name, Roles: &[]string{"auditor", "admin", "auditor"}})
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "Trưởng phòng" || fmt.Sprint(v.Roles) != "[admin auditor]" {
			t.Fatalf("updated %+v", v)
		}
		// A role change reaches a cached actor of this replica at once.
		deptActor := e.actor(t, "boss@dept.vn")
		if !deptActor.Has(auth.RoleAuditor) {
			t.Fatalf("the actor after the role change has roles %v", deptActor.Roles)
		}
		if _, err := e.svc.UpdateUser(e.ctx, admin, dept.ID, auth.UserPatch{Roles: &[]string{"admin"}}); err != nil {
			t.Fatal(err)
		}
		if a := e.actor(t, "boss@dept.vn"); a.Has(auth.RoleAuditor) {
			t.Errorf("a cached actor keeps a removed role: %v", a.Roles)
		}
		ev := eventsWith(t, db, "user.update")
		if len(ev) != 2 || ev[0].Before == nil || !strings.Contains(*ev[0].Before, `"roles":["admin"]`) ||
			!strings.Contains(*ev[0].After, `"roles":["admin","auditor"]`) {
			t.Errorf("user.update events %+v", ev)
		}
	})
}

func TestMeDescribesTheActor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		me, err := e.svc.Me(e.ctx, e.actor(t, officerEmail))
		if err != nil {
			t.Fatal(err)
		}
		if me.User.Email != officerEmail || me.Organization.Code != "UBND-NK" || me.Organization.Kind != auth.KindAuthority ||
			fmt.Sprint(me.Organization.Jurisdiction) != "[916]" || fmt.Sprint(me.Roles) != "[officer]" {
			t.Fatalf("me %+v", me)
		}
		body, _ := json.Marshal(me)
		if strings.Contains(strings.ToLower(string(body)), "password") {
			t.Errorf("me shows a password: %s", body)
		}
		_, err = e.svc.Me(e.ctx, auth.Actor{UserID: 999999})
		wantCode(t, err, infrashare.EUNAUTHORIZED)
	})
}

func TestCreateFirstAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db) // a production database: no demo
		v, err := e.svc.CreateFirstAdmin(e.ctx, "Root@City.vn", "Root", "first-admin-password")
		if err != nil {
			t.Fatal(err)
		}
		if v.Email != "root@city.vn" || v.Organization.Code != "ADMIN" || v.Organization.Kind != auth.KindAdmin || fmt.Sprint(v.Roles) != "[admin]" {
			t.Fatalf("first admin %+v", v)
		}
		// A second admin goes into the same organisation.
		v2, err := e.svc.CreateFirstAdmin(e.ctx, "deputy@city.vn", "Deputy", "second-admin-password")
		if err != nil || v2.Organization.ID != v.Organization.ID {
			t.Fatalf("second admin %+v %v", v2, err)
		}
		_, err = e.svc.CreateFirstAdmin(e.ctx, "root@city.vn", "Again", "first-admin-password")
		wantCode(t, err, infrashare.ECONFLICT)
		_, err = e.svc.CreateFirstAdmin(e.ctx, "short@city.vn", "Short", "short")
		wantField(t, err, "password")
		var orgs, users int64
		db.Root().Model(&auth.Organization{}).Count(&orgs)
		db.Root().Model(&auth.User{}).Count(&users)
		if orgs != 1 || users != 2 {
			t.Fatalf("%d organisations and %d users, want 1 and 2", orgs, users)
		}
		res := e.login(t, "root@city.vn", "first-admin-password", "192.0.2.1")
		if _, _, err := e.svc.ListUsers(e.ctx, res.Actor, auth.UserFilter{}); err != nil {
			t.Fatalf("the first admin cannot administer: %v", err)
		}
		if res := verify(t, e.ctx, e.audit); !res.OK || res.Events < 3 {
			t.Fatalf("verify %+v, want the creations logged", res)
		}
	})
}

// Vietnamese names have capitals outside ASCII (Đ, Ă, Ơ, Ủ…). A search must
// fold their case as it folds ASCII, on both databases: SQLite's own
// LOWER() folds ASCII only, while the query is lower-cased in Go, so
// "Đặng" typed exactly as stored finds nobody there.
func TestSearchFoldsVietnameseCapitals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		hoa, err := e.svc.CreateUser(e.ctx, admin, auth.NewUser{Email: "hoa@vnpt.vn", Name: "Đặng Thị Hoa", Org: "VNPT",
			Roles: []string{"operator"}, Password: "long-enough-pw"})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"Đặng", "đặng", "ĐẶNG THỊ", "thị hoa"} {
			got, _, err := e.svc.ListUsers(e.ctx, admin, auth.UserFilter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != hoa.ID {
				t.Errorf("users matching %q: %d, want Đặng Thị Hoa", q, len(got))
			}
		}
		for _, q := range []string{"Ủy ban", "ủy ban", "ỦY BAN NHÂN DÂN"} {
			got, _, err := e.svc.ListOrgs(e.ctx, admin, auth.OrgFilter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			codes := map[string]bool{}
			for _, o := range got {
				codes[o.Code] = true
				if !strings.Contains(o.Name, "Ủy ban") {
					t.Errorf("%q matches %s %q", q, o.Code, o.Name)
				}
			}
			if !codes["UBND-NK"] || !codes["UBND-CR"] {
				t.Errorf("organisations matching %q: %v, want UBND-NK and UBND-CR", q, codes)
			}
		}
	})
}
