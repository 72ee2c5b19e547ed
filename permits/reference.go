package permits

// Reference data of the audit (DESIGN §1, issue 6 point 8): the targets of
// plan 216 and their resolution, the holiday calendar with its working-day
// arithmetic, and the dated settings.
//
// Decisions, also for the README:
//
//   - Targets are read by every signed-in role and written by admins only.
//     PUT upserts rows keyed by (plan, metric, unit_code, year); a row it does
//     not name stays as it is (there is no delete: a target set by mistake is
//     overwritten). The plan defaults to 216/KH-UBND.
//   - TargetFor follows DESIGN §1 on plan 216's rows: the unit's own row of
//     that year, else its first milestone at or after the year, else the same
//     for the nearest ancestor (parents valid on 31 December of the year; a
//     unit retired by then — such as a pre-2025 district — is looked up with
//     the parents it had on its last valid day).
//   - Holidays are read by every signed-in role; PUT replaces one calendar
//     year as a whole. Working days are Monday to Friday except holidays;
//     there are no compensating working Saturdays.
//   - Settings are read by auditors and admins with secrets masked (the
//     password of notify.smtp reads "********"), and written by admins only:
//     only keys that exist, with a value of the same JSON type as the value
//     in force, upserted by (key, valid_from). Writing the mask back keeps
//     the stored password, so a settings page can send back what it read.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// Plan and metric names of the targets table (the same strings as the
// constants of migrations, which seed the rows; permits does not import
// migrations).
const (
	Plan216                 = "216/KH-UBND"
	MetricBTSSharing        = "bts_sharing_ratio"
	MetricNewAreaUnderg     = "new_area_underground"
	MetricHandedOverUnderg  = "handed_over_area_underground"
	MetricCentralStreetUndg = "central_street_underground"
)

// TargetMetrics are the metrics a target may name.
var TargetMetrics = []string{MetricBTSSharing, MetricNewAreaUnderg, MetricHandedOverUnderg, MetricCentralStreetUndg}

func targetKnownMetric(m string) bool {
	for _, k := range TargetMetrics {
		if k == m {
			return true
		}
	}
	return false
}

// Bounds of the reference data.
const (
	refMinYear    = 2000
	refMaxYear    = 2100
	refMaxPutRows = 10_000
	// refMaxWorkingDays bounds AddWorkingDays (about 40 years).
	refMaxWorkingDays = 10_000
	// refMaxSpanDays bounds WorkingDaysBetween (about 200 years).
	refMaxSpanDays = 73_050
)

// refBadText says what is wrong with text that goes to the database: not
// UTF-8, or holding a NUL byte (PostgreSQL refuses those in text); "" when
// it is fine.
func refBadText(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "is not UTF-8 text"
	case strings.ContainsRune(v, 0):
		return "must not contain NUL characters"
	}
	return ""
}

// ---- permissions ----

func refRequireAdmin(actor auth.Actor, what string) error {
	if actor.System || actor.Has(auth.RoleAdmin) {
		return nil
	}
	return infrashare.Forbidden("only admins %s", what)
}

func refRequireSignedIn(actor auth.Actor) error {
	if actor.System || len(actor.Roles) > 0 {
		return nil
	}
	return infrashare.Forbidden("sign in first")
}

// refDuplicateConflict turns a unique violation of a concurrent writer into
// a conflict the client may retry.
func refDuplicateConflict(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return infrashare.Conflict("another change was written at the same time; try again")
	}
	return err
}

// ---- targets ----

// TargetRow is one target: a fraction 0..1 of a metric for a territory
// unit in a year of a plan.
type TargetRow struct {
	Plan     string   `json:"plan" gorm:"primaryKey" validate:"max=64"`
	Metric   string   `json:"metric" gorm:"primaryKey" validate:"required"`
	UnitCode string   `json:"unit_code" gorm:"primaryKey" validate:"required,max=16"`
	Year     int      `json:"year" gorm:"primaryKey;autoIncrement:false" validate:"gte=2000,lte=2100"`
	Value    *float64 `json:"value" validate:"required"`
	Note     string   `json:"note" validate:"max=2000"`
}

// TableName pins the table.
func (TargetRow) TableName() string { return "targets" }

