package permits

// Undergrounding (DESIGN §2, issue 6 point 6): street segments and
// residential areas with their CRUD and CSV import, and the undergrounding
// report.
//
// Decisions, also for the README:
//
//   - Every signed-in role reads segments and areas; admins and the
//     department's auditors write them. Every write is audited; an import
//     writes one event with its counts and the file's SHA-256.
//   - A record's unit_code must name a unit valid on its completion date, or
//     today when it has none. An update re-checks the unit only when the unit
//     or the completion date changes, so records keep the unit they were
//     made under after the 2025 reform.
//   - completed_on belongs to an underground segment (a shared-underground
//     area) only, and is never in the future. Making a segment overhead
//     again needs completed_on null in the same change: nothing is dropped
//     silently. An underground segment without a completion date is kept,
//     but the report cannot count it as underground on any day.
//   - handover_on is required for a handed-over area and is not in the
//     future; a new area may carry its planned handover date.
//   - Streets are told apart by their folded name (case, diacritics and
//     spacing ignored) within a district: "Đường 30/4" and "đường 30/4" are
//     one street.
//   - The report groups by the pre-2025 districts (level district, parent
//     92); a record of a commune counts in the district above it. Records of
//     units outside those districts count in the city totals only. The
//     streets' target is the 2030 goal of central_street_underground; the
//     areas' targets are those in force in as_of's year. Shares and gaps are
//     fractions rounded to 4 decimals, null when there is nothing to count;
//     lengths are rounded to the centimetre.
//   - A new area counts as undergrounded before handover when it is shared
//     underground, completed on or before as_of, and on or before its
//     handover date (or has none yet). A handed-over area counts when it is
//     shared underground and completed on or before as_of. An area counts by
//     its kind as recorded now.
//   - CSV imports: a header naming columns in any order (the JSON field
//     names; created_at and updated_at are accepted and ignored), UTF-8 with
//     or without BOM, comma or (Excel in a Vietnamese locale) semicolon;
//     booleans true/false, 1/0, yes/no, có/không; an empty cell is no value.
//     A row with an id updates that record (the columns present replace its
//     fields, the others stay); a row without one creates a record. All
//     rows or none.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
)

// Bounds of undergrounding data.
const (
	undgMaxSegmentLengthM = 100_000
	undgMaxNameLength     = 200
	undgMaxUnitCodeLength = 16
	undgImportMaxRows     = 100_000
	undgImportMaxErrs     = 1000
	undgInsertBatchPG     = 500
	undgInsertBatchSQL    = 16
	undgScanBatch         = 500
)

// Kinds of residential areas.
const (
	AreaNew        = "new"
	AreaHandedOver = "handed_over"
)

func requireUndergroundWriter(actor auth.Actor) error {
	if actor.System || actor.Has(auth.RoleAdmin) || actor.Has(auth.RoleAuditor) {
		return nil
	}
	return infrashare.Forbidden("only admins and the department change undergrounding data")
}

// PatchDate is a date a PATCH may set, clear (null) or leave out.
type PatchDate struct {
	Set  bool
	Date infrashare.Date
}

// UnmarshalJSON marks the field as given.
func (o *PatchDate) UnmarshalJSON(b []byte) error {
	o.Set = true
	return o.Date.UnmarshalJSON(b)
}

// MarshalJSON writes the date, or null.
func (o PatchDate) MarshalJSON() ([]byte, error) { return o.Date.MarshalJSON() }

func (s *Service) undgNow() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// undgUnitCheck caches which (code, day) pairs name a valid unit.
type undgUnitCheck struct {
	s    *Service
	seen map[[2]string]bool
}

func (s *Service) newUndgUnitCheck() *undgUnitCheck {
	return &undgUnitCheck{s: s, seen: map[[2]string]bool{}}
}

func (u *undgUnitCheck) valid(ctx context.Context, code string, day infrashare.Date) (bool, error) {
	k := [2]string{code, day.String()}
	if v, ok := u.seen[k]; ok {
		return v, nil
	}
	v, err := u.s.units.ValidCode(ctx, code, day)
	if err != nil {
		return false, err
	}
	u.seen[k] = v
	return v, nil
}

// undgCheckText checks a required name-like field.
func undgCheckText(fields infrashare.FieldErrors, name, v string, max int) {
	switch {
	case v == "":
		fields.Add(name, "is required")
	case refBadText(v) != "":
		fields.Add(name, refBadText(v))
	case utf8.RuneCountInString(v) > max:
		fields.Add(name, fmt.Sprintf("must be at most %d characters", max))
	}
}

// undgCheckUnit checks a record's unit on its day (completion, else today).
func (s *Service) undgCheckUnit(ctx context.Context, uc *undgUnitCheck, fields infrashare.FieldErrors, code string, completed, today infrashare.Date) error {
	if code == "" || len(code) > undgMaxUnitCodeLength || refBadText(code) != "" {
		if code != "" {
			fields.Add("unit_code", "is not a known administrative unit")
		}
		return nil
	}
	day, when := completed, "on its completion date"
	if day.IsZero() || day.After(today) {
		day, when = today, "today"
	}
	ok, err := uc.valid(ctx, code, day)
	if err != nil {
		return err
	}
	if !ok {
		fields.Add("unit_code", "is not an administrative unit valid "+when)
	}
	return nil
}

// ---- street segments ----

