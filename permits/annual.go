package permits

// The annual report (DESIGN §2 "Annual report", issue 6 point 7): the
// department's yearly report to the People's Committee, frozen as a
// snapshot whose SHA-256 goes into the audit log; later corrections show as
// restatements beside the frozen figures.
//
// Decisions, also for the README:
//
//   - The department's auditors and admins read the report; only the
//     department's auditors freeze it. A year is 2000..2100; a future year
//     (after the current year in Asia/Ho_Chi_Minh) cannot be frozen, the
//     current one can (the department may freeze early; what changes later
//     shows as restatements).
//   - Sharing ratio: SharingRatio over 1 January..31 December grouped by
//     unit and by operator, and the city total beside the city's target. The
//     least-squares forecast is left out (null): over one year it would only
//     repeat the year's own ratio.
//   - Undergrounding: UndergroundingReport as of 31 December of the year.
//   - Co-location: requests whose submitted_at falls in the year (civil
//     year in Asia/Ho_Chi_Minh), with their outcomes as recorded when the
//     report is computed (a reply in January to a December request counts):
//     approved = reached approved through approve, or resolve; rejected by
//     the reason code of its rejection; overdue = reached overdue. The reply
//     time runs from submitted_at to the owner's first approve, reject or
//     request_info, in days (hours / 24); its median, rounded to 0.1 day,
//     stands beside the reply deadline in force on 31 December.
//   - Permits: applications whose filed_on falls in the year, counted by
//     their state as recorded now (submitted ones are "pending"); the
//     decision time of approved and rejected applications counts working
//     days from filed_on to the civil date of decided_at in Asia/Ho_Chi_Minh
//     (WorkingDaysBetween), its median beside the decision deadline in
//     force on 31 December.
//   - Freezing stores the canonical JSON (auth.CanonicalJSON) of the report
//     as computed, with frozen null and no restatements, and the SHA-256 of
//     those bytes; the audit event report.freeze carries the year and the
//     hash. The primary key on the year makes a second freeze, even a
//     concurrent one, a conflict.
//   - A frozen year reads as its stored content with "frozen" filled in,
//     and restatements: every figure (leaf of the JSON, rows keyed by their
//     group code) computed now that differs from the frozen one, with both
//     values; generated_at is the frozen content's.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/registry"
)

// AnnualReport is GET /api/v1/reports/annual.
type AnnualReport struct {
	Year           int                `json:"year"`
	GeneratedAt    time.Time          `json:"generated_at"`
	Frozen         *FrozenInfo        `json:"frozen"`
	SharingRatio   AnnualSharing      `json:"sharing_ratio"`
	Undergrounding UndergroundingView `json:"undergrounding"`
	Colocation     AnnualColocation   `json:"colocation"`
	Permits        AnnualPermits      `json:"permits"`
	Restatements   []Restatement      `json:"restatements"`
}

// FrozenInfo says when and by whom a report was frozen, and the SHA-256 of
// its stored content.
type FrozenInfo struct {
	At     time.Time `json:"at"`
	By     FrozenBy  `json:"by"`
	SHA256 string    `json:"sha256"`
}

// FrozenBy is the auditor who froze a report.
type FrozenBy struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// AnnualSharing is the sharing ratio of the year by unit and by operator,
// with the city total.
type AnnualSharing struct {
	From       infrashare.Date `json:"from"`
	To         infrashare.Date `json:"to"`
	Official   string          `json:"official"`
	ByUnit     []RatioRow      `json:"by_unit"`
	ByOperator []RatioRow      `json:"by_operator"`
	Total      RatioRow        `json:"total"`
}

// AnnualColocation counts the co-location requests submitted in the year.
type AnnualColocation struct {
	Filed            int            `json:"filed"`
	Approved         int            `json:"approved"`
	Rejected         int            `json:"rejected"`
	RejectedByReason map[string]int `json:"rejected_by_reason"`
	Overdue          int            `json:"overdue"`
	Replied          int            `json:"replied"`
	Unanswered       int            `json:"unanswered"`
	MedianReplyDays  *float64       `json:"median_reply_days"`
	// ReplyDeadlineDays is the reply deadline in force on 31 December: the
	// target beside the median.
	ReplyDeadlineDays int `json:"reply_deadline_days"`
}

// AnnualPermits counts the permit applications filed in the year.
type AnnualPermits struct {
	Filed     int `json:"filed"`
	Exempt    int `json:"exempt"`
	Approved  int `json:"approved"`
	Rejected  int `json:"rejected"`
	Withdrawn int `json:"withdrawn"`
	Returned  int `json:"returned"`
	Pending   int `json:"pending"`
	Decided   int `json:"decided"`
	// MedianDecisionDays counts working days.
	MedianDecisionDays *float64 `json:"median_decision_days"`
	// DecisionDeadlineDays is the decision deadline in working days in
	// force on 31 December: the target beside the median.
	DecisionDeadlineDays int `json:"decision_deadline_days"`
}

// Restatement is a figure of a frozen report that reads differently now.
type Restatement struct {
	Path    string `json:"path"`
	Frozen  any    `json:"frozen"`
	Current any    `json:"current"`
}

// FrozenReport is the answer of POST /api/v1/reports/annual/{year}/freeze.
type FrozenReport struct {
	Year     int       `json:"year"`
	FrozenAt time.Time `json:"frozen_at"`
	FrozenBy int64     `json:"frozen_by"`
	SHA256   string    `json:"sha256"`
}

// reportSnapshot is a row of report_snapshots.
type reportSnapshot struct {
	Year     int `gorm:"primaryKey;autoIncrement:false"`
	FrozenAt time.Time
	FrozenBy int64
	SHA256   string `gorm:"column:sha256"`
	Content  string
}

func (reportSnapshot) TableName() string { return "report_snapshots" }

func annualReader(actor auth.Actor) bool {
	return actor.System || actor.Has(auth.RoleAdmin) || (actor.Has(auth.RoleAuditor) && actor.OrgKind == auth.KindDepartment)
}

func annualCheckYear(year int) error {
	if year < refMinYear || year > refMaxYear {
		return infrashare.Invalid("year", fmt.Sprintf("must be between %d and %d", refMinYear, refMaxYear))
	}
	return nil
}