// TargetFilter selects targets; zero fields do not filter.
type TargetFilter struct {
	Plan   string
	Metric string
	Unit   string
	Year   int
}

// Targets lists the targets, by plan, metric, unit and year.
func (s *Service) Targets(ctx context.Context, actor auth.Actor, f TargetFilter) ([]TargetRow, error) {
	if err := refRequireSignedIn(actor); err != nil {
		return nil, err
	}
	fields := infrashare.FieldErrors{}
	if f.Metric != "" && !targetKnownMetric(f.Metric) {
		fields.Add("metric", "must be one of: "+strings.Join(TargetMetrics, ", "))
	}
	if f.Year != 0 && (f.Year < refMinYear || f.Year > refMaxYear) {
		fields.Add("year", fmt.Sprintf("must be between %d and %d", refMinYear, refMaxYear))
	}
	for name, v := range map[string]string{"plan": f.Plan, "unit": f.Unit} {
		if why := refBadText(v); why != "" {
			fields.Add(name, why)
		}
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	q := s.db.Conn(ctx).Model(&TargetRow{})
	if f.Plan != "" {
		q = q.Where("plan = ?", f.Plan)
	}
	if f.Metric != "" {
		q = q.Where("metric = ?", f.Metric)
	}
	if f.Unit != "" {
		q = q.Where("unit_code = ?", f.Unit)
	}
	if f.Year != 0 {
		q = q.Where("year = ?", f.Year)
	}
	rows := []TargetRow{}
	if err := q.Order("plan, metric, unit_code, year").Find(&rows).Error; err != nil {
		return nil, err
	}
	return rows, nil
}

// PutTargets upserts targets keyed by (plan, metric, unit_code, year), all
// or none, for admins. It answers the rows as written.
func (s *Service) PutTargets(ctx context.Context, actor auth.Actor, rows []TargetRow) ([]TargetRow, error) {
	if err := refRequireAdmin(actor, "set targets"); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, infrashare.Invalid("targets", "give at least one target")
	}
	if len(rows) > refMaxPutRows {
		return nil, infrashare.Invalid("targets", fmt.Sprintf("at most %d targets at once", refMaxPutRows))
	}
	fields := infrashare.FieldErrors{}
	seen := map[[4]string]int{}
	codes := map[string]bool{}
	clean := make([]TargetRow, len(rows))
	for i, r := range rows {
		at := func(f string) string { return fmt.Sprintf("targets[%d].%s", i, f) }
		r.Plan = strings.TrimSpace(r.Plan)
		if r.Plan == "" {
			r.Plan = Plan216
		}
		r.UnitCode = strings.TrimSpace(r.UnitCode)
		r.Note = strings.TrimSpace(r.Note)
		if err := infrashare.Validate(r); err != nil {
			var e *infrashare.Error
			if errors.As(err, &e) {
				for f, why := range e.Fields {
					fields.Add(at(f), why)
				}
			}
		}
		if r.Metric != "" && !targetKnownMetric(r.Metric) {
			fields.Add(at("metric"), "must be one of: "+strings.Join(TargetMetrics, ", "))
		}
		if r.Value != nil && (math.IsNaN(*r.Value) || *r.Value < 0 || *r.Value > 1) {
			fields.Add(at("value"), "must be a fraction between 0 and 1 (0.40 for 40 %)")
		}
		for f, v := range map[string]string{"plan": r.Plan, "note": r.Note, "unit_code": r.UnitCode, "metric": r.Metric} {
			if why := refBadText(v); why != "" {
				fields.Add(at(f), why)
			}
		}
		key := [4]string{r.Plan, r.Metric, r.UnitCode, strconv.Itoa(r.Year)}
		if j, dup := seen[key]; dup {
			fields.Add(at("year"), fmt.Sprintf("the same plan, metric, unit and year as targets[%d]", j))
		}
		seen[key] = i
		if r.UnitCode != "" && refBadText(r.UnitCode) == "" {
			codes[r.UnitCode] = true
		}
		clean[i] = r
	}
	if len(codes) > 0 {
		known, err := s.targetKnownUnits(ctx, codes)
		if err != nil {
			return nil, err
		}
		for i, r := range clean {
			if r.UnitCode != "" && refBadText(r.UnitCode) == "" && !known[r.UnitCode] {
				fields.Add(fmt.Sprintf("targets[%d].unit_code", i), "is not a known administrative unit")
			}
		}
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		conn := s.db.Conn(ctx)
		var before []TargetRow
		for _, r := range clean {
			var old []TargetRow
			if err := conn.Where("plan = ? AND metric = ? AND unit_code = ? AND year = ?", r.Plan, r.Metric, r.UnitCode, r.Year).
				Find(&old).Error; err != nil {
				return err
			}
			before = append(before, old...)
		}
		for i := range clean {
			if err := conn.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "plan"}, {Name: "metric"}, {Name: "unit_code"}, {Name: "year"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "note"}),
			}).Create(&clean[i]).Error; err != nil {
				return refDuplicateConflict(err)
			}
		}
		var b any
		if len(before) > 0 {
			b = before
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "target.put", ObjectType: "target",
			ObjectID: clean[0].Plan, Before: b, After: clean})
	})
	if err != nil {
		return nil, err
	}
	return clean, nil
}

