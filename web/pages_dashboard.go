package web

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
	"infrashare/registry"
)

// countCap bounds what a dashboard counts by paging through a list: past it
// the card says "at least".
const countCap = 1000

// shownCount is a count that may have stopped at countCap.
type shownCount struct {
	N    int
	More bool
}

// deadlineRow is a co-location request with the deadline that matters now.
type deadlineRow struct {
	ID          int64
	Number      string
	State       string
	Counterpart string
	Deadline    time.Time
	Overdue     bool
}

type operatorCard struct {
	Assets  shownCount
	In, Out shownCount
	InNext  []deadlineRow
	OutNext []deadlineRow
}

type officerCard struct {
	Queue   []permits.PermitView
	Total   int
	Overdue int
}

// ratioYear is one year of the sharing ratio against its target.
type ratioYear struct {
	Year   int
	Total  int
	Shared int
	Ratio  *float64
	Target *float64
	Met    bool
}

// ratioChart is a server-drawn bar chart: one bar per year, a line at each
// year's target.
type ratioChart struct {
	Width, Height int
	Bars          []chartBar
	Axis          int
}

type chartBar struct {
	X, Y, W, H     int
	LabelX, LabelY int
	ValueY         int
	Label, Value   string
	HasTarget      bool
	TargetY        int
	TargetX1       int
	TargetX2       int
	Met            bool
}

type departmentCard struct {
	Years    []ratioYear
	Chart    ratioChart
	Overdue  []deadlineRow
	Disputes []deadlineRow
}

type dashboardData struct {
	Operator   *operatorCard
	Officer    *officerCard
	Department *departmentCard
	Today      infrashare.Date
}

// dashboardPage shows each of the reader's roles its own cards.
func (s *Server) dashboardPage(c echo.Context, a auth.Actor) error {
	ctx := c.Request().Context()
	d := dashboardData{Today: s.settings.Today()}
	var err error
	if a.Has(auth.RoleOperator) {
		if d.Operator, err = s.operatorCard(ctx, a); err != nil {
			return err
		}
	}
	if a.Has(auth.RoleOfficer) {
		if d.Officer, err = s.officerCard(ctx, a); err != nil {
			return err
		}
	}
	if a.SeesEverything() {
		if d.Department, err = s.departmentCard(ctx, a, d.Today); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "dashboard", s.newView(c, "dashboard.title", d))
}

// collect pages through a list up to countCap items.
func collect[T any](fetch func(cursor string) ([]T, string, error)) ([]T, bool, error) {
	var out []T
	cursor := ""
	for {
		items, next, err := fetch(cursor)
		if err != nil {
			return nil, false, err
		}
		out = append(out, items...)
		if next == "" {
			return out, false, nil
		}
		if len(out) >= countCap {
			return out, true, nil
		}
		cursor = next
	}
}

// openStates are the states of a co-location request still in progress.
var openStates = []string{registry.StateSubmitted, registry.StateInfoRequested, registry.StateApproved,
	registry.StateAgreed, registry.StateOverdue, registry.StateDisputed}

func (s *Server) operatorCard(ctx context.Context, a auth.Actor) (*operatorCard, error) {
	card := &operatorCard{}
	assets, more, err := collect(func(cursor string) ([]registry.AssetView, string, error) {
		return s.registry.List(ctx, a, registry.AssetFilter{Owner: strconv.FormatInt(a.OrgID, 10), Limit: auth.MaxLimit, Cursor: cursor})
	})
	if err != nil {
		return nil, err
	}
	card.Assets = shownCount{N: len(assets), More: more}
	now := s.cfg.Clock.Now()
	for _, box := range []string{"in", "out"} {
		reqs, more, err := collect(func(cursor string) ([]registry.RequestView, string, error) {
			return s.registry.ListRequests(ctx, a, registry.RequestFilter{Box: box, States: openStates, Limit: auth.MaxLimit, Cursor: cursor})
		})
		if err != nil {
			return nil, err
		}
		rows := deadlineRows(reqs, box, now)
		if box == "in" {
			card.In, card.InNext = shownCount{N: len(reqs), More: more}, rows
		} else {
			card.Out, card.OutNext = shownCount{N: len(reqs), More: more}, rows
		}
	}
	return card, nil
}

// deadlineRows are the five requests whose deadline comes first. A request
// waiting for information has its clock paused and no deadline.
func deadlineRows(reqs []registry.RequestView, box string, now time.Time) []deadlineRow {
	var rows []deadlineRow
	for _, r := range reqs {
		var dl time.Time
		switch r.State {
		case registry.StateSubmitted, registry.StateOverdue:
			dl = r.ReplyDeadline
		case registry.StateApproved:
			if r.AcceptDeadline != nil {
				dl = *r.AcceptDeadline
			}
		}
		if dl.IsZero() {
			continue
		}
		rows = append(rows, requestRow(r, box, dl, now))
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Deadline.Before(rows[j].Deadline) })
	if len(rows) > 5 {
		rows = rows[:5]
	}
	return rows
}