// AnnualReport answers the year's report: the frozen one with its
// restatements when the year is frozen, else computed now.
func (s *Service) AnnualReport(ctx context.Context, actor auth.Actor, year int) (AnnualReport, error) {
	if !annualReader(actor) {
		return AnnualReport{}, infrashare.Forbidden("the annual report is for the department and admins")
	}
	if err := annualCheckYear(year); err != nil {
		return AnnualReport{}, err
	}
	var snaps []reportSnapshot
	if err := s.db.Conn(ctx).Where("year = ?", year).Limit(1).Find(&snaps).Error; err != nil {
		return AnnualReport{}, err
	}
	current, err := s.computeAnnual(ctx, actor, year)
	if err != nil {
		return AnnualReport{}, err
	}
	if len(snaps) == 0 {
		return current, nil
	}
	snap := snaps[0]
	var frozen AnnualReport
	if err := json.Unmarshal([]byte(snap.Content), &frozen); err != nil {
		return AnnualReport{}, fmt.Errorf("annual report %d: the frozen content does not read: %w", year, err)
	}
	info := FrozenInfo{At: snap.FrozenAt.UTC(), SHA256: snap.SHA256, By: FrozenBy{ID: snap.FrozenBy}}
	var users []struct{ Name, Email string }
	if err := s.db.Conn(ctx).Table("users").Select("name, email").Where("id = ?", snap.FrozenBy).Limit(1).Scan(&users).Error; err != nil {
		return AnnualReport{}, err
	}
	if len(users) == 1 {
		info.By.Name, info.By.Email = users[0].Name, users[0].Email
	}
	frozen.Frozen = &info
	if frozen.Restatements, err = restatements(frozen, current); err != nil {
		return AnnualReport{}, err
	}
	return frozen, nil
}

// FreezeAnnualReport computes the year's report and stores it, once, as a
// snapshot whose SHA-256 goes into the audit log.
func (s *Service) FreezeAnnualReport(ctx context.Context, actor auth.Actor, year int) (FrozenReport, error) {
	if !actor.Has(auth.RoleAuditor) || actor.OrgKind != auth.KindDepartment || actor.UserID == 0 {
		return FrozenReport{}, infrashare.Forbidden("only the department's auditors freeze the annual report")
	}
	if err := annualCheckYear(year); err != nil {
		return FrozenReport{}, err
	}
	if today := s.settings.Today(); year > today.Year {
		return FrozenReport{}, infrashare.Invalid("year", fmt.Sprintf("%d has not begun: a year is frozen from within it on", year))
	}
	conflict := infrashare.Conflict("the annual report of %d is frozen already", year)
	frozen := func(ctx context.Context) (bool, error) {
		var n int64
		err := s.db.Conn(ctx).Model(&reportSnapshot{}).Where("year = ?", year).Count(&n).Error
		return n > 0, err
	}
	// A frozen year answers at once, before the report is computed.
	if done, err := frozen(ctx); err != nil || done {
		if err == nil {
			err = conflict
		}
		return FrozenReport{}, err
	}
	rep, err := s.computeAnnual(ctx, actor, year)
	if err != nil {
		return FrozenReport{}, err
	}
	content, err := auth.CanonicalJSON(rep)
	if err != nil {
		return FrozenReport{}, err
	}
	sum := sha256.Sum256([]byte(*content))
	out := FrozenReport{Year: year, FrozenAt: s.clock.Now().UTC().Truncate(time.Microsecond), FrozenBy: actor.UserID,
		SHA256: hex.EncodeToString(sum[:])}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if done, err := frozen(ctx); err != nil || done {
			if err == nil {
				err = conflict
			}
			return err
		}
		// Of two concurrent freezes, the second insert breaks the primary
		// key on the year (on PostgreSQL it waits for the first to commit).
		snap := reportSnapshot{Year: year, FrozenAt: out.FrozenAt, FrozenBy: out.FrozenBy, SHA256: out.SHA256, Content: *content}
		if err := s.db.Conn(ctx).Create(&snap).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return conflict
			}
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "report.freeze", ObjectType: "annual_report",
			ObjectID: strconv.Itoa(year), After: map[string]any{"year": year, "sha256": out.SHA256}})
	})
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.ECONFLICT && database.IsUniqueViolation(err) {
			return FrozenReport{}, conflict
		}
		return FrozenReport{}, err
	}
	return out, nil
}

// computeAnnual computes the year's figures now.
func (s *Service) computeAnnual(ctx context.Context, actor auth.Actor, year int) (AnnualReport, error) {
	first := infrashare.Date{Year: year, Month: time.January, Day: 1}
	last := infrashare.Date{Year: year, Month: time.December, Day: 31}
	rep := AnnualReport{Year: year, GeneratedAt: s.clock.Now().UTC().Truncate(time.Microsecond), Restatements: []Restatement{}}
	var err error
	if rep.SharingRatio, err = s.annualSharing(ctx, actor, first, last); err != nil {
		return AnnualReport{}, err
	}
	if rep.Undergrounding, err = s.UndergroundingReport(ctx, actor, last, "unit"); err != nil {
		return AnnualReport{}, err
	}
	if rep.Colocation, err = s.annualColocation(ctx, year, last); err != nil {
		return AnnualReport{}, err
	}
	if rep.Permits, err = s.annualPermits(ctx, first, last); err != nil {
		return AnnualReport{}, err
	}
	return rep, nil
}

func (s *Service) annualSharing(ctx context.Context, actor auth.Actor, first, last infrashare.Date) (AnnualSharing, error) {
	byUnit, err := s.SharingRatio(ctx, actor, RatioQuery{From: first, To: last, GroupBy: "unit"})
	if err != nil {
		return AnnualSharing{}, err
	}
	byOp, err := s.SharingRatio(ctx, actor, RatioQuery{From: first, To: last, GroupBy: "operator"})
	if err != nil {
		return AnnualSharing{}, err
	}
	out := AnnualSharing{From: first, To: last, Official: byUnit.Official, ByUnit: byUnit.Rows, ByOperator: byOp.Rows, Total: byUnit.Totals}
	for _, rows := range [][]RatioRow{out.ByUnit, out.ByOperator} {
		for i := range rows {
			rows[i].Forecast = nil
		}
	}
	// The city total beside the city's target.
	t := &out.Total
	t.Year, t.Forecast = first.Year, nil
	if t.Group.Code == "" {
		t.Group.Code = cityCode
	}
	if v, ok, err := s.TargetFor(ctx, MetricBTSSharing, cityCode, first.Year); err != nil {
		return AnnualSharing{}, err
	} else if ok {
		t.Target = &v
		milestones, err := s.milestoneYears(ctx)
		if err != nil {
			return AnnualSharing{}, err
		}
		t.TargetYear = milestoneFor(milestones, first.Year)
		if r := officialRatio(t, out.Official); r != nil {
			g := round4(v - *r)
			t.Gap = &g
		}
	}
	t.Records = fmt.Sprintf("/api/v1/bts?year=%d", first.Year)
	return out, nil
}

// annualYearBounds are the instants of the civil year in Vietnam, in UTC.
func annualYearBounds(year int) (time.Time, time.Time) {
	from := time.Date(year, time.January, 1, 0, 0, 0, 0, auth.Vietnam).UTC()
	to := time.Date(year+1, time.January, 1, 0, 0, 0, 0, auth.Vietnam).UTC()
	return from, to
}