// targetKnownUnits reports which of the codes name a unit (on any day).
func (s *Service) targetKnownUnits(ctx context.Context, codes map[string]bool) (map[string]bool, error) {
	list := make([]string, 0, len(codes))
	for c := range codes {
		list = append(list, c)
	}
	known := map[string]bool{}
	for i := 0; i < len(list); i += 1000 {
		var found []string
		if err := s.db.Conn(ctx).Table("admin_units").Where("code IN ?", list[i:min(i+1000, len(list))]).
			Distinct().Pluck("code", &found).Error; err != nil {
			return nil, err
		}
		for _, c := range found {
			known[c] = true
		}
	}
	return known, nil
}

// TargetFor is the target of plan 216 for a metric, a unit and a year
// (DESIGN §1): the unit's row of that year, else its first milestone at or
// after the year, else the same for its nearest ancestor. found is false
// when no milestone at or after the year exists anywhere up the chain.
func (s *Service) TargetFor(ctx context.Context, metric string, unitCode string, year int) (value float64, found bool, err error) {
	r, err := s.targetResolver(ctx, metric)
	if err != nil {
		return 0, false, err
	}
	value, found = r.targetFor(unitCode, year)
	return value, found, nil
}

// targetResolver answers TargetFor for one metric from a single read of the
// targets and the units, so that a report resolves every row's target
// without a query per row.
type targetResolver struct {
	rows  map[string][]TargetRow // by unit code, in year order
	units registry.UnitGraph
}

func (s *Service) targetResolver(ctx context.Context, metric string) (*targetResolver, error) {
	var rows []TargetRow
	if err := s.db.Conn(ctx).Where("plan = ? AND metric = ?", Plan216, metric).Order("year").Find(&rows).Error; err != nil {
		return nil, err
	}
	g, err := s.units.Graph(ctx)
	if err != nil {
		return nil, err
	}
	r := &targetResolver{rows: map[string][]TargetRow{}, units: g}
	for _, t := range rows {
		r.rows[t.UnitCode] = append(r.rows[t.UnitCode], t)
	}
	return r, nil
}

// targetFor: the first row at or after the year of the unit, else of its
// nearest ancestor that has one (a row without a value stops at that unit
// and moves up).
func (r *targetResolver) targetFor(unitCode string, year int) (float64, bool) {
	for _, code := range r.chain(unitCode, year) {
		for _, t := range r.rows[code] {
			if t.Year < year {
				continue
			}
			if t.Value != nil {
				return *t.Value, true
			}
			break
		}
	}
	return 0, false
}

// chain is the unit and its ancestors, nearest first, as of 31 December of
// the year; a unit not valid then keeps the parents of its nearest valid
// day (its first, or its last).
func (r *targetResolver) chain(code string, year int) []string {
	if year < 1 || year > 9999 {
		return []string{code}
	}
	day := infrashare.Date{Year: year, Month: time.December, Day: 31}
	if !r.units.ValidCode(code, day) {
		if from, to, ok := r.units.Latest(code); ok {
			switch {
			case from.After(day):
				day = from
			case !to.IsZero():
				day = to.AddDays(-1)
			}
		}
	}
	return append([]string{code}, r.units.Ancestors(code, day)...)
}

