package permits

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"infrashare"
)

// A sharing-ratio report reads, besides the BTS counts, names of units and
// organisations, the plan's targets and milestones, and the setting that
// says which ratio is official: five statements per report that return the
// same rows almost always. A replica keeps them for the value of the
// counter reference_version, which triggers move in the same transaction as
// every change of those tables (migration 0010), whoever makes it.

// referenceVersion names that counter.
const referenceVersion = "reference_version"

// ratioStamp is what a report reads first, in one statement and so from one
// snapshot: the versions of the counts and of the reference data, and the
// highest BTS record id (countsComplete).
type ratioStamp struct {
	CountsVersion    int64
	ReferenceVersion int64
	LastRecord       int64
}

func (s *Service) ratioStamp(ctx context.Context) (ratioStamp, error) {
	var st ratioStamp
	err := s.db.Conn(ctx).Raw(`SELECT
		coalesce((SELECT value FROM counters WHERE name = ?), 0) AS counts_version,
		coalesce((SELECT value FROM counters WHERE name = ?), 0) AS reference_version,
		(SELECT coalesce(max(id), 0) FROM bts_deployments) AS last_record`, countsVersion, referenceVersion).Scan(&st).Error
	return st, err
}

// ratioReference is the reference data of a report.
type ratioReference struct {
	// unitNames by code (the latest name of each); orgNames and orgCodes
	// by id.
	unitNames, orgNames, orgCodes map[string]string
	milestones                    []int
	targets                       *targetResolver
	// official is the setting reports.official_ratio, newest first.
	official []datedValue
}

type datedValue struct {
	ValidFrom infrashare.Date
	Value     string
}

// officialOn is the official ratio ("strict" unless set) on day.
func (r *ratioReference) officialOn(day infrashare.Date) (string, error) {
	for _, v := range r.official {
		if v.ValidFrom.After(day) {
			continue
		}
		var official string
		if err := json.Unmarshal([]byte(v.Value), &official); err != nil {
			return "", fmt.Errorf("setting reports.official_ratio: %w", err)
		}
		return official, nil
	}
	return "strict", nil
}

// referenceCache keeps one ratioReference for the version it was read at.
type referenceCache struct {
	mu      sync.Mutex
	version int64
	ref     *ratioReference
}

// ratioReference returns the reference data for version, reading it when
// this replica has none for that version. It is read after the version, so
// it may be newer than its version says, never older.
func (s *Service) ratioReference(ctx context.Context, version int64) (*ratioReference, error) {
	c := &s.reference
	c.mu.Lock()
	ref := c.ref
	if c.version != version {
		ref = nil
	}
	c.mu.Unlock()
	if ref != nil {
		return ref, nil
	}
	ref = &ratioReference{}
	var err error
	if err = s.groupNames(ctx, ref); err != nil {
		return nil, err
	}
	if ref.milestones, err = s.milestoneYears(ctx); err != nil {
		return nil, err
	}
	if ref.targets, err = s.targetResolver(ctx, MetricBTSSharing); err != nil {
		return nil, err
	}
	if err := s.db.Conn(ctx).Table("settings").Select("valid_from, value").
		Where("key = ?", "reports.official_ratio").Order("valid_from DESC").Scan(&ref.official).Error; err != nil {
		return nil, err
	}
	c.mu.Lock()
	if version >= c.version { // a slower reader must not put older data back
		c.version, c.ref = version, ref
	}
	c.mu.Unlock()
	return ref, nil
}