// StreetSegment is a stretch of a street with its telecom cables overhead
// or underground.
type StreetSegment struct {
	ID          int64           `json:"id" gorm:"primaryKey"`
	StreetName  string          `json:"street_name"`
	UnitCode    string          `json:"unit_code"`
	LengthM     float64         `json:"length_m"`
	Central     bool            `json:"central"`
	Underground bool            `json:"underground"`
	Shared      bool            `json:"shared"`
	CompletedOn infrashare.Date `json:"completed_on"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// TableName pins the table.
func (StreetSegment) TableName() string { return "street_segments" }

func (g *StreetSegment) utc() {
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
}

// StreetSegmentInput creates a street segment.
type StreetSegmentInput struct {
	StreetName  string          `json:"street_name" validate:"required,max=200"`
	UnitCode    string          `json:"unit_code" validate:"required,max=16"`
	LengthM     *float64        `json:"length_m" validate:"required"`
	Central     bool            `json:"central"`
	Underground bool            `json:"underground"`
	Shared      bool            `json:"shared"`
	CompletedOn infrashare.Date `json:"completed_on"`
}

// StreetSegmentPatch changes any subset of a segment's fields;
// completed_on null clears the date.
type StreetSegmentPatch struct {
	StreetName  *string   `json:"street_name" validate:"omitnil,max=200"`
	UnitCode    *string   `json:"unit_code" validate:"omitnil,max=16"`
	LengthM     *float64  `json:"length_m"`
	Central     *bool     `json:"central"`
	Underground *bool     `json:"underground"`
	Shared      *bool     `json:"shared"`
	CompletedOn PatchDate `json:"completed_on"`
}

func (in StreetSegmentInput) patch() StreetSegmentPatch {
	return StreetSegmentPatch{StreetName: &in.StreetName, UnitCode: &in.UnitCode, LengthM: in.LengthM,
		Central: &in.Central, Underground: &in.Underground, Shared: &in.Shared,
		CompletedOn: PatchDate{Set: true, Date: in.CompletedOn}}
}

// apply changes cur by p and says whether the unit must be checked again.
func (p StreetSegmentPatch) apply(cur StreetSegment) (StreetSegment, bool) {
	next := cur
	if p.StreetName != nil {
		next.StreetName = strings.TrimSpace(*p.StreetName)
	}
	if p.UnitCode != nil {
		next.UnitCode = strings.TrimSpace(*p.UnitCode)
	}
	if p.LengthM != nil {
		next.LengthM = *p.LengthM
	}
	if p.Central != nil {
		next.Central = *p.Central
	}
	if p.Underground != nil {
		next.Underground = *p.Underground
	}
	if p.Shared != nil {
		next.Shared = *p.Shared
	}
	if p.CompletedOn.Set {
		next.CompletedOn = p.CompletedOn.Date
	}
	return next, cur.ID == 0 || next.UnitCode != cur.UnitCode || next.CompletedOn != cur.CompletedOn
}

// checkSegment applies the rules to a whole segment.
func (s *Service) checkSegment(ctx context.Context, uc *undgUnitCheck, g StreetSegment, undgCheckUnit bool, today infrashare.Date) (infrashare.FieldErrors, error) {
	fields := infrashare.FieldErrors{}
	undgCheckText(fields, "street_name", g.StreetName, undgMaxNameLength)
	if g.UnitCode == "" {
		fields.Add("unit_code", "is required")
	}
	switch {
	case math.IsNaN(g.LengthM) || math.IsInf(g.LengthM, 0) || g.LengthM <= 0:
		fields.Add("length_m", "must be greater than 0")
	case g.LengthM > undgMaxSegmentLengthM:
		fields.Add("length_m", fmt.Sprintf("must be at most %d metres: split a longer street into segments", undgMaxSegmentLengthM))
	}
	if !g.CompletedOn.IsZero() {
		switch {
		case !g.Underground:
			fields.Add("completed_on", "is only for an underground segment (set underground true, or completed_on null)")
		case g.CompletedOn.After(today):
			fields.Add("completed_on", "cannot be in the future")
		case g.CompletedOn.Year < 1900:
			fields.Add("completed_on", "must be after 1900")
		}
	}
	if undgCheckUnit {
		if err := s.undgCheckUnit(ctx, uc, fields, g.UnitCode, g.CompletedOn, today); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// StreetSegmentFilter selects street segments; zero fields do not filter.
type StreetSegmentFilter struct {
	Unit        string
	Central     *bool
	Underground *bool
	// Street keeps segments whose street name contains it, folded.
	Street string
	Limit  int
	Cursor string
}

// ListStreetSegments lists segments in id order, a page at a time.
func (s *Service) ListStreetSegments(ctx context.Context, actor auth.Actor, f StreetSegmentFilter) ([]StreetSegment, string, error) {
	if err := refRequireSignedIn(actor); err != nil {
		return nil, "", err
	}
	if why := refBadText(f.Unit); why != "" {
		return nil, "", infrashare.Invalid("unit", why)
	}
	limit := auth.ClampLimit(f.Limit)
	var after int64
	if f.Cursor != "" {
		id, err := auth.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = id
	}
	base := func() *gorm.DB {
		q := s.db.Conn(ctx).Model(&StreetSegment{})
		if f.Unit != "" {
			q = q.Where("unit_code = ?", f.Unit)
		}
		if f.Central != nil {
			q = q.Where("central = ?", *f.Central)
		}
		if f.Underground != nil {
			q = q.Where("underground = ?", *f.Underground)
		}
		return q
	}
	needle := infrashare.Fold(strings.TrimSpace(f.Street))
	items, err := undgKeysetPage(after, limit, needle != "", func(after int64, n int) ([]StreetSegment, error) {
		var rows []StreetSegment
		err := base().Where("id > ?", after).Order("id").Limit(n).Find(&rows).Error
		return rows, err
	}, func(g StreetSegment) int64 { return g.ID }, func(g StreetSegment) bool {
		return strings.Contains(undgFoldName(g.StreetName), needle)
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = auth.EncodeCursor(items[len(items)-1].ID)
	}
	for i := range items {
		items[i].utc()
	}
	return items, next, nil
}

// undgKeysetPage reads up to limit+1 rows after the id `after`; with a filter
// that only Go can apply, it scans batches until it has them.
func undgKeysetPage[T any](after int64, limit int, filtered bool, read func(after int64, n int) ([]T, error),
	id func(T) int64, keep func(T) bool) ([]T, error) {
	if !filtered {
		return read(after, limit+1)
	}
	var out []T
	for {
		rows, err := read(after, undgScanBatch)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if keep(r) {
				out = append(out, r)
				if len(out) > limit {
					return out, nil
				}
			}
		}
		if len(rows) < undgScanBatch {
			return out, nil
		}
		after = id(rows[len(rows)-1])
	}
}

// undgFoldName is a name as streets are told apart: folded, single-spaced.
func undgFoldName(s string) string { return strings.Join(strings.Fields(infrashare.Fold(s)), " ") }

func (s *Service) undgSegment(ctx context.Context, id int64, lock bool) (StreetSegment, error) {
	var rows []StreetSegment
	q := s.db.Conn(ctx).Where("id = ?", id)
	if lock && s.db.IsPostgres() {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return StreetSegment{}, err
	}
	if len(rows) == 0 {
		return StreetSegment{}, infrashare.NotFound("street segment")
	}
	rows[0].utc()
	return rows[0], nil
}

// GetStreetSegment reads one segment.
func (s *Service) GetStreetSegment(ctx context.Context, actor auth.Actor, id int64) (StreetSegment, error) {
	if err := refRequireSignedIn(actor); err != nil {
		return StreetSegment{}, err
	}
	return s.undgSegment(ctx, id, false)
}

// CreateStreetSegment records a segment.
func (s *Service) CreateStreetSegment(ctx context.Context, actor auth.Actor, in StreetSegmentInput) (StreetSegment, error) {
	if err := requireUndergroundWriter(actor); err != nil {
		return StreetSegment{}, err
	}
	vErr := infrashare.Validate(in)
	g, _ := in.patch().apply(StreetSegment{})
	today := s.settings.Today()
	fields, err := s.checkSegment(ctx, s.newUndgUnitCheck(), g, true, today)
	if err != nil {
		return StreetSegment{}, err
	}
	if err := undgMergeFields(vErr, fields); err != nil {
		return StreetSegment{}, err
	}
	now := s.undgNow()
	g.CreatedAt, g.UpdatedAt = now, now
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.Conn(ctx).Create(&g).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "street_segment.create", ObjectType: "street_segment",
			ObjectID: strconv.FormatInt(g.ID, 10), After: g})
	})
	if err != nil {
		return StreetSegment{}, err
	}
	g.utc()
	return g, nil
}

// undgMergeFields joins the validator's findings with the domain rules',
// the validator's first.
func undgMergeFields(vErr error, fields infrashare.FieldErrors) error {
	var e *infrashare.Error
	if vErr != nil && errors.As(vErr, &e) {
		if len(e.Fields) == 0 {
			return vErr
		}
		for k, why := range fields {
			if _, ok := e.Fields[k]; !ok {
				e.Fields[k] = why
			}
		}
		return e
	}
	return fields.Err()
}

// UpdateStreetSegment changes any subset of a segment's fields.
func (s *Service) UpdateStreetSegment(ctx context.Context, actor auth.Actor, id int64, p StreetSegmentPatch) (StreetSegment, error) {
	if err := requireUndergroundWriter(actor); err != nil {
		return StreetSegment{}, err
	}
	vErr := infrashare.Validate(p)
	var out StreetSegment
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.undgSegment(ctx, id, true)
		if err != nil {
			return err
		}
		next, unitChanged := p.apply(cur)
		fields, err := s.checkSegment(ctx, s.newUndgUnitCheck(), next, unitChanged, s.settings.Today())
		if err != nil {
			return err
		}
		if err := undgMergeFields(vErr, fields); err != nil {
			return err
		}
		next.UpdatedAt = s.undgNow()
		if err := s.db.Conn(ctx).Model(&StreetSegment{}).Where("id = ?", id).Updates(undgSegmentColumns(next)).Error; err != nil {
			return err
		}
		out = next
		return s.audit.Record(ctx, actor, auth.Change{Action: "street_segment.update", ObjectType: "street_segment",
			ObjectID: strconv.FormatInt(id, 10), Before: cur, After: next})
	})
	if err != nil {
		return StreetSegment{}, err
	}
	out.utc()
	return out, nil
}

func undgSegmentColumns(g StreetSegment) map[string]any {
	return map[string]any{"street_name": g.StreetName, "unit_code": g.UnitCode, "length_m": g.LengthM,
		"central": g.Central, "underground": g.Underground, "shared": g.Shared, "completed_on": g.CompletedOn,
		"updated_at": g.UpdatedAt}
}

// DeleteStreetSegment removes a segment.
func (s *Service) DeleteStreetSegment(ctx context.Context, actor auth.Actor, id int64) error {
	if err := requireUndergroundWriter(actor); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.undgSegment(ctx, id, true)
		if err != nil {
			return err
		}
		if err := s.db.Conn(ctx).Where("id = ?", id).Delete(&StreetSegment{}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "street_segment.delete", ObjectType: "street_segment",
			ObjectID: strconv.FormatInt(id, 10), Before: cur})
	})
}

// ---- residential areas ----

// ResidentialArea is a new or handed-over residential or urban area.
type ResidentialArea struct {
	ID                int64           `json:"id" gorm:"primaryKey"`
	Name              string          `json:"name"`
	UnitCode          string          `json:"unit_code"`
	Kind              string          `json:"kind"`
	HandoverOn        infrashare.Date `json:"handover_on"`
	SharedUnderground bool            `json:"shared_underground"`
	CompletedOn       infrashare.Date `json:"completed_on"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
}

