package permits_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/permits"
	"infrashare/registry"
)

// pfix is a seeded database with the register and the permit service on a
// test clock.
type pfix struct {
	t      *testing.T
	db     *database.DB
	clock  *infrashare.TestClock
	reg    *registry.Service
	svc    *permits.Service
	actors map[string]auth.Actor
}

// monday 2 March 2026, 09:00 in Can Tho.
var monday = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func newPfix(t *testing.T, db *database.DB) *pfix {
	t.Helper()
	ctx := dbtest.Context(t)
	if _, err := migrations.SeedDemoAccounts(ctx, db, "demo-password-1"); err != nil {
		t.Fatal(err)
	}
	clock := infrashare.NewTestClock(monday)
	audit := auth.NewAudit(db, clock)
	settings := auth.NewSettings(db, clock)
	units := registry.NewUnits(db, clock)
	reg := registry.NewService(db, clock, audit, settings, units)
	f := &pfix{t: t, db: db, clock: clock, reg: reg, svc: permits.New(db, clock, audit, settings, reg, units), actors: map[string]auth.Actor{}}
	for name, c := range map[string]struct{ org, role string }{
		"vnpt": {"VNPT", auth.RoleOperator}, "viettel": {"VIETTEL", auth.RoleOperator}, "mobifone": {"MOBIFONE", auth.RoleOperator},
		"officerNK": {"UBND-NK", auth.RoleOfficer}, "officerCR": {"UBND-CR", auth.RoleOfficer}, "auditor": {"DEPT", auth.RoleAuditor},
	} {
		var o auth.Organization
		if err := db.Root().Where("code = ?", c.org).First(&o).Error; err != nil {
			t.Fatal(err)
		}
		var uid int64
		db.Root().Table("users").Where("org_id = ?", o.ID).Limit(1).Pluck("id", &uid)
		f.actors[name] = auth.Actor{UserID: uid, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{c.role}}
	}
	return f
}

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

func (f *pfix) tower(who, code string, lat, lon, height float64, slots int, inService string) registry.AssetView {
	f.t.Helper()
	d := infrashare.MustDate(inService)
	v, err := f.reg.Create(dbtest.Context(f.t), f.actors[who], registry.AssetInput{Code: code, Kind: "tower",
		Geometry: json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, lon, lat)), HeightM: fp(height),
		UnitCode: "916", InServiceOn: &d, Capacity: &registry.CapacityInput{Total: ip(slots)}})
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func code(err error) string { return infrashare.ErrorCode(err) }

