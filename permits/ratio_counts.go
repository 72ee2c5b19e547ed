package permits

import (
	"context"
	"strconv"
	"sync"

	"infrashare"
	"infrashare/auth"
)

// The sharing-ratio report reads monthly counts of the BTS records by unit,
// operator and classification (bts_monthly_counts) rather than grouping
// every record of the period, which at 200,000 records took longer than a
// report may (docs/performance.md). The counts change in the same
// transaction as the records they count, so they are never behind.

// bumpMonthlyCount adds delta to the count of d's month, unit, operator and
// class. One upsert: concurrent writers add up, never overwrite each other.
func (s *Service) bumpMonthlyCount(ctx context.Context, d Deployment, class string, delta int) error {
	if err := s.db.Conn(ctx).Exec(`INSERT INTO bts_monthly_counts (year, month, unit_code, operator_org_id, classification, n)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (year, month, unit_code, operator_org_id, classification)
		DO UPDATE SET n = bts_monthly_counts.n + excluded.n`,
		d.OnAirOn.Year, int(d.OnAirOn.Month), d.UnitCode, d.OperatorOrgID, class, delta).Error; err != nil {
		return err
	}
	_, err := s.db.NextCounter(ctx, countsVersion)
	return err
}

// countsVersion names the counter that every change of the monthly counts
// moves on, in the same transaction; a replica's remembered sums are good
// while it has not moved.
const countsVersion = "bts_counts_version"

// countsCache holds sums of whole months of the monthly counts, for the
// version of the counts they were read at. Reports ask for the same few
// periods (five years to today, by year, unit or operator) over and over,
// and summing thousands of monthly rows was most of a report's database
// time under load (docs/performance.md).
type countsCache struct {
	mu      sync.Mutex
	version int64
	sums    map[countsKey][]ratioCount
}

type countsKey struct {
	first, last infrashare.Date
	groupBy     string
	org         int64 // 0: every operator
}

func (c *countsCache) get(version int64, k countsKey) ([]ratioCount, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return nil, false
	}
	v, ok := c.sums[k]
	return v, ok
}

// put keeps sums read at version or later: the version is read before the
// counts, so sums may be newer than their version says, never older.
func (c *countsCache) put(version int64, k countsKey, v []ratioCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return // a slower reader's sums must not replace newer ones
	}
	if c.sums == nil || c.version != version || len(c.sums) >= 256 {
		c.version, c.sums = version, map[countsKey][]ratioCount{}
	}
	c.sums[k] = v
}

// ratioCount is the number of records of one year, group and class.
type ratioCount struct {
	Year           int
	Grp            string
	Classification string
	N              int
}

// ratioCounts counts the records from..to by year, group and class: the
// whole months from the monthly counts, the days of a partial first or last
// month from the records themselves.
func (s *Service) ratioCounts(ctx context.Context, actor auth.Actor, from, to infrashare.Date, groupBy string, version int64) ([]ratioCount, error) {
	groupCol := map[string]string{"year": "''", "unit": "unit_code", "operator": "CAST(operator_org_id AS TEXT)"}[groupBy]
	first := from
	if first.Day != 1 {
		first = monthStart(from.AddDays(32 - from.Day))
	}
	last := to
	if next := to.AddDays(1); next.Month == to.Month {
		last = monthStart(to).AddDays(-1)
	}
	var out []ratioCount
	// The records of a partial month, a month at a time: the year is then
	// known and no record's date needs turning into text, so that both
	// databases count them from the index of on_air_on alone (m0009).
	records := func(a, b infrashare.Date) error {
		for !a.After(b) {
			end := monthStart(a).AddDays(31)
			end = monthStart(end).AddDays(-1)
			if end.After(b) {
				end = b
			}
			q := s.db.Conn(ctx).Table("bts_deployments").
				Select(strconv.Itoa(a.Year)+" AS year, "+groupCol+" AS grp, classification, count(*) AS n").
				Where("on_air_on >= ? AND on_air_on <= ?", a.String(), end.String())
			if !actor.SeesEverything() {
				q = q.Where("operator_org_id = ?", actor.OrgID)
			}
			var part []ratioCount
			if err := q.Group("2, 3").Scan(&part).Error; err != nil {
				return err
			}
			out = append(out, part...)
			a = end.AddDays(1)
		}
		return nil
	}
	if first.After(last) {
		// No whole month in the period.
		return out, records(from, to)
	}
	if err := records(from, first.AddDays(-1)); err != nil {
		return nil, err
	}
	if err := records(last.AddDays(1), to); err != nil {
		return nil, err
	}
	whole, err := s.wholeMonthCounts(ctx, actor, first, last, groupBy, groupCol, version)
	if err != nil {
		return nil, err
	}
	return append(out, whole...), nil
}