// TableName pins the table.
func (ResidentialArea) TableName() string { return "residential_areas" }

func (a *ResidentialArea) utc() {
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
}

// ResidentialAreaInput creates a residential area.
type ResidentialAreaInput struct {
	Name              string          `json:"name" validate:"required,max=200"`
	UnitCode          string          `json:"unit_code" validate:"required,max=16"`
	Kind              string          `json:"kind" validate:"required,oneof=new handed_over"`
	HandoverOn        infrashare.Date `json:"handover_on"`
	SharedUnderground bool            `json:"shared_underground"`
	CompletedOn       infrashare.Date `json:"completed_on"`
}

// ResidentialAreaPatch changes any subset of an area's fields; a date null
// clears it.
type ResidentialAreaPatch struct {
	Name              *string   `json:"name" validate:"omitnil,max=200"`
	UnitCode          *string   `json:"unit_code" validate:"omitnil,max=16"`
	Kind              *string   `json:"kind" validate:"omitnil,oneof=new handed_over"`
	HandoverOn        PatchDate `json:"handover_on"`
	SharedUnderground *bool     `json:"shared_underground"`
	CompletedOn       PatchDate `json:"completed_on"`
}

func (in ResidentialAreaInput) patch() ResidentialAreaPatch {
	return ResidentialAreaPatch{Name: &in.Name, UnitCode: &in.UnitCode, Kind: &in.Kind,
		HandoverOn: PatchDate{Set: true, Date: in.HandoverOn}, SharedUnderground: &in.SharedUnderground,
		CompletedOn: PatchDate{Set: true, Date: in.CompletedOn}}
}

func (p ResidentialAreaPatch) apply(cur ResidentialArea) (ResidentialArea, bool) {
	next := cur
	if p.Name != nil {
		next.Name = strings.TrimSpace(*p.Name)
	}
	if p.UnitCode != nil {
		next.UnitCode = strings.TrimSpace(*p.UnitCode)
	}
	if p.Kind != nil {
		next.Kind = strings.TrimSpace(*p.Kind)
	}
	if p.HandoverOn.Set {
		next.HandoverOn = p.HandoverOn.Date
	}
	if p.SharedUnderground != nil {
		next.SharedUnderground = *p.SharedUnderground
	}
	if p.CompletedOn.Set {
		next.CompletedOn = p.CompletedOn.Date
	}
	return next, cur.ID == 0 || next.UnitCode != cur.UnitCode || next.CompletedOn != cur.CompletedOn
}

