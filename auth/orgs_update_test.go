package auth_test

import (
	"strings"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

// UpdateOrg changes what the admin pages offer: name, group, contact and an
// authority's jurisdiction; the officers' cached actors follow at once.
func TestUpdateOrg(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		orgs, _, err := e.svc.ListOrgs(e.ctx, admin, auth.OrgFilter{Q: "UBND-NK"})
		if err != nil || len(orgs) != 1 {
			t.Fatalf("UBND-NK: %v %v", orgs, err)
		}
		nk := orgs[0]
		vnpt, err := e.svc.OrgByCode(e.ctx, "VNPT")
		if err != nil {
			t.Fatal(err)
		}
		empty, units, bad, long := "", []string{}, []string{"916", "99999"}, strings.Repeat("x", 301)
		cases := []struct {
			name  string
			id    int64
			p     auth.OrgPatch
			field string
		}{
			{"empty name", nk.ID, auth.OrgPatch{Name: &empty}, "name"},
			{"long name", nk.ID, auth.OrgPatch{Name: &long}, "name"},
			{"authority without units", nk.ID, auth.OrgPatch{Jurisdiction: &units}, "jurisdiction"},
			{"unknown unit", nk.ID, auth.OrgPatch{Jurisdiction: &bad}, "jurisdiction"},
			{"operator with units", vnpt.ID, auth.OrgPatch{Jurisdiction: &[]string{"916"}}, "jurisdiction"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.UpdateOrg(e.ctx, admin, c.id, c.p)
				wantField(t, err, c.field)
			})
		}
		_, err = e.svc.UpdateOrg(e.ctx, e.actor(t, vnptEmail), nk.ID, auth.OrgPatch{Name: &empty})
		wantCode(t, err, infrashare.EFORBIDDEN)
		_, err = e.svc.UpdateOrg(e.ctx, admin, 999999, auth.OrgPatch{})
		wantCode(t, err, infrashare.ENOTFOUND)
		_, err = e.svc.GetOrg(e.ctx, e.actor(t, auditorEmail), nk.ID)
		wantCode(t, err, infrashare.EFORBIDDEN)

		// The officer's actor is cached; the change shows in it at once.
		if a := e.actor(t, officerEmail); strings.Join(a.UnitCodes, ",") != "916" {
			t.Fatalf("officer units before: %v", a.UnitCodes)
		}
		name, both := "UBND quận Ninh Kiều", []string{" 917", "916", "917"}
		got, err := e.svc.UpdateOrg(e.ctx, admin, nk.ID, auth.OrgPatch{Name: &name, Jurisdiction: &both,
			Contact: &auth.Contact{Name: "Lê Văn C", Phone: "0292 3820 000"}})
		if err != nil || got.Name != name || strings.Join(got.Jurisdiction, ",") != "916,917" || got.Contact.Name != "Lê Văn C" || got.Code != "UBND-NK" {
			t.Fatalf("update: %+v %v", got, err)
		}
		if a := e.actor(t, officerEmail); strings.Join(a.UnitCodes, ",") != "916,917" {
			t.Fatalf("officer units after: %v", a.UnitCodes)
		}
		if read, err := e.svc.GetOrg(e.ctx, admin, nk.ID); err != nil || read.Name != name || strings.Join(read.Jurisdiction, ",") != "916,917" {
			t.Fatalf("read back: %+v %v", read, err)
		}
		if evs := eventsWith(t, db, "organization.update"); len(evs) != 1 {
			t.Fatalf("%d organization.update events, want 1", len(evs))
		}
	})
}

// ListUsers filters by disabled when asked.
func TestListUsersDisabledFilter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		yes, no := true, false
		if _, err := e.svc.UpdateUser(e.ctx, admin, e.userID(t, vnptEmail), auth.UserPatch{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			disabled *bool
			has      bool
			others   bool
		}{{&yes, true, false}, {&no, false, true}, {nil, true, true}} {
			users, _, err := e.svc.ListUsers(e.ctx, admin, auth.UserFilter{Disabled: c.disabled})
			if err != nil {
				t.Fatal(err)
			}
			has, others := false, false
			for _, u := range users {
				has = has || u.Email == vnptEmail
				others = others || u.Email != vnptEmail
			}
			if has != c.has || others != c.others {
				t.Errorf("disabled %v: vnpt listed %v, others %v", c.disabled, has, others)
			}
		}
	})
}
