package gen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
	"infrashare/registry"
)

// The co-location requests and permit applications go through the
// services, on clocks set back from the as-of day, so that their timelines,
// deadlines, reservations, allocations and audit events are the services'
// own. Deadlines that passed by the as-of day are swept as the server's
// sweeper would.

// story is a request's path to its final state (DESIGN §2): the actions in
// order, who takes each, and how many days before the as-of day it was
// filed (a range, so that deadlines pass only where the state needs it).
type story struct {
	state            string
	minDays, maxDays int
	steps            []step
}

type step struct {
	side string // requester, owner or department
	a    registry.Action
}

func ptr[T any](v T) *T { return &v }

var stories = []story{
	{registry.StateSubmitted, 1, 12, nil},
	{registry.StateInfoRequested, 3, 12, []step{{"owner", registry.Action{Action: "request_info", Reason: "Đề nghị gửi bản vẽ gá lắp và tính toán tải trọng gió"}}}},
	{registry.StateApproved, 3, 25, []step{{"owner", registry.Action{Action: "approve", OfferRentVND: ptr(int64(42_000_000)), Conditions: ptr("Lắp đặt trong 60 ngày; công tơ điện riêng")}}}},
	{registry.StateAgreed, 5, 120, []step{{"owner", registry.Action{Action: "approve", OfferRentVND: ptr(int64(38_000_000))}}, {"requester", registry.Action{Action: "accept"}}}},
	{registry.StateActive, 10, 700, []step{{"owner", registry.Action{Action: "approve", OfferRentVND: ptr(int64(45_000_000))}}, {"requester", registry.Action{Action: "accept"}}, {"requester", registry.Action{Action: "activate"}}}},
	{registry.StateTerminated, 60, 900, []step{{"owner", registry.Action{Action: "approve"}}, {"requester", registry.Action{Action: "accept"}}, {"requester", registry.Action{Action: "activate"}}, {"requester", registry.Action{Action: "terminate", Reason: "Di dời trạm theo quy hoạch"}}}},
	{registry.StateRejected, 3, 200, []step{{"owner", registry.Action{Action: "reject", ReasonCode: "structural", Reason: "Cột đã đủ tải theo kiểm định"}}}},
	{registry.StateDisputed, 5, 60, []step{{"owner", registry.Action{Action: "reject", ReasonCode: "planned_own_use", Reason: "Dành vị trí cho 5G của chủ sở hữu"}}, {"requester", registry.Action{Action: "escalate", Reason: "Không có kế hoạch 5G được duyệt tại vị trí này"}}}},
	{registry.StateOverdue, 17, 90, nil},
	{registry.StateWithdrawn, 2, 300, []step{{"requester", registry.Action{Action: "withdraw", Reason: "Đã tìm được vị trí khác"}}}},
	{registry.StateExpired, 33, 200, []step{{"owner", registry.Action{Action: "approve", OfferRentVND: ptr(int64(40_000_000))}}}},
	{registry.StateClosed, 10, 300, []step{{"owner", registry.Action{Action: "reject", ReasonCode: "no_capacity", Reason: "Hết vị trí"}}, {"requester", registry.Action{Action: "escalate", Reason: "Sổ đăng ký còn vị trí trống"}}, {"department", registry.Action{Action: "resolve", Decision: "uphold", Reason: "Vị trí trống đã được đặt trước"}}}},
	{registry.StateApproved, 8, 30, []step{{"owner", registry.Action{Action: "reject", ReasonCode: "safety", Reason: "Chưa kiểm định an toàn"}}, {"requester", registry.Action{Action: "escalate", Reason: "Kiểm định đã có từ 2024"}}, {"department", registry.Action{Action: "resolve", Decision: "order_sharing", Reason: "Kiểm định còn hiệu lực", OfferRentVND: ptr(int64(36_000_000))}}}},
}

// requestCount is how many requests a data set of n assets gets: one per
// 1,000 assets, at least one of every story.
func requestCount(n int) int { return max(len(stories), n/1000) }

var requestParties = []uint8{oVNPT, oViettel, oMobifone} // the operators with demo accounts

var btsTechnical = json.RawMessage(`{"antennas":[{"type":"Anten 4G/5G sector","count":3,"mount_height_m":36,"azimuths_deg":[0,120,240],"weight_kg":28,"wind_area_m2":0.45}],"power_kw":4,"ground_space_m2":3}`)
var fiberTechnical = json.RawMessage(`{"cables":1,"cable_diameter_mm":14,"tubes":1}`)

