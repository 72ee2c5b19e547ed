package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/notify"
	"infrashare/registry"
)

var btsPayload = json.RawMessage(`{"antennas":[{"type":"RRU 4G 1800","count":3,"mount_height_m":38,"azimuths_deg":[0,120,240],"weight_kg":25,"wind_area_m2":0.4}],"power_kw":3.5,"ground_space_m2":4}`)

func (f *fixture) request(who string, assetID int64, units int) registry.RequestView {
	f.t.Helper()
	r, err := f.reg.Submit(dbtest.Context(f.t), f.actors[who], registry.NewRequest{
		Items: []registry.RequestItemInput{{AssetID: assetID, Units: units}}, Purpose: "bts", Technical: btsPayload,
		DesiredStart: datep("2026-12-15")})
	if err != nil {
		f.t.Fatalf("submit: %v", err)
	}
	return r
}

func (f *fixture) act(who string, id int64, a registry.Action) (registry.RequestView, error) {
	return f.reg.Act(dbtest.Context(f.t), f.actors[who], id, a)
}

func (f *fixture) mustAct(who string, id int64, a registry.Action) registry.RequestView {
	f.t.Helper()
	r, err := f.act(who, id, a)
	if err != nil {
		f.t.Fatalf("%s %s: %v", who, a.Action, err)
	}
	return r
}

func (f *fixture) capacity(id int64) registry.Capacity {
	f.t.Helper()
	v, err := f.reg.Get(dbtest.Context(f.t), f.actors["auditor"], id)
	if err != nil {
		f.t.Fatal(err)
	}
	return v.Capacity
}

var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// The story: Viettel asks for a slot on a VNPT tower, VNPT approves
// with a rent offer, Viettel accepts and activates, the free slots drop by
// one; terminating gives the slot back.
func TestColocationHappyPath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixtureAt(t, db, infrashare.NewTestClock(t0))
		tower := f.tower("vnpt", "T-1", 105.78, 10.03, 3)
		r := f.request("viettel", tower.ID, 1)
		if r.State != "submitted" || r.Owner.Code != "VNPT" || r.Requester.Code != "VIETTEL" || r.Number == "" {
			t.Fatalf("submitted %+v", r)
		}
		if want := t0.Add(15 * 24 * time.Hour); !r.ReplyDeadline.Equal(want) {
			t.Fatalf("reply deadline %v, want %v", r.ReplyDeadline, want)
		}
		if c := f.capacity(tower.ID); c.Free != 3 || c.Reserved != 0 {
			t.Fatalf("a submission reserves nothing: %+v", c)
		}
		r = f.mustAct("vnpt", r.ID, registry.Action{Action: "approve", OfferRentVND: int64p(42000000), Conditions: strp("Lắp đặt trước 30/6")})
		if r.State != "approved" || *r.OfferRentVND != 42000000 || r.AcceptDeadline == nil {
			t.Fatalf("approved %+v", r)
		}
		if c := f.capacity(tower.ID); c.Free != 2 || c.Reserved != 1 {
			t.Fatalf("after approval %+v", c)
		}
		r = f.mustAct("viettel", r.ID, registry.Action{Action: "accept"})
		r = f.mustAct("viettel", r.ID, registry.Action{Action: "activate"})
		if r.State != "active" {
			t.Fatalf("state %s", r.State)
		}
		if c := f.capacity(tower.ID); c.Free != 2 || c.Reserved != 0 || c.Active != 1 {
			t.Fatalf("after activation %+v", c)
		}
		allocs, _ := f.reg.Allocations(dbtest.Context(t), f.actors["viettel"], tower.ID)
		if len(allocs) != 1 || allocs[0].Purpose != "colocation" || allocs[0].Status != "active" || *allocs[0].RentVND != 42000000 {
			t.Fatalf("viettel's allocation %+v", allocs)
		}
		if len(r.Events) != 4 || r.Events[1].Action != "approve" || r.Events[1].Actor.Code != "VNPT" {
			t.Fatalf("timeline %+v", r.Events)
		}
		r = f.mustAct("vnpt", r.ID, registry.Action{Action: "terminate", Reason: "tháo dỡ theo thỏa thuận"})
		if c := f.capacity(tower.ID); r.State != "terminated" || c.Free != 3 || c.Active != 0 {
			t.Fatalf("after termination %s %+v", r.State, c)
		}
	})
}

func TestColocationRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixtureAt(t, db, infrashare.NewTestClock(t0))
		ctx := dbtest.Context(t)
		tower := f.tower("vnpt", "T-1", 105.78, 10.03, 2)
		other := f.tower("mobifone", "T-2", 105.79, 10.03, 2)
		mine := f.tower("viettel", "T-3", 105.77, 10.03, 2)

		submit := func(items []registry.RequestItemInput, purpose string, tech string) error {
			_, err := f.reg.Submit(ctx, f.actors["viettel"], registry.NewRequest{Items: items, Purpose: purpose, Technical: json.RawMessage(tech)})
			return err
		}
		one := []registry.RequestItemInput{{AssetID: tower.ID, Units: 1}}
		cases := []struct {
			name  string
			err   error
			code  string
			field string
		}{
			{"own asset", submit([]registry.RequestItemInput{{AssetID: mine.ID, Units: 1}}, "bts", string(btsPayload)), infrashare.EINVALID, "items[0].asset_id"},
			{"two owners", submit([]registry.RequestItemInput{{AssetID: tower.ID, Units: 1}, {AssetID: other.ID, Units: 1}}, "bts", string(btsPayload)), infrashare.EINVALID, "items[1].asset_id"},
			{"unknown asset", submit([]registry.RequestItemInput{{AssetID: 999999, Units: 1}}, "bts", string(btsPayload)), infrashare.EINVALID, "items[0].asset_id"},
			{"no technical", submit(one, "bts", ``), infrashare.EINVALID, "technical"},
			{"bts without antennas", submit(one, "bts", `{"power_kw":3}`), infrashare.EINVALID, "technical.antennas"},
			{"fiber payload for bts", submit(one, "bts", `{"cables":2,"cable_diameter_mm":12}`), infrashare.EINVALID, "technical.cables"},
			{"azimuth out of range", submit(one, "bts", `{"antennas":[{"type":"x","count":1,"azimuths_deg":[400]}]}`), infrashare.EINVALID, "technical.antennas[0].azimuths_deg[0]"},
			{"fiber without diameter", submit(one, "fiber", `{"cables":2}`), infrashare.EINVALID, "technical.cable_diameter_mm"},
			{"other without description", submit(one, "other", `{}`), infrashare.EINVALID, "technical.description"},
			{"junk purpose", submit(one, "picnic", `{}`), infrashare.EINVALID, "purpose"},
		}
		for _, c := range cases {
			e := wantCode(t, c.err, c.code)
			if e.Fields[c.field] == "" {
				t.Errorf("%s: fields %v, want %s", c.name, e.Fields, c.field)
			}
		}
		err := submit([]registry.RequestItemInput{{AssetID: tower.ID, Units: 3}}, "bts", string(btsPayload))
		e := wantCode(t, err, infrashare.ECONFLICT)
		if e.Details["free"] != 2 {
			t.Fatalf("more than free: %+v", e)
		}
		if err := submit(one, "fiber", `{"cables":2,"cable_diameter_mm":12.5,"tubes":1}`); err != nil {
			t.Fatal(err)
		}

		r := f.request("viettel", tower.ID, 1)
		// Wrong side: 403; wrong state: 409.
		_, err = f.act("viettel", r.ID, registry.Action{Action: "approve"})
		wantCode(t, err, infrashare.EFORBIDDEN)
		_, err = f.act("auditor", r.ID, registry.Action{Action: "approve"})
		wantCode(t, err, infrashare.EFORBIDDEN)
		_, err = f.act("viettel", r.ID, registry.Action{Action: "accept"})
		wantCode(t, err, infrashare.ECONFLICT)
		_, err = f.act("vnpt", r.ID, registry.Action{Action: "fly"})
		wantCode(t, err, infrashare.EINVALID)
		// A stranger does not see it at all.
		_, err = f.act("mobifone", r.ID, registry.Action{Action: "approve"})
		wantCode(t, err, infrashare.ENOTFOUND)
		_, err = f.reg.GetRequest(ctx, f.actors["mobifone"], r.ID)
		wantCode(t, err, infrashare.ENOTFOUND)
		// A rejection needs its reason.
		e = wantCode(t, func() error { _, err := f.act("vnpt", r.ID, registry.Action{Action: "reject"}); return err }(), infrashare.EINVALID)
		if e.Fields["reason_code"] == "" {
			t.Fatalf("%+v", e)
		}
		e = wantCode(t, func() error {
			_, err := f.act("vnpt", r.ID, registry.Action{Action: "reject", ReasonCode: "other"})
			return err
		}(), infrashare.EINVALID)
		if e.Fields["reason"] == "" {
			t.Fatalf("%+v", e)
		}
		r = f.mustAct("vnpt", r.ID, registry.Action{Action: "reject", ReasonCode: "structural", Reason: "Cột đã đủ tải trọng gió"})
		if r.State != "rejected" || r.ReasonCode != "structural" {
			t.Fatalf("rejected %+v", r)
		}
		// Lists: in and out, and the department sees all.
		in, _, _ := f.reg.ListRequests(ctx, f.actors["vnpt"], registry.RequestFilter{Box: "in"})
		out, _, _ := f.reg.ListRequests(ctx, f.actors["viettel"], registry.RequestFilter{Box: "out", States: []string{"rejected"}})
		none, _, _ := f.reg.ListRequests(ctx, f.actors["mobifone"], registry.RequestFilter{})
		all, _, _ := f.reg.ListRequests(ctx, f.actors["auditor"], registry.RequestFilter{})
		if len(in) != 2 || len(out) != 1 || len(none) != 0 || len(all) != 2 {
			t.Fatalf("lists: in %d, out %d, stranger %d, department %d", len(in), len(out), len(none), len(all))
		}
		// Comments from both sides and the department; not from a stranger.
		for _, who := range []string{"viettel", "vnpt", "auditor"} {
			if _, err := f.reg.Comment(ctx, f.actors[who], r.ID, "Ý kiến của "+who); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.reg.Comment(ctx, f.actors["mobifone"], r.ID, "xin chào")
		wantCode(t, err, infrashare.ENOTFOUND)
		got, _ := f.reg.GetRequest(ctx, f.actors["viettel"], r.ID)
		if len(got.Comments) != 3 || got.Comments[2].Author.Code != "DEPT" {
			t.Fatalf("comments %+v", got.Comments)
		}
	})
}