func (s *Service) checkArea(ctx context.Context, uc *undgUnitCheck, a ResidentialArea, undgCheckUnit bool, today infrashare.Date) (infrashare.FieldErrors, error) {
	fields := infrashare.FieldErrors{}
	undgCheckText(fields, "name", a.Name, undgMaxNameLength)
	if a.UnitCode == "" {
		fields.Add("unit_code", "is required")
	}
	switch a.Kind {
	case AreaNew:
	case AreaHandedOver:
		if a.HandoverOn.IsZero() {
			fields.Add("handover_on", "is required for a handed-over area")
		} else if a.HandoverOn.After(today) {
			fields.Add("handover_on", "cannot be in the future for a handed-over area")
		}
	case "":
		fields.Add("kind", "is required")
	default:
		fields.Add("kind", "must be one of: new, handed_over")
	}
	if !a.HandoverOn.IsZero() && a.HandoverOn.Year < 1900 {
		fields.Add("handover_on", "must be after 1900")
	}
	if !a.CompletedOn.IsZero() {
		switch {
		case !a.SharedUnderground:
			fields.Add("completed_on", "is only for a shared-underground area (set shared_underground true, or completed_on null)")
		case a.CompletedOn.After(today):
			fields.Add("completed_on", "cannot be in the future")
		case a.CompletedOn.Year < 1900:
			fields.Add("completed_on", "must be after 1900")
		}
	}
	if undgCheckUnit {
		if err := s.undgCheckUnit(ctx, uc, fields, a.UnitCode, a.CompletedOn, today); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// ResidentialAreaFilter selects areas; zero fields do not filter.
type ResidentialAreaFilter struct {
	Unit              string
	Kind              string
	SharedUnderground *bool
	// Name keeps areas whose name contains it, folded.
	Name   string
	Limit  int
	Cursor string
}

// ListResidentialAreas lists areas in id order, a page at a time.
func (s *Service) ListResidentialAreas(ctx context.Context, actor auth.Actor, f ResidentialAreaFilter) ([]ResidentialArea, string, error) {
	if err := refRequireSignedIn(actor); err != nil {
		return nil, "", err
	}
	if f.Kind != "" && f.Kind != AreaNew && f.Kind != AreaHandedOver {
		return nil, "", infrashare.Invalid("kind", "must be one of: new, handed_over")
	}
	if why := refBadText(f.Unit); why != "" {
		return nil, "", infrashare.Invalid("unit", why)
	}
	limit := auth.ClampLimit(f.Limit)
	var after int64
	if f.Cursor != "" {
		id, err := auth.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = id
	}
	base := func() *gorm.DB {
		q := s.db.Conn(ctx).Model(&ResidentialArea{})
		if f.Unit != "" {
			q = q.Where("unit_code = ?", f.Unit)
		}
		if f.Kind != "" {
			q = q.Where("kind = ?", f.Kind)
		}
		if f.SharedUnderground != nil {
			q = q.Where("shared_underground = ?", *f.SharedUnderground)
		}
		return q
	}
	needle := infrashare.Fold(strings.TrimSpace(f.Name))
	items, err := undgKeysetPage(after, limit, needle != "", func(after int64, n int) ([]ResidentialArea, error) {
		var rows []ResidentialArea
		err := base().Where("id > ?", after).Order("id").Limit(n).Find(&rows).Error
		return rows, err
	}, func(a ResidentialArea) int64 { return a.ID }, func(a ResidentialArea) bool {
		return strings.Contains(undgFoldName(a.Name), needle)
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = auth.EncodeCursor(items[len(items)-1].ID)
	}
	for i := range items {
		items[i].utc()
	}
	return items, next, nil
}

func (s *Service) undgArea(ctx context.Context, id int64, lock bool) (ResidentialArea, error) {
	var rows []ResidentialArea
	q := s.db.Conn(ctx).Where("id = ?", id)
	if lock && s.db.IsPostgres() {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return ResidentialArea{}, err
	}
	if len(rows) == 0 {
		return ResidentialArea{}, infrashare.NotFound("residential area")
	}
	rows[0].utc()
	return rows[0], nil
}

// GetResidentialArea reads one area.
func (s *Service) GetResidentialArea(ctx context.Context, actor auth.Actor, id int64) (ResidentialArea, error) {
	if err := refRequireSignedIn(actor); err != nil {
		return ResidentialArea{}, err
	}
	return s.undgArea(ctx, id, false)
}

// CreateResidentialArea records an area.
func (s *Service) CreateResidentialArea(ctx context.Context, actor auth.Actor, in ResidentialAreaInput) (ResidentialArea, error) {
	if err := requireUndergroundWriter(actor); err != nil {
		return ResidentialArea{}, err
	}
	vErr := infrashare.Validate(in)
	a, _ := in.patch().apply(ResidentialArea{})
	fields, err := s.checkArea(ctx, s.newUndgUnitCheck(), a, true, s.settings.Today())
	if err != nil {
		return ResidentialArea{}, err
	}
	if err := undgMergeFields(vErr, fields); err != nil {
		return ResidentialArea{}, err
	}
	now := s.undgNow()
	a.CreatedAt, a.UpdatedAt = now, now
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.Conn(ctx).Create(&a).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "residential_area.create", ObjectType: "residential_area",
			ObjectID: strconv.FormatInt(a.ID, 10), After: a})
	})
	if err != nil {
		return ResidentialArea{}, err
	}
	a.utc()
	return a, nil
}

// UpdateResidentialArea changes any subset of an area's fields.
func (s *Service) UpdateResidentialArea(ctx context.Context, actor auth.Actor, id int64, p ResidentialAreaPatch) (ResidentialArea, error) {
	if err := requireUndergroundWriter(actor); err != nil {
		return ResidentialArea{}, err
	}
	vErr := infrashare.Validate(p)
	var out ResidentialArea
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.undgArea(ctx, id, true)
		if err != nil {
			return err
		}
		next, unitChanged := p.apply(cur)
		fields, err := s.checkArea(ctx, s.newUndgUnitCheck(), next, unitChanged, s.settings.Today())
		if err != nil {
			return err
		}
		if err := undgMergeFields(vErr, fields); err != nil {
			return err
		}
		next.UpdatedAt = s.undgNow()
		if err := s.db.Conn(ctx).Model(&ResidentialArea{}).Where("id = ?", id).Updates(undgAreaColumns(next)).Error; err != nil {
			return err
		}
		out = next
		return s.audit.Record(ctx, actor, auth.Change{Action: "residential_area.update", ObjectType: "residential_area",
			ObjectID: strconv.FormatInt(id, 10), Before: cur, After: next})
	})
	if err != nil {
		return ResidentialArea{}, err
	}
	out.utc()
	return out, nil
}

