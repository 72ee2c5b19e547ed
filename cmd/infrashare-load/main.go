// Command infrashare-load drives a running infrashare server over HTTP with
// a realistic mix of signed-in reads and writes, and prints throughput,
// errors and latency percentiles overall and per endpoint (docs/load.md).
//
// With -bare-server it is instead a bare Echo server with no database, so
// that the same generator measures the framework's ceiling on the same
// machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"infrashare/web"
)

// demoAccounts are the demo sign-ins the default run uses: the three
// operators (reads, edits of their own assets, co-location requests) and
// the department's auditor (reads and comments).
const demoAccounts = "ops@vnpt.demo.infrashare.vn,ops@viettel.demo.infrashare.vn,ops@mobifone.demo.infrashare.vn,auditor@demo.infrashare.vn"

// Exit codes: 1 the run could not start, 2 bad flags, 3 the run had errors.
const (
	exitSetup  = 1
	exitUsage  = 2
	exitErrors = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

type options struct {
	url         string
	duration    time.Duration
	rate        float64
	concurrency int
	workers     int
	reads       float64
	only        string
	accounts    string
	password    string
	area        string
	samples     int
	seed        uint64
	timeout     time.Duration
	json        bool
	bare        bool
	bareServer  string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("infrashare-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `infrashare-load — HTTP load generator for infrashare (docs/load.md)

Usage:
  infrashare-load [flags]                 drive a server
  infrashare-load -bare-server :PORT      serve a fixed JSON answer through bare Echo

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the server under test")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send requests")
	fs.Float64Var(&o.rate, "rate", 2000, "open loop: requests per second on a fixed schedule, latency counted from each request's due time; 0 for a closed loop with -concurrency")
	fs.IntVar(&o.concurrency, "concurrency", 0, "closed loop: this many clients, each sending its next request when the last one answered (needs -rate 0)")
	fs.IntVar(&o.workers, "workers", 512, "open loop: most requests in flight at once (and connections); due requests beyond it wait, and the wait counts in their latency")
	fs.Float64Var(&o.reads, "reads", 0.9, "share of reads (the rest are writes)")
	fs.StringVar(&o.only, "only", "", "send only this operation: nearby, list, get, geojson, report, patch, comment or colocation")
	fs.StringVar(&o.accounts, "accounts", demoAccounts, "comma-separated e-mails to sign in with")
	fs.StringVar(&o.password, "password", "", "their password (default: $INFRASHARE_DEMO_PASSWORD)")
	fs.StringVar(&o.area, "area", "auto", "where query points come from: auto (real asset positions anywhere in the register), cantho, vietnam, or minLon,minLat,maxLon,maxLat (asset positions inside it); uniform over the area when it holds no assets (auto: Can Tho)")
	fs.IntVar(&o.samples, "samples", 2000, "how many assets to sample at start for query points and targets")
	var seed int64
	fs.Int64Var(&seed, "seed", 0, "random seed for operations and points (0: from the clock)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout (a timeout counts as an error)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.BoolVar(&o.bare, "bare", false, "the server is `infrashare-load -bare-server`: no sign-in, nearby requests only")
	fs.StringVar(&o.bareServer, "bare-server", "", "serve the bare Echo handler on this address (e.g. :8090) instead of sending load")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o.seed = uint64(seed)
	if seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	if o.password == "" {
		o.password = getenv("INFRASHARE_DEMO_PASSWORD")
	}
	switch {
	case o.bareServer != "":
		return o, nil
	case o.duration <= 0:
		return o, errors.New("-duration must be positive")
	case o.rate < 0:
		return o, errors.New("-rate must not be negative")
	case o.rate == 0 && o.concurrency <= 0:
		return o, errors.New("give -rate N (open loop) or -rate 0 -concurrency N (closed loop)")
	case o.rate > 0 && o.concurrency > 0:
		return o, errors.New("-concurrency is for the closed loop: add -rate 0")
	case o.workers <= 0:
		return o, errors.New("-workers must be positive")
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive")
	case !o.bare && o.password == "":
		return o, errors.New("no password: set INFRASHARE_DEMO_PASSWORD or give -password")
	}
	if _, err := newMix(o.reads, o.only); err != nil {
		return o, err
	}
	if _, err := parseArea(o.area); err != nil {
		return o, err
	}
	if u, err := url.Parse(o.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("-url %q: want http://host:port", o.url)
	}
	return o, nil
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "infrashare-load: %v\n", err)
		return exitUsage
	}
	if o.bareServer != "" {
		if err := serveBare(ctx, o.bareServer, stderr); err != nil {
			fmt.Fprintf(stderr, "infrashare-load: %v\n", err)
			return exitSetup
		}
		return 0
	}
	rep, err := load(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "infrashare-load: %v\n", err)
		return exitSetup
	}
	if o.json {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "infrashare-load: %v\n", err)
		return exitSetup
	}
	if rep.Overall.Errors > 0 {
		fmt.Fprintf(stderr, "infrashare-load: %d request(s) failed\n", rep.Overall.Errors)
		return exitErrors
	}
	return 0
}

