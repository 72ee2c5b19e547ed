package permits

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"

	"infrashare"
	"infrashare/auth"
)

// GroupRef names what a report row is about: the city, a unit or an
// operator.
type GroupRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// RatioRow is one year of one group of the sharing-ratio report. Ratios and
// targets are fractions (0.40).
type RatioRow struct {
	Group        GroupRef `json:"group"`
	Year         int      `json:"year"`
	Total        int      `json:"total"`
	Shared       int      `json:"shared"`
	OwnExisting  int      `json:"own_existing"`
	NewStructure int      `json:"new_structure"`
	Ratio        *float64 `json:"ratio"`
	RatioBroad   *float64 `json:"ratio_broad"`
	Target       *float64 `json:"target"`
	TargetYear   int      `json:"target_year,omitempty"`
	Gap          *float64 `json:"gap"`
	Forecast     *float64 `json:"forecast"`
	// Records is the list of the BTS records behind the row.
	Records string `json:"records"`
}

// RatioReport is GET /api/v1/reports/sharing-ratio.
type RatioReport struct {
	From     infrashare.Date `json:"from"`
	To       infrashare.Date `json:"to"`
	GroupBy  string          `json:"group_by"`
	Official string          `json:"official"`
	Rows     []RatioRow      `json:"rows"`
	Totals   RatioRow        `json:"totals"`
}

// RatioQuery selects the period and grouping.
type RatioQuery struct {
	From, To infrashare.Date
	GroupBy  string
}

// cityCode is the territory the plan's targets are set for.
const cityCode = "92"

// SharingRatio counts the BTS records of the period by year and group and
// sets each year's ratio beside the target in force, with the gap and a
// least-squares forecast for the target year. Operators see their own
// figures only; the department and admins see all.
func (s *Service) SharingRatio(ctx context.Context, actor auth.Actor, q RatioQuery) (RatioReport, error) {
	if !actor.SeesEverything() && !actor.Has(auth.RoleOperator) {
		return RatioReport{}, infrashare.Forbidden("the sharing ratio is for the department, admins and each operator's own figures")
	}
	if q.GroupBy == "" {
		q.GroupBy = "year"
	}
	if q.GroupBy != "year" && q.GroupBy != "unit" && q.GroupBy != "operator" {
		return RatioReport{}, infrashare.Invalid("group_by", "must be year, unit or operator")
	}
	if q.To.IsZero() {
		q.To = s.settings.Today()
	}
	if q.From.IsZero() {
		q.From = infrashare.Date{Year: q.To.Year - 5, Month: 1, Day: 1}
	}
	if q.From.After(q.To) {
		return RatioReport{}, infrashare.Invalid("from", "must not be after to")
	}
	if q.To.Year-q.From.Year > 50 {
		return RatioReport{}, infrashare.Invalid("from", "the period may span at most 50 years")
	}
	stamp, err := s.ratioStamp(ctx)
	if err != nil {
		return RatioReport{}, err
	}
	ref, err := s.ratioReference(ctx, stamp.ReferenceVersion)
	if err != nil {
		return RatioReport{}, err
	}
	official, err := ref.officialOn(q.To)
	if err != nil {
		return RatioReport{}, err
	}
	if err := s.countsComplete(ctx, stamp.LastRecord); err != nil {
		return RatioReport{}, err
	}
	counts, err := s.ratioCounts(ctx, actor, q.From, q.To, q.GroupBy, stamp.CountsVersion)
	if err != nil {
		return RatioReport{}, err
	}
	type key struct {
		grp  string
		year int
	}
	rows := map[key]*RatioRow{}
	totals := RatioRow{Group: GroupRef{Code: cityCode}}
	for _, c := range counts {
		if c.N == 0 {
			continue
		}
		k := key{c.Grp, c.Year}
		r := rows[k]
		if r == nil {
			r = &RatioRow{Year: c.Year}
			rows[k] = r
		}
		for _, row := range []*RatioRow{r, &totals} {
			row.Total += c.N
			switch c.Classification {
			case ClassShared:
				row.Shared += c.N
			case ClassOwnExisting:
				row.OwnExisting += c.N
			case ClassNewStructure:
				row.NewStructure += c.N
			}
		}
	}
	milestones, targets := ref.milestones, ref.targets
	out := RatioReport{From: q.From, To: q.To, GroupBy: q.GroupBy, Official: official, Rows: []RatioRow{}}
	byGroup := map[string][]*RatioRow{}
	for k, r := range rows {
		code := k.grp
		targetUnit := cityCode
		switch q.GroupBy {
		case "year":
			code = cityCode
		case "unit":
			targetUnit = code
		}
		r.Group = GroupRef{Code: code, Name: ref.unitNames[code]}
		if q.GroupBy == "operator" {
			r.Group = GroupRef{Code: ref.orgCodes[code], Name: ref.orgNames[code]}
		}
		fill(r, official)
		if t, ok := targets.targetFor(targetUnit, r.Year); ok {
			r.Target = &t
			r.TargetYear = milestoneFor(milestones, r.Year)
			if v := officialRatio(r, official); v != nil {
				g := round4(t - *v)
				r.Gap = &g
			}
		}
		r.Records = recordsLink(q.GroupBy, r)
		byGroup[code] = append(byGroup[code], r)
	}
	// A least-squares line through each group's yearly ratios so far,
	// read at the target year of each row.
	for _, list := range byGroup {
		sort.Slice(list, func(i, j int) bool { return list[i].Year < list[j].Year })
		var xs, ys []float64
		for _, r := range list {
			if v := officialRatio(r, official); v != nil {
				xs, ys = append(xs, float64(r.Year)), append(ys, *v)
			}
			if r.TargetYear != 0 && len(xs) > 0 {
				f := round4(clamp01(leastSquaresAt(xs, ys, float64(r.TargetYear))))
				r.Forecast = &f
			}
			out.Rows = append(out.Rows, *r)
		}
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		if a.Group.Code != b.Group.Code {
			return a.Group.Code < b.Group.Code
		}
		return a.Year < b.Year
	})
	fill(&totals, official)
	totals.Group.Name = ref.unitNames[cityCode]
	totals.Records = "/api/v1/bts"
	out.Totals = totals
	return out, nil
}

