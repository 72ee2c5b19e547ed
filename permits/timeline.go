package permits

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"infrashare/auth"
)

// permitNoCounter names the counter of an authority's permit numbers in a
// year.
func permitNoCounter(authorityCode string, year int) string {
	return fmt.Sprintf("permit-no:%s:%d", authorityCode, year)
}

// formatPermitNo is the proposed official number: authority code, year,
// counter (UBND-NK-2026-0042).
func formatPermitNo(authorityCode string, year int, n int64) string {
	return fmt.Sprintf("%s-%d-%04d", authorityCode, year, n)
}

// ProposedPermitNo is the number an approval without one would assign now,
// for the officer's form; it reserves nothing, so a concurrent approval
// may take it first (the approval then assigns the next).
func (s *Service) ProposedPermitNo(ctx context.Context, actor auth.Actor, id int64) (string, error) {
	p, err := s.load(ctx, actor, id)
	if err != nil {
		return "", err
	}
	authority, err := s.orgRef(ctx, p.AuthorityOrgID)
	if err != nil {
		return "", err
	}
	year := s.settings.Today().Year
	var last []int64
	if err := s.db.Conn(ctx).Table("counters").Where("name = ?", permitNoCounter(authority.Code, year)).
		Pluck("value", &last).Error; err != nil {
		return "", err
	}
	n := int64(1)
	if len(last) > 0 {
		n = last[0] + 1
	}
	return formatPermitNo(authority.Code, year, n), nil
}

// TimelineEntry is one step of an application's life, from the audit log.
type TimelineEntry struct {
	At     time.Time   `json:"at"`
	Action string      `json:"action"`
	Actor  auth.OrgRef `json:"actor"`
	Reason string      `json:"reason"`
}

// Timeline lists what happened to an application the actor may see,
// oldest first: filing, returns, resubmissions, attachments, the decision.
func (s *Service) Timeline(ctx context.Context, actor auth.Actor, id int64) ([]TimelineEntry, error) {
	if _, err := s.load(ctx, actor, id); err != nil {
		return nil, err
	}
	events, _, err := s.audit.ListForObject(ctx, "permit", strconv.FormatInt(id, 10), auth.MaxLimit, "")
	if err != nil {
		return nil, err
	}
	orgs := map[int64]auth.OrgRef{}
	out := make([]TimelineEntry, 0, len(events))
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		e := TimelineEntry{At: ev.At, Action: ev.Action, Reason: ev.Reason}
		if ev.OrgID != nil {
			ref, ok := orgs[*ev.OrgID]
			if !ok {
				if ref, err = s.orgRef(ctx, *ev.OrgID); err != nil {
					return nil, err
				}
				orgs[*ev.OrgID] = ref
			}
			e.Actor = ref
		}
		out = append(out, e)
	}
	return out, nil
}