// The story: a new tower 80 m from a VNPT tower with a free slot is
// refused without a justification and accepted with one; the Ninh Kiều
// officer approves it with a permit number; the Cái Răng officer cannot see
// it.
func TestPermitWithSharingCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		vnptTower := f.tower("vnpt", "CT-NK-1", 10.0300, 105.7800, 40, 3, "2015-05-01")
		f.tower("vnpt", "CT-NK-LOW", 10.0301, 105.7801, 12, 3, "2015-05-01")     // too low: not a candidate
		f.tower("mobifone", "CT-NK-FAR", 10.0330, 105.7800, 40, 3, "2015-05-01") // ≈ 330 m: outside the urban 100 m
		// 0.00072° of latitude ≈ 80 m north.
		in := permits.NewPermit{StructureKind: "tower", Class: "A2b", HeightM: 42,
			Location: &permits.Location{Lat: 10.03072, Lon: 105.7800}, UnitCode: "916",
			Address: "Hẻm 51, đường 3/2, Ninh Kiều", Purpose: "Trạm BTS 4G/5G phủ sóng khu dân cư"}
		_, err := f.svc.Submit(ctx, f.actors["viettel"], in)
		if code(err) != infrashare.EINVALID {
			t.Fatalf("without a justification: %v", err)
		}
		e := err.(*infrashare.Error)
		cands, _ := e.Details["candidates"].([]permits.Candidate)
		if len(cands) != 1 || cands[0].Asset.ID != vnptTower.ID || cands[0].Free != 3 || cands[0].DistanceM < 75 || cands[0].DistanceM > 85 {
			t.Fatalf("candidates %+v", e.Details["candidates"])
		}
		var n int64
		db.Root().Table("permits").Count(&n)
		if n != 0 {
			t.Fatal("a refused application was written")
		}
		// A refusal must cite a real refused request of the applicant.
		in.Justifications = []permits.Justification{{AssetID: vnptTower.ID, ReasonCode: "refused", Text: "VNPT từ chối"}}
		_, err = f.svc.Submit(ctx, f.actors["viettel"], in)
		if e, ok := err.(*infrashare.Error); !ok || e.Fields[fmt.Sprintf("justifications[%d].colocation_request_id", vnptTower.ID)] == "" {
			t.Fatalf("refused without a request: %v", err)
		}
		in.Justifications = []permits.Justification{{AssetID: vnptTower.ID, ReasonCode: "coverage",
			Text: "Cột của VNPT ở phía nam, không phủ được khu dân cư mới"}, {AssetID: 999999, ReasonCode: "other", Text: "ignored"}}
		p, err := f.svc.Submit(ctx, f.actors["viettel"], in)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != "submitted" || p.Authority.Code != "UBND-NK" || len(p.SharingCheck.Candidates) != 1 || p.SharingCheck.RadiusM != 100 || len(p.Justifications) != 1 {
			t.Fatalf("filed %+v", p)
		}
		// 20 working days from Monday 2 March 2026: no holiday in between.
		if p.DecisionDeadline == nil || p.DecisionDeadline.String() != "2026-03-30" {
			t.Fatalf("decision deadline %v", p.DecisionDeadline)
		}
		_, err = f.svc.Get(ctx, f.actors["officerCR"], p.ID)
		if code(err) != infrashare.ENOTFOUND {
			t.Fatalf("the Cái Răng officer sees it: %v", err)
		}
		_, err = f.svc.Act(ctx, f.actors["officerCR"], p.ID, permits.PermitAction{Action: "approve"})
		if code(err) != infrashare.ENOTFOUND {
			t.Fatalf("the Cái Răng officer acts: %v", err)
		}
		list, _, _ := f.svc.List(ctx, f.actors["officerCR"], permits.PermitFilter{})
		if len(list) != 0 {
			t.Fatal("the Cái Răng queue shows it")
		}
		_, err = f.svc.Act(ctx, f.actors["viettel"], p.ID, permits.PermitAction{Action: "approve"})
		if code(err) != infrashare.EFORBIDDEN {
			t.Fatalf("the applicant approves: %v", err)
		}
		p, err = f.svc.Act(ctx, f.actors["officerNK"], p.ID, permits.PermitAction{Action: "approve", DossierCode: "000.00.25.H13-260302-0001"})
		if err != nil || p.State != "approved" || p.PermitNo != "UBND-NK-2026-0001" || p.DossierCode == "" {
			t.Fatalf("approved %+v %v", p, err)
		}
		_, err = f.svc.Act(ctx, f.actors["officerNK"], p.ID, permits.PermitAction{Action: "reject", Reason: "x"})
		if code(err) != infrashare.ECONFLICT {
			t.Fatalf("deciding twice: %v", err)
		}
		// The officer's own number is kept.
		in.Location = &permits.Location{Lat: 10.05, Lon: 105.75}
		p2, err := f.svc.Submit(ctx, f.actors["viettel"], in)
		if err != nil {
			t.Fatal(err)
		}
		p2, _ = f.svc.Act(ctx, f.actors["officerNK"], p2.ID, permits.PermitAction{Action: "approve", PermitNo: "123/GPXD-UBND"})
		if p2.PermitNo != "123/GPXD-UBND" {
			t.Fatalf("permit no %q", p2.PermitNo)
		}
	})
}