// ---- holidays ----

// Holiday is a day off of the calendar.
type Holiday struct {
	Day  infrashare.Date `json:"day" gorm:"primaryKey"`
	Name string          `json:"name"`
}

// TableName pins the table.
func (Holiday) TableName() string { return "holidays" }

func refYearBounds(year int) (infrashare.Date, infrashare.Date) {
	return infrashare.Date{Year: year, Month: time.January, Day: 1}, infrashare.Date{Year: year, Month: time.December, Day: 31}
}

func refCheckYear(year int) error {
	if year < refMinYear || year > refMaxYear {
		return infrashare.Invalid("year", fmt.Sprintf("must be between %d and %d", refMinYear, refMaxYear))
	}
	return nil
}

// Holidays lists the holidays of a year (this year in Vietnam when 0).
func (s *Service) Holidays(ctx context.Context, actor auth.Actor, year int) ([]Holiday, error) {
	if err := refRequireSignedIn(actor); err != nil {
		return nil, err
	}
	if year == 0 {
		year = s.settings.Today().Year
	}
	if err := refCheckYear(year); err != nil {
		return nil, err
	}
	first, last := refYearBounds(year)
	return s.refHolidaysBetween(ctx, first, last)
}

func (s *Service) refHolidaysBetween(ctx context.Context, first, last infrashare.Date) ([]Holiday, error) {
	out := []Holiday{}
	err := s.db.Conn(ctx).Where("day >= ? AND day <= ?", first.String(), last.String()).Order("day").Find(&out).Error
	return out, err
}

// PutHolidays replaces the holidays of a year, for admins: every day in
// that year, each once, each with a name. It answers the new calendar.
func (s *Service) PutHolidays(ctx context.Context, actor auth.Actor, year int, days []Holiday) ([]Holiday, error) {
	if err := refRequireAdmin(actor, "maintain the holiday calendar"); err != nil {
		return nil, err
	}
	if err := refCheckYear(year); err != nil {
		return nil, err
	}
	if len(days) > 366 {
		return nil, infrashare.Invalid("holidays", "a year has at most 366 days")
	}
	fields := infrashare.FieldErrors{}
	seen := map[infrashare.Date]int{}
	clean := make([]Holiday, len(days))
	for i, h := range days {
		at := func(f string) string { return fmt.Sprintf("holidays[%d].%s", i, f) }
		h.Name = strings.TrimSpace(h.Name)
		switch {
		case h.Day.IsZero():
			fields.Add(at("day"), "is required")
		case h.Day.Year != year:
			fields.Add(at("day"), fmt.Sprintf("must be in %d", year))
		}
		if j, dup := seen[h.Day]; dup && !h.Day.IsZero() {
			fields.Add(at("day"), fmt.Sprintf("is the same day as holidays[%d]", j))
		}
		seen[h.Day] = i
		switch {
		case h.Name == "":
			fields.Add(at("name"), "is required")
		case refBadText(h.Name) != "":
			fields.Add(at("name"), refBadText(h.Name))
		case utf8.RuneCountInString(h.Name) > 200:
			fields.Add(at("name"), "must be at most 200 characters")
		}
		clean[i] = h
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	sort.Slice(clean, func(i, j int) bool { return clean[i].Day.Before(clean[j].Day) })
	first, last := refYearBounds(year)
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		before, err := s.refHolidaysBetween(ctx, first, last)
		if err != nil {
			return err
		}
		conn := s.db.Conn(ctx)
		if err := conn.Where("day >= ? AND day <= ?", first.String(), last.String()).Delete(&Holiday{}).Error; err != nil {
			return err
		}
		if len(clean) > 0 {
			if err := conn.CreateInBatches(&clean, 100).Error; err != nil {
				return refDuplicateConflict(err)
			}
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "holiday.put", ObjectType: "holiday_calendar",
			ObjectID: strconv.Itoa(year), Before: before, After: clean})
	})
	if err != nil {
		return nil, err
	}
	return clean, nil
}