// Asking for information pauses the reply clock; an unanswered request
// turns overdue when the clock passes its deadline, is escalated, and the
// department orders sharing at a rent it sets.
func TestColocationDeadlinesAndDisputes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clock := infrashare.NewTestClock(t0)
		f := newFixtureAt(t, db, clock)
		ctx := dbtest.Context(t)
		tower := f.tower("vnpt", "T-1", 105.78, 10.03, 2)
		r := f.request("viettel", tower.ID, 1)
		clock.Advance(2 * 24 * time.Hour)
		r = f.mustAct("vnpt", r.ID, registry.Action{Action: "request_info", Reason: "Gửi bản vẽ gá lắp anten"})
		if !r.ClockPaused {
			t.Fatal("the clock does not show as paused")
		}
		clock.Advance(3 * 24 * time.Hour)
		r = f.mustAct("viettel", r.ID, registry.Action{Action: "answer_info", Note: "Đã gửi bản vẽ"})
		if want := t0.Add(18 * 24 * time.Hour); !r.ReplyDeadline.Equal(want) || r.State != "submitted" {
			t.Fatalf("deadline %v (state %s), want %v: 3 paused days added", r.ReplyDeadline, r.State, want)
		}
		// Not yet overdue at day 17; overdue at day 19.
		clock.Advance(12 * 24 * time.Hour)
		if n, err := f.reg.SweepDeadlines(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before the deadline: %d %v", n, err)
		}
		clock.Advance(2 * 24 * time.Hour)
		if n, err := f.reg.SweepDeadlines(ctx); err != nil || n != 1 {
			t.Fatalf("sweep after the deadline: %d %v", n, err)
		}
		if n, _ := f.reg.SweepDeadlines(ctx); n != 0 {
			t.Fatalf("a second sweep acted again: %d", n)
		}
		r, _ = f.reg.GetRequest(ctx, f.actors["viettel"], r.ID)
		if r.State != "overdue" {
			t.Fatalf("state %s", r.State)
		}
		overdue, _, _ := f.reg.ListRequests(ctx, f.actors["auditor"], registry.RequestFilter{Overdue: true})
		if len(overdue) != 1 {
			t.Fatalf("overdue list %d", len(overdue))
		}
		r = f.mustAct("viettel", r.ID, registry.Action{Action: "escalate", Reason: "VNPT không trả lời đúng hạn"})
		if r.State != "disputed" || r.DisputeKind != "overdue" {
			t.Fatalf("escalated %+v", r)
		}
		_, err := f.act("vnpt", r.ID, registry.Action{Action: "resolve", Decision: "order_sharing", Reason: "x"})
		wantCode(t, err, infrashare.EFORBIDDEN)
		_, err = f.act("auditor", r.ID, registry.Action{Action: "resolve", Decision: "order_sharing"})
		wantCode(t, err, infrashare.EINVALID)
		r = f.mustAct("auditor", r.ID, registry.Action{Action: "resolve", Decision: "order_sharing", OfferRentVND: int64p(30000000),
			Reason: "Theo Kế hoạch 216, cột còn chỗ trống phải dùng chung"})
		if r.State != "approved" || *r.OfferRentVND != 30000000 {
			t.Fatalf("resolved %+v", r)
		}
		if c := f.capacity(tower.ID); c.Reserved != 1 {
			t.Fatalf("order to share reserves: %+v", c)
		}
		// A dispute about terms keeps the reservation; upholding returns
		// to the offer; an order sets new terms without reserving twice.
		r = f.mustAct("viettel", r.ID, registry.Action{Action: "escalate", Reason: "Giá thuê cao"})
		if c := f.capacity(tower.ID); r.DisputeKind != "terms" || c.Reserved != 1 {
			t.Fatalf("terms dispute %+v %+v", r, c)
		}
		r = f.mustAct("auditor", r.ID, registry.Action{Action: "resolve", Decision: "uphold", Reason: "Giá hợp lý"})
		if r.State != "approved" || *r.OfferRentVND != 30000000 {
			t.Fatalf("upheld %+v", r)
		}
		r = f.mustAct("viettel", r.ID, registry.Action{Action: "escalate", Reason: "Giá vẫn cao"})
		r = f.mustAct("auditor", r.ID, registry.Action{Action: "resolve", Decision: "order_sharing", OfferRentVND: int64p(25000000), Reason: "Giảm giá"})
		if c := f.capacity(tower.ID); *r.OfferRentVND != 25000000 || c.Reserved != 1 {
			t.Fatalf("ordered terms %+v %+v", r, c)
		}
		// The acceptance deadline passes: expired, the slot comes back.
		clock.Advance(31 * 24 * time.Hour)
		if n, err := f.reg.SweepDeadlines(ctx); err != nil || n != 1 {
			t.Fatalf("expiry sweep %d %v", n, err)
		}
		r, _ = f.reg.GetRequest(ctx, f.actors["vnpt"], r.ID)
		if c := f.capacity(tower.ID); r.State != "expired" || c.Reserved != 0 || c.Free != 2 {
			t.Fatalf("expired %s %+v", r.State, c)
		}
		// A rejection upheld closes the request.
		r2 := f.request("viettel", tower.ID, 1)
		f.mustAct("vnpt", r2.ID, registry.Action{Action: "reject", ReasonCode: "planned_own_use", Reason: "Dành cho 5G"})
		f.mustAct("viettel", r2.ID, registry.Action{Action: "escalate", Reason: "Không có kế hoạch thực"})
		r2 = f.mustAct("auditor", r2.ID, registry.Action{Action: "resolve", Decision: "uphold", Reason: "Có kế hoạch được duyệt"})
		if r2.State != "closed" {
			t.Fatalf("upheld rejection: %s", r2.State)
		}
		// Withdrawing an approved request releases its reservation.
		r3 := f.request("viettel", tower.ID, 1)
		f.mustAct("vnpt", r3.ID, registry.Action{Action: "approve"})
		r3 = f.mustAct("viettel", r3.ID, registry.Action{Action: "withdraw"})
		if c := f.capacity(tower.ID); r3.State != "withdrawn" || c.Reserved != 0 {
			t.Fatalf("withdrawn %s %+v", r3.State, c)
		}
	})
}

