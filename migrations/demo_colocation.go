package migrations

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/registry"
)

// demoColocationSeedName marks the co-location part of the demo.
const demoColocationSeedName = "demo.colocation"

// seedDemoColocation files requests between the demo operators in every
// state, through the register itself. Older requests are filed with a clock
// set back in time, so that deadlines have passed where the story needs it.
func seedDemoColocation(ctx context.Context, db *database.DB) error {
	actors := map[string]auth.Actor{}
	tx := db.Conn(ctx)
	for _, code := range []string{"VNPT", "VIETTEL", "MOBIFONE", "DEPT"} {
		var o auth.Organization
		if err := tx.Where("code = ?", code).First(&o).Error; err != nil {
			return err
		}
		var u auth.User
		if err := tx.Where("org_id = ?", o.ID).First(&u).Error; err != nil {
			return err
		}
		role := auth.RoleOperator
		if o.Kind == auth.KindDepartment {
			role = auth.RoleAuditor
		}
		actors[code] = auth.Actor{UserID: u.ID, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{role}}
	}
	// Free towers of each owner in Ninh Kiều and Cái Răng, nearest to the
	// centre first, so that the story happens where the officers are.
	towers := map[string][]int64{}
	for _, owner := range []string{"VNPT", "VIETTEL", "MOBIFONE"} {
		var ids []int64
		if err := tx.Table("assets").Where("owner_id = ? AND kind = 'tower' AND status = 'in_service' AND restricted = false AND unit_code IN ('916','919') AND capacity_total - reserved_units - active_units >= 1",
			actors[owner].OrgID).Order("id").Limit(20).Pluck("id", &ids).Error; err != nil {
			return err
		}
		towers[owner] = ids
	}
	now := time.Now().UTC()
	next := map[string]int{}
	take := func(owner string) (int64, error) {
		if next[owner] >= len(towers[owner]) {
			return 0, fmt.Errorf("demo: no free tower of %s left", owner)
		}
		id := towers[owner][next[owner]]
		next[owner]++
		return id, nil
	}
	bts := json.RawMessage(`{"antennas":[{"type":"Anten 4G/5G sector","count":3,"mount_height_m":36,"azimuths_deg":[0,120,240],"weight_kg":28,"wind_area_m2":0.45}],"power_kw":4,"ground_space_m2":3}`)
	type step struct {
		who string
		a   registry.Action
	}
	stories := []struct {
		requester, owner string
		daysAgo          int
		steps            []step
		sweep            bool
	}{
		{"VIETTEL", "VNPT", 2, nil, false},
		{"MOBIFONE", "VNPT", 5, []step{{"VNPT", registry.Action{Action: "request_info", Reason: "Đề nghị gửi bản vẽ gá lắp và tính toán tải trọng gió"}}}, false},
		{"VNPT", "VIETTEL", 6, []step{{"VIETTEL", registry.Action{Action: "approve", OfferRentVND: ptrInt64(42_000_000), Conditions: ptrString("Lắp đặt trong 60 ngày; dùng chung nguồn điện có công tơ riêng")}}}, false},
		{"MOBIFONE", "VIETTEL", 20, []step{{"VIETTEL", registry.Action{Action: "approve", OfferRentVND: ptrInt64(38_000_000)}}, {"MOBIFONE", registry.Action{Action: "accept"}}}, false},
		{"VIETTEL", "MOBIFONE", 60, []step{{"MOBIFONE", registry.Action{Action: "approve", OfferRentVND: ptrInt64(45_000_000)}}, {"VIETTEL", registry.Action{Action: "accept"}}, {"VIETTEL", registry.Action{Action: "activate"}}}, false},
		{"VNPT", "MOBIFONE", 90, []step{{"MOBIFONE", registry.Action{Action: "approve"}}, {"VNPT", registry.Action{Action: "accept"}}, {"VNPT", registry.Action{Action: "activate"}}, {"VNPT", registry.Action{Action: "terminate", Reason: "Di dời trạm theo quy hoạch"}}}, false},
		{"VIETTEL", "VNPT", 10, []step{{"VNPT", registry.Action{Action: "reject", ReasonCode: "structural", Reason: "Cột đã đủ tải, kiểm định năm 2024"}}}, false},
		{"MOBIFONE", "VNPT", 12, []step{{"VNPT", registry.Action{Action: "reject", ReasonCode: "planned_own_use", Reason: "Dành vị trí cho 5G của VNPT"}}, {"MOBIFONE", registry.Action{Action: "escalate", Reason: "Không có kế hoạch 5G được duyệt tại vị trí này"}}}, false},
		{"VNPT", "VIETTEL", 25, nil, true},
		{"MOBIFONE", "VIETTEL", 8, []step{{"MOBIFONE", registry.Action{Action: "withdraw", Reason: "Đã tìm được vị trí khác"}}}, false},
		{"VIETTEL", "MOBIFONE", 45, []step{{"MOBIFONE", registry.Action{Action: "approve", OfferRentVND: ptrInt64(40_000_000)}}}, true},
		{"VNPT", "VIETTEL", 40, []step{{"VIETTEL", registry.Action{Action: "reject", ReasonCode: "no_capacity", Reason: "Hết vị trí"}}, {"VNPT", registry.Action{Action: "escalate", Reason: "Cột còn 1 vị trí trống theo sổ đăng ký"}}, {"DEPT", registry.Action{Action: "resolve", Decision: "uphold", Reason: "Vị trí trống đã được đặt trước cho dự án điện"}}}, false},
	}
	for i, st := range stories {
		asset, err := take(st.owner)
		if err != nil {
			return err
		}
		clock := infrashare.NewTestClock(now.Add(-time.Duration(st.daysAgo) * 24 * time.Hour))
		reg := registry.NewService(db, clock, auth.NewAudit(db, clock), auth.NewSettings(db, clock), registry.NewUnits(db, clock))
		start := infrashare.DateOf(now.AddDate(0, 1, i))
		r, err := reg.Submit(ctx, actors[st.requester], registry.NewRequest{Purpose: "bts", Technical: bts, DesiredStart: &start,
			Items: []registry.RequestItemInput{{AssetID: asset, Units: 1}}})
		if err != nil {
			return fmt.Errorf("demo request %d: %w", i, err)
		}
		for _, s := range st.steps {
			clock.Advance(24 * time.Hour)
			if _, err := reg.Act(ctx, actors[s.who], r.ID, s.a); err != nil {
				return fmt.Errorf("demo request %d, %s: %w", i, s.a.Action, err)
			}
		}
	}
	// The deadlines that have passed by now turn requests overdue or
	// expired, as the sweeper would.
	clock := infrashare.SystemClock{}
	reg := registry.NewService(db, clock, auth.NewAudit(db, clock), auth.NewSettings(db, clock), registry.NewUnits(db, clock))
	_, err := reg.SweepDeadlines(ctx)
	return err
}

func ptrInt64(v int64) *int64    { return &v }
func ptrString(s string) *string { return &s }