// refHolidaySet reads the holidays from first to last, inclusive.
func (s *Service) refHolidaySet(ctx context.Context, first, last infrashare.Date) (map[infrashare.Date]bool, error) {
	hs, err := s.refHolidaysBetween(ctx, first, last)
	if err != nil {
		return nil, err
	}
	set := make(map[infrashare.Date]bool, len(hs))
	for _, h := range hs {
		set[h.Day] = true
	}
	return set, nil
}

func refIsWorkingDay(d infrashare.Date, holidays map[infrashare.Date]bool) bool {
	switch d.Time().Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !holidays[d]
}

func refCheckCalendarDate(name string, d infrashare.Date) error {
	if d.IsZero() || d.Year < 1900 || d.Year > 9000 {
		return infrashare.Invalid(name, "must be a date between 1900 and 9000")
	}
	return nil
}

// AddWorkingDays returns the n-th working day after from: Saturdays,
// Sundays and the holidays of the calendar do not count. n = 0 answers
// from itself.
func (s *Service) AddWorkingDays(ctx context.Context, from infrashare.Date, n int) (infrashare.Date, error) {
	if err := refCheckCalendarDate("from", from); err != nil {
		return infrashare.Date{}, err
	}
	if n < 0 || n > refMaxWorkingDays {
		return infrashare.Date{}, infrashare.Invalid("n", fmt.Sprintf("must be between 0 and %d working days", refMaxWorkingDays))
	}
	left := n
	start := from.AddDays(1)
	d := from
	for left > 0 {
		// A window that holds the rest with room for weekends and Tết.
		end := start.AddDays(left*2 + 20)
		hol, err := s.refHolidaySet(ctx, start, end)
		if err != nil {
			return infrashare.Date{}, err
		}
		for d = start; !d.After(end); d = d.AddDays(1) {
			if refIsWorkingDay(d, hol) {
				if left--; left == 0 {
					return d, nil
				}
			}
		}
		start = end.AddDays(1)
		if start.Year > 9999 {
			return infrashare.Date{}, infrashare.Invalid("n", "reaches beyond the calendar")
		}
	}
	return d, nil
}

// WorkingDaysBetween counts the working days after from up to and
// including to; 0 when to is not after from.
func (s *Service) WorkingDaysBetween(ctx context.Context, from, to infrashare.Date) (int, error) {
	if err := refCheckCalendarDate("from", from); err != nil {
		return 0, err
	}
	if err := refCheckCalendarDate("to", to); err != nil {
		return 0, err
	}
	if !to.After(from) {
		return 0, nil
	}
	if to.Time().Sub(from.Time()) > refMaxSpanDays*24*time.Hour {
		return 0, infrashare.Invalid("to", "is more than 200 years after from")
	}
	start := from.AddDays(1)
	hol, err := s.refHolidaySet(ctx, start, to)
	if err != nil {
		return 0, err
	}
	n := 0
	for d := start; !d.After(to); d = d.AddDays(1) {
		if refIsWorkingDay(d, hol) {
			n++
		}
	}
	return n, nil
}

// ---- settings ----

// SettingRow is a dated setting: the value of key from valid_from on. On
// output InForce marks the row in force today and UpdatedAt says when it
// was written; on input both are ignored (so that a client may send back
// what it read), ValidFrom defaults to today and Value is any JSON of the
// same type as the value in force.
type SettingRow struct {
	Key        string          `json:"key"`
	ValidFrom  infrashare.Date `json:"valid_from"`
	Value      json.RawMessage `json:"value"`
	LegalBasis string          `json:"legal_basis"`
	InForce    bool            `json:"in_force"`
	UpdatedAt  *time.Time      `json:"updated_at,omitempty"`
}

// settingRecord is a row of the settings table.
type settingRecord struct {
	Key        string          `gorm:"primaryKey"`
	ValidFrom  infrashare.Date `gorm:"primaryKey"`
	Value      string
	LegalBasis string
	UpdatedAt  time.Time
	UpdatedBy  *int64
}

func (settingRecord) TableName() string { return "settings" }

// settingMask stands for a secret in what is read.
const settingMask = "********"

// settingSecretFields names the secret members of object-valued settings.
var settingSecretFields = map[string][]string{
	"notify.smtp": {"password"},
}