// requests files the co-location requests. A bts request asks for a slot
// on a tower of the owner; every third is a fiber request for a tube along
// up to four consecutive segments of one of the owner's duct routes.
func (g *generator) requests(ctx context.Context, sum *Summary) error {
	n := requestCount(len(g.skels))
	rng := g.rng(streamRequests, 0)
	// Candidates by owner, in a shuffled but fixed order.
	towers := map[uint8][]int32{}
	routes := map[uint8][][]int32{}
	var curRoute int32 = -1
	for i := range g.skels {
		s := &g.skels[i]
		if s.status != sInService {
			continue
		}
		switch {
		case s.kind == kTower && !s.restricted && s.free() >= 1:
			towers[s.owner] = append(towers[s.owner], int32(i))
		case s.kind == kDuct && s.free() >= 1:
			if s.route != curRoute || len(routes[s.owner]) == 0 {
				routes[s.owner] = append(routes[s.owner], nil)
				curRoute = s.route
			}
			r := routes[s.owner]
			if len(r[len(r)-1]) < 4 {
				r[len(r)-1] = append(r[len(r)-1], int32(i))
			}
		}
	}
	for _, o := range requestParties {
		rng.Shuffle(len(towers[o]), func(a, b int) { towers[o][a], towers[o][b] = towers[o][b], towers[o][a] })
		rng.Shuffle(len(routes[o]), func(a, b int) { routes[o][a], routes[o][b] = routes[o][b], routes[o][a] })
	}
	type filing struct {
		st                 story
		requester, owner   uint8
		items              []registry.RequestItemInput
		purpose            string
		daysAgo, hourOfDay int
	}
	var filings []filing
	for k := 0; k < n; k++ {
		st := stories[k%len(stories)]
		req := requestParties[rng.IntN(len(requestParties))]
		own := requestParties[(int(req)+1+rng.IntN(len(requestParties)-1))%len(requestParties)]
		f := filing{st: st, requester: req, owner: own, daysAgo: st.minDays + rng.IntN(st.maxDays-st.minDays+1), hourOfDay: 1 + rng.IntN(9)}
		if k%3 == 2 && len(routes[own]) > 0 {
			r := routes[own][0]
			routes[own] = routes[own][1:]
			f.purpose = "fiber"
			for _, a := range r {
				f.items = append(f.items, registry.RequestItemInput{AssetID: g.assetID(int(a)), Units: 1})
			}
		} else if len(towers[own]) > 0 {
			f.purpose = "bts"
			f.items = []registry.RequestItemInput{{AssetID: g.assetID(int(towers[own][0])), Units: 1}}
			towers[own] = towers[own][1:]
		} else {
			continue // the owner has no free tower left (a small data set)
		}
		filings = append(filings, f)
	}
	// Oldest first, so that the audit log runs forward in time as far as
	// it can.
	sort.SliceStable(filings, func(a, b int) bool { return filings[a].daysAgo > filings[b].daysAgo })
	t := time.Now()
	for k, f := range filings {
		at := g.now.Add(-time.Duration(f.daysAgo)*24*time.Hour + time.Duration(f.hourOfDay-4)*time.Hour)
		clock := infrashare.NewTestClock(at)
		audit, settings := auth.NewAudit(g.db, clock), auth.NewSettings(g.db, clock)
		reg := registry.NewService(g.db, clock, audit, settings, g.units)
		start := infrashare.DateOf(at.AddDate(0, 1, 0))
		tech := btsTechnical
		if f.purpose == "fiber" {
			tech = fiberTechnical
		}
		req := g.actor(ownerCodes[f.requester])
		r, err := reg.Submit(ctx, req, registry.NewRequest{Purpose: f.purpose, Technical: tech, DesiredStart: &start, Items: f.items})
		if err != nil {
			return fmt.Errorf("request %d: %w", k, err)
		}
		// The steps fit inside the story's time: a day apart, or closer
		// when it was filed only days ago.
		gap := 24 * time.Hour
		if len(f.st.steps) > 0 {
			gap = min(gap, time.Duration(f.daysAgo)*24*time.Hour/time.Duration(len(f.st.steps)+1))
		}
		for _, s := range f.st.steps {
			clock.Advance(gap)
			who := req
			switch s.side {
			case "owner":
				who = g.actor(ownerCodes[f.owner])
			case "department":
				who = g.actor("DEPT")
			}
			if _, err := reg.Act(ctx, who, r.ID, s.a); err != nil {
				return fmt.Errorf("request %s, %s: %w", r.Number, s.a.Action, err)
			}
		}
		if (k+1)%250 == 0 {
			g.progress.logf("gen: co-location requests %d/%d (%.0f/s)", k+1, len(filings), float64(k+1)/time.Since(t).Seconds())
		}
	}
	// Deadlines passed by the as-of day: overdue and expired, as the
	// sweeper decides them.
	clock := infrashare.NewTestClock(g.now)
	reg := registry.NewService(g.db, clock, auth.NewAudit(g.db, clock), auth.NewSettings(g.db, clock), g.units)
	for {
		changed, err := reg.SweepDeadlines(ctx)
		if err != nil {
			return err
		}
		if changed == 0 {
			break
		}
	}
	var states []struct {
		State string
		N     int
	}
	if err := g.db.Conn(ctx).Table("colocation_requests").Select("state, count(*) AS n").Group("state").Scan(&states).Error; err != nil {
		return err
	}
	for _, s := range states {
		sum.RequestStates[s.State] = s.N
		sum.Requests += s.N
	}
	return nil
}