// wholeMonthCounts sums the monthly counts of the months first..last, or
// answers from the sums remembered at version, the counts' version read
// before (ratioStamp).
func (s *Service) wholeMonthCounts(ctx context.Context, actor auth.Actor, first, last infrashare.Date, groupBy, groupCol string, version int64) ([]ratioCount, error) {
	k := countsKey{first: first, last: last, groupBy: groupBy}
	if !actor.SeesEverything() {
		k.org = actor.OrgID
	}
	if sums, ok := s.wholeMonths.get(version, k); ok {
		return sums, nil
	}
	q := s.db.Conn(ctx).Table("bts_monthly_counts").
		Select("year, "+groupCol+" AS grp, classification, sum(n) AS n").
		Where("year >= ? AND year <= ?", first.Year, last.Year).
		Where("year * 100 + month >= ? AND year * 100 + month <= ?", first.Year*100+int(first.Month), last.Year*100+int(last.Month))
	if k.org != 0 {
		q = q.Where("operator_org_id = ?", k.org)
	}
	var sums []ratioCount
	if err := q.Group("1, 2, 3").Scan(&sums).Error; err != nil {
		return nil, err
	}
	s.wholeMonths.put(version, k, sums)
	return sums, nil
}

func monthStart(d infrashare.Date) infrashare.Date {
	return infrashare.Date{Year: d.Year, Month: d.Month, Day: 1}
}

// RebuildMonthlyCounts recounts bts_monthly_counts from the records, for
// tools that write records in bulk outside LogDeployment (the data
// generator, the benchmarks).
func (s *Service) RebuildMonthlyCounts(ctx context.Context) error {
	return s.db.Tx(ctx, func(ctx context.Context) error {
		// Writers wait until the new counts are in, so that none is
		// counted twice or lost between the recount and their own bump
		// (SQLite has one writer at a time anyway).
		if s.db.IsPostgres() {
			if err := s.db.Conn(ctx).Exec(`LOCK TABLE bts_deployments IN SHARE MODE`).Error; err != nil {
				return err
			}
		}
		if err := s.db.Conn(ctx).Exec(`DELETE FROM bts_monthly_counts`).Error; err != nil {
			return err
		}
		if err := s.db.Conn(ctx).Exec(`INSERT INTO bts_monthly_counts (year, month, unit_code, operator_org_id, classification, n)
			SELECT CAST(substr(CAST(on_air_on AS TEXT), 1, 4) AS INTEGER), CAST(substr(CAST(on_air_on AS TEXT), 6, 2) AS INTEGER),
			       unit_code, operator_org_id, classification, count(*)
			FROM bts_deployments GROUP BY 1, 2, 3, 4, 5`).Error; err != nil {
			return err
		}
		_, err := s.db.NextCounter(ctx, countsVersion)
		return err
	})
}

// countsComplete makes sure the monthly counts cover every record. Only
// this release's writes keep them; a record written another way — by a
// replica of the previous release during a rolling upgrade, or by hand —
// shows as a difference of the totals, and the counts are rebuilt once.
// Counting 200,000 records costs more than the report itself, so a replica
// counts again only when a record with a higher id than it last saw
// complete has appeared (last, read by ratioStamp).
func (s *Service) countsComplete(ctx context.Context, last int64) error {
	if last == s.countedUpTo.Load() {
		return nil
	}
	// Both totals from one statement, so from one snapshot.
	var totals struct{ Records, Counted, Last int64 }
	if err := s.db.Conn(ctx).Raw(`SELECT (SELECT count(*) FROM bts_deployments) AS records,
		(SELECT coalesce(sum(n), 0) FROM bts_monthly_counts) AS counted,
		(SELECT coalesce(max(id), 0) FROM bts_deployments) AS last`).Scan(&totals).Error; err != nil {
		return err
	}
	if totals.Records != totals.Counted {
		if err := s.RebuildMonthlyCounts(ctx); err != nil {
			return err
		}
	}
	s.countedUpTo.Store(totals.Last)
	return nil
}