// settingMaskSecrets replaces the non-empty secrets of a setting's value by the
// mask.
func settingMaskSecrets(key string, value []byte) json.RawMessage {
	names := settingSecretFields[key]
	if len(names) == 0 {
		return value
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(value, &obj) != nil {
		return value
	}
	changed := false
	for _, n := range names {
		raw, ok := obj[n]
		if !ok {
			continue
		}
		var sv string
		if json.Unmarshal(raw, &sv) == nil && sv == "" {
			continue
		}
		if string(raw) == "null" {
			continue
		}
		obj[n] = json.RawMessage(`"` + settingMask + `"`)
		changed = true
	}
	if !changed {
		return value
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return value
	}
	return out
}

// settingKeepSecrets puts the stored secrets back where the new value carries the
// mask.
func settingKeepSecrets(key string, value []byte, stored []byte) (json.RawMessage, error) {
	names := settingSecretFields[key]
	if len(names) == 0 {
		return value, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(value, &obj) != nil {
		return value, nil
	}
	var old map[string]json.RawMessage
	_ = json.Unmarshal(stored, &old)
	changed := false
	for _, n := range names {
		var sv string
		if raw, ok := obj[n]; !ok || json.Unmarshal(raw, &sv) != nil || sv != settingMask {
			continue
		}
		if prev, ok := old[n]; ok {
			obj[n] = prev
		} else {
			obj[n] = json.RawMessage(`""`)
		}
		changed = true
	}
	if !changed {
		return value, nil
	}
	return json.Marshal(obj)
}

// settingJSONType names the JSON type of a value: object, array, string, number,
// boolean or null.
func settingJSONType(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// settingViewValue is a stored value as it goes out: masked, and valid JSON even
// if the row were damaged.
func settingViewValue(key, stored string) json.RawMessage {
	if !json.Valid([]byte(stored)) {
		b, _ := json.Marshal(stored)
		return b
	}
	return settingMaskSecrets(key, []byte(stored))
}

// Settings lists, for auditors and admins, every key's row in force today
// and its future rows, by key and date, secrets masked.
func (s *Service) Settings(ctx context.Context, actor auth.Actor) ([]SettingRow, error) {
	if !actor.SeesEverything() {
		return nil, infrashare.Forbidden("only the department and admins read the settings")
	}
	today := s.settings.Today()
	var recs []settingRecord
	if err := s.db.Conn(ctx).Order("key, valid_from").Find(&recs).Error; err != nil {
		return nil, err
	}
	// The row in force is the last one of its key that began by today.
	current := map[string]int{}
	for i, r := range recs {
		if !r.ValidFrom.After(today) {
			current[r.Key] = i
		}
	}
	out := []SettingRow{}
	for i, r := range recs {
		cur, hasCur := current[r.Key]
		if r.ValidFrom.After(today) || (hasCur && cur == i) {
			t := r.UpdatedAt.UTC()
			out = append(out, SettingRow{Key: r.Key, ValidFrom: r.ValidFrom, Value: settingViewValue(r.Key, r.Value),
				LegalBasis: r.LegalBasis, InForce: hasCur && cur == i, UpdatedAt: &t})
		}
	}
	return out, nil
}

// settingAudit is a setting row as the audit log keeps it, secrets masked.
type settingAudit struct {
	Key        string          `json:"key"`
	ValidFrom  infrashare.Date `json:"valid_from"`
	Value      json.RawMessage `json:"value"`
	LegalBasis string          `json:"legal_basis"`
}

// PutSettings upserts dated settings, for admins: known keys only, each
// value of the same JSON type as the key's value in force (or its earliest
// value when none is in force yet), by (key, valid_from), all or none, each
// row audited with its before and after (secrets masked). It answers the
// settings as Settings does.
func (s *Service) PutSettings(ctx context.Context, actor auth.Actor, rows []SettingRow) ([]SettingRow, error) {
	if err := refRequireAdmin(actor, "change settings"); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, infrashare.Invalid("settings", "give at least one setting")
	}
	if len(rows) > refMaxPutRows {
		return nil, infrashare.Invalid("settings", fmt.Sprintf("at most %d settings at once", refMaxPutRows))
	}
	today := s.settings.Today()
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		conn := s.db.Conn(ctx)
		var all []settingRecord
		if err := conn.Order("key, valid_from").Find(&all).Error; err != nil {
			return err
		}
		byKey := map[string][]settingRecord{}
		for _, r := range all {
			byKey[r.Key] = append(byKey[r.Key], r)
		}
		fields := infrashare.FieldErrors{}
		seen := map[string]int{}
		recs := make([]settingRecord, len(rows))
		for i, r := range rows {
			at := func(f string) string { return fmt.Sprintf("settings[%d].%s", i, f) }
			key := strings.TrimSpace(r.Key)
			existing, known := byKey[key]
			switch {
			case key == "":
				fields.Add(at("key"), "is required")
			case !known:
				fields.Add(at("key"), "is not a setting this server knows")
			}
			from := r.ValidFrom
			if from.IsZero() {
				from = today
			}
			if from.Year < refMinYear || from.Year > refMaxYear {
				fields.Add(at("valid_from"), fmt.Sprintf("must be between %d and %d", refMinYear, refMaxYear))
			}
			if j, dup := seen[key+"@"+from.String()]; dup {
				fields.Add(at("valid_from"), fmt.Sprintf("the same key and date as settings[%d]", j))
			}
			seen[key+"@"+from.String()] = i
			legal := strings.TrimSpace(r.LegalBasis)
			if why := refBadText(legal); why != "" {
				fields.Add(at("legal_basis"), why)
			} else if utf8.RuneCountInString(legal) > 5000 {
				fields.Add(at("legal_basis"), "must be at most 5000 characters")
			}
			value := bytes.TrimSpace(r.Value)
			switch {
			case len(value) == 0:
				fields.Add(at("value"), "is required")
			case !json.Valid(value):
				fields.Add(at("value"), "is not valid JSON")
			case known:
				want := settingJSONType([]byte(settingReference(existing, today).Value))
				if got := settingJSONType(value); got != want {
					fields.Add(at("value"), fmt.Sprintf("must be a JSON %s, as the value in force is (got %s)", want, got))
				}
			}
			if _, bad := fields[at("value")]; !bad && known {
				// A masked secret keeps the stored one: of the row it
				// replaces, else of the row in force on its date.
				stored := settingReference(existing, from).Value
				for _, e := range existing {
					if e.ValidFrom == from {
						stored = e.Value
					}
				}
				kept, err := settingKeepSecrets(key, value, []byte(stored))
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				if err := json.Compact(&buf, kept); err != nil {
					fields.Add(at("value"), "is not valid JSON")
				}
				value = buf.Bytes()
			}
			var by *int64
			if !actor.System && actor.UserID != 0 {
				uid := actor.UserID
				by = &uid
			}
			recs[i] = settingRecord{Key: key, ValidFrom: from, Value: string(value), LegalBasis: legal,
				UpdatedAt: s.clock.Now().UTC().Truncate(time.Microsecond), UpdatedBy: by}
		}
		if err := fields.Err(); err != nil {
			return err
		}
		for _, rec := range recs {
			var before any
			for _, e := range byKey[rec.Key] {
				if e.ValidFrom == rec.ValidFrom {
					before = settingAudit{Key: e.Key, ValidFrom: e.ValidFrom, Value: settingViewValue(e.Key, e.Value), LegalBasis: e.LegalBasis}
				}
			}
			if err := conn.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "key"}, {Name: "valid_from"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "legal_basis", "updated_at", "updated_by"}),
			}).Create(&rec).Error; err != nil {
				return refDuplicateConflict(err)
			}
			after := settingAudit{Key: rec.Key, ValidFrom: rec.ValidFrom, Value: settingViewValue(rec.Key, rec.Value), LegalBasis: rec.LegalBasis}
			if err := s.audit.Record(ctx, actor, auth.Change{Action: "setting.put", ObjectType: "setting",
				ObjectID: rec.Key + "@" + rec.ValidFrom.String(), Before: before, After: after}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Settings(ctx, actor)
}

// settingReference is the row of a key in force on day, else its earliest
// row. rows are in date order and not empty.
func settingReference(rows []settingRecord, day infrashare.Date) settingRecord {
	ref := rows[0]
	for _, r := range rows {
		if !r.ValidFrom.After(day) {
			ref = r
		}
	}
	return ref
}
