package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"
)

// outcome classifies one answered (or failed) request.
type outcome int

const (
	outcomeOK       outcome = iota
	outcomeConflict         // an expected 409: a stale version, or room taken meanwhile
	outcomeError            // a transport error or an unexpected status
)

// sample is one measured request.
type sample struct {
	endpoint string
	latency  time.Duration // from the due time (open loop) or the send (closed loop)
	status   int           // 0 when no answer came
	errKind  string        // for errors: the status code, "transport" or "timeout"
	outcome  outcome
}

// recorder collects samples from all workers.
type recorder struct {
	mu        sync.Mutex
	endpoints map[string]*endpointSamples
	first     time.Time
	last      time.Time // when the last answer came
}

type endpointSamples struct {
	latencies []time.Duration // every request that got an answer
	count     int
	conflicts int
	errors    map[string]int
}

func newRecorder() *recorder { return &recorder{endpoints: map[string]*endpointSamples{}} }

func (r *recorder) add(s sample, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.endpoints[s.endpoint]
	if e == nil {
		e = &endpointSamples{errors: map[string]int{}}
		r.endpoints[s.endpoint] = e
	}
	e.count++
	if s.status != 0 {
		e.latencies = append(e.latencies, s.latency)
	}
	switch s.outcome {
	case outcomeConflict:
		e.conflicts++
	case outcomeError:
		e.errors[s.errKind]++
	}
	if at.After(r.last) {
		r.last = at
	}
}

// percentile is the nearest-rank percentile (p in [0, 100]) of sorted
// values: the smallest value with at least p % of the values at or below
// it. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func summarizeLatency(values []time.Duration) Latency {
	sorted := append([]time.Duration(nil), values...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	var sum time.Duration
	for _, v := range sorted {
		sum += v
	}
	l := Latency{P50: ms(percentile(sorted, 50)), P95: ms(percentile(sorted, 95)), P99: ms(percentile(sorted, 99))}
	if len(sorted) > 0 {
		l.Max = ms(sorted[len(sorted)-1])
		l.Mean = ms(sum / time.Duration(len(sorted)))
	}
	return l
}

// Stats are the figures of one endpoint class, or of all of them.
type Stats struct {
	Requests   int            `json:"requests"`
	Throughput float64        `json:"requests_per_s"`
	Errors     int            `json:"errors"`
	ErrorsBy   map[string]int `json:"errors_by_status,omitempty"`
	Conflicts  int            `json:"expected_conflicts"`
	Latency    Latency        `json:"latency"`
}

// Report is the outcome of a run; -json prints it as it is.
type Report struct {
	Target    string           `json:"target"` // "open loop at 2000 req/s" or "closed loop, 8 workers"
	Duration  float64          `json:"duration_s"`
	Elapsed   float64          `json:"elapsed_s"` // from the start to the last answer
	Overall   Stats            `json:"overall"`
	Endpoints map[string]Stats `json:"endpoints"`
	Setup     map[string]any   `json:"setup,omitempty"`
}

// report summarizes what was recorded. Throughput counts answered and
// failed requests alike over the time from start to the last answer.
func (r *recorder) report(start time.Time, target string, duration time.Duration) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	elapsed := r.last.Sub(start)
	if elapsed < duration {
		elapsed = duration
	}
	secs := elapsed.Seconds()
	rep := Report{Target: target, Duration: duration.Seconds(), Elapsed: math.Round(secs*1000) / 1000, Endpoints: map[string]Stats{}}
	var all []time.Duration
	overall := Stats{ErrorsBy: map[string]int{}}
	for name, e := range r.endpoints {
		s := Stats{Requests: e.count, Conflicts: e.conflicts, Latency: summarizeLatency(e.latencies),
			Throughput: math.Round(float64(e.count)/secs*10) / 10}
		if len(e.errors) > 0 {
			s.ErrorsBy = map[string]int{}
		}
		for k, n := range e.errors {
			s.Errors += n
			s.ErrorsBy[k] = n
			overall.ErrorsBy[k] += n
		}
		rep.Endpoints[name] = s
		overall.Requests += s.Requests
		overall.Errors += s.Errors
		overall.Conflicts += s.Conflicts
		all = append(all, e.latencies...)
	}
	if len(overall.ErrorsBy) == 0 {
		overall.ErrorsBy = nil
	}
	overall.Throughput = math.Round(float64(overall.Requests)/secs*10) / 10
	overall.Latency = summarizeLatency(all)
	rep.Overall = overall
	return rep
}

// writeText prints the report as a table.
func (rep Report) writeText(w io.Writer) error {
	fmt.Fprintf(w, "%s for %.0f s (last answer after %.2f s)\n\n", rep.Target, rep.Duration, rep.Elapsed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\trequests\treq/s\terrors\tconflicts\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	names := make([]string, 0, len(rep.Endpoints))
	for n := range rep.Endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	row := func(name string, s Stats) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\n", name, s.Requests, s.Throughput, s.Errors,
			s.Conflicts, s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max)
	}
	for _, n := range names {
		row(n, rep.Endpoints[n])
	}
	row("all", rep.Overall)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Overall.ErrorsBy) > 0 {
		keys := make([]string, 0, len(rep.Overall.ErrorsBy))
		for k := range rep.Overall.ErrorsBy {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprint(w, "\nerrors by status:")
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%d", k, rep.Overall.ErrorsBy[k])
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func (rep Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// statusKey names an unexpected status in the error counts.
func statusKey(status int) string { return strconv.Itoa(status) }