func undgAreaColumns(a ResidentialArea) map[string]any {
	return map[string]any{"name": a.Name, "unit_code": a.UnitCode, "kind": a.Kind, "handover_on": a.HandoverOn,
		"shared_underground": a.SharedUnderground, "completed_on": a.CompletedOn, "updated_at": a.UpdatedAt}
}

// DeleteResidentialArea removes an area.
func (s *Service) DeleteResidentialArea(ctx context.Context, actor auth.Actor, id int64) error {
	if err := requireUndergroundWriter(actor); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.undgArea(ctx, id, true)
		if err != nil {
			return err
		}
		if err := s.db.Conn(ctx).Where("id = ?", id).Delete(&ResidentialArea{}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "residential_area.delete", ObjectType: "residential_area",
			ObjectID: strconv.FormatInt(id, 10), Before: cur})
	})
}

// ---- CSV import ----

// UndergroundImportResult counts what an import did (or, dry, would do).
type UndergroundImportResult struct {
	Rows    int  `json:"rows"`
	Created int  `json:"created"`
	Updated int  `json:"updated"`
	DryRun  bool `json:"dry_run"`
}

// UndergroundRowError is one problem of one row of a refused import: line is
// the line in the file (the header is line 1).
type UndergroundRowError struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// undgCSVRecord is one data row: its line and its cells by column.
type undgCSVRecord struct {
	line  int
	cells map[string]string
}

// readUndgCSV reads a header naming columns from allowed (ignored ones
// accepted and dropped) and the rows under it. Row problems that concern
// the shape of a line are returned with the rows; a file that cannot be
// read at all is an error.
func readUndgCSV(r io.Reader, allowed, ignored, required []string) ([]undgCSVRecord, []UndergroundRowError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	head, err := br.Peek(br.Size())
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, nil, fmt.Errorf("read the import: %w", err)
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	if bytes.IndexByte(head, ';') >= 0 && bytes.IndexByte(head, ',') < 0 {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, infrashare.Errorf(infrashare.EMALFORMED, "the file is empty: its first line must name the columns")
	}
	if err != nil {
		return nil, nil, undgCSVFatal(err)
	}
	isAllowed, isIgnored := map[string]bool{}, map[string]bool{}
	for _, c := range allowed {
		isAllowed[c] = true
	}
	for _, c := range ignored {
		isIgnored[c] = true
	}
	var herrs []UndergroundRowError
	bad := func(col, why string) { herrs = append(herrs, UndergroundRowError{Line: 1, Column: col, Reason: why}) }
	idx := map[string]int{}
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(name):
			bad(fmt.Sprintf("#%d", i+1), "is not UTF-8 text: save the file as CSV UTF-8")
		case name == "":
			bad(fmt.Sprintf("#%d", i+1), "a column has no name")
		case seen[name]:
			bad(name, "is named twice")
		case isIgnored[name]:
			seen[name] = true
		case !isAllowed[name]:
			bad(name, "unknown column; the columns are "+strings.Join(allowed, ", "))
		default:
			seen[name] = true
			idx[name] = i
		}
	}
	for _, c := range required {
		if _, ok := idx[c]; !ok && !seen[c] {
			bad(c, "the column is required")
		}
	}
	if len(herrs) > 0 {
		return nil, nil, undgRowsError(herrs, 0, "the header (line 1) is wrong; nothing was imported")
	}
	cr.FieldsPerRecord = len(header)
	var rows []undgCSVRecord
	var errs []UndergroundRowError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, errs, nil
		}
		if err != nil {
			// FieldPos is only for a record read whole: a ParseError
			// carries its own line.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("read the import: %w", err)
			}
			if !errors.Is(err, csv.ErrFieldCount) {
				errs = append(errs, UndergroundRowError{Line: pe.StartLine, Reason: "the line cannot be read as CSV (" + pe.Err.Error() + "); nothing after it was read"})
				return rows, errs, nil
			}
			errs = append(errs, UndergroundRowError{Line: pe.StartLine, Reason: fmt.Sprintf("has %d cells; the header names %d columns", len(rec), len(header))})
			rows = append(rows, undgCSVRecord{line: pe.StartLine})
			continue
		}
		line := 0
		if len(rec) > 0 {
			line, _ = cr.FieldPos(0)
		}
		blank := true
		for _, v := range rec {
			if strings.TrimSpace(v) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		if len(rows) >= undgImportMaxRows {
			return nil, nil, infrashare.Invalid("rows", fmt.Sprintf("at most %d rows in one import: split the file", undgImportMaxRows))
		}
		cells := make(map[string]string, len(idx))
		for col, i := range idx {
			v := strings.TrimSpace(rec[i])
			if !utf8.ValidString(v) {
				errs = append(errs, UndergroundRowError{Line: line, Column: col, Reason: "is not UTF-8 text: save the file as CSV UTF-8"})
				v = ""
			} else if strings.ContainsRune(v, 0) {
				// PostgreSQL refuses NUL in text.
				errs = append(errs, UndergroundRowError{Line: line, Column: col, Reason: "must not contain NUL characters"})
				v = ""
			}
			cells[col] = v
		}
		rows = append(rows, undgCSVRecord{line: line, cells: cells})
	}
}

func undgCSVFatal(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return infrashare.Errorf(infrashare.EMALFORMED, "the file is not CSV: line %d: %v", pe.StartLine, pe.Err)
	}
	return fmt.Errorf("read the import: %w", err)
}

// undgRowsError is the validation error of a refused import.
func undgRowsError(errs []UndergroundRowError, total int, message string) error {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	if message == "" {
		lines := map[int]bool{}
		for _, e := range errs {
			lines[e.Line] = true
		}
		message = fmt.Sprintf("%d of %d rows have problems; nothing was imported", len(lines), total)
	}
	details := map[string]any{"rows": errs}
	if len(errs) > undgImportMaxErrs {
		details["rows"] = errs[:undgImportMaxErrs]
		details["rows_not_listed"] = len(errs) - undgImportMaxErrs
		message += fmt.Sprintf(" (the first %d problems are listed, %d more are not)", undgImportMaxErrs, len(errs)-undgImportMaxErrs)
	}
	return &infrashare.Error{Code: infrashare.EINVALID, Message: message, Details: details}
}

func undgCSVBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0", "no", "không", "khong", "f", "n":
		return false, nil
	case "true", "1", "yes", "có", "co", "t", "y":
		return true, nil
	}
	return false, errors.New("must be true or false (also 1/0, yes/no, có/không)")
}

func undgCSVDate(v string) (infrashare.Date, error) {
	if v == "" {
		return infrashare.Date{}, nil
	}
	d, err := infrashare.ParseDate(v)
	if err != nil {
		return infrashare.Date{}, errors.New("must be a date of the form YYYY-MM-DD")
	}
	return d, nil
}

