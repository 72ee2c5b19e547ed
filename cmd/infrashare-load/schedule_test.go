package main

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestScheduleDueTimesAreFixedByTheRate(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSchedule(start, 2000)
	for _, c := range []struct {
		i    int64
		want time.Duration
	}{{0, 0}, {1, 500 * time.Microsecond}, {2000, time.Second}, {60000, 30 * time.Second}} {
		if got := s.at(c.i).Sub(start); got != c.want {
			t.Errorf("request %d due at +%v, want +%v", c.i, got, c.want)
		}
	}
	for _, c := range []struct {
		rate float64
		d    time.Duration
		want int64
	}{{2000, 30 * time.Second, 60000}, {500, 20 * time.Second, 10000}, {3, time.Second, 3}, {3, 1001 * time.Millisecond, 4},
		{7, 0, 0}, {0.5, 3 * time.Second, 2}} {
		if got := newSchedule(start, c.rate).count(c.d); got != c.want {
			t.Errorf("%v req/s for %v: %d requests, want %d", c.rate, c.d, got, c.want)
		}
	}
}

// The open loop must not wait for the server: with the only worker stuck,
// every request still falls due on the schedule, and its latency counts
// from that due time — the time spent queued included.
func TestOpenLoopCountsQueueingFromTheDueTime(t *testing.T) {
	const n, rate = 20, 200.0 // one request every 5 ms
	s := newSchedule(time.Now().Add(10*time.Millisecond), rate)
	release := make(chan struct{})
	var mu sync.Mutex
	var jobs []job
	var doneAt []time.Time
	go func() {
		// Let the worker go only after the last request has fallen due.
		time.Sleep(time.Until(s.at(n - 1).Add(20 * time.Millisecond)))
		close(release)
	}()
	runOpenLoop(context.Background(), s, n, 1, func(int64) opKind { return opNearby }, func(j job) {
		<-release
		mu.Lock()
		jobs = append(jobs, j)
		doneAt = append(doneAt, time.Now())
		mu.Unlock()
	})
	if len(jobs) != n {
		t.Fatalf("%d jobs ran, want %d", len(jobs), n)
	}
	for k, j := range jobs {
		if j.seq != int64(k) || !j.due.Equal(s.at(j.seq)) {
			t.Fatalf("job %d: seq %d due %v, want due %v (the schedule, not the dispatch)", k, j.seq, j.due, s.at(int64(k)))
		}
		// Job 0 was due first and waited for the whole schedule.
		if lat := doneAt[k].Sub(j.due); lat < s.at(n-1).Sub(j.due) {
			t.Errorf("job %d: latency %v counts less than its time in the queue", k, lat)
		}
	}
	if lat := doneAt[0].Sub(jobs[0].due); lat < time.Duration(n-1)*5*time.Millisecond {
		t.Errorf("the first job's latency %v misses its %v in the queue", lat, time.Duration(n-1)*5*time.Millisecond)
	}
}

func TestOpenLoopStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newSchedule(time.Now(), 100)
	var ran int64
	var mu sync.Mutex
	runOpenLoop(ctx, s, 1000000, 4, func(int64) opKind { return opNearby }, func(job) {
		mu.Lock()
		ran++
		if ran == 5 {
			cancel()
		}
		mu.Unlock()
	})
	if ran >= 1000000 {
		t.Fatal("cancelling did not stop the dispatcher")
	}
}
