// Command infrashare is the whole service in one binary: serve, migrate,
// seed, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Ho_Chi_Minh on machines without a zone database

	"infrashare/database"
	"infrashare/migrations"
	"infrashare/web"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

const usage = `infrashare — register of shared passive telecom infrastructure

Usage:
  infrashare <command> [flags]

Commands:
  serve     apply pending migrations, then serve HTTP
  migrate   apply pending migrations and exit
  seed      write demo data (seed --demo)
  gen       write a generated data set (gen --assets N --bts M --seed S)
  user      manage users (user create --email --org --role, or --admin)
  version   print the version

Every setting comes from an INFRASHARE_* environment variable (see README).
Run "infrashare <command> --help" for a command's flags.
`

func main() {
	// Requests allocate short-lived views and buffers; with Go's default
	// (GOGC=100) collection took about a tenth of the server's CPU under
	// load, and a heap of a few tens of MB can grow more between cycles
	// (docs/performance.md). GOGC in the environment still wins.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], environ(), os.Stdout, os.Stderr))
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// run is main without the process: it returns the exit code.
func run(args []string, env map[string]string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var fn func(context.Context, Config, []string, io.Writer, io.Writer) error
	switch cmd {
	case "serve":
		fn = cmdServe
	case "migrate":
		fn = cmdMigrate
	case "seed":
		fn = cmdSeed
	case "gen":
		fn = cmdGen
	case "user":
		fn = cmdUser
	case "version":
		fmt.Fprintf(stdout, "infrashare %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "infrashare: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if wantsHelp(rest) {
		fmt.Fprint(stdout, commandHelp[cmd])
		return 0
	}
	cfg, err := loadConfig(env)
	if err != nil {
		fmt.Fprintf(stderr, "infrashare: bad configuration: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := fn(ctx, cfg, rest, stdout, stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "infrashare %s: %v\n\n%s", cmd, err, commandHelp[cmd])
			return 2
		}
		fmt.Fprintf(stderr, "infrashare %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" || a == "help" {
			return true
		}
	}
	return false
}

var commandHelp = map[string]string{
	"gen": genHelp,
	"serve": `Usage: infrashare serve

Applies pending migrations (under a lock, so replicas starting together
migrate once), seeds the demo when INFRASHARE_DEMO=true and the database is
new, then serves HTTP on INFRASHARE_ADDR until SIGTERM or Ctrl-C; in-flight
requests finish before the process exits 0.
`,
	"migrate": `Usage: infrashare migrate

Applies pending migrations to INFRASHARE_DATABASE_URL and exits. Running it
again changes nothing. It refuses a database migrated by a newer release
unless INFRASHARE_ALLOW_UNKNOWN_MIGRATIONS=true.
`,
	"user": `Usage: infrashare user create --email EMAIL (--admin | --org CODE --role ROLE) [--name NAME] [--password-stdin]

Creates a user. --admin creates the first administrator of a production
install (and the system organisation ADMIN when missing). Otherwise --org is
an organisation code and --role one of operator, officer, auditor, admin.
The password is read from standard input with --password-stdin; otherwise a
random one is generated and printed once.
`,
	"seed": `Usage: infrashare seed --demo

Applies pending migrations, then writes the demo organisations and accounts
(DESIGN §7) once; seeding again adds nothing. The demo password is
INFRASHARE_DEMO_PASSWORD, or a generated one that is printed. Refuses a
database that has users who are not demo accounts.
`,
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.level}))
}

// openAndMigrate opens the configured database and brings its schema up to
// this release.
func openAndMigrate(ctx context.Context, cfg Config, log *slog.Logger) (*database.DB, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{})
	if err != nil {
		return nil, err
	}
	applied, err := migrations.Migrate(ctx, db, migrations.Options{AllowUnknown: cfg.AllowUnknownMigrations})
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "ids", applied)
	}
	if err := db.Analyze(ctx); err != nil {
		log.Warn("refresh planner statistics", "error", err.Error())
	}
	return db, nil
}