// Twenty requests for the one free slot of a tower approved at the same
// moment: exactly one wins, nineteen get a conflict.
func TestTwentyApprovalsRaceForOneSlot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		tower := f.tower("vnpt", "T-RACE", 105.78, 10.03, 1)
		const n = 20
		ids := make([]int64, n)
		for i := range ids {
			who := []string{"viettel", "mobifone"}[i%2]
			ids[i] = f.request(who, tower.ID, 1).ID
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = f.reg.Act(ctx, f.actors["vnpt"], ids[i], registry.Action{Action: "approve"})
			}(i)
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case infrashare.ErrorCode(err) == infrashare.ECONFLICT:
				lost++
			default:
				t.Errorf("unexpected error %v", err)
			}
		}
		c := f.capacity(tower.ID)
		var approved int64
		db.Root().Table("colocation_requests").Where("state = 'approved'").Count(&approved)
		if won != 1 || lost != n-1 || c.Reserved != 1 || c.Free != 0 || approved != 1 {
			t.Fatalf("won %d, lost %d, capacity %+v, approved rows %d", won, lost, c, approved)
		}
	})
}

// A transition can never happen twice: two accepts at once, one wins.
func TestTransitionHappensOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		tower := f.tower("vnpt", "T-1", 105.78, 10.03, 3)
		r := f.request("viettel", tower.ID, 1)
		f.mustAct("vnpt", r.ID, registry.Action{Action: "approve"})
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = f.act("viettel", r.ID, registry.Action{Action: "accept"})
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if infrashare.ErrorCode(err) != infrashare.ECONFLICT {
				t.Errorf("unexpected %v", err)
			}
		}
		var events int64
		db.Root().Table("colocation_events").Where("request_id = ? AND action = 'accept'", r.ID).Count(&events)
		if ok != 1 || events != 1 {
			t.Fatalf("%d accepts succeeded, %d accept events", ok, events)
		}
	})
}

