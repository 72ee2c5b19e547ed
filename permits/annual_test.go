package permits_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/permits"
	"infrashare/registry"
)

// vnAt is a wall-clock time in Can Tho.
func vnAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, auth.Vietnam)
}

// setClock moves the fixture's clock to at (forward or back).
func (f *pfix) setClock(at time.Time) { f.clock.Advance(at.Sub(f.clock.Now())) }

// adminActor is the demo admin.
func (f *pfix) adminActor() auth.Actor {
	f.t.Helper()
	var o auth.Organization
	if err := f.db.Root().Where("code = ?", "ADMIN").First(&o).Error; err != nil {
		f.t.Fatal(err)
	}
	var uid int64
	f.db.Root().Table("users").Where("org_id = ?", o.ID).Limit(1).Pluck("id", &uid)
	return auth.Actor{UserID: uid, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{auth.RoleAdmin}}
}

// seedFullDemo adds the whole demo (register, BTS 2023–2026, permits,
// undergrounding, co-location requests) to the fixture's database.
func (f *pfix) seedFullDemo(ctx context.Context) {
	f.t.Helper()
	if _, err := migrations.SeedDemo(ctx, f.db, "demo-password-1"); err != nil {
		f.t.Fatal(err)
	}
}

// freeTowers are in-service towers of an operator with a free slot, away
// from the demo's own co-location stories.
func (f *pfix) freeTowers(who string, n int) []int64 {
	f.t.Helper()
	var ids []int64
	if err := f.db.Root().Table("assets").Where("owner_id = ? AND kind = 'tower' AND status = 'in_service' AND restricted = ? AND unit_code NOT IN ('916','919') AND capacity_total - reserved_units - active_units >= 1",
		f.actors[who].OrgID, false).Order("id DESC").Limit(n).Pluck("id", &ids).Error; err != nil {
		f.t.Fatal(err)
	}
	if len(ids) < n {
		f.t.Fatalf("only %d free towers of %s", len(ids), who)
	}
	return ids
}

var btsTechnical = json.RawMessage(`{"antennas":[{"type":"RRU","count":1,"mount_height_m":30}],"power_kw":2}`)

// seedColocation2025 files co-location requests around 2025 with known
// outcomes: filed 6 in 2025 (one at 00:30 on 1 January in Can Tho, still
// 31 December in UTC), approved 2 (one by the department's order after an
// overdue reply), rejected 2 (no_capacity, structural), overdue 1, replied
// 3 after 4, 10 and 2 days (median 4); one more at 00:30 on 1 January 2026
// belongs to 2026.
func (f *pfix) seedColocation2025(ctx context.Context) {
	f.t.Helper()
	vnpt, viettel, mobifone := f.freeTowers("vnpt", 3), f.freeTowers("viettel", 2), f.freeTowers("mobifone", 2)
	type step struct {
		after time.Duration
		who   string
		a     registry.Action
		sweep bool
	}
	day := 24 * time.Hour
	stories := []struct {
		at        time.Time
		requester string
		asset     int64
		steps     []step
	}{
		{vnAt(2025, 1, 1, 0, 30), "viettel", vnpt[0], []step{{time.Hour, "viettel", registry.Action{Action: "withdraw"}, false}}},
		{vnAt(2025, 3, 3, 9, 0), "viettel", vnpt[1], []step{{4 * day, "vnpt", registry.Action{Action: "approve"}, false}}},
		{vnAt(2025, 3, 10, 9, 0), "mobifone", vnpt[2], []step{{10 * day, "vnpt", registry.Action{Action: "reject", ReasonCode: "no_capacity"}, false}}},
		{vnAt(2025, 4, 1, 9, 0), "vnpt", viettel[0], []step{
			{2 * day, "viettel", registry.Action{Action: "request_info", Reason: "Gửi bản vẽ gá lắp"}, false},
			{day, "vnpt", registry.Action{Action: "answer_info", Note: "Đã gửi"}, false},
			{3 * day, "viettel", registry.Action{Action: "reject", ReasonCode: "structural", Reason: "Cột đủ tải"}, false}}},
		{vnAt(2025, 5, 5, 9, 0), "viettel", mobifone[0], []step{{day, "viettel", registry.Action{Action: "withdraw"}, false}}},
		{vnAt(2025, 6, 2, 9, 0), "vnpt", mobifone[1], []step{
			{16 * day, "", registry.Action{}, true},
			{day, "vnpt", registry.Action{Action: "escalate", Reason: "Chủ cột không trả lời"}, false},
			{day, "auditor", registry.Action{Action: "resolve", Decision: "order_sharing", Reason: "Cột còn vị trí trống"}, false}}},
		{vnAt(2026, 1, 1, 0, 30), "mobifone", viettel[1], nil},
	}
	for i, st := range stories {
		f.setClock(st.at)
		r, err := f.reg.Submit(ctx, f.actors[st.requester], registry.NewRequest{Purpose: "bts", Technical: btsTechnical,
			Items: []registry.RequestItemInput{{AssetID: st.asset, Units: 1}}})
		if err != nil {
			f.t.Fatalf("request %d: %v", i, err)
		}
		for _, s := range st.steps {
			f.clock.Advance(s.after)
			if s.sweep {
				if _, err := f.reg.SweepDeadlines(ctx); err != nil {
					f.t.Fatal(err)
				}
				continue
			}
			if _, err := f.reg.Act(ctx, f.actors[s.who], r.ID, s.a); err != nil {
				f.t.Fatalf("request %d %s: %v", i, s.a.Action, err)
			}
		}
	}
}

