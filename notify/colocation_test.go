package notify_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/notify"
	"infrashare/registry"
)

// Each transition of a co-location request reaches both parties: an e-mail
// to each organisation's contact and a signed event to the requester's
// webhook, once.
func TestEveryTransitionIsAnnounced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		smtp := startSMTP(t)
		f.useSMTP(smtp)
		f.allowLoopback()
		rcv := startReceiver(t)
		hook := f.webhook("VIETTEL", rcv.url())

		audit := auth.NewAudit(db, f.clock)
		settings := auth.NewSettings(db, f.clock)
		units := registry.NewUnits(db, f.clock)
		reg := registry.NewService(db, f.clock, audit, settings, units)
		reg.SetNotifier(f.svc)
		vnpt, viettel := f.operator("VNPT"), f.operator("VIETTEL")
		dept := auth.Actor{OrgID: f.orgID["DEPT"], OrgCode: "DEPT", OrgKind: auth.KindDepartment, Roles: []string{auth.RoleAuditor}}
		db.Root().Table("users").Where("org_id = ?", dept.OrgID).Limit(1).Pluck("id", &dept.UserID)

		total := 3
		tower, err := reg.Create(f.ctx, vnpt, registry.AssetInput{Code: "T-N", Kind: "tower", Lat: floatp(10.03), Lon: floatp(105.78),
			Capacity: &registry.CapacityInput{Total: &total}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := reg.Submit(f.ctx, viettel, registry.NewRequest{Purpose: "other", Technical: json.RawMessage(`{"description":"Cáp quang treo"}`),
			Items: []registry.RequestItemInput{{AssetID: tower.ID, Units: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			who auth.Actor
			a   registry.Action
		}{
			{vnpt, registry.Action{Action: "request_info", Reason: "Cần bản vẽ"}},
			{viettel, registry.Action{Action: "answer_info", Note: "Đã gửi"}},
			{vnpt, registry.Action{Action: "approve", OfferRentVND: int64p(30000000)}},
			{viettel, registry.Action{Action: "escalate", Reason: "Giá cao"}},
			{dept, registry.Action{Action: "resolve", Decision: "order_sharing", OfferRentVND: int64p(25000000), Reason: "Theo đơn giá"}},
			{viettel, registry.Action{Action: "accept"}},
			{viettel, registry.Action{Action: "activate"}},
			{vnpt, registry.Action{Action: "terminate", Reason: "Hết hợp đồng"}},
		}
		kinds := []string{"colocation.submitted"}
		for _, s := range steps {
			if _, err := reg.Act(f.ctx, s.who, r.ID, s.a); err != nil {
				t.Fatalf("%s: %v", s.a.Action, err)
			}
			kinds = append(kinds, "colocation."+s.a.Action)
		}
		for f.runOnce() > 0 {
		}
		mails := smtp.messages()
		if len(mails) != 2*len(kinds) {
			t.Fatalf("%d e-mails for %d transitions, want two each", len(mails), len(kinds))
		}
		to := map[string]int{}
		for _, m := range mails {
			pm := parseMail(t, m)
			to[pm.To]++
			if !strings.Contains(pm.Subject+pm.Body, r.Number) {
				t.Errorf("an e-mail does not name the request %s: %q", r.Number, pm.Subject)
			}
		}
		if to[f.orgEmail["VNPT"]] != len(kinds) || to[f.orgEmail["VIETTEL"]] != len(kinds) {
			t.Fatalf("e-mails by recipient %v", to)
		}
		hits := rcv.calls()
		if len(hits) != len(kinds) {
			t.Fatalf("%d webhook calls, want %d", len(hits), len(kinds))
		}
		// Deliveries go out in parallel: compare the kinds as a set.
		seen := map[string]bool{}
		got := map[string]int{}
		for i, h := range hits {
			if !notify.VerifySignature(hook.Secret, h.Header.Get(notify.HeaderTimestamp), h.Body, h.Header.Get(notify.HeaderSignature)) {
				t.Fatalf("call %d: the signature does not verify", i)
			}
			ev := decodeWire(t, h.Body)
			if ev.ObjectID != fmt.Sprint(r.ID) || seen[ev.ID] || h.Header.Get(notify.HeaderEventID) != ev.ID {
				t.Fatalf("call %d: %+v", i, ev)
			}
			seen[ev.ID] = true
			got[ev.Kind]++
		}
		for _, k := range kinds {
			if got[k] != 1 {
				t.Errorf("kind %s delivered %d times, want once (all: %v)", k, got[k], got)
			}
		}
	})
}

func floatp(v float64) *float64 { return &v }
func int64p(v int64) *int64     { return &v }