// recorder is a notifier that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []notify.Event
}

func (r *recorder) Enqueue(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

// Three days before the reply deadline both parties get one reminder.
func TestReminderBeforeTheDeadline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clock := infrashare.NewTestClock(t0)
		f := newFixtureAt(t, db, clock)
		rec := &recorder{}
		f.reg.SetNotifier(rec)
		ctx := dbtest.Context(t)
		tower := f.tower("vnpt", "T-1", 105.78, 10.03, 2)
		r := f.request("viettel", tower.ID, 1)
		clock.Advance(11 * 24 * time.Hour) // four days left: no reminder yet
		if _, err := f.reg.SweepDeadlines(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(rec.kinds()); got != "[colocation.submitted]" {
			t.Fatalf("events %s", got)
		}
		clock.Advance(24 * time.Hour) // three days left
		for i := 0; i < 2; i++ {
			if _, err := f.reg.SweepDeadlines(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := fmt.Sprint(rec.kinds()); got != "[colocation.submitted colocation.reminder]" {
			t.Fatalf("events %s, want one reminder", got)
		}
		last := rec.events[len(rec.events)-1]
		if last.ObjectID != fmt.Sprint(r.ID) || len(last.OrgIDs) != 2 {
			t.Fatalf("reminder %+v", last)
		}
	})
}
