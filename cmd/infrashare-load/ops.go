package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// generator runs the operations against one server.
type generator struct {
	c        *client
	rec      *recorder
	accounts []*account // everyone signs in; reads and comments use all of them
	patchers []*account // operators with assets of their own
	filers   []*account // operators that can file a request on someone else's asset
	points   *points
	sampled  []assetItem // assets seen at start: ids to read, targets to file on
	bare     bool        // the bare Echo server: no sign-in, nearby only
	seed     uint64

	mu       sync.Mutex
	filed    int
	withdrew int
}

// rngFor gives each job its own generator, derived from the run's seed and
// the job's number, so that workers need no lock and a seeded run picks
// the same operations and points whatever the timing.
func (g *generator) rngFor(seq int64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, uint64(seq)))
}

// pickFor is the operation of job seq under mix m.
func (g *generator) pickFor(m mix) func(int64) opKind {
	return func(seq int64) opKind {
		// A stream apart from the job's own, so that the choice of
		// operation does not shift the points it then draws.
		return m.pick(rand.New(rand.NewPCG(g.seed^0x9e3779b97f4a7c15, uint64(seq))).Float64())
	}
}

// step carries one job's timing: its first request counts from the due
// time, any follow-up (a re-read after a conflict) from its own send.
type step struct {
	g     *generator
	start time.Time
}

func (s *step) begin() time.Time {
	if s.start.IsZero() {
		return time.Now()
	}
	t := s.start
	s.start = time.Time{}
	return t
}

// call sends one request and records it under endpoint. expectConflict says
// that a 409 is an expected outcome of this request, not an error.
func (s *step) call(ctx context.Context, endpoint string, acc *account, method, path string, body, out any, expectConflict bool) (int, error) {
	from := s.begin()
	token := ""
	if acc != nil {
		token = acc.token
	}
	status, err := s.g.c.do(ctx, token, method, path, body, out)
	now := time.Now()
	smp := sample{endpoint: endpoint, latency: now.Sub(from), status: status}
	switch {
	case err == nil:
		smp.outcome = outcomeOK
	case status == 409 && expectConflict:
		smp.outcome = outcomeConflict
	default:
		smp.outcome = outcomeError
		smp.errKind = errKind(status, err)
	}
	s.g.rec.add(smp, now)
	return status, err
}

// run performs one job.
func (g *generator) run(ctx context.Context, j job) {
	rng := g.rngFor(j.seq)
	s := &step{g: g, start: j.due}
	if g.bare {
		lat, lon := g.points.next(rng)
		s.call(ctx, "nearby", nil, "GET", nearbyPath(lat, lon, rng), nil, nil, false)
		return
	}
	switch j.op {
	case opNearby:
		lat, lon := g.points.next(rng)
		s.call(ctx, "nearby", g.anyAccount(rng), "GET", nearbyPath(lat, lon, rng), nil, nil, false)
	case opList:
		lat, lon := g.points.next(rng)
		q := url.Values{"bbox": {around(lat, lon, 1000).String()}, "limit": {"50"}}
		s.call(ctx, "list", g.anyAccount(rng), "GET", "/api/v1/assets?"+q.Encode(), nil, nil, false)
	case opGet:
		id := g.sampled[rng.IntN(len(g.sampled))].ID
		s.call(ctx, "get", g.anyAccount(rng), "GET", "/api/v1/assets/"+strconv.FormatInt(id, 10), nil, nil, false)
	case opGeoJSON:
		lat, lon := g.points.next(rng)
		q := url.Values{"bbox": {around(lat, lon, 500).String()}}
		s.call(ctx, "geojson", g.anyAccount(rng), "GET", "/api/v1/assets.geojson?"+q.Encode(), nil, nil, false)
	case opReport:
		group := []string{"year", "unit", "operator"}[rng.IntN(3)]
		s.call(ctx, "report", g.reportAccount(rng), "GET", "/api/v1/reports/sharing-ratio?group_by="+group, nil, nil, false)
	case opPatch:
		g.patch(ctx, s, g.patchers[rng.IntN(len(g.patchers))], rng)
	case opComment:
		g.comment(ctx, s, rng)
	case opColocation:
		g.fileOrWithdraw(ctx, s, g.filers[rng.IntN(len(g.filers))], rng)
	}
}

func nearbyPath(lat, lon float64, rng *rand.Rand) string {
	q := url.Values{"lat": {strconv.FormatFloat(lat, 'f', 6, 64)}, "lon": {strconv.FormatFloat(lon, 'f', 6, 64)}, "radius_m": {"500"}}
	// One search in four is the planner's: towers and poles with room.
	if rng.IntN(4) == 0 {
		q.Set("kind", "tower,pole")
		q.Set("min_free", "1")
	}
	return "/api/v1/assets/nearby?" + q.Encode()
}

func (g *generator) anyAccount(rng *rand.Rand) *account {
	return g.accounts[rng.IntN(len(g.accounts))]
}

// reportAccount is an account allowed to read the sharing ratio: operators
// (their own) and the department.
func (g *generator) reportAccount(rng *rand.Rand) *account { return g.anyAccount(rng) }