func requestRow(r registry.RequestView, box string, dl, now time.Time) deadlineRow {
	other := r.Owner.Name
	if box == "in" {
		other = r.Requester.Name
	}
	return deadlineRow{ID: r.ID, Number: r.Number, State: r.State, Counterpart: other, Deadline: dl,
		Overdue: r.State == registry.StateOverdue || (!dl.IsZero() && dl.Before(now))}
}

func (s *Server) officerCard(ctx context.Context, a auth.Actor) (*officerCard, error) {
	all, _, err := collect(func(cursor string) ([]permits.PermitView, string, error) {
		return s.permits.List(ctx, a, permits.PermitFilter{States: []string{permits.StateSubmitted}, Limit: auth.MaxLimit, Cursor: cursor})
	})
	if err != nil {
		return nil, err
	}
	card := &officerCard{}
	for _, p := range all {
		if p.Authority.ID != a.OrgID {
			continue // its own applications, not its queue
		}
		card.Queue = append(card.Queue, p)
		if p.Overdue {
			card.Overdue++
		}
	}
	card.Total = len(card.Queue)
	sort.SliceStable(card.Queue, func(i, j int) bool {
		di, dj := card.Queue[i].DecisionDeadline, card.Queue[j].DecisionDeadline
		switch {
		case di == nil:
			return false
		case dj == nil:
			return true
		}
		return di.Before(*dj)
	})
	if len(card.Queue) > 20 {
		card.Queue = card.Queue[:20]
	}
	return card, nil
}

func (s *Server) departmentCard(ctx context.Context, a auth.Actor, today infrashare.Date) (*departmentCard, error) {
	rep, err := s.permits.SharingRatio(ctx, a, permits.RatioQuery{
		From: infrashare.Date{Year: today.Year - 1, Month: time.January, Day: 1}, To: today, GroupBy: "year"})
	if err != nil {
		return nil, err
	}
	card := &departmentCard{}
	for _, y := range []int{today.Year, today.Year - 1} {
		ry := ratioYear{Year: y}
		for _, r := range rep.Rows {
			if r.Year == y {
				ry.Total, ry.Shared, ry.Ratio, ry.Target = r.Total, r.Shared, r.Ratio, r.Target
				if rep.Official == "broad" {
					ry.Ratio = r.RatioBroad
				}
			}
		}
		ry.Met = ry.Ratio != nil && ry.Target != nil && *ry.Ratio >= *ry.Target
		card.Years = append(card.Years, ry)
	}
	card.Chart = drawRatioChart(card.Years)
	now := s.cfg.Clock.Now()
	overdue, _, err := s.registry.ListRequests(ctx, a, registry.RequestFilter{Overdue: true, Limit: 10})
	if err != nil {
		return nil, err
	}
	for _, r := range overdue {
		card.Overdue = append(card.Overdue, requestRow(r, "out", r.ReplyDeadline, now))
	}
	disputes, _, err := s.registry.ListRequests(ctx, a, registry.RequestFilter{States: []string{registry.StateDisputed}, Limit: 10})
	if err != nil {
		return nil, err
	}
	for _, r := range disputes {
		row := requestRow(r, "out", time.Time{}, now)
		row.Counterpart = r.Requester.Name + " – " + r.Owner.Name
		card.Disputes = append(card.Disputes, row)
	}
	for i := range card.Overdue {
		card.Overdue[i].Counterpart = overdue[i].Requester.Name + " – " + overdue[i].Owner.Name
	}
	return card, nil
}

// drawRatioChart lays out the bars of the years (oldest first) on a 0–100 %
// scale, each year and its ratio below its bar, so that no label meets a
// target line; the template draws them as SVG.
func drawRatioChart(years []ratioYear) ratioChart {
	const w, h, top, bottom, barW, gap, left = 320, 220, 10, 46, 80, 60, 50
	ch := ratioChart{Width: w, Height: h, Axis: h - bottom}
	plot := h - top - bottom
	for i := len(years) - 1; i >= 0; i-- {
		y := years[i]
		n := len(ch.Bars)
		x := left + n*(barW+gap)
		bar := chartBar{X: x, W: barW, Label: strconv.Itoa(y.Year), LabelX: x + barW/2, LabelY: h - bottom + 18, ValueY: h - bottom + 38, Met: y.Met}
		frac := 0.0
		if y.Ratio != nil {
			frac = clamp01(*y.Ratio)
			bar.Value = fmtPct(y.Ratio)
		} else {
			bar.Value = "–"
		}
		bar.H = int(frac * float64(plot))
		bar.Y = h - bottom - bar.H
		if y.Target != nil {
			bar.HasTarget = true
			bar.TargetY = h - bottom - int(clamp01(*y.Target)*float64(plot))
			bar.TargetX1, bar.TargetX2 = x-10, x+barW+10
		}
		ch.Bars = append(ch.Bars, bar)
	}
	return ch
}

func clamp01(f float64) float64 {
	if f < 0 {
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}