func cmdMigrate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", args[0])}
	}
	log := newLogger(cfg, stderr)
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := migrations.Migrate(ctx, db, migrations.Options{AllowUnknown: cfg.AllowUnknownMigrations})
	if err != nil {
		return err
	}
	log.Debug("migrate done", "applied", applied)
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date; nothing to apply")
	} else {
		fmt.Fprintf(stdout, "applied %d migration(s): %s\n", len(applied), strings.Join(applied, ", "))
	}
	return nil
}

func cmdSeed(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	demo := fs.Bool("demo", false, "write the demo data")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if !*demo {
		return usageError{errors.New("say --demo: demo data is the only seed")}
	}
	log := newLogger(cfg, stderr)
	db, err := openAndMigrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return seedDemo(ctx, cfg, db, stdout)
}

// seedDemo seeds once, makes sure the demo accounts have the password to be
// printed, and prints the sign-ins.
func seedDemo(ctx context.Context, cfg Config, db *database.DB, stdout io.Writer) error {
	password, generated := cfg.DemoPassword, false
	if password == "" {
		password, generated = randomDemoPassword(), true
	}
	seeded, err := migrations.SeedDemo(ctx, db, password)
	if err != nil {
		return err
	}
	if !seeded {
		// Already seeded: give the accounts the password printed now, so the
		// printed sign-ins always work.
		if err := migrations.SetDemoPassword(ctx, db, password); err != nil {
			return err
		}
	}
	printDemo(stdout, cfg, password, generated, seeded)
	return nil
}

func printDemo(w io.Writer, cfg Config, password string, generated, seeded bool) {
	what := "demo data already present"
	if seeded {
		what = "demo data seeded"
	}
	fmt.Fprintf(w, "\ninfrashare demo (%s). Sign in at %s/login with one of:\n\n", what, cfg.publicURL())
	for _, a := range migrations.DemoAccounts() {
		fmt.Fprintf(w, "  %-40s %-9s %s\n", a.Email, a.OrgCode, a.Role)
	}
	note := ""
	if generated {
		note = "   (generated; set INFRASHARE_DEMO_PASSWORD to choose one)"
	}
	fmt.Fprintf(w, "\n  password: %s%s\n\n", password, note)
}

func randomDemoPassword() string {
	// Readable: no look-alike characters.
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 14)
	r := make([]byte, len(b))
	if _, err := cryptoRead(r); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(r[i])%len(alphabet)]
	}
	return string(b)
}

func cmdServe(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", args[0])}
	}
	log := newLogger(cfg, stderr)
	start := time.Now()
	db, err := openAndMigrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.Demo {
		if err := seedDemo(ctx, cfg, db, stdout); err != nil {
			if errors.Is(err, migrations.ErrNotDemoDatabase) {
				return fmt.Errorf("INFRASHARE_DEMO=true, but %w", err)
			}
			return err
		}
	}
	srv, err := web.New(ctx, web.Config{
		Addr: cfg.Addr, BaseURL: cfg.BaseURL, TrustedProxies: cfg.proxies,
		Version: version, ShutdownTimeout: cfg.ShutdownTimeout, SweepInterval: cfg.SweepInterval,
	}, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (INFRASHARE_ADDR): %w", cfg.Addr, err)
	}
	if cfg.PprofAddr != "" {
		if err := servePprof(ctx, cfg.PprofAddr, log); err != nil {
			return err
		}
	}
	log.Info("serving", "addr", ln.Addr().String(), "database", db.Dialect(), "version", version,
		"ready_after_ms", time.Since(start).Milliseconds())
	fmt.Fprintf(stdout, "infrashare %s serving on %s (%s); ready at %s/readyz\n", version, ln.Addr(), db.Dialect(), cfg.publicURL())
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