// patch edits one of the account's assets with the version last seen. The
// edit writes the contact back as it is: a real write (a new version and
// an audit event) that leaves the register's content alone. A 409 means
// another worker edited it first: re-read it and carry on.
func (g *generator) patch(ctx context.Context, s *step, acc *account, rng *rand.Rand) {
	acc.mu.Lock()
	i := rng.IntN(len(acc.own))
	a := acc.own[i]
	acc.mu.Unlock()
	path := "/api/v1/assets/" + strconv.FormatInt(a.id, 10)
	var saved assetItem
	status, err := s.call(ctx, "patch", acc, "PATCH", path, map[string]any{"version": a.version, "contact": a.contact}, &saved, true)
	if err != nil && status != 409 {
		return
	}
	if status == 409 {
		if _, err := s.call(ctx, "get", acc, "GET", path, nil, &saved, false); err != nil {
			return
		}
	}
	acc.mu.Lock()
	if acc.own[i].version < saved.Version {
		acc.own[i].version, acc.own[i].contact = saved.Version, saved.Contact
	}
	acc.mu.Unlock()
}

// comment posts a comment on a request the account is a party to.
func (g *generator) comment(ctx context.Context, s *step, rng *rand.Rand) {
	var candidates []*account
	for _, a := range g.accounts {
		a.mu.Lock()
		if len(a.commentable) > 0 {
			candidates = append(candidates, a)
		}
		a.mu.Unlock()
	}
	acc := candidates[rng.IntN(len(candidates))]
	acc.mu.Lock()
	id := acc.commentable[rng.IntN(len(acc.commentable))]
	acc.mu.Unlock()
	body := map[string]string{"body": fmt.Sprintf("load test: comment %d", rng.Uint32())}
	s.call(ctx, "comment", acc, "POST", "/api/v1/colocation-requests/"+strconv.FormatInt(id, 10)+"/comments", body, nil, false)
}

// fileOrWithdraw withdraws a request this run filed, when the account has
// one open, else files a new one on another operator's asset with room.
// Filing reserves nothing, so it leaves others' capacity alone; a 409 is
// room taken meanwhile by someone else.
func (g *generator) fileOrWithdraw(ctx context.Context, s *step, acc *account, rng *rand.Rand) {
	acc.mu.Lock()
	var id int64
	if n := len(acc.open); n > 0 {
		id = acc.open[n-1]
		acc.open = acc.open[:n-1]
	}
	acc.mu.Unlock()
	if id != 0 {
		if _, err := s.call(ctx, "withdraw", acc, "POST", "/api/v1/colocation-requests/"+strconv.FormatInt(id, 10)+"/actions",
			map[string]string{"action": "withdraw", "reason": "load test"}, nil, false); err == nil {
			g.mu.Lock()
			g.withdrew++
			g.mu.Unlock()
		}
		return
	}
	target, ok := g.fileTarget(acc, rng)
	if !ok {
		return
	}
	in := map[string]any{"items": []map[string]any{{"asset_id": target.ID, "units": 1}}, "purpose": "other",
		"technical": map[string]string{"description": "load test"}}
	var made requestItem
	if _, err := s.call(ctx, "file", acc, "POST", "/api/v1/colocation-requests", in, &made, true); err != nil {
		return
	}
	g.mu.Lock()
	g.filed++
	g.mu.Unlock()
	acc.mu.Lock()
	acc.open = append(acc.open, made.ID)
	acc.commentable = append(acc.commentable, made.ID)
	acc.mu.Unlock()
}

// fileTarget is a sampled asset of another organisation with room.
func (g *generator) fileTarget(acc *account, rng *rand.Rand) (assetItem, bool) {
	for tries := 0; tries < 64; tries++ {
		a := g.sampled[rng.IntN(len(g.sampled))]
		if canFileOn(acc, a) {
			return a, true
		}
	}
	for _, a := range g.sampled {
		if canFileOn(acc, a) {
			return a, true
		}
	}
	return assetItem{}, false
}

func canFileOn(acc *account, a assetItem) bool {
	return a.Owner.ID != acc.org.ID && a.Capacity.Free >= 1 && a.Status != "decommissioned"
}

// withdrawOpen withdraws what the run filed and left open, so that a load
// test leaves no pending requests behind. It is not measured.
func (g *generator) withdrawOpen(ctx context.Context) error {
	for _, acc := range g.accounts {
		acc.mu.Lock()
		open := acc.open
		acc.open = nil
		acc.mu.Unlock()
		for _, id := range open {
			if _, err := g.c.do(ctx, acc.token, "POST", "/api/v1/colocation-requests/"+strconv.FormatInt(id, 10)+"/actions",
				map[string]string{"action": "withdraw", "reason": "load test ended"}, nil); err != nil {
				return fmt.Errorf("withdraw request %d filed by the load test: %w", id, err)
			}
			g.mu.Lock()
			g.withdrew++
			g.mu.Unlock()
		}
	}
	return nil
}