// seedPermits2025 files applications in Ninh Kiều around 2025: filed 7 in
// 2025 — exempt 1, approved 2, rejected 1, withdrawn 1, returned 1, pending
// 1 — decided after 8 (across the 30/4–2/5 holidays, decided at 00:30 in
// Can Tho, still the day before in UTC), 10 and 20 working days (median
// 10); one more on 1 January 2026 at 00:30 in Can Tho belongs to 2026.
func (f *pfix) seedPermits2025(ctx context.Context) {
	f.t.Helper()
	type step struct {
		at time.Time
		a  permits.PermitAction
	}
	apps := []struct {
		filed time.Time
		class string
		steps []step
	}{
		{vnAt(2025, 4, 21, 9, 0), "A2b", []step{{vnAt(2025, 5, 6, 0, 30), permits.PermitAction{Action: "approve"}}}},
		{vnAt(2025, 6, 2, 9, 0), "A2b", []step{{vnAt(2025, 6, 16, 10, 0), permits.PermitAction{Action: "reject", Reason: "Trong hành lang lưới điện"}}}},
		{vnAt(2025, 7, 1, 9, 0), "A2b", []step{{vnAt(2025, 7, 3, 9, 0), permits.PermitAction{Action: "return", Reason: "Thiếu giấy tờ đất"}}}},
		{vnAt(2025, 8, 4, 9, 0), "A2b", []step{{vnAt(2025, 8, 5, 9, 0), permits.PermitAction{Action: "withdraw"}}}},
		{vnAt(2025, 9, 1, 9, 0), "A1a", nil},
		{vnAt(2025, 10, 1, 9, 0), "A2b", nil},
		{vnAt(2025, 12, 1, 9, 0), "A2b", []step{{vnAt(2025, 12, 29, 15, 0), permits.PermitAction{Action: "approve"}}}},
		{vnAt(2026, 1, 1, 0, 30), "A2b", nil},
	}
	for i, a := range apps {
		f.setClock(a.filed)
		loc := &permits.Location{Lat: 10.0105 + float64(i)*0.003, Lon: 105.7450}
		kind := "tower"
		if a.class == "A1a" {
			kind = "pole"
		}
		check, err := f.svc.Check(ctx, f.actors["vnpt"], permits.CheckQuery{StructureKind: kind, HeightM: 40, Location: loc, UnitCode: "916"})
		if err != nil {
			f.t.Fatal(err)
		}
		var justs []permits.Justification
		for _, c := range check.Candidates {
			justs = append(justs, permits.Justification{AssetID: c.Asset.ID, ReasonCode: "coverage", Text: "Không phủ được khu vực"})
		}
		p, err := f.svc.Submit(ctx, f.actors["vnpt"], permits.NewPermit{StructureKind: kind, Class: a.class, HeightM: 40,
			Location: loc, UnitCode: "916", Purpose: "Trạm BTS", Justifications: justs})
		if err != nil {
			f.t.Fatalf("permit %d: %v", i, err)
		}
		for _, s := range a.steps {
			f.setClock(s.at)
			who := f.actors["officerNK"]
			if s.a.Action == "withdraw" {
				who = f.actors["vnpt"]
			}
			if _, err := f.svc.Act(ctx, who, p.ID, s.a); err != nil {
				f.t.Fatalf("permit %d %s: %v", i, s.a.Action, err)
			}
		}
	}
}