func fill(r *RatioRow, official string) {
	if r.Total == 0 {
		return
	}
	strict := round4(float64(r.Shared) / float64(r.Total))
	broad := round4(float64(r.Shared+r.OwnExisting) / float64(r.Total))
	r.Ratio, r.RatioBroad = &strict, &broad
}

func officialRatio(r *RatioRow, official string) *float64 {
	if official == "broad" {
		return r.RatioBroad
	}
	return r.Ratio
}

func round4(v float64) float64 { return math.Round(v*10000) / 10000 }

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// leastSquaresAt fits y = a + b·x and reads it at x; with one point the
// line is flat.
func leastSquaresAt(xs, ys []float64, x float64) float64 {
	n := float64(len(xs))
	if len(xs) == 1 {
		return ys[0]
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return sy / n
	}
	b := (n*sxy - sx*sy) / den
	a := (sy - b*sx) / n
	return a + b*x
}

// milestoneYears are the years the plan sets sharing targets for.
func (s *Service) milestoneYears(ctx context.Context) ([]int, error) {
	var years []int
	err := s.db.Conn(ctx).Table("targets").Where("metric = ?", MetricBTSSharing).Distinct("year").Order("year").Pluck("year", &years).Error
	return years, err
}

func milestoneFor(milestones []int, year int) int {
	for _, m := range milestones {
		if m >= year {
			return m
		}
	}
	return 0
}

// groupNames reads the names of the groups: units by code, operators'
// names and codes by id.
func (s *Service) groupNames(ctx context.Context, ref *ratioReference) error {
	ref.unitNames, ref.orgNames, ref.orgCodes = map[string]string{}, map[string]string{}, map[string]string{}
	var units []struct{ Code, Name string }
	if err := s.db.Conn(ctx).Table("admin_units").Select("code, name").Order("valid_from").Scan(&units).Error; err != nil {
		return err
	}
	for _, u := range units {
		ref.unitNames[u.Code] = u.Name
	}
	var orgs []struct {
		ID         int64
		Code, Name string
	}
	if err := s.db.Conn(ctx).Table("organizations").Select("id, code, name").Scan(&orgs).Error; err != nil {
		return err
	}
	for _, o := range orgs {
		id := strconv.FormatInt(o.ID, 10)
		ref.orgNames[id], ref.orgCodes[id] = o.Name, o.Code
	}
	return nil
}

func recordsLink(groupBy string, r *RatioRow) string {
	v := url.Values{}
	v.Set("year", strconv.Itoa(r.Year))
	switch groupBy {
	case "unit":
		v.Set("unit", r.Group.Code)
	case "operator":
		v.Set("operator", r.Group.Code)
	}
	return fmt.Sprintf("/api/v1/bts?%s", v.Encode())
}