// serveBare answers every request with one fixed JSON body through Echo,
// with no database, sign-in or middleware: the framework's ceiling.
func serveBare(ctx context.Context, addr string, stderr io.Writer) error {
	srv := &http.Server{Addr: addr, Handler: web.Bare(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(stderr, "infrashare-load: bare Echo server on %s (Ctrl-C to stop)\n", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// load prepares the run (sign-in, samples, pools), sends the load and
// cleans up after itself.
func load(ctx context.Context, o options, stderr io.Writer) (Report, error) {
	m, err := newMix(o.reads, o.only)
	if err != nil {
		return Report{}, err
	}
	area, err := parseArea(o.area)
	if err != nil {
		return Report{}, err
	}
	conns := o.workers
	if o.rate == 0 {
		conns = o.concurrency
	}
	g := &generator{c: newClient(o.url, conns, o.timeout), rec: newRecorder(), bare: o.bare, seed: o.seed}
	setupRng := rand.New(rand.NewPCG(o.seed, 1<<62))
	fallback := namedAreas["cantho"]
	if area != nil {
		fallback = *area
	}
	g.points = &points{area: fallback, jitterM: 250}
	setup := map[string]any{"seed": o.seed, "url": o.url}
	if o.bare {
		m = mix{ops: []opKind{opNearby}, cum: []float64{1}}
		setup["mode"] = "bare"
	} else if err := g.prepare(ctx, o, area, m, setupRng, setup, stderr); err != nil {
		return Report{}, err
	}

	var target string
	start := time.Now().Add(50 * time.Millisecond) // the first request due a moment after the workers start
	if o.rate > 0 {
		target = "open loop at " + strconv.FormatFloat(o.rate, 'f', -1, 64) + " req/s"
		s := newSchedule(start, o.rate)
		runOpenLoop(ctx, s, s.count(o.duration), o.workers, g.pickFor(m), func(j job) { g.run(ctx, j) })
	} else {
		target = "closed loop, " + strconv.Itoa(o.concurrency) + " clients"
		time.Sleep(time.Until(start))
		runClosedLoop(ctx, start.Add(o.duration), o.concurrency, g.pickFor(m), func(j job) { g.run(ctx, j) })
	}
	rep := g.rec.report(start, target, o.duration)
	if !o.bare {
		// Not the run's context: an interrupted run still withdraws what it filed.
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := g.withdrawOpen(cctx); err != nil {
			fmt.Fprintf(stderr, "infrashare-load: %v\n", err)
		}
		setup["requests_filed"], setup["requests_withdrawn"] = g.filed, g.withdrew
	}
	rep.Setup = setup
	return rep, nil
}