func undgCSVFloat(v string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("must be a number with a decimal point (no thousands separators)")
	}
	return &f, nil
}

// undgCSVID reads the id cell: 0 when empty.
func undgCSVID(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("must be the id of a record, or empty to create one")
	}
	return id, nil
}

// undgImportPlan is what an import would write.
type undgImportPlan[T any] struct {
	creates []T
	updates []T
	res     UndergroundImportResult
}

// undgRowFieldErrors turns a record's field problems into row problems.
func undgRowFieldErrors(line int, fields map[string]string) []UndergroundRowError {
	out := make([]UndergroundRowError, 0, len(fields))
	for col, why := range fields {
		out = append(out, UndergroundRowError{Line: line, Column: col, Reason: why})
	}
	return out
}

var (
	segmentColumnsCSV = []string{"id", "street_name", "unit_code", "length_m", "central", "underground", "shared", "completed_on"}
	areaColumnsCSV    = []string{"id", "name", "unit_code", "kind", "handover_on", "shared_underground", "completed_on"}
	readOnlyColumns   = []string{"created_at", "updated_at"}
)

// errUndgDryRun rolls back a dry run.
var errUndgDryRun = errors.New("dry run")

// ImportStreetSegments imports street segments from CSV, all rows or none.
// A refused import answers a validation error whose Details["rows"] lists
// every bad row ([]UndergroundRowError).
func (s *Service) ImportStreetSegments(ctx context.Context, actor auth.Actor, r io.Reader, dryRun bool) (UndergroundImportResult, error) {
	if err := requireUndergroundWriter(actor); err != nil {
		return UndergroundImportResult{}, err
	}
	sum := sha256.New()
	recs, readErrs, err := readUndgCSV(io.TeeReader(r, sum), segmentColumnsCSV, readOnlyColumns, nil)
	if err != nil {
		return UndergroundImportResult{}, err
	}
	if len(recs) == 0 && len(readErrs) == 0 {
		return UndergroundImportResult{}, infrashare.Invalid("rows", "the file has no rows")
	}
	var plan undgImportPlan[StreetSegment]
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		plan = undgImportPlan[StreetSegment]{res: UndergroundImportResult{Rows: len(recs), DryRun: dryRun}}
		// A retried transaction starts again from what the reader found.
		errs := append([]UndergroundRowError(nil), readErrs...)
		today := s.settings.Today()
		uc := s.newUndgUnitCheck()
		ids := map[int64]int{}
		now := s.undgNow()
		for _, rec := range recs {
			if rec.cells == nil {
				continue // a line of the wrong shape, reported already
			}
			var p StreetSegmentPatch
			cellErr := func(col string, e error) {
				errs = append(errs, UndergroundRowError{Line: rec.line, Column: col, Reason: e.Error()})
			}
			nerr := len(errs)
			id, idErr := undgCSVID(rec.cells["id"])
			if idErr != nil {
				cellErr("id", idErr)
			}
			for col, v := range rec.cells {
				switch col {
				case "street_name":
					p.StreetName = &v
				case "unit_code":
					p.UnitCode = &v
				case "length_m":
					f, e := undgCSVFloat(v)
					if e != nil {
						cellErr(col, e)
					} else if f == nil {
						cellErr(col, errors.New("is required"))
					}
					p.LengthM = f
				case "central", "underground", "shared":
					b, e := undgCSVBool(v)
					if e != nil {
						cellErr(col, e)
					}
					switch col {
					case "central":
						p.Central = &b
					case "underground":
						p.Underground = &b
					default:
						p.Shared = &b
					}
				case "completed_on":
					d, e := undgCSVDate(v)
					if e != nil {
						cellErr(col, e)
					}
					p.CompletedOn = PatchDate{Set: true, Date: d}
				}
			}
			var cur StreetSegment
			if id != 0 {
				if j, dup := ids[id]; dup {
					cellErr("id", fmt.Errorf("the same record as line %d", j))
				}
				ids[id] = rec.line
				got, err := s.undgSegment(ctx, id, true)
				switch {
				case infrashare.ErrorCode(err) == infrashare.ENOTFOUND:
					cellErr("id", errors.New("no street segment has this id"))
				case err != nil:
					return err
				default:
					cur = got
				}
			}
			if len(errs) > nerr {
				continue
			}
			next, unitChanged := p.apply(cur)
			fields, err := s.checkSegment(ctx, uc, next, unitChanged, today)
			if err != nil {
				return err
			}
			if len(fields) > 0 {
				errs = append(errs, undgRowFieldErrors(rec.line, fields)...)
				continue
			}
			next.UpdatedAt = now
			if cur.ID == 0 {
				next.CreatedAt = now
				plan.creates = append(plan.creates, next)
			} else {
				plan.updates = append(plan.updates, next)
			}
		}
		if len(errs) > 0 {
			return undgRowsError(errs, len(recs), "")
		}
		plan.res.Created, plan.res.Updated = len(plan.creates), len(plan.updates)
		if dryRun {
			return errUndgDryRun
		}
		conn := s.db.Conn(ctx)
		if len(plan.creates) > 0 {
			if err := conn.CreateInBatches(&plan.creates, s.undgInsertBatch()).Error; err != nil {
				return err
			}
		}
		for _, g := range plan.updates {
			if err := conn.Model(&StreetSegment{}).Where("id = ?", g.ID).Updates(undgSegmentColumns(g)).Error; err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "street_segment.import", ObjectType: "street_segment",
			After: map[string]any{"rows": plan.res.Rows, "created": plan.res.Created, "updated": plan.res.Updated,
				"sha256": hex.EncodeToString(sum.Sum(nil))}})
	})
	if errors.Is(err, errUndgDryRun) {
		err = nil
	}
	if err != nil {
		return UndergroundImportResult{}, err
	}
	return plan.res, nil
}

func (s *Service) undgInsertBatch() int {
	if s.db.IsPostgres() {
		return undgInsertBatchPG
	}
	return undgInsertBatchSQL
}

