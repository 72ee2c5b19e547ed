package main

import (
	"context"
	"sync"
	"time"
)

// schedule is the open-loop plan: request i is due at start + i/rate,
// whatever happened to the requests before it. Latency is measured from
// the due time, so a server (or generator) that falls behind shows the
// queueing in its figures instead of silently sending fewer requests
// (coordinated omission).
type schedule struct {
	start    time.Time
	periodNs float64
}

func newSchedule(start time.Time, rate float64) schedule {
	return schedule{start: start, periodNs: float64(time.Second) / rate}
}

// at is when request i is due.
func (s schedule) at(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) * s.periodNs))
}

// count is how many requests fall due in [start, start+d).
func (s schedule) count(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	n := int64(float64(d) / s.periodNs)
	// Request n is due at n·period; it belongs to the window only when that
	// is strictly before d (float division can round either way).
	for s.at(n).Sub(s.start) < d {
		n++
	}
	for n > 0 && s.at(n-1).Sub(s.start) >= d {
		n--
	}
	return n
}

// job is one operation to send: its number, what it is, and when it was
// due (open loop) or sent (closed loop).
type job struct {
	seq int64
	op  opKind
	due time.Time
}

// runOpenLoop hands n jobs to the given number of workers, each at its due
// time. The dispatcher never waits for a worker to be free before it moves
// to the next due time: jobs queue in the channel, and their due time —
// not the time a worker took them — is what latency counts from.
func runOpenLoop(ctx context.Context, s schedule, n int64, workers int, pick func(seq int64) opKind, do func(job)) {
	queue := make(chan job, queueSize(n))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				do(j)
			}
		}()
	}
	timer := time.NewTimer(0)
	<-timer.C
dispatch:
	for i := int64(0); i < n; i++ {
		due := s.at(i)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				break dispatch
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break dispatch
		}
		queue <- job{seq: i, op: pick(i), due: due}
	}
	close(queue)
	wg.Wait()
}

// queueSize bounds the channel: big enough that the dispatcher does not
// block when the server stalls for a while, small enough not to reserve
// memory for a whole long run.
func queueSize(n int64) int {
	const most = 1 << 20
	if n > most {
		return most
	}
	return int(n)
}

// runClosedLoop keeps the given number of workers busy until the deadline:
// each sends its next request when the previous one has answered. This
// measures the most the server does at that concurrency; latency counts
// from each send.
func runClosedLoop(ctx context.Context, until time.Time, workers int, pick func(seq int64) opKind, do func(job)) {
	var mu sync.Mutex
	var seq int64
	next := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		seq++
		return seq - 1
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(until) {
				i := next()
				do(job{seq: i, op: pick(i), due: time.Now()})
			}
		}()
	}
	wg.Wait()
}