type btsRecord struct {
	ID             int64
	UnitCode       string
	OperatorOrgID  int64
	OnAirOn        infrashare.Date
	Classification string
}

type btsCount struct{ total, shared, own, built int }

func (c *btsCount) add(class string) {
	c.total++
	switch class {
	case permits.ClassShared:
		c.shared++
	case permits.ClassOwnExisting:
		c.own++
	case permits.ClassNewStructure:
		c.built++
	}
}

func checkRatioRow(t *testing.T, what string, r permits.RatioRow, want btsCount) {
	t.Helper()
	if r.Total != want.total || r.Shared != want.shared || r.OwnExisting != want.own || r.NewStructure != want.built {
		t.Errorf("%s: report %d/%d/%d/%d, records %d/%d/%d/%d (total/shared/own/new)", what,
			r.Total, r.Shared, r.OwnExisting, r.NewStructure, want.total, want.shared, want.own, want.built)
	}
	ratio := float64(int(float64(want.shared)/float64(want.total)*10000+0.5)) / 10000
	if r.Ratio == nil || *r.Ratio != ratio {
		t.Errorf("%s: ratio %v, want %v", what, r.Ratio, ratio)
	}
	if r.Target == nil || *r.Target != 0.40 {
		t.Errorf("%s: target %v, want 0.40", what, r.Target)
	}
	if r.Gap == nil || r.Ratio == nil || fmt.Sprintf("%.4f", *r.Gap) != fmt.Sprintf("%.4f", 0.40-*r.Ratio) {
		t.Errorf("%s: gap %v beside ratio %v", what, r.Gap, r.Ratio)
	}
	if r.Forecast != nil {
		t.Errorf("%s: a one-year forecast %v", what, *r.Forecast)
	}
}