// ImportResidentialAreas imports residential areas from CSV, all rows or
// none, as ImportStreetSegments does.
func (s *Service) ImportResidentialAreas(ctx context.Context, actor auth.Actor, r io.Reader, dryRun bool) (UndergroundImportResult, error) {
	if err := requireUndergroundWriter(actor); err != nil {
		return UndergroundImportResult{}, err
	}
	sum := sha256.New()
	recs, readErrs, err := readUndgCSV(io.TeeReader(r, sum), areaColumnsCSV, readOnlyColumns, nil)
	if err != nil {
		return UndergroundImportResult{}, err
	}
	if len(recs) == 0 && len(readErrs) == 0 {
		return UndergroundImportResult{}, infrashare.Invalid("rows", "the file has no rows")
	}
	var plan undgImportPlan[ResidentialArea]
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		plan = undgImportPlan[ResidentialArea]{res: UndergroundImportResult{Rows: len(recs), DryRun: dryRun}}
		// A retried transaction starts again from what the reader found.
		errs := append([]UndergroundRowError(nil), readErrs...)
		today := s.settings.Today()
		uc := s.newUndgUnitCheck()
		ids := map[int64]int{}
		now := s.undgNow()
		for _, rec := range recs {
			if rec.cells == nil {
				continue
			}
			var p ResidentialAreaPatch
			cellErr := func(col string, e error) {
				errs = append(errs, UndergroundRowError{Line: rec.line, Column: col, Reason: e.Error()})
			}
			nerr := len(errs)
			id, idErr := undgCSVID(rec.cells["id"])
			if idErr != nil {
				cellErr("id", idErr)
			}
			for col, v := range rec.cells {
				switch col {
				case "name":
					p.Name = &v
				case "unit_code":
					p.UnitCode = &v
				case "kind":
					p.Kind = &v
				case "shared_underground":
					b, e := undgCSVBool(v)
					if e != nil {
						cellErr(col, e)
					}
					p.SharedUnderground = &b
				case "handover_on", "completed_on":
					d, e := undgCSVDate(v)
					if e != nil {
						cellErr(col, e)
					}
					if col == "handover_on" {
						p.HandoverOn = PatchDate{Set: true, Date: d}
					} else {
						p.CompletedOn = PatchDate{Set: true, Date: d}
					}
				}
			}
			var cur ResidentialArea
			if id != 0 {
				if j, dup := ids[id]; dup {
					cellErr("id", fmt.Errorf("the same record as line %d", j))
				}
				ids[id] = rec.line
				got, err := s.undgArea(ctx, id, true)
				switch {
				case infrashare.ErrorCode(err) == infrashare.ENOTFOUND:
					cellErr("id", errors.New("no residential area has this id"))
				case err != nil:
					return err
				default:
					cur = got
				}
			}
			if len(errs) > nerr {
				continue
			}
			next, unitChanged := p.apply(cur)
			fields, err := s.checkArea(ctx, uc, next, unitChanged, today)
			if err != nil {
				return err
			}
			if len(fields) > 0 {
				errs = append(errs, undgRowFieldErrors(rec.line, fields)...)
				continue
			}
			next.UpdatedAt = now
			if cur.ID == 0 {
				next.CreatedAt = now
				plan.creates = append(plan.creates, next)
			} else {
				plan.updates = append(plan.updates, next)
			}
		}
		if len(errs) > 0 {
			return undgRowsError(errs, len(recs), "")
		}
		plan.res.Created, plan.res.Updated = len(plan.creates), len(plan.updates)
		if dryRun {
			return errUndgDryRun
		}
		conn := s.db.Conn(ctx)
		if len(plan.creates) > 0 {
			if err := conn.CreateInBatches(&plan.creates, s.undgInsertBatch()).Error; err != nil {
				return err
			}
		}
		for _, a := range plan.updates {
			if err := conn.Model(&ResidentialArea{}).Where("id = ?", a.ID).Updates(undgAreaColumns(a)).Error; err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "residential_area.import", ObjectType: "residential_area",
			After: map[string]any{"rows": plan.res.Rows, "created": plan.res.Created, "updated": plan.res.Updated,
				"sha256": hex.EncodeToString(sum.Sum(nil))}})
	})
	if errors.Is(err, errUndgDryRun) {
		err = nil
	}
	if err != nil {
		return UndergroundImportResult{}, err
	}
	return plan.res, nil
}

// ---- the report ----

// UndergroundingGroup names a report group.
type UndergroundingGroup struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// UndergroundingAreas are the residential-area figures of a group.
type UndergroundingAreas struct {
	NewAreas                            int      `json:"new_areas"`
	NewAreasUndergroundedBeforeHandover int      `json:"new_areas_undergrounded_before_handover"`
	NewAreasShare                       *float64 `json:"new_areas_share"`
	NewAreasTarget                      *float64 `json:"new_areas_target"`
	NewAreasGap                         *float64 `json:"new_areas_gap"`
	HandedOverAreas                     int      `json:"handed_over_areas"`
	HandedOverAreasUndergrounded        int      `json:"handed_over_areas_undergrounded"`
	HandedOverAreasShare                *float64 `json:"handed_over_areas_share"`
	HandedOverAreasTarget               *float64 `json:"handed_over_areas_target"`
	HandedOverAreasGap                  *float64 `json:"handed_over_areas_gap"`
}

// UndergroundingRow is one group of the undergrounding report.
type UndergroundingRow struct {
	Group              UndergroundingGroup `json:"group"`
	CentralStreets     int                 `json:"central_streets"`
	UndergroundStreets int                 `json:"underground_streets"`
	Share              *float64            `json:"share"`
	CentralLengthM     float64             `json:"central_length_m"`
	UndergroundLengthM float64             `json:"underground_length_m"`
	Target             *float64            `json:"target"`
	Gap                *float64            `json:"gap"`
	Areas              UndergroundingAreas `json:"areas"`
}

// UndergroundingView is the answer of the undergrounding report.
type UndergroundingView struct {
	AsOf    infrashare.Date `json:"as_of"`
	GroupBy string          `json:"group_by"`
	// StreetTargetYear is the year of the streets' target (the 2030 goal);
	// the areas' targets are those of as_of's year.
	StreetTargetYear int                 `json:"street_target_year"`
	Rows             []UndergroundingRow `json:"rows"`
	Totals           UndergroundingRow   `json:"totals"`
}

// undgStreetTargetYear is the year of plan 216's goal for central streets.
const undgStreetTargetYear = 2030

// undgCityCode is Can Tho's GSO code: the parent of the pre-2025 districts.
const undgCityCode = "92"

func undgRound4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
func undgRound2(v float64) float64 { return math.Round(v*100) / 100 }

func undgRatio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := undgRound4(float64(n) / float64(d))
	return &v
}

func undgGap(target, share *float64) *float64 {
	if target == nil || share == nil {
		return nil
	}
	v := undgRound4(*target - *share)
	return &v
}

// undgTally counts the central streets of one group.
type undgTally struct {
	// streets: folded name → every central segment underground by as_of.
	streets       map[string]bool
	length, under float64
	areas         UndergroundingAreas
}

func newUndgTally() *undgTally { return &undgTally{streets: map[string]bool{}} }