// permitCount is how many applications a data set of n assets gets.
func permitCount(n int) int { return min(max(12, n/5000), 200) }

// permitStories are the applications' paths: officers of the district's
// authority decide; the applicant withdraws or resubmits.
var permitStories = []struct {
	class string
	steps []permits.PermitAction
}{
	{"A2b", nil},
	{"A2c", []permits.PermitAction{{Action: "approve", DossierCode: "000.00.15.H13-"}}},
	{"A2a", []permits.PermitAction{{Action: "return", Reason: "Thiếu bản sao giấy chứng nhận quyền sử dụng đất"}}},
	{"A2d", []permits.PermitAction{{Action: "reject", Reason: "Vị trí nằm trong hành lang an toàn giao thông"}}},
	{"A1a", nil}, // permit-exempt: an exempt notification
	{"A2b", []permits.PermitAction{{Action: "withdraw", Reason: "Đổi vị trí"}}},
	{"A2b", []permits.PermitAction{{Action: "return", Reason: "Bản vẽ chưa đóng dấu"}, {Action: "resubmit"}, {Action: "approve"}}},
}

// permitDistricts have an authority in the demo: Ninh Kiều and Cái Răng.
var permitDistricts = []struct {
	unit, authority string
	lat, lon        float64
}{{"916", "UBND-NK", 10.0310, 105.7680}, {"919", "UBND-CR", 9.9990, 105.7780}}

// permits files the applications through the service: the sharing check
// runs, and each candidate it finds is justified.
func (g *generator) permits(ctx context.Context, sum *Summary) error {
	n := permitCount(len(g.skels))
	rng := g.rng(streamPermits, 0)
	t := time.Now()
	for k := 0; k < n; k++ {
		ps := permitStories[k%len(permitStories)]
		d := permitDistricts[rng.IntN(len(permitDistricts))]
		applicant := g.actor(ownerCodes[requestParties[rng.IntN(len(requestParties))]])
		officer := g.actor(d.authority)
		daysAgo := 2 + rng.IntN(120)
		at := g.now.Add(-time.Duration(daysAgo) * 24 * time.Hour)
		clock := infrashare.NewTestClock(at)
		audit, settings := auth.NewAudit(g.db, clock), auth.NewSettings(g.db, clock)
		reg := registry.NewService(g.db, clock, audit, settings, g.units)
		svc := permits.New(g.db, clock, audit, settings, reg, g.units)
		lat, lon := offset(rng, d.lat, d.lon, 1.2)
		loc := &permits.Location{Lat: round6(lat), Lon: round6(lon)}
		height := float64(30 + rng.IntN(16))
		check, err := svc.Check(ctx, applicant, permits.CheckQuery{StructureKind: "tower", HeightM: height, Location: loc, UnitCode: d.unit})
		if err != nil {
			return fmt.Errorf("permit %d, check: %w", k, err)
		}
		justs := make([]permits.Justification, 0, len(check.Candidates))
		for _, c := range check.Candidates {
			reason, text := "coverage", "Không đáp ứng vùng phủ sóng cần thiết cho trạm mới"
			if c.Asset.HeightM != nil && *c.Asset.HeightM < height {
				reason, text = "height", fmt.Sprintf("Cột cao %.0f m, cần %.0f m", *c.Asset.HeightM, height)
			}
			justs = append(justs, permits.Justification{AssetID: c.Asset.ID, ReasonCode: reason, Text: text})
		}
		p, err := svc.Submit(ctx, applicant, permits.NewPermit{StructureKind: "tower", Class: ps.class, HeightM: height, Location: loc,
			UnitCode: d.unit, Address: fmt.Sprintf("Số %d %s, %s", 1+rng.IntN(300), streets[rng.IntN(len(streets))], d.authority),
			Purpose: "Trạm BTS mới phục vụ vùng phủ 4G/5G", Justifications: justs})
		if err != nil {
			return fmt.Errorf("permit %d, submit: %w", k, err)
		}
		for _, a := range ps.steps {
			clock.Advance(time.Duration(1+int(math.Min(float64(daysAgo/4), 5))) * 24 * time.Hour)
			who := officer
			if a.Action == "withdraw" || a.Action == "resubmit" {
				who = applicant
			}
			if a.DossierCode != "" {
				a.DossierCode = fmt.Sprintf("%s%06d", a.DossierCode, k+1)
			}
			if _, err := svc.Act(ctx, who, p.ID, a); err != nil {
				return fmt.Errorf("permit %s, %s: %w", p.Number, a.Action, err)
			}
		}
	}
	var states []struct {
		State string
		N     int
	}
	if err := g.db.Conn(ctx).Table("permits").Select("state, count(*) AS n").Group("state").Scan(&states).Error; err != nil {
		return err
	}
	for _, s := range states {
		sum.PermitStates[s.State] = s.N
		sum.Permits += s.N
	}
	g.progress.logf("gen: %d permit applications in %s", n, time.Since(t).Round(time.Millisecond))
	return nil
}