func sectionsJSON(t *testing.T, r permits.AnnualReport) string {
	t.Helper()
	r.GeneratedAt, r.Frozen, r.Restatements = time.Time{}, nil, nil
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The 2025 report of the full demo: the sharing ratio by district matches
// the BTS records one by one, each beside 40 %; the co-location and permit
// figures; freezing stores a snapshot whose SHA-256 is in the audit log,
// once; a later reclassification shows as a restatement beside the
// unchanged frozen figures; only the department and admins read it, only
// the department's auditors freeze it, and never a future year.
func TestAnnualReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		f.seedFullDemo(ctx)
		f.seedColocation2025(ctx)
		f.seedPermits2025(ctx)
		f.setClock(monday) // 2 March 2026
		auditor, admin := f.actors["auditor"], f.adminActor()

		rep, err := f.svc.AnnualReport(ctx, auditor, 2025)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Year != 2025 || rep.Frozen != nil || rep.Restatements == nil || len(rep.Restatements) != 0 || !rep.GeneratedAt.Equal(monday) {
			t.Fatalf("report head %d %v %v %v", rep.Year, rep.Frozen, rep.Restatements, rep.GeneratedAt)
		}

		// The BTS records, one by one.
		var recs []btsRecord
		if err := db.Root().Table("bts_deployments").Select("id, unit_code, operator_org_id, on_air_on, classification").Find(&recs).Error; err != nil {
			t.Fatal(err)
		}
		byUnit, byOp, total := map[string]*btsCount{}, map[int64]*btsCount{}, &btsCount{}
		for _, r := range recs {
			if r.OnAirOn.Year != 2025 {
				continue
			}
			if byUnit[r.UnitCode] == nil {
				byUnit[r.UnitCode] = &btsCount{}
			}
			if byOp[r.OperatorOrgID] == nil {
				byOp[r.OperatorOrgID] = &btsCount{}
			}
			byUnit[r.UnitCode].add(r.Classification)
			byOp[r.OperatorOrgID].add(r.Classification)
			total.add(r.Classification)
		}
		if len(byUnit) < 9 {
			t.Fatalf("the demo has 2025 BTS records in %d units, want every district", len(byUnit))
		}
		sr := rep.SharingRatio
		if sr.From.String() != "2025-01-01" || sr.To.String() != "2025-12-31" || sr.Official != "strict" {
			t.Fatalf("period %s..%s %s", sr.From, sr.To, sr.Official)
		}
		if len(sr.ByUnit) != len(byUnit) {
			t.Fatalf("%d unit rows, %d units in the records", len(sr.ByUnit), len(byUnit))
		}
		above, below := 0, 0
		for _, r := range sr.ByUnit {
			want := byUnit[r.Group.Code]
			if want == nil {
				t.Fatalf("a row for unit %s without records", r.Group.Code)
			}
			if r.Year != 2025 || r.Group.Name == "" {
				t.Errorf("row %+v", r)
			}
			checkRatioRow(t, "unit "+r.Group.Code, r, *want)
			if r.Ratio != nil && *r.Ratio >= 0.40 {
				above++
			} else {
				below++
			}
		}
		if above == 0 || below == 0 {
			t.Errorf("the demo's districts should fall on both sides of 40 %%: %d above, %d below", above, below)
		}
		if len(sr.ByOperator) != len(byOp) {
			t.Fatalf("%d operator rows, %d operators in the records", len(sr.ByOperator), len(byOp))
		}
		for _, r := range sr.ByOperator {
			var id int64
			db.Root().Table("organizations").Where("code = ?", r.Group.Code).Pluck("id", &id)
			if byOp[id] == nil {
				t.Fatalf("a row for operator %s without records", r.Group.Code)
			}
			checkRatioRow(t, "operator "+r.Group.Code, r, *byOp[id])
		}
		checkRatioRow(t, "city", sr.Total, *total)
		if sr.Total.Group.Code != "92" || sr.Total.Year != 2025 || sr.Total.TargetYear != 2025 {
			t.Errorf("total %+v", sr.Total)
		}

		// Undergrounding as of 31 December.
		undg, err := f.svc.UndergroundingReport(ctx, auditor, infrashare.MustDate("2025-12-31"), "unit")
		if err != nil {
			t.Fatal(err)
		}
		if a, b := mustJSON(t, undg), mustJSON(t, rep.Undergrounding); a != b {
			t.Errorf("undergrounding\n%s\nwant\n%s", b, a)
		}

		// Co-location requests and permit applications.
		c := rep.Colocation
		if c.Filed != 6 || c.Approved != 2 || c.Rejected != 2 || c.Overdue != 1 || c.Replied != 3 || c.Unanswered != 3 ||
			c.RejectedByReason["no_capacity"] != 1 || c.RejectedByReason["structural"] != 1 || c.RejectedByReason["safety"] != 0 ||
			len(c.RejectedByReason) != 5 || c.MedianReplyDays == nil || *c.MedianReplyDays != 4 || c.ReplyDeadlineDays != 15 {
			t.Errorf("co-location %s", mustJSON(t, c))
		}
		p := rep.Permits
		if p.Filed != 7 || p.Exempt != 1 || p.Approved != 2 || p.Rejected != 1 || p.Withdrawn != 1 || p.Returned != 1 ||
			p.Pending != 1 || p.Decided != 3 || p.MedianDecisionDays == nil || *p.MedianDecisionDays != 10 || p.DecisionDeadlineDays != 20 {
			t.Errorf("permits %s", mustJSON(t, p))
		}
		// 2026 so far holds the requests and applications of 1 January.
		rep26, err := f.svc.AnnualReport(ctx, admin, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if rep26.Colocation.Filed < 1 || rep26.Permits.Filed < 1 {
			t.Errorf("2026: %d requests, %d applications", rep26.Colocation.Filed, rep26.Permits.Filed)
		}

		// Who may read and freeze.
		for _, who := range []string{"vnpt", "officerNK"} {
			if _, err := f.svc.AnnualReport(ctx, f.actors[who], 2025); code(err) != infrashare.EFORBIDDEN {
				t.Errorf("%s reads the report: %v", who, err)
			}
			if _, err := f.svc.FreezeAnnualReport(ctx, f.actors[who], 2025); code(err) != infrashare.EFORBIDDEN {
				t.Errorf("%s freezes the report: %v", who, err)
			}
		}
		if _, err := f.svc.FreezeAnnualReport(ctx, admin, 2025); code(err) != infrashare.EFORBIDDEN {
			t.Errorf("an admin freezes the report: %v", err)
		}
		for _, y := range []int{1999, 2101} {
			if _, err := f.svc.AnnualReport(ctx, auditor, y); code(err) != infrashare.EINVALID {
				t.Errorf("report of %d: %v", y, err)
			}
		}
		for _, y := range []int{2027, 2101, 1999} {
			_, err := f.svc.FreezeAnnualReport(ctx, auditor, y)
			if e, ok := err.(*infrashare.Error); !ok || e.Code != infrashare.EINVALID || e.Fields["year"] == "" {
				t.Errorf("freezing %d: %v", y, err)
			}
		}

		// Freeze 2025.
		f.clock.Advance(time.Hour)
		fr, err := f.svc.FreezeAnnualReport(ctx, auditor, 2025)
		if err != nil {
			t.Fatal(err)
		}
		var snap struct {
			Year     int
			FrozenBy int64
			SHA256   string `gorm:"column:sha256"`
			Content  string
		}
		if err := db.Root().Table("report_snapshots").Where("year = ?", 2025).Take(&snap).Error; err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(snap.Content))
		if hex.EncodeToString(sum[:]) != snap.SHA256 || snap.SHA256 != fr.SHA256 || fr.Year != 2025 || snap.FrozenBy != auditor.UserID ||
			!fr.FrozenAt.Equal(monday.Add(time.Hour)) {
			t.Fatalf("snapshot %s by %d, content hashes to %x; answered %+v", snap.SHA256, snap.FrozenBy, sum, fr)
		}
		canon, err := auth.CanonicalJSON(json.RawMessage(snap.Content))
		if err != nil || *canon != snap.Content {
			t.Errorf("the stored content is not canonical JSON")
		}
		var ev auth.AuditEvent
		if err := db.Root().Where("action = ? AND object_id = ?", "report.freeze", "2025").Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		var after struct {
			Year   int    `json:"year"`
			SHA256 string `json:"sha256"`
		}
		if ev.After == nil || json.Unmarshal([]byte(*ev.After), &after) != nil || after.Year != 2025 || after.SHA256 != fr.SHA256 ||
			ev.ActorID == nil || *ev.ActorID != auditor.UserID || ev.ObjectType != "annual_report" {
			t.Fatalf("audit event %+v", ev)
		}
		if v, err := auth.NewAudit(db, f.clock).Verify(ctx, auditor); err != nil || !v.OK {
			t.Fatalf("audit chain %+v %v", v, err)
		}
		if _, err := f.svc.FreezeAnnualReport(ctx, auditor, 2025); code(err) != infrashare.ECONFLICT {
			t.Fatalf("a second freeze: %v", err)
		}
		var nEvents int64
		db.Root().Model(&auth.AuditEvent{}).Where("action = ?", "report.freeze").Count(&nEvents)
		if nEvents != 1 {
			t.Fatalf("%d freeze events", nEvents)
		}

		// Read back frozen: the same figures, frozen by the auditor, nothing restated.
		frozen, err := f.svc.AnnualReport(ctx, admin, 2025)
		if err != nil {
			t.Fatal(err)
		}
		if frozen.Frozen == nil || frozen.Frozen.SHA256 != fr.SHA256 || !frozen.Frozen.At.Equal(fr.FrozenAt) || frozen.Frozen.By.ID != auditor.UserID ||
			frozen.Frozen.By.Email != "auditor@demo.infrashare.vn" || len(frozen.Restatements) != 0 || !frozen.GeneratedAt.Equal(monday.Add(time.Hour)) {
			t.Fatalf("frozen head %+v restatements %v generated %v", frozen.Frozen, frozen.Restatements, frozen.GeneratedAt)
		}
		if a, b := sectionsJSON(t, rep), sectionsJSON(t, frozen); a != b {
			t.Fatalf("the frozen figures differ from those computed before\n%s\n%s", a, b)
		}

		// A later correction: the department reclassifies a 2025 record.
		var rec btsRecord
		for _, r := range recs {
			if r.OnAirOn.Year == 2025 && r.Classification == permits.ClassNewStructure {
				rec = r
				break
			}
		}
		if rec.ID == 0 {
			t.Fatal("no 2025 new_structure record in the demo")
		}
		f.clock.Advance(24 * time.Hour)
		if _, err := f.svc.Reclassify(ctx, auditor, rec.ID, permits.Reclassification{Classification: permits.ClassShared,
			Reason: "Trạm thực tế lắp trên cột hiện hữu của doanh nghiệp khác"}); err != nil {
			t.Fatal(err)
		}
		later, err := f.svc.AnnualReport(ctx, auditor, 2025)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := sectionsJSON(t, rep), sectionsJSON(t, later); a != b {
			t.Fatalf("the frozen figures changed silently\n%s\n%s", a, b)
		}
		if later.Frozen == nil || later.Frozen.SHA256 != fr.SHA256 {
			t.Fatalf("frozen %+v", later.Frozen)
		}
		restated := map[string]permits.Restatement{}
		for _, r := range later.Restatements {
			restated[r.Path] = r
			if !strings.HasPrefix(r.Path, "sharing_ratio.") {
				t.Errorf("restatement outside the sharing ratio: %+v", r)
			}
		}
		unit := byUnit[rec.UnitCode]
		var opCode string
		db.Root().Table("organizations").Where("id = ?", rec.OperatorOrgID).Pluck("code", &opCode)
		for path, want := range map[string][2]int{
			"sharing_ratio.by_unit[" + rec.UnitCode + "].shared":        {unit.shared, unit.shared + 1},
			"sharing_ratio.by_unit[" + rec.UnitCode + "].new_structure": {unit.built, unit.built - 1},
			"sharing_ratio.by_operator[" + opCode + "].shared":          {byOp[rec.OperatorOrgID].shared, byOp[rec.OperatorOrgID].shared + 1},
			"sharing_ratio.total.shared":                                {total.shared, total.shared + 1},
		} {
			r, ok := restated[path]
			if !ok {
				t.Errorf("no restatement of %s in %+v", path, later.Restatements)
				continue
			}
			if fmt.Sprint(r.Frozen) != fmt.Sprint(want[0]) || fmt.Sprint(r.Current) != fmt.Sprint(want[1]) {
				t.Errorf("%s restated %v → %v, want %d → %d", path, r.Frozen, r.Current, want[0], want[1])
			}
		}
		for _, path := range []string{"sharing_ratio.by_unit[" + rec.UnitCode + "].ratio", "sharing_ratio.by_unit[" + rec.UnitCode + "].gap",
			"sharing_ratio.total.ratio"} {
			if _, ok := restated[path]; !ok {
				t.Errorf("no restatement of %s", path)
			}
		}
		if _, ok := restated["sharing_ratio.by_unit["+rec.UnitCode+"].total"]; ok {
			t.Error("the unit's total is restated though it did not change")
		}

		// The workbook and the page carry the frozen figures and the restatements.
		var xb bytes.Buffer
		if err := permits.WriteAnnualXLSX(&xb, later); err != nil {
			t.Fatal(err)
		}
		checkWorkbook(t, xb.Bytes(), later)
		var hb bytes.Buffer
		if err := permits.WriteAnnualHTML(&hb, later); err != nil {
			t.Fatal(err)
		}
		checkPage(t, hb.String(), later)
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Two auditors freezing the same year at once: exactly one wins.
func TestAnnualFreezeConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.FreezeAnnualReport(ctx, f.actors["auditor"], 2024)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if code(err) != infrashare.ECONFLICT {
				t.Errorf("freeze: %v", err)
			}
		}
		var rows, events int64
		db.Root().Table("report_snapshots").Where("year = ?", 2024).Count(&rows)
		db.Root().Model(&auth.AuditEvent{}).Where("action = ?", "report.freeze").Count(&events)
		if won != 1 || rows != 1 || events != 1 {
			t.Fatalf("%d won, %d snapshots, %d audit events: %v", won, rows, events, errs)
		}
	})
}