// UndergroundingReport computes the shares of undergrounded central
// streets per pre-2025 district and of undergrounded residential areas, as
// of a day (today when zero), for the department and admins.
func (s *Service) UndergroundingReport(ctx context.Context, actor auth.Actor, asOf infrashare.Date, groupBy string) (UndergroundingView, error) {
	if !actor.SeesEverything() {
		return UndergroundingView{}, infrashare.Forbidden("only the department and admins read the undergrounding report")
	}
	switch groupBy {
	case "", "unit":
		groupBy = "unit"
	default:
		return UndergroundingView{}, infrashare.Invalid("group_by", "must be unit")
	}
	if asOf.IsZero() {
		asOf = s.settings.Today()
	}
	if asOf.Year < refMinYear || asOf.Year > refMaxYear {
		return UndergroundingView{}, infrashare.Invalid("as_of", fmt.Sprintf("must be between %d and %d", refMinYear, refMaxYear))
	}
	conn := s.db.Conn(ctx)

	// The districts, and the district above every unit of the city.
	var units []struct {
		Code       string
		Name       string
		Level      string
		ParentCode *string
		ValidFrom  infrashare.Date
	}
	if err := conn.Table("admin_units").Select("code, name, level, parent_code, valid_from").
		Order("code, valid_from").Find(&units).Error; err != nil {
		return UndergroundingView{}, err
	}
	parent := map[string]string{}
	districts := map[string]string{} // code → name (the latest row's)
	var cityName string
	for _, u := range units {
		if u.ParentCode != nil {
			parent[u.Code] = *u.ParentCode
		}
		if u.Level == "district" && u.ParentCode != nil && *u.ParentCode == undgCityCode {
			districts[u.Code] = u.Name
		}
		if u.Code == undgCityCode {
			cityName = u.Name
		}
	}
	districtOf := func(code string) string {
		seen := map[string]bool{}
		for c := code; c != "" && !seen[c]; c = parent[c] {
			if _, ok := districts[c]; ok {
				return c
			}
			seen[c] = true
		}
		return ""
	}

	tallies := map[string]*undgTally{} // by district; "" for the rest
	tally := func(unit string) *undgTally {
		d := districtOf(unit)
		key := d
		if d == "" {
			key = "\x00" + unit // outside the districts: its own streets
		}
		t, ok := tallies[key]
		if !ok {
			t = newUndgTally()
			tallies[key] = t
		}
		return t
	}

	var segs []StreetSegment
	if err := conn.Where("central = ?", true).Order("id").Find(&segs).Error; err != nil {
		return UndergroundingView{}, err
	}
	for _, g := range segs {
		t := tally(g.UnitCode)
		done := g.Underground && !g.CompletedOn.IsZero() && !g.CompletedOn.After(asOf)
		name := undgFoldName(g.StreetName)
		prev, seen := t.streets[name]
		t.streets[name] = done && (!seen || prev)
		t.length += g.LengthM
		if done {
			t.under += g.LengthM
		}
	}
	var areas []ResidentialArea
	if err := conn.Order("id").Find(&areas).Error; err != nil {
		return UndergroundingView{}, err
	}
	for _, a := range areas {
		f := &tally(a.UnitCode).areas
		completed := a.SharedUnderground && !a.CompletedOn.IsZero() && !a.CompletedOn.After(asOf)
		switch a.Kind {
		case AreaNew:
			f.NewAreas++
			if completed && (a.HandoverOn.IsZero() || !a.CompletedOn.After(a.HandoverOn)) {
				f.NewAreasUndergroundedBeforeHandover++
			}
		case AreaHandedOver:
			f.HandedOverAreas++
			if completed {
				f.HandedOverAreasUndergrounded++
			}
		}
	}

	row := func(group UndergroundingGroup, ts []*undgTally) (UndergroundingRow, error) {
		r := UndergroundingRow{Group: group}
		var length, under float64
		for _, t := range ts {
			for _, done := range t.streets {
				r.CentralStreets++
				if done {
					r.UndergroundStreets++
				}
			}
			length += t.length
			under += t.under
			r.Areas.NewAreas += t.areas.NewAreas
			r.Areas.NewAreasUndergroundedBeforeHandover += t.areas.NewAreasUndergroundedBeforeHandover
			r.Areas.HandedOverAreas += t.areas.HandedOverAreas
			r.Areas.HandedOverAreasUndergrounded += t.areas.HandedOverAreasUndergrounded
		}
		r.CentralLengthM, r.UndergroundLengthM = undgRound2(length), undgRound2(under)
		r.Share = undgRatio(r.UndergroundStreets, r.CentralStreets)
		target := func(metric string, year int) (*float64, error) {
			v, ok, err := s.TargetFor(ctx, metric, group.Code, year)
			if err != nil || !ok {
				return nil, err
			}
			return &v, nil
		}
		var err error
		if r.Target, err = target(MetricCentralStreetUndg, undgStreetTargetYear); err != nil {
			return r, err
		}
		r.Gap = undgGap(r.Target, r.Share)
		a := &r.Areas
		a.NewAreasShare = undgRatio(a.NewAreasUndergroundedBeforeHandover, a.NewAreas)
		if a.NewAreasTarget, err = target(MetricNewAreaUnderg, asOf.Year); err != nil {
			return r, err
		}
		a.NewAreasGap = undgGap(a.NewAreasTarget, a.NewAreasShare)
		a.HandedOverAreasShare = undgRatio(a.HandedOverAreasUndergrounded, a.HandedOverAreas)
		if a.HandedOverAreasTarget, err = target(MetricHandedOverUnderg, asOf.Year); err != nil {
			return r, err
		}
		a.HandedOverAreasGap = undgGap(a.HandedOverAreasTarget, a.HandedOverAreasShare)
		return r, nil
	}

	rep := UndergroundingView{AsOf: asOf, GroupBy: groupBy, StreetTargetYear: undgStreetTargetYear, Rows: []UndergroundingRow{}}
	codes := make([]string, 0, len(districts))
	for c := range districts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		t := tallies[c]
		if t == nil {
			t = newUndgTally()
		}
		r, err := row(UndergroundingGroup{Code: c, Name: districts[c]}, []*undgTally{t})
		if err != nil {
			return UndergroundingView{}, err
		}
		rep.Rows = append(rep.Rows, r)
	}
	all := make([]*undgTally, 0, len(tallies))
	for _, t := range tallies {
		all = append(all, t)
	}
	totals, err := row(UndergroundingGroup{Code: undgCityCode, Name: cityName}, all)
	if err != nil {
		return UndergroundingView{}, err
	}
	rep.Totals = totals
	return rep, nil
}
