package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	cases := []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 95, 95 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 99.5, 100 * time.Millisecond},
		{hundred, 100, 100 * time.Millisecond},
		{hundred, 0, 1 * time.Millisecond},
		{[]time.Duration{7}, 50, 7},
		{[]time.Duration{7}, 99, 7},
		// Ten values: the 95th and 99th percentiles are the largest; the
		// median is the fifth value, not an average of two.
		{[]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5},
		{[]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95, 10},
		{nil, 99, 0},
	}
	for _, c := range cases {
		if got := percentile(c.values, c.p); got != c.want {
			t.Errorf("p%v of %d values = %v, want %v", c.p, len(c.values), got, c.want)
		}
	}
}

func TestSummaryPercentilesDoNotDependOnArrivalOrder(t *testing.T) {
	var values []time.Duration
	for i := 1; i <= 1000; i++ {
		values = append(values, time.Duration(i)*time.Microsecond*10) // 0.01 … 10 ms
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
	got := summarizeLatency(values)
	want := Latency{P50: 5, P95: 9.5, P99: 9.9, Max: 10, Mean: 5.005}
	if got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
}

func TestReportCountsErrorsByStatusAndConflictsApart(t *testing.T) {
	r := newRecorder()
	start := time.Now()
	at := start.Add(2 * time.Second)
	for i := 0; i < 8; i++ {
		r.add(sample{endpoint: "patch", latency: time.Millisecond, status: 200, outcome: outcomeOK}, at)
	}
	r.add(sample{endpoint: "patch", latency: time.Millisecond, status: 409, outcome: outcomeConflict}, at)
	r.add(sample{endpoint: "nearby", latency: time.Millisecond, status: 500, errKind: "500", outcome: outcomeError}, at)
	r.add(sample{endpoint: "nearby", latency: 0, status: 0, errKind: "timeout", outcome: outcomeError}, at)
	r.add(sample{endpoint: "nearby", latency: 3 * time.Millisecond, status: 200, outcome: outcomeOK}, at)

	rep := r.report(start, "test", 2*time.Second)
	if rep.Overall.Requests != 12 || rep.Overall.Errors != 2 || rep.Overall.Conflicts != 1 {
		t.Fatalf("overall = %+v, want 12 requests, 2 errors, 1 conflict", rep.Overall)
	}
	if rep.Overall.ErrorsBy["500"] != 1 || rep.Overall.ErrorsBy["timeout"] != 1 {
		t.Errorf("errors by status = %v", rep.Overall.ErrorsBy)
	}
	if p := rep.Endpoints["patch"]; p.Errors != 0 || p.Conflicts != 1 || p.Requests != 9 {
		t.Errorf("patch = %+v: a conflict is not an error", p)
	}
	if n := rep.Endpoints["nearby"]; n.Requests != 3 || n.Errors != 2 || n.Latency.Max != 3 {
		t.Errorf("nearby = %+v: the timeout has no latency of its own to count", n)
	}
	if rep.Overall.Throughput != 6 {
		t.Errorf("throughput = %v req/s, want 12 requests over 2 s", rep.Overall.Throughput)
	}
}