// checkWorkbook opens the workbook: a sheet per section with Vietnamese
// names, a title row, numbers as numbers and ratios as percentages.
func checkWorkbook(t *testing.T, data []byte, rep permits.AnnualReport) {
	t.Helper()
	wb, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	want := []string{"Tổng quan", "Tỷ lệ dùng chung - đơn vị", "Tỷ lệ dùng chung - DN", "Ngầm hóa", "Yêu cầu dùng chung", "Cấp phép", "Điều chỉnh"}
	if got := wb.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %q", got)
	}
	sheet := "Tỷ lệ dùng chung - đơn vị"
	title, _ := wb.GetCellValue(sheet, "A1")
	if !strings.Contains(title, "2025") {
		t.Errorf("title %q", title)
	}
	// Row 4 is the header, row 5 the first unit.
	if h, _ := wb.GetCellValue(sheet, "A4"); h != "Mã đơn vị" {
		t.Errorf("header %q", h)
	}
	first := rep.SharingRatio.ByUnit[0]
	if v, _ := wb.GetCellValue(sheet, "A5"); v != first.Group.Code {
		t.Errorf("first unit %q, want %s", v, first.Group.Code)
	}
	for cell, typ := range map[string]excelize.CellType{"C5": excelize.CellTypeNumber, "G5": excelize.CellTypeNumber, "I5": excelize.CellTypeNumber} {
		if got, _ := wb.GetCellType(sheet, cell); got != typ && got != excelize.CellTypeUnset {
			t.Errorf("%s is of type %v", cell, got)
		}
	}
	raw, _ := wb.GetCellValue(sheet, "C5", excelize.Options{RawCellValue: true})
	if raw != fmt.Sprint(first.Total) {
		t.Errorf("C5 %q, want %d", raw, first.Total)
	}
	raw, _ = wb.GetCellValue(sheet, "I5", excelize.Options{RawCellValue: true})
	if raw != "0.4" {
		t.Errorf("target cell %q, want 0.4", raw)
	}
	shown, _ := wb.GetCellValue(sheet, "I5")
	if shown != "40.00%" {
		t.Errorf("target shown as %q, want 40.00%%", shown)
	}
	rows, _ := wb.GetRows("Điều chỉnh")
	if len(rows) < 4+len(rep.Restatements) {
		t.Errorf("restatement sheet has %d rows for %d restatements", len(rows), len(rep.Restatements))
	}
}

