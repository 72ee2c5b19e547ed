package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"infrashare"
	"infrashare/gen"
)

const genHelp = `Usage: infrashare gen [--assets N] [--bts M] [--seed S] [--as-of YYYY-MM-DD] [--append]

Applies pending migrations, then writes a generated, realistic data set into
INFRASHARE_DATABASE_URL (sqlite:// or postgres://): N assets clustered
around Vietnamese cities (duct routes as connected segments between
manholes), their allocations, co-location requests in every state and permit
applications (through the services), and M BTS records over 2021–2026 in
Can Tho. Progress goes to standard error.

  --assets N     assets to write (default 10000; 1000000 for national scale)
  --bts M        BTS records (default N/5)
  --seed S       random seed (default 1): the same seed and as-of day give
                 the same data
  --as-of DAY    the day the data set is "now" (default today in Vietnam)
  --append       allow a database that has generated data already; the new
                 run's codes carry its run number. Without it a second run is
                 refused, so that nothing is silently duplicated.

The data set belongs to the demo operators and five generated ones
(VNMOBILE, FPT, SCTV, VNTOWER, EVN). When the demo organisations and
accounts are missing, gen creates them (as seed --demo does, without the
demo register) with INFRASHARE_DEMO_PASSWORD or a generated password that it
prints; like seed --demo it refuses a database that has real users. Run it
on a new database or one seeded with seed --demo, while no server writes to
it. See docs/gen.md.
`

func cmdGen(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	assets := fs.String("assets", "10000", "assets to write")
	bts := fs.String("bts", "", "BTS records (default assets/5)")
	seed := fs.Uint64("seed", 1, "random seed")
	asOf := fs.String("as-of", "", "the data set's today (YYYY-MM-DD)")
	appendRun := fs.Bool("append", false, "allow a database with generated data")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	count := func(name, v string) (int, error) {
		n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
		if err != nil || n < 0 {
			return 0, usageError{fmt.Errorf("--%s: want a number, got %q", name, v)}
		}
		return n, nil
	}
	opts := gen.Options{Seed: *seed, Append: *appendRun, Progress: stderr}
	var err error
	if opts.Assets, err = count("assets", *assets); err != nil {
		return err
	}
	if opts.Assets < 100 {
		return usageError{fmt.Errorf("--assets: at least 100")}
	}
	opts.BTS = opts.Assets / 5
	if *bts != "" {
		if opts.BTS, err = count("bts", *bts); err != nil {
			return err
		}
	}
	if *asOf != "" {
		if opts.AsOf, err = infrashare.ParseDate(*asOf); err != nil {
			return usageError{fmt.Errorf("--as-of: want YYYY-MM-DD, got %q", *asOf)}
		}
	}
	password, generated := cfg.DemoPassword, false
	if password == "" {
		password, generated = randomDemoPassword(), true
	}
	opts.DemoPassword = password
	log := newLogger(cfg, stderr)
	db, err := openAndMigrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := gen.Run(ctx, db, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generated run %d in %s: %d assets %v, %d allocations, %d BTS records %v; the database now holds %d co-location requests %v and %d permit applications %v\n",
		sum.Run, sum.Elapsed.Round(1e6), sum.Assets, sum.ByKind, sum.Allocations, sum.BTS, sum.ByClass,
		sum.Requests, sum.RequestStates, sum.Permits, sum.PermitStates)
	if sum.AccountsSeeded {
		printDemo(stdout, cfg, password, generated, true)
	}
	return nil
}