func TestPermitReturnExemptAndRefusal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		tower := f.tower("vnpt", "CT-NK-1", 10.0300, 105.7800, 40, 1, "2015-05-01")
		// Viettel asked VNPT for the slot and was refused.
		r, err := f.reg.Submit(ctx, f.actors["viettel"], registry.NewRequest{Purpose: "other", Technical: json.RawMessage(`{"description":"BTS"}`),
			Items: []registry.RequestItemInput{{AssetID: tower.ID, Units: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		in := permits.NewPermit{StructureKind: "tower", Class: "A2a", HeightM: 40, Location: &permits.Location{Lat: 10.0303, Lon: 105.7800},
			UnitCode: "916", Purpose: "BTS",
			Justifications: []permits.Justification{{AssetID: tower.ID, ReasonCode: "refused", Text: "VNPT từ chối", ColocationRequestID: &r.ID}}}
		if _, err := f.svc.Submit(ctx, f.actors["viettel"], in); code(err) != infrashare.EINVALID {
			t.Fatalf("a request still open is not a refusal: %v", err)
		}
		if _, err := f.reg.Act(ctx, f.actors["vnpt"], r.ID, registry.Action{Action: "reject", ReasonCode: "planned_own_use", Reason: "5G"}); err != nil {
			t.Fatal(err)
		}
		// Another operator cannot cite Viettel's request.
		if _, err := f.svc.Submit(ctx, f.actors["mobifone"], in); code(err) != infrashare.EINVALID {
			t.Fatalf("citing another's request: %v", err)
		}
		p, err := f.svc.Submit(ctx, f.actors["viettel"], in)
		if err != nil {
			t.Fatal(err)
		}
		// Returned on Wednesday 4 March with 18 working days left; resubmitted
		// a week later: the deadline moves by the paused time.
		f.clock.Advance(2 * 24 * time.Hour)
		p, err = f.svc.Act(ctx, f.actors["officerNK"], p.ID, permits.PermitAction{Action: "return", Reason: "Thiếu giấy tờ đất"})
		if err != nil || p.State != "returned" {
			t.Fatalf("return %v %v", p.State, err)
		}
		if _, err := f.svc.Act(ctx, f.actors["officerNK"], p.ID, permits.PermitAction{Action: "return"}); code(err) != infrashare.ECONFLICT {
			t.Fatalf("return twice: %v", err)
		}
		f.clock.Advance(7 * 24 * time.Hour)
		p, err = f.svc.Act(ctx, f.actors["viettel"], p.ID, permits.PermitAction{Action: "resubmit"})
		if err != nil || p.State != "submitted" {
			t.Fatalf("resubmit %+v %v", p, err)
		}
		// From Wednesday 11 March, 18 working days: 6 April 2026.
		if p.DecisionDeadline.String() != "2026-04-06" {
			t.Fatalf("deadline after the pause %v", p.DecisionDeadline)
		}
		p, err = f.svc.Act(ctx, f.actors["viettel"], p.ID, permits.PermitAction{Action: "withdraw"})
		if err != nil || p.State != "withdrawn" {
			t.Fatalf("withdraw %v %v", p.State, err)
		}
		// A non-bulky A1 class is an exempt notification after the same check.
		ex := permits.NewPermit{StructureKind: "pole", Class: "A1a", HeightM: 6, Location: &permits.Location{Lat: 10.0400, Lon: 105.7600},
			UnitCode: "916", Purpose: "Cột anten trên mái"}
		e, err := f.svc.Submit(ctx, f.actors["vnpt"], ex)
		if err != nil || e.State != "exempt" || e.DecisionDeadline != nil {
			t.Fatalf("exempt %+v %v", e, err)
		}
		// No authority for a unit outside every jurisdiction.
		ex.UnitCode, ex.Location = "927", &permits.Location{Lat: 10.06, Lon: 105.56}
		if _, err := f.svc.Submit(ctx, f.actors["vnpt"], ex); code(err) != infrashare.EINVALID {
			t.Fatalf("no authority: %v", err)
		}
	})
}

func TestBTSClassificationAndRatio(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		old := f.tower("vnpt", "OLD", 10.03, 105.78, 40, 3, "2015-01-01")
		fresh := f.tower("vnpt", "NEW", 10.04, 105.78, 40, 3, "2025-03-01")
		log := func(who, station, onAir string, asset int64) (permits.DeploymentView, error) {
			d := infrashare.MustDate(onAir)
			return f.svc.LogDeployment(ctx, f.actors[who], permits.NewDeployment{StationCode: station, Technologies: []string{"4G", "5G"},
				OnAirOn: &d, MountedOnAssetID: &asset})
		}
		d, err := log("vnpt", "VNPT-1", "2025-06-01", old.ID)
		if err != nil || d.Classification != "own_existing" {
			t.Fatalf("own pre-existing: %+v %v", d, err)
		}
		d, err = log("vnpt", "VNPT-2", "2025-06-01", fresh.ID)
		if err != nil || d.Classification != "new_structure" {
			t.Fatalf("within the window: %+v %v", d, err)
		}
		// Viettel on VNPT's old tower without an allocation: refused.
		if _, err := log("viettel", "VT-1", "2025-06-01", old.ID); code(err) != infrashare.EINVALID {
			t.Fatalf("shared without an allocation: %v", err)
		}
		if _, err := f.reg.Allocate(ctx, f.actors["vnpt"], old.ID, registry.AllocationInput{Units: 1, Purpose: "existing", Tenant: "VIETTEL",
			ContractRef: "TTCS-2020/001"}); err != nil {
			t.Fatal(err)
		}
		d, err = log("viettel", "VT-1", "2025-06-01", old.ID)
		if err != nil || d.Classification != "shared" {
			t.Fatalf("shared: %+v %v", d, err)
		}
		if _, err := log("viettel", "VT-1", "2025-07-01", old.ID); code(err) != infrashare.ECONFLICT {
			t.Fatalf("the same station twice: %v", err)
		}
		for _, bad := range []permits.NewDeployment{{StationCode: "X", Technologies: []string{"6G"}}, {StationCode: "", Technologies: []string{"4G"}}} {
			if _, err := f.svc.LogDeployment(ctx, f.actors["viettel"], bad); code(err) != infrashare.EINVALID {
				t.Fatalf("bad input %+v: %v", bad, err)
			}
		}
		// Only the department reclassifies, with a reason.
		if _, err := f.svc.Reclassify(ctx, f.actors["vnpt"], d.ID, permits.Reclassification{Classification: "own_existing", Reason: "x"}); code(err) != infrashare.EFORBIDDEN {
			t.Fatalf("operator reclassifies: %v", err)
		}
		if _, err := f.svc.Reclassify(ctx, f.actors["auditor"], d.ID, permits.Reclassification{Classification: "own_existing"}); code(err) != infrashare.EINVALID {
			t.Fatalf("reclassify without a reason: %v", err)
		}
		// 2025: 3 stations, 1 shared → strict 1/3, broad 2/3, target 0.40.
		rep, err := f.svc.SharingRatio(ctx, f.actors["auditor"], permits.RatioQuery{From: infrashare.MustDate("2025-01-01"), To: infrashare.MustDate("2025-12-31")})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 1 {
			t.Fatalf("rows %+v", rep.Rows)
		}
		r := rep.Rows[0]
		if r.Total != 3 || r.Shared != 1 || r.OwnExisting != 1 || r.NewStructure != 1 || *r.Ratio != 0.3333 || *r.RatioBroad != 0.6667 ||
			*r.Target != 0.40 || *r.Gap != 0.0667 || r.TargetYear != 2025 || r.Records == "" {
			t.Fatalf("2025 row %+v", r)
		}
		// An operator sees its own figures only.
		mine, _ := f.svc.SharingRatio(ctx, f.actors["viettel"], permits.RatioQuery{From: infrashare.MustDate("2025-01-01"), To: infrashare.MustDate("2025-12-31"), GroupBy: "operator"})
		if len(mine.Rows) != 1 || mine.Rows[0].Group.Code != "VIETTEL" || mine.Rows[0].Total != 1 {
			t.Fatalf("viettel's report %+v", mine.Rows)
		}
		if _, err := f.svc.SharingRatio(ctx, f.actors["officerNK"], permits.RatioQuery{}); code(err) != infrashare.EFORBIDDEN {
			t.Fatalf("an officer reads the ratio: %v", err)
		}
		if _, err := f.svc.SharingRatio(ctx, f.actors["auditor"], permits.RatioQuery{GroupBy: "planet"}); code(err) != infrashare.EINVALID {
			t.Fatalf("bad group: %v", err)
		}
	})
}