func (s *Service) annualColocation(ctx context.Context, year int, last infrashare.Date) (AnnualColocation, error) {
	out := AnnualColocation{RejectedByReason: map[string]int{}, ReplyDeadlineDays: 15}
	for _, r := range registry.RejectReasons {
		out.RejectedByReason[r] = 0
	}
	if _, err := s.settings.GetOn(ctx, "colocation.reply_days", last, &out.ReplyDeadlineDays); err != nil {
		return out, err
	}
	from, to := annualYearBounds(year)
	conn := s.db.Conn(ctx)
	var reqs []struct {
		ID          int64
		SubmittedAt time.Time
	}
	if err := conn.Table("colocation_requests").Select("id, submitted_at").
		Where("submitted_at >= ? AND submitted_at < ?", from, to).Order("id").Scan(&reqs).Error; err != nil {
		return out, err
	}
	var events []struct {
		RequestID  int64
		At         time.Time
		Action     string
		ToState    string
		ReasonCode string
	}
	if err := conn.Table("colocation_events").Select("request_id, at, action, to_state, reason_code").
		Where("request_id IN (?)", conn.Table("colocation_requests").Select("id").Where("submitted_at >= ? AND submitted_at < ?", from, to)).
		Order("request_id, at, id").Scan(&events).Error; err != nil {
		return out, err
	}
	type fate struct {
		approved, rejected, overdue bool
		reason                      string
		reply                       *time.Time
	}
	fates := make(map[int64]*fate, len(reqs))
	for _, r := range reqs {
		fates[r.ID] = &fate{}
	}
	for _, e := range events {
		f := fates[e.RequestID]
		if f == nil {
			continue
		}
		switch e.Action {
		case "approve", "reject", "request_info":
			if f.reply == nil || e.At.Before(*f.reply) {
				at := e.At
				f.reply = &at
			}
		}
		if e.ToState == registry.StateApproved && (e.Action == "approve" || e.Action == "resolve") {
			f.approved = true
		}
		if e.Action == "reject" && !f.rejected {
			f.rejected, f.reason = true, e.ReasonCode
		}
		if e.ToState == registry.StateOverdue {
			f.overdue = true
		}
	}
	var days []float64
	for _, r := range reqs {
		f := fates[r.ID]
		out.Filed++
		if f.approved {
			out.Approved++
		}
		if f.rejected {
			out.Rejected++
			reason := f.reason
			if reason == "" {
				reason = "other"
			}
			out.RejectedByReason[reason]++
		}
		if f.overdue {
			out.Overdue++
		}
		if f.reply != nil {
			out.Replied++
			days = append(days, math.Max(0, f.reply.Sub(r.SubmittedAt).Hours()/24))
		}
	}
	out.Unanswered = out.Filed - out.Replied
	out.MedianReplyDays = median(days, 1)
	return out, nil
}

func (s *Service) annualPermits(ctx context.Context, first, last infrashare.Date) (AnnualPermits, error) {
	out := AnnualPermits{DecisionDeadlineDays: 20}
	if _, err := s.settings.GetOn(ctx, "permits.decision_working_days", last, &out.DecisionDeadlineDays); err != nil {
		return out, err
	}
	var rows []struct {
		ID        int64
		State     string
		FiledOn   infrashare.Date
		DecidedAt *time.Time
	}
	if err := s.db.Conn(ctx).Table("permits").Select("id, state, filed_on, decided_at").
		Where("filed_on >= ? AND filed_on <= ?", first.String(), last.String()).Order("id").Scan(&rows).Error; err != nil {
		return out, err
	}
	var days []float64
	for _, p := range rows {
		out.Filed++
		switch p.State {
		case StateExempt:
			out.Exempt++
		case StateApproved:
			out.Approved++
		case StateRejected:
			out.Rejected++
		case StateWithdrawn:
			out.Withdrawn++
		case StateReturned:
			out.Returned++
		case StateSubmitted:
			out.Pending++
		}
		if (p.State == StateApproved || p.State == StateRejected) && p.DecidedAt != nil {
			out.Decided++
			decided := infrashare.DateOf(p.DecidedAt.In(auth.Vietnam))
			n, err := s.WorkingDaysBetween(ctx, p.FiledOn, decided)
			if err != nil {
				return out, err
			}
			days = append(days, float64(n))
		}
	}
	out.MedianDecisionDays = median(days, 1)
	return out, nil
}

// median of vs rounded to the given decimals; nil for none.
func median(vs []float64, decimals int) *float64 {
	if len(vs) == 0 {
		return nil
	}
	sorted := append([]float64(nil), vs...)
	sort.Float64s(sorted)
	m := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		m = (sorted[len(sorted)/2-1] + m) / 2
	}
	p := math.Pow(10, float64(decimals))
	m = math.Round(m*p) / p
	return &m
}

// ---- restatements ----

// restatements lists the figures of current that differ from frozen.
func restatements(frozen, current AnnualReport) ([]Restatement, error) {
	a, err := flattenReport(frozen)
	if err != nil {
		return nil, err
	}
	b, err := flattenReport(current)
	if err != nil {
		return nil, err
	}
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	out := []Restatement{}
	for _, p := range keys {
		fa, inA := a[p]
		cb, inB := b[p]
		if inA && inB && leafString(fa) == leafString(cb) {
			continue
		}
		out = append(out, Restatement{Path: p, Frozen: fa, Current: cb})
	}
	return out, nil
}

// flattenReport maps every figure of a report to its path; rows of lists
// are keyed by their group code where they have one.
func flattenReport(rep AnnualReport) (map[string]any, error) {
	rep.Frozen, rep.Restatements, rep.GeneratedAt = nil, nil, time.Time{}
	raw, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	delete(tree, "generated_at")
	delete(tree, "frozen")
	delete(tree, "restatements")
	out := map[string]any{}
	flatten("", tree, out)
	return out, nil
}

func flatten(prefix string, v any, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, c, out)
		}
	case []any:
		for i, c := range x {
			key := strconv.Itoa(i)
			if m, ok := c.(map[string]any); ok {
				if g, ok := m["group"].(map[string]any); ok {
					if code, ok := g["code"].(string); ok && code != "" {
						key = code
					}
				}
			}
			flatten(prefix+"["+key+"]", c, out)
		}
	default:
		out[prefix] = v
	}
}

func leafString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- XLSX ----

// Vietnamese labels of the report.
var annualReasonLabels = map[string]string{
	"no_capacity":     "Hết dung lượng",
	"structural":      "Không đảm bảo kết cấu",
	"safety":          "Lý do an toàn",
	"planned_own_use": "Dành cho nhu cầu sử dụng của chủ sở hữu",
	"other":           "Lý do khác",
}