func checkPage(t *testing.T, page string, rep permits.AnnualReport) {
	t.Helper()
	for _, want := range []string{"<!DOCTYPE html>", `<html lang="vi">`, "Báo cáo năm 2025", "Tỷ lệ trạm BTS mới sử dụng chung hạ tầng",
		"Ngầm hóa", "Yêu cầu sử dụng chung hạ tầng", "Cấp phép", "Điều chỉnh sau khi chốt", "Báo cáo đã chốt", rep.Frozen.SHA256,
		"40,0 %", rep.SharingRatio.ByUnit[0].Group.Name, "Hết dung lượng", "@page"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, r := range rep.Restatements {
		if !strings.Contains(page, r.Path) {
			t.Errorf("the page lacks restatement %s", r.Path)
		}
		if r.Path == "sharing_ratio.total.shared" && !strings.Contains(page, "Tỷ lệ dùng chung, toàn thành phố: dùng chung") {
			t.Error("the page does not say in words what sharing_ratio.total.shared is")
		}
	}
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "src=", "<link", "http://", "https://", "url("} {
		if strings.Contains(lower, bad) {
			t.Errorf("the page is not self-contained: %q", bad)
		}
	}
}

// The Done-when: the XLSX annual report opens in LibreOffice — a
// headless conversion to PDF succeeds. Skipped where LibreOffice is
// missing, except in CI.
func TestAnnualXLSXOpensInLibreOffice(t *testing.T) {
	soffice := ""
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			soffice = p
			break
		}
	}
	if soffice == "" {
		msg := "LibreOffice (soffice) is not installed: apt-get install --no-install-recommends libreoffice-calc-nogui to run this check"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI must run it)")
		}
		t.Skip(msg)
	}
	db := dbtest.Open(t, database.SQLite)
	f := newPfix(t, db)
	ctx := dbtest.Context(t)
	f.seedFullDemo(ctx)
	f.seedColocation2025(ctx)
	f.seedPermits2025(ctx)
	f.setClock(monday)
	if _, err := f.svc.FreezeAnnualReport(ctx, f.actors["auditor"], 2025); err != nil {
		t.Fatal(err)
	}
	var recID int64
	db.Root().Table("bts_deployments").Where("on_air_on >= ? AND on_air_on <= ? AND classification = ?", "2025-01-01", "2025-12-31",
		permits.ClassNewStructure).Order("id").Limit(1).Pluck("id", &recID)
	if _, err := f.svc.Reclassify(ctx, f.actors["auditor"], recID, permits.Reclassification{Classification: permits.ClassShared, Reason: "Sửa"}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.svc.AnnualReport(ctx, f.actors["auditor"], 2025)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Restatements) == 0 {
		t.Fatal("no restatements to show")
	}
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "bao-cao-nam-2025.xlsx")
	out, err := os.Create(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	if err := permits.WriteAnnualXLSX(out, rep); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "lo-profile")
	pdfDir := filepath.Join(dir, "pdf")
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, soffice, "-env:UserInstallation=file://"+filepath.ToSlash(profile), "--headless", "--norestore",
		"--convert-to", "pdf", "--outdir", pdfDir, xlsx)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.WaitDelay = 10 * time.Second // soffice's own children may hold the output open after a kill
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, output)
	}
	pdf, err := os.ReadFile(filepath.Join(pdfDir, "bao-cao-nam-2025.pdf"))
	if err != nil {
		t.Fatalf("no PDF: %v\n%s", err, output)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 1000 {
		t.Fatalf("not a PDF (%d bytes): %q", len(pdf), pdf[:min(len(pdf), 16)])
	}
	t.Logf("LibreOffice converted the workbook (%d bytes) to a %d-byte PDF", xb(xlsx), len(pdf))
}

func xb(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