func annualReasons(c AnnualColocation) []string {
	var extra []string
	for k := range c.RejectedByReason {
		if _, known := annualReasonLabels[k]; !known {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(append([]string(nil), registry.RejectReasons...), extra...)
}

func annualReasonLabel(code string) string {
	if l, ok := annualReasonLabels[code]; ok {
		return l
	}
	return code
}

func annualOfficialLabel(official string) string {
	if official == "broad" {
		return "rộng: (dùng chung + hạ tầng sẵn có của doanh nghiệp) / tổng số"
	}
	return "chặt: số trạm dùng chung / tổng số"
}

const annualTitle = "Báo cáo năm %d về hạ tầng kỹ thuật viễn thông thụ động dùng chung — thành phố Cần Thơ"

// Sheet names (at most 31 characters each).
const (
	sheetSummary    = "Tổng quan"
	sheetRatioUnit  = "Tỷ lệ dùng chung - đơn vị"
	sheetRatioOp    = "Tỷ lệ dùng chung - DN"
	sheetUnderg     = "Ngầm hóa"
	sheetColocation = "Yêu cầu dùng chung"
	sheetPermits    = "Cấp phép"
	sheetRestated   = "Điều chỉnh"
)

type xlsxStyles struct {
	title, subtitle, head, text, bold, plain, count, pct, days, metres, boldCount, boldPct int
}

type xlsxSheet struct {
	f      *excelize.File
	st     *xlsxStyles
	name   string
	row    int
	maxCol int
}

// finish records the sheet's used range (readers that trust the
// dimension element, such as streaming readers, see every row).
func (x *xlsxSheet) finish() error {
	if x.row == 0 || x.maxCol == 0 {
		return nil
	}
	last, err := excelize.CoordinatesToCellName(x.maxCol, x.row)
	if err != nil {
		return err
	}
	return x.f.SetSheetDimension(x.name, "A1:"+last)
}

// put writes one row from column A: nil and nil pointers stay empty.
func (x *xlsxSheet) put(style int, cells ...any) error {
	return x.putStyled(func(int) int { return style }, cells...)
}

func (x *xlsxSheet) putStyled(style func(col int) int, cells ...any) error {
	x.row++
	x.maxCol = max(x.maxCol, len(cells))
	for i, v := range cells {
		name, err := excelize.CoordinatesToCellName(i+1, x.row)
		if err != nil {
			return err
		}
		switch p := v.(type) {
		case *float64:
			if p == nil {
				v = nil
			} else {
				v = *p
			}
		case string:
			v = safeCell(p)
		}
		if v != nil {
			if err := x.f.SetCellValue(x.name, name, v); err != nil {
				return err
			}
		}
		if s := style(i); s != 0 {
			if err := x.f.SetCellStyle(x.name, name, name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *xlsxSheet) title(rep AnnualReport, sub string) error {
	if err := x.put(x.st.title, fmt.Sprintf(annualTitle, rep.Year)); err != nil {
		return err
	}
	if err := x.put(x.st.subtitle, sub); err != nil {
		return err
	}
	x.row++ // a blank row
	return nil
}

func (x *xlsxSheet) widths(ws ...float64) error {
	for i, w := range ws {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := x.f.SetColWidth(x.name, col, col, w); err != nil {
			return err
		}
	}
	return nil
}

// WriteAnnualXLSX writes the report as a workbook: a summary sheet and one
// sheet per section, each with a title row and a header row; counts are
// numbers and ratios are percentages.
func WriteAnnualXLSX(w io.Writer, rep AnnualReport) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := annualStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return err
	}
	for _, name := range []string{sheetRatioUnit, sheetRatioOp, sheetUnderg, sheetColocation, sheetPermits, sheetRestated} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	var sheets []*xlsxSheet
	sheet := func(name string) *xlsxSheet {
		x := &xlsxSheet{f: f, st: st, name: name}
		sheets = append(sheets, x)
		return x
	}
	for _, step := range []func() error{
		func() error { return xlsxSummary(sheet(sheetSummary), rep) },
		func() error {
			return xlsxRatio(sheet(sheetRatioUnit), rep, "Tỷ lệ trạm BTS mới sử dụng chung hạ tầng, theo đơn vị hành chính",
				"Mã đơn vị", "Đơn vị hành chính", rep.SharingRatio.ByUnit)
		},
		func() error {
			return xlsxRatio(sheet(sheetRatioOp), rep, "Tỷ lệ trạm BTS mới sử dụng chung hạ tầng, theo doanh nghiệp",
				"Mã doanh nghiệp", "Doanh nghiệp", rep.SharingRatio.ByOperator)
		},
		func() error { return xlsxUnderground(sheet(sheetUnderg), rep) },
		func() error { return xlsxColocation(sheet(sheetColocation), rep) },
		func() error { return xlsxPermits(sheet(sheetPermits), rep) },
		func() error { return xlsxRestatements(sheet(sheetRestated), rep) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	for _, x := range sheets {
		if err := x.finish(); err != nil {
			return err
		}
	}
	// Printed (and converted to PDF) landscape on A4, one page wide.
	landscape, a4, one, auto, fit := "landscape", 9, 1, 0, true
	for _, name := range f.GetSheetList() {
		if err := f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
			return err
		}
		if err := f.SetPageLayout(name, &excelize.PageLayoutOptions{Size: &a4, Orientation: &landscape, FitToWidth: &one, FitToHeight: &auto}); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func annualStyles(f *excelize.File) (*xlsxStyles, error) {
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	bold := &excelize.Font{Bold: true}
	st := &xlsxStyles{}
	for _, d := range []struct {
		dst *int
		st  excelize.Style
	}{
		{&st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&st.subtitle, excelize.Style{Font: &excelize.Font{Italic: true}}},
		{&st.head, excelize.Style{Font: bold, Border: border,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE6F0"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "center"}}},
		{&st.text, excelize.Style{Border: border, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&st.bold, excelize.Style{Border: border, Font: bold}},
		{&st.plain, excelize.Style{Border: border, NumFmt: 1, Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&st.count, excelize.Style{Border: border, NumFmt: 3}},  // #,##0
		{&st.pct, excelize.Style{Border: border, NumFmt: 10}},   // 0.00%
		{&st.metres, excelize.Style{Border: border, NumFmt: 4}}, // #,##0.00
		{&st.days, excelize.Style{Border: border, CustomNumFmt: ptrStr("0.0")}},
		{&st.boldCount, excelize.Style{Border: border, NumFmt: 3, Font: bold}},
		{&st.boldPct, excelize.Style{Border: border, NumFmt: 10, Font: bold}},
	} {
		s := d.st
		id, err := f.NewStyle(&s)
		if err != nil {
			return nil, err
		}
		*d.dst = id
	}
	return st, nil
}

func ptrStr(s string) *string { return &s }

func annualStatus(rep AnnualReport) string {
	if rep.Frozen == nil {
		return "Chưa chốt: số liệu tính tại thời điểm lập"
	}
	return "Đã chốt lúc " + vnTime(rep.Frozen.At)
}

func vnTime(t time.Time) string { return t.In(auth.Vietnam).Format("02/01/2006 15:04") }

func xlsxSummary(x *xlsxSheet, rep AnnualReport) error {
	if err := x.title(rep, "Báo cáo của Sở gửi Ủy ban nhân dân thành phố"); err != nil {
		return err
	}
	if err := x.widths(48, 70); err != nil {
		return err
	}
	if err := x.put(x.st.head, "Nội dung", "Giá trị"); err != nil {
		return err
	}
	frozenBy, sha := "", ""
	if rep.Frozen != nil {
		frozenBy = rep.Frozen.By.Name
		if rep.Frozen.By.Email != "" && rep.Frozen.By.Email != rep.Frozen.By.Name {
			frozenBy += " <" + rep.Frozen.By.Email + ">"
		}
		sha = rep.Frozen.SHA256
	}
	rows := [][]any{
		{"Năm báo cáo", rep.Year},
		{"Thời điểm lập số liệu", vnTime(rep.GeneratedAt)},
		{"Tình trạng", annualStatus(rep)},
		{"Người chốt", frozenBy},
		{"SHA-256 của bản đã chốt", sha},
		{"Tỷ lệ chính thức", annualOfficialLabel(rep.SharingRatio.Official)},
		{"Số liệu điều chỉnh sau khi chốt", len(rep.Restatements)},
	}
	for _, r := range rows {
		if err := x.putStyled(func(col int) int {
			if col == 1 {
				if _, ok := r[1].(int); ok {
					return x.st.plain
				}
			}
			return x.st.text
		}, r...); err != nil {
			return err
		}
	}
	x.row++
	if err := x.put(x.st.head, "Chỉ tiêu chính", "Thực hiện", "Chỉ tiêu kế hoạch 216/KH-UBND"); err != nil {
		return err
	}
	if err := x.f.SetColWidth(x.name, "C", "C", 30); err != nil {
		return err
	}
	t := rep.SharingRatio.Total
	u := rep.Undergrounding.Totals
	key := [][]any{
		{"Tỷ lệ trạm BTS mới dùng chung hạ tầng (toàn thành phố)", t.Ratio, t.Target},
		{"Tuyến đường trung tâm đã ngầm hóa", u.Share, u.Target},
		{"Khu dân cư mới ngầm hóa trước bàn giao", u.Areas.NewAreasShare, u.Areas.NewAreasTarget},
		{"Khu dân cư hiện hữu đã ngầm hóa", u.Areas.HandedOverAreasShare, u.Areas.HandedOverAreasTarget},
	}
	for _, r := range key {
		if err := x.putStyled(func(col int) int {
			if col == 0 {
				return x.st.text
			}
			return x.st.pct
		}, r...); err != nil {
			return err
		}
	}
	return nil
}

func xlsxRatio(x *xlsxSheet, rep AnnualReport, sub, codeHead, nameHead string, rows []RatioRow) error {
	sr := rep.SharingRatio
	if err := x.title(rep, fmt.Sprintf("%s; từ %s đến %s; tỷ lệ chính thức %s", sub, vnDate(sr.From), vnDate(sr.To),
		annualOfficialLabel(sr.Official))); err != nil {
		return err
	}
	if err := x.widths(14, 30, 12, 12, 14, 12, 12, 12, 12, 14); err != nil {
		return err
	}
	if err := x.put(x.st.head, codeHead, nameHead, "Tổng số trạm BTS mới", "Dùng chung hạ tầng",
		"Trên hạ tầng sẵn có của doanh nghiệp", "Hạ tầng xây mới", "Tỷ lệ (chặt)", "Tỷ lệ (rộng)", "Chỉ tiêu",
		"Chênh lệch (chỉ tiêu − thực hiện)"); err != nil {
		return err
	}
	cells := func(r RatioRow, name string) []any {
		return []any{r.Group.Code, name, r.Total, r.Shared, r.OwnExisting, r.NewStructure, r.Ratio, r.RatioBroad, r.Target, r.Gap}
	}
	style := func(textStyle, countStyle, pctStyle int) func(int) int {
		return func(col int) int {
			switch {
			case col < 2:
				return textStyle
			case col < 6:
				return countStyle
			}
			return pctStyle
		}
	}
	for _, r := range rows {
		if err := x.putStyled(style(x.st.text, x.st.count, x.st.pct), cells(r, r.Group.Name)...); err != nil {
			return err
		}
	}
	name := "Toàn thành phố"
	if sr.Total.Group.Name != "" {
		name += " (" + sr.Total.Group.Name + ")"
	}
	return x.putStyled(style(x.st.bold, x.st.boldCount, x.st.boldPct), cells(sr.Total, name)...)
}

func vnDate(d infrashare.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year)
}

func xlsxUnderground(x *xlsxSheet, rep AnnualReport) error {
	u := rep.Undergrounding
	if err := x.title(rep, fmt.Sprintf("Ngầm hóa cáp viễn thông tính đến ngày %s (tuyến đường trung tâm: chỉ tiêu năm %d; khu dân cư: chỉ tiêu năm %d)",
		vnDate(u.AsOf), u.StreetTargetYear, u.AsOf.Year)); err != nil {
		return err
	}
	if err := x.widths(10, 24, 12, 12, 11, 11, 11, 14, 14, 11, 14, 11, 11, 11, 14, 11, 11); err != nil {
		return err
	}
	if err := x.put(x.st.head, "Mã", "Quận/huyện", "Tuyến đường trung tâm", "Tuyến đã ngầm hóa toàn bộ", "Tỷ lệ", "Chỉ tiêu",
		"Chênh lệch (chỉ tiêu − thực hiện)", "Chiều dài tuyến trung tâm (m)", "Chiều dài đã ngầm hóa (m)",
		"Khu dân cư mới", "Khu dân cư mới ngầm hóa trước bàn giao", "Tỷ lệ", "Chỉ tiêu",
		"Khu dân cư đã bàn giao", "Khu dân cư đã bàn giao được ngầm hóa", "Tỷ lệ", "Chỉ tiêu"); err != nil {
		return err
	}
	cells := func(r UndergroundingRow, name string) []any {
		a := r.Areas
		return []any{r.Group.Code, name, r.CentralStreets, r.UndergroundStreets, r.Share, r.Target, r.Gap,
			r.CentralLengthM, r.UndergroundLengthM, a.NewAreas, a.NewAreasUndergroundedBeforeHandover, a.NewAreasShare,
			a.NewAreasTarget, a.HandedOverAreas, a.HandedOverAreasUndergrounded, a.HandedOverAreasShare, a.HandedOverAreasTarget}
	}
	style := func(bold bool) func(int) int {
		return func(col int) int {
			switch col {
			case 0, 1:
				if bold {
					return x.st.bold
				}
				return x.st.text
			case 2, 3, 9, 10, 13, 14:
				if bold {
					return x.st.boldCount
				}
				return x.st.count
			case 7, 8:
				return x.st.metres
			}
			if bold {
				return x.st.boldPct
			}
			return x.st.pct
		}
	}
	for _, r := range u.Rows {
		if err := x.putStyled(style(false), cells(r, r.Group.Name)...); err != nil {
			return err
		}
	}
	return x.putStyled(style(true), cells(u.Totals, "Toàn thành phố")...)
}

func xlsxColocation(x *xlsxSheet, rep AnnualReport) error {
	c := rep.Colocation
	if err := x.title(rep, fmt.Sprintf("Yêu cầu sử dụng chung hạ tầng nộp trong năm %d", rep.Year)); err != nil {
		return err
	}
	if err := x.widths(56, 14, 24); err != nil {
		return err
	}
	if err := x.put(x.st.head, "Chỉ tiêu", "Số liệu", "Mục tiêu"); err != nil {
		return err
	}
	rows := [][]any{
		{"Số yêu cầu đã nộp", c.Filed, nil},
		{"Được chấp thuận (kể cả theo quyết định giải quyết tranh chấp)", c.Approved, nil},
		{"Bị từ chối", c.Rejected, nil},
	}
	for _, code := range annualReasons(c) {
		rows = append(rows, []any{"    – " + annualReasonLabel(code), c.RejectedByReason[code], nil})
	}
	rows = append(rows,
		[]any{"Quá hạn trả lời", c.Overdue, nil},
		[]any{"Đã được chủ sở hữu trả lời", c.Replied, nil},
		[]any{"Chưa được trả lời", c.Unanswered, nil},
	)
	for _, r := range rows {
		if err := x.putStyled(func(col int) int {
			if col == 0 {
				return x.st.text
			}
			return x.st.count
		}, r...); err != nil {
			return err
		}
	}
	return x.putStyled(func(col int) int {
		switch col {
		case 0:
			return x.st.text
		case 1:
			return x.st.days
		}
		return x.st.count
	}, "Số ngày trả lời (trung vị, ngày)", c.MedianReplyDays, c.ReplyDeadlineDays)
}

func xlsxPermits(x *xlsxSheet, rep AnnualReport) error {
	p := rep.Permits
	if err := x.title(rep, fmt.Sprintf("Hồ sơ cấp phép xây dựng công trình hạ tầng viễn thông thụ động nộp trong năm %d", rep.Year)); err != nil {
		return err
	}
	if err := x.widths(56, 14, 24); err != nil {
		return err
	}
	if err := x.put(x.st.head, "Chỉ tiêu", "Số liệu", "Mục tiêu"); err != nil {
		return err
	}
	rows := [][]any{
		{"Số hồ sơ đã nộp", p.Filed},
		{"Thuộc diện miễn giấy phép (thông báo)", p.Exempt},
		{"Được cấp phép", p.Approved},
		{"Bị từ chối", p.Rejected},
		{"Rút hồ sơ", p.Withdrawn},
		{"Trả lại để bổ sung", p.Returned},
		{"Đang xử lý", p.Pending},
	}
	for _, r := range rows {
		if err := x.putStyled(func(col int) int {
			if col == 0 {
				return x.st.text
			}
			return x.st.count
		}, r...); err != nil {
			return err
		}
	}
	return x.putStyled(func(col int) int {
		switch col {
		case 0:
			return x.st.text
		case 1:
			return x.st.days
		}
		return x.st.count
	}, "Thời gian giải quyết (trung vị, ngày làm việc)", p.MedianDecisionDays, p.DecisionDeadlineDays)
}

// restatementCell is a restated value as a cell: numbers as numbers.
func restatementCell(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case string, float64, int, bool:
		return x
	}
	return leafString(v)
}

func xlsxRestatements(x *xlsxSheet, rep AnnualReport) error {
	sub := "Số liệu tính lại sau khi chốt khác với số liệu đã chốt; các số liệu đã chốt giữ nguyên"
	if err := x.title(rep, sub); err != nil {
		return err
	}
	if err := x.widths(56, 46, 16, 16); err != nil {
		return err
	}
	if err := x.put(x.st.head, "Số liệu", "Đường dẫn", "Đã chốt", "Hiện tại"); err != nil {
		return err
	}
	switch {
	case rep.Frozen == nil:
		return x.put(x.st.text, "Báo cáo chưa chốt: không có điều chỉnh.")
	case len(rep.Restatements) == 0:
		return x.put(x.st.text, "Không có số liệu nào thay đổi sau khi chốt.")
	}
	for _, r := range rep.Restatements {
		valueStyle := x.st.count
		if restatedFraction(r.Path) {
			valueStyle = x.st.pct
		}
		if err := x.putStyled(func(col int) int {
			if col < 2 {
				return x.st.text
			}
			return valueStyle
		}, restatementLabel(r.Path), r.Path, restatementCell(r.Frozen), restatementCell(r.Current)); err != nil {
			return err
		}
	}
	return nil
}

// restatementSections name the parts of a restated figure's path.
var restatementSections = []struct{ prefix, label string }{
	{"sharing_ratio.by_unit[", "Tỷ lệ dùng chung, đơn vị "},
	{"sharing_ratio.by_operator[", "Tỷ lệ dùng chung, doanh nghiệp "},
	{"sharing_ratio.total", "Tỷ lệ dùng chung, toàn thành phố"},
	{"undergrounding.rows[", "Ngầm hóa, quận/huyện "},
	{"undergrounding.totals", "Ngầm hóa, toàn thành phố"},
	{"colocation", "Yêu cầu dùng chung"},
	{"permits", "Cấp phép"},
}

var restatementFields = map[string]string{
	"total":                "tổng số trạm",
	"shared":               "dùng chung",
	"own_existing":         "trên hạ tầng sẵn có của doanh nghiệp",
	"new_structure":        "hạ tầng xây mới",
	"ratio":                "tỷ lệ (chặt)",
	"ratio_broad":          "tỷ lệ (rộng)",
	"target":               "chỉ tiêu",
	"gap":                  "chênh lệch",
	"name":                 "tên",
	"target_year":          "năm chỉ tiêu",
	"central_streets":      "tuyến đường trung tâm",
	"underground_streets":  "tuyến đã ngầm hóa",
	"share":                "tỷ lệ",
	"central_length_m":     "chiều dài tuyến trung tâm (m)",
	"underground_length_m": "chiều dài đã ngầm hóa (m)",
	"new_areas":            "khu dân cư mới",
	"new_areas_undergrounded_before_handover": "khu dân cư mới ngầm hóa trước bàn giao",
	"new_areas_share":                         "tỷ lệ khu dân cư mới",
	"new_areas_target":                        "chỉ tiêu khu dân cư mới",
	"new_areas_gap":                           "chênh lệch khu dân cư mới",
	"handed_over_areas":                       "khu dân cư đã bàn giao",
	"handed_over_areas_undergrounded":         "khu dân cư đã bàn giao được ngầm hóa",
	"handed_over_areas_share":                 "tỷ lệ khu dân cư đã bàn giao",
	"handed_over_areas_target":                "chỉ tiêu khu dân cư đã bàn giao",
	"handed_over_areas_gap":                   "chênh lệch khu dân cư đã bàn giao",
	"filed":                                   "số đã nộp",
	"approved":                                "được chấp thuận/cấp phép",
	"rejected":                                "bị từ chối",
	"overdue":                                 "quá hạn trả lời",
	"replied":                                 "đã được trả lời",
	"unanswered":                              "chưa được trả lời",
	"median_reply_days":                       "số ngày trả lời (trung vị)",
	"reply_deadline_days":                     "thời hạn trả lời (ngày)",
	"exempt":                                  "miễn giấy phép",
	"withdrawn":                               "rút hồ sơ",
	"returned":                                "trả lại để bổ sung",
	"pending":                                 "đang xử lý",
	"decided":                                 "đã quyết định",
	"median_decision_days":                    "thời gian giải quyết (trung vị, ngày làm việc)",
	"decision_deadline_days":                  "thời hạn giải quyết (ngày làm việc)",
}

// restatementLabel says in Vietnamese what a restated path is.
func restatementLabel(path string) string {
	label := path
	for _, sec := range restatementSections {
		rest, ok := strings.CutPrefix(path, sec.prefix)
		if !ok {
			continue
		}
		if strings.HasSuffix(sec.prefix, "[") {
			group, after, found := strings.Cut(rest, "]")
			if !found {
				break
			}
			label, rest = sec.label+group, after
		} else {
			label = sec.label
		}
		rest = strings.TrimPrefix(rest, ".")
		if reason, ok := strings.CutPrefix(rest, "rejected_by_reason."); ok {
			return label + ": bị từ chối – " + annualReasonLabel(reason)
		}
		parts := strings.Split(rest, ".")
		field := parts[len(parts)-1]
		if l, ok := restatementFields[field]; ok {
			field = l
		}
		if rest == "" {
			return label
		}
		return label + ": " + field
	}
	return label
}

// restatedFraction says whether a restated figure is a fraction (shown as
// a percentage).
func restatedFraction(path string) bool {
	i := strings.LastIndex(path, ".")
	field := path[i+1:]
	switch field {
	case "ratio", "ratio_broad", "target", "gap", "share":
		return true
	}
	return strings.HasSuffix(field, "_share") || strings.HasSuffix(field, "_target") || strings.HasSuffix(field, "_gap")
}

// ---- HTML ----

// WriteAnnualHTML writes the report as one printable, self-contained page
// in Vietnamese: no external assets, no script.
func WriteAnnualHTML(w io.Writer, rep AnnualReport) error {
	var buf bytes.Buffer
	if err := annualPage.Execute(&buf, rep); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// vnNumber writes n with dots between thousands.
func vnNumber(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// vnDecimal writes v with the given decimals, a decimal comma and dots
// between thousands.
func vnDecimal(v float64, decimals int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.Atoi(intPart)
	out := vnNumber(n)
	if frac != "" {
		out += "," + frac
	}
	if v < 0 && strings.Trim(s, "0.") != "" {
		out = "-" + out
	}
	return out
}

var annualFuncs = template.FuncMap{
	"pct": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return vnDecimal(*v*100, 1) + " %"
	},
	"num": vnNumber,
	"days": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return vnDecimal(*v, 1)
	},
	"metres":   func(v float64) string { return vnDecimal(v, 0) },
	"time":     vnTime,
	"date":     vnDate,
	"official": annualOfficialLabel,
	"reasons":  annualReasons,
	"reason":   annualReasonLabel,
	"restated": restatementLabel,
	"value": func(path string, v any) string {
		switch x := v.(type) {
		case nil:
			return "—"
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return x.String()
			}
			if restatedFraction(path) {
				return vnDecimal(f*100, 2) + " %"
			}
			if f == math.Trunc(f) && math.Abs(f) < 1e15 {
				return vnNumber(int(f))
			}
			return vnDecimal(f, 2)
		case string:
			return x
		}
		return leafString(v)
	},
	"at": func(m map[string]int, k string) int { return m[k] },
}

var annualPage = template.Must(template.New("annual").Funcs(annualFuncs).Parse(`<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Báo cáo năm {{.Year}} — hạ tầng viễn thông dùng chung — Cần Thơ</title>
<style>
@page { size: A4 landscape; margin: 14mm; }
body { font-family: "Times New Roman", "DejaVu Serif", serif; font-size: 12pt; color: #000; margin: 0 auto; max-width: 1200px; padding: 12px; }
header { text-align: center; margin-bottom: 12px; }
h1 { font-size: 16pt; margin: 4px 0; text-transform: uppercase; }
h2 { font-size: 13pt; margin: 18px 0 6px; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 12pt; margin: 10px 0 4px; font-style: italic; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; }
th, td { border: 1px solid #555; padding: 3px 6px; vertical-align: top; }
th { background: #e6ecf3; font-weight: bold; text-align: center; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
tr { break-inside: avoid; page-break-inside: avoid; }
.meta { width: auto; }
.meta th { text-align: left; background: none; }
.status { border: 2px solid #333; padding: 6px 10px; margin: 8px 0; }
.status.frozen { border-color: #1b5e20; }
.status.draft { border-color: #b26a00; }
.note { font-size: 10pt; color: #333; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 10pt; word-break: break-all; }
@media print { body { padding: 0; max-width: none; } .status { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<div>Báo cáo của Sở gửi Ủy ban nhân dân thành phố Cần Thơ</div>
<h1>Báo cáo năm {{.Year}}</h1>
<div>về hạ tầng kỹ thuật viễn thông thụ động dùng chung, theo Kế hoạch 216/KH-UBND</div>
</header>

{{if .Frozen}}
<div class="status frozen">
<strong>Báo cáo đã chốt</strong> lúc {{time .Frozen.At}}{{with .Frozen.By.Name}} bởi {{.}}{{end}}.
Mã băm SHA-256 của bản đã chốt (ghi trong nhật ký kiểm toán): <code>{{.Frozen.SHA256}}</code>.
{{if .Restatements}}Có {{len .Restatements}} số liệu thay đổi sau khi chốt, nêu tại mục 5.{{else}}Không có số liệu nào thay đổi sau khi chốt.{{end}}
</div>
{{else}}
<div class="status draft"><strong>Báo cáo chưa chốt:</strong> số liệu tính tại thời điểm lập và có thể thay đổi.</div>
{{end}}

<table class="meta">
<tr><th>Năm báo cáo</th><td>{{.Year}}</td></tr>
<tr><th>Thời điểm lập số liệu</th><td>{{time .GeneratedAt}}</td></tr>
<tr><th>Tỷ lệ chính thức</th><td>{{official .SharingRatio.Official}}</td></tr>
</table>

<h2>1. Tỷ lệ trạm BTS mới sử dụng chung hạ tầng</h2>
<p class="note">Trạm BTS phát sóng từ {{date .SharingRatio.From}} đến {{date .SharingRatio.To}}. Tỷ lệ và chỉ tiêu tính theo phần trăm; “chênh lệch” là chỉ tiêu trừ tỷ lệ chính thức (số âm: vượt chỉ tiêu).</p>
{{define "ratioHead"}}<tr><th>{{.}}</th><th>Tên</th><th>Tổng số trạm BTS mới</th><th>Dùng chung hạ tầng</th><th>Trên hạ tầng sẵn có của doanh nghiệp</th><th>Hạ tầng xây mới</th><th>Tỷ lệ (chặt)</th><th>Tỷ lệ (rộng)</th><th>Chỉ tiêu</th><th>Chênh lệch</th></tr>{{end}}
{{define "ratioRow"}}<td>{{.Group.Code}}</td><td>{{.Group.Name}}</td><td class="n">{{num .Total}}</td><td class="n">{{num .Shared}}</td><td class="n">{{num .OwnExisting}}</td><td class="n">{{num .NewStructure}}</td><td class="n">{{pct .Ratio}}</td><td class="n">{{pct .RatioBroad}}</td><td class="n">{{pct .Target}}</td><td class="n">{{pct .Gap}}</td>{{end}}
<h3>1.1. Theo đơn vị hành chính</h3>
<table>
<thead>{{template "ratioHead" "Mã đơn vị"}}</thead>
<tbody>
{{range .SharingRatio.ByUnit}}<tr>{{template "ratioRow" .}}</tr>
{{else}}<tr><td colspan="10">Không có trạm BTS mới trong năm.</td></tr>
{{end}}<tr class="total">{{template "ratioRow" .SharingRatio.Total}}</tr>
</tbody>
</table>
<h3>1.2. Theo doanh nghiệp</h3>
<table>
<thead>{{template "ratioHead" "Mã doanh nghiệp"}}</thead>
<tbody>
{{range .SharingRatio.ByOperator}}<tr>{{template "ratioRow" .}}</tr>
{{else}}<tr><td colspan="10">Không có trạm BTS mới trong năm.</td></tr>
{{end}}<tr class="total">{{template "ratioRow" .SharingRatio.Total}}</tr>
</tbody>
</table>

<h2>2. Ngầm hóa cáp viễn thông</h2>
<p class="note">Tính đến ngày {{date .Undergrounding.AsOf}}. Tuyến đường trung tâm so với chỉ tiêu năm {{.Undergrounding.StreetTargetYear}}; khu dân cư so với chỉ tiêu năm {{.Undergrounding.AsOf.Year}}.</p>
{{define "undgRow"}}<td>{{.Group.Code}}</td><td>{{.Group.Name}}</td><td class="n">{{num .CentralStreets}}</td><td class="n">{{num .UndergroundStreets}}</td><td class="n">{{pct .Share}}</td><td class="n">{{pct .Target}}</td><td class="n">{{metres .CentralLengthM}}</td><td class="n">{{metres .UndergroundLengthM}}</td><td class="n">{{num .Areas.NewAreas}}</td><td class="n">{{num .Areas.NewAreasUndergroundedBeforeHandover}}</td><td class="n">{{pct .Areas.NewAreasShare}}</td><td class="n">{{pct .Areas.NewAreasTarget}}</td><td class="n">{{num .Areas.HandedOverAreas}}</td><td class="n">{{num .Areas.HandedOverAreasUndergrounded}}</td><td class="n">{{pct .Areas.HandedOverAreasShare}}</td><td class="n">{{pct .Areas.HandedOverAreasTarget}}</td>{{end}}
<table>
<thead>
<tr><th rowspan="2">Mã</th><th rowspan="2">Quận/huyện</th><th colspan="6">Tuyến đường trung tâm</th><th colspan="4">Khu dân cư mới</th><th colspan="4">Khu dân cư đã bàn giao</th></tr>
<tr><th>Số tuyến</th><th>Đã ngầm hóa toàn tuyến</th><th>Tỷ lệ</th><th>Chỉ tiêu</th><th>Chiều dài (m)</th><th>Đã ngầm hóa (m)</th><th>Số khu</th><th>Ngầm hóa trước bàn giao</th><th>Tỷ lệ</th><th>Chỉ tiêu</th><th>Số khu</th><th>Đã ngầm hóa</th><th>Tỷ lệ</th><th>Chỉ tiêu</th></tr>
</thead>
<tbody>
{{range .Undergrounding.Rows}}<tr>{{template "undgRow" .}}</tr>
{{end}}<tr class="total">{{template "undgRow" .Undergrounding.Totals}}</tr>
</tbody>
</table>

<h2>3. Yêu cầu sử dụng chung hạ tầng</h2>
<p class="note">Yêu cầu nộp trong năm {{.Year}}, với kết quả xử lý đã ghi nhận đến thời điểm lập số liệu.</p>
{{with .Colocation}}
<table>
<thead><tr><th>Chỉ tiêu</th><th>Số liệu</th><th>Mục tiêu</th></tr></thead>
<tbody>
<tr><td>Số yêu cầu đã nộp</td><td class="n">{{num .Filed}}</td><td></td></tr>
<tr><td>Được chấp thuận (kể cả theo quyết định giải quyết tranh chấp)</td><td class="n">{{num .Approved}}</td><td></td></tr>
<tr><td>Bị từ chối</td><td class="n">{{num .Rejected}}</td><td></td></tr>
{{$by := .RejectedByReason}}{{range reasons .}}<tr><td>&nbsp;&nbsp;– {{reason .}}</td><td class="n">{{num (at $by .)}}</td><td></td></tr>
{{end}}<tr><td>Quá hạn trả lời</td><td class="n">{{num .Overdue}}</td><td></td></tr>
<tr><td>Đã được chủ sở hữu trả lời</td><td class="n">{{num .Replied}}</td><td></td></tr>
<tr><td>Chưa được trả lời</td><td class="n">{{num .Unanswered}}</td><td></td></tr>
<tr><td>Số ngày trả lời (trung vị)</td><td class="n">{{days .MedianReplyDays}}</td><td class="n">{{num .ReplyDeadlineDays}} ngày</td></tr>
</tbody>
</table>
{{end}}

<h2>4. Cấp phép xây dựng công trình hạ tầng viễn thông thụ động</h2>
<p class="note">Hồ sơ nộp trong năm {{.Year}}, theo tình trạng đã ghi nhận đến thời điểm lập số liệu; thời gian giải quyết tính bằng ngày làm việc.</p>
{{with .Permits}}
<table>
<thead><tr><th>Chỉ tiêu</th><th>Số liệu</th><th>Mục tiêu</th></tr></thead>
<tbody>
<tr><td>Số hồ sơ đã nộp</td><td class="n">{{num .Filed}}</td><td></td></tr>
<tr><td>Thuộc diện miễn giấy phép (thông báo)</td><td class="n">{{num .Exempt}}</td><td></td></tr>
<tr><td>Được cấp phép</td><td class="n">{{num .Approved}}</td><td></td></tr>
<tr><td>Bị từ chối</td><td class="n">{{num .Rejected}}</td><td></td></tr>
<tr><td>Rút hồ sơ</td><td class="n">{{num .Withdrawn}}</td><td></td></tr>
<tr><td>Trả lại để bổ sung</td><td class="n">{{num .Returned}}</td><td></td></tr>
<tr><td>Đang xử lý</td><td class="n">{{num .Pending}}</td><td></td></tr>
<tr><td>Thời gian giải quyết (trung vị, ngày làm việc)</td><td class="n">{{days .MedianDecisionDays}}</td><td class="n">{{num .DecisionDeadlineDays}} ngày làm việc</td></tr>
</tbody>
</table>
{{end}}

<h2>5. Điều chỉnh sau khi chốt</h2>
{{if not .Frozen}}<p>Báo cáo chưa chốt: không có điều chỉnh.</p>
{{else if not .Restatements}}<p>Không có số liệu nào thay đổi sau khi chốt.</p>
{{else}}<p class="note">Số liệu tính lại hôm nay khác với số liệu đã chốt; các số liệu đã chốt ở trên giữ nguyên.</p>
<table>
<thead><tr><th>Số liệu</th><th>Đường dẫn</th><th>Đã chốt</th><th>Hiện tại</th></tr></thead>
<tbody>
{{range .Restatements}}<tr><td>{{restated .Path}}</td><td><code>{{.Path}}</code></td><td class="n">{{value .Path .Frozen}}</td><td class="n">{{value .Path .Current}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
</body>
</html>
`))
