package main

// End-to-end tests: they build the real binary and run it as a user would.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "infrashare-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "infrashare")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := dbtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// command prepares the binary with only the given INFRASHARE_* settings.
func command(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := command(t, env, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is a running `infrashare serve`.
type server struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan error
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String() + s.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	s := &server{addr: freeAddr(t), done: make(chan error, 1)}
	env["INFRASHARE_ADDR"] = s.addr
	s.cmd = command(t, env, "serve")
	s.cmd.Stdout = lockedWriter{&s.mu, &s.stdout}
	s.cmd.Stderr = lockedWriter{&s.mu, &s.stderr}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server output:\n%s", s.output())
		}
	})
	return s
}

// waitReady polls /readyz until it answers 200.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			t.Fatalf("server exited before it was ready: %v\n%s", err, s.output())
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server not ready in 30 s\n%s", s.output())
}

func (s *server) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30 s of SIGTERM")
	}
	return -1
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range []string{"serve", "migrate", "seed", "gen", "version"} {
		out, _, code := runCmd(t, nil, c, "--help")
		if code != 0 || !strings.Contains(out, "infrashare") {
			t.Errorf("%s --help: exit %d, %q", c, code, out)
		}
	}
	_, errOut, code := runCmd(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
}

func TestBadConfigurationStopsWithOneLineNamingTheVariable(t *testing.T) {
	cases := map[string]string{
		"INFRASHARE_DATABASE_URL":    "mysql://root@localhost/x",
		"INFRASHARE_ADDR":            "eighty",
		"INFRASHARE_DEMO":            "perhaps",
		"INFRASHARE_LOG_LEVEL":       "chatty",
		"INFRASHARE_BASE_URL":        "ftp://example.org",
		"INFRASHARE_TRUSTED_PROXIES": "10.0.0.0/8,not-a-network",
		"INFRASHARE_DEMO_PASSWORD":   "short",
		"INFRASHARE_SWEEP_INTERVAL":  "0s",
		"INFRASHARE_PPROF_ADDR":      "0.0.0.0:6060",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := runCmd(t, map[string]string{name: value}, "serve")
			if code == 0 {
				t.Fatal("started with a bad value")
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], name) {
				t.Fatalf("want one line naming %s, got %q", name, errOut)
			}
		})
	}
}

func TestServeOnSQLiteWithDemo(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "sub", "dir", "infrashare.db")
	env := map[string]string{"INFRASHARE_DATABASE_URL": dbURL, "INFRASHARE_DEMO": "true", "INFRASHARE_DEMO_PASSWORD": "demo-password-1"}
	s := startServer(t, env)
	s.waitReady(t)
	out := s.output()
	for _, want := range []string{"admin@demo.infrashare.vn", "ops@viettel.demo.infrashare.vn", "demo-password-1", "/login"} {
		if !strings.Contains(out, want) {
			t.Errorf("start output lacks %q:\n%s", want, out)
		}
	}
	// A second process on the same SQLite file is refused.
	env2 := map[string]string{"INFRASHARE_DATABASE_URL": dbURL, "INFRASHARE_ADDR": freeAddr(t)}
	_, errOut, code := runCmd(t, env2, "serve")
	if code == 0 || !strings.Contains(errOut, "another process") {
		t.Fatalf("second process: exit %d, %q", code, errOut)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d, want 0", code)
	}
	// Started again: seeding adds nothing. Profiles, when asked for, are
	// on their own listener and never on the public one.
	env["INFRASHARE_PPROF_ADDR"] = freeAddr(t)
	s = startServer(t, env)
	s.waitReady(t)
	if !strings.Contains(s.output(), "already present") {
		t.Errorf("second start seeded again:\n%s", s.output())
	}
	for url, want := range map[string]int{"http://" + env["INFRASHARE_PPROF_ADDR"] + "/debug/pprof/heap": 200,
		"http://" + env["INFRASHARE_ADDR"] + "/debug/pprof/heap": 404} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
		}
	}
	s.stop(t)
	db, err := database.Open(context.Background(), dbURL, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orgs, users int64
	db.Root().Table("organizations").Count(&orgs)
	db.Root().Table("users").Count(&users)
	if orgs != 9 || users != 7 {
		t.Fatalf("%d organisations and %d users after two starts, want 9 and 7", orgs, users)
	}
}

func TestMigrateTwiceAndSeedTwice(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			env := map[string]string{"INFRASHARE_DATABASE_URL": dbtest.EmptyURL(t, d), "INFRASHARE_DEMO_PASSWORD": "demo-password-1"}
			out, errOut, code := runCmd(t, env, "migrate")
			if code != 0 || !strings.Contains(out, "applied") {
				t.Fatalf("first migrate: %d %q %q", code, out, errOut)
			}
			out, _, code = runCmd(t, env, "migrate")
			if code != 0 || !strings.Contains(out, "nothing to apply") {
				t.Fatalf("second migrate: %d %q", code, out)
			}
			out, errOut, code = runCmd(t, env, "seed", "--demo")
			if code != 0 || !strings.Contains(out, "demo data seeded") {
				t.Fatalf("seed: %d %q %q", code, out, errOut)
			}
			out, _, code = runCmd(t, env, "seed", "--demo")
			if code != 0 || !strings.Contains(out, "already present") {
				t.Fatalf("second seed: %d %q", code, out)
			}
			_, errOut, code = runCmd(t, env, "seed")
			if code != 2 || !strings.Contains(errOut, "--demo") {
				t.Fatalf("seed without --demo: %d %q", code, errOut)
			}
		})
	}
}

func TestServeRefusesUnknownMigrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if err := db.Root().Exec("INSERT INTO " + migrations.TableName + " (id) VALUES ('9999_newer_release')").Error; err != nil {
			t.Fatal(err)
		}
		url := db.URL()
		db.Close() // release the SQLite lock for the binary
		env := map[string]string{"INFRASHARE_DATABASE_URL": url, "INFRASHARE_ADDR": freeAddr(t)}
		_, errOut, code := runCmd(t, env, "serve")
		if code == 0 || !strings.Contains(errOut, "9999_newer_release") {
			t.Fatalf("serve on a newer schema: exit %d, %q", code, errOut)
		}
		env["INFRASHARE_ALLOW_UNKNOWN_MIGRATIONS"] = "true"
		s := startServer(t, env)
		s.waitReady(t)
		s.stop(t)
	})
}

func TestTwoReplicasStartTogetherOnPostgres(t *testing.T) {
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		dbtest.Dialects(t)
		t.Skip("needs PostgreSQL: set " + dbtest.EnvPostgresURL)
	}
	url := dbtest.EmptyURL(t, database.Postgres)
	env := func() map[string]string {
		return map[string]string{"INFRASHARE_DATABASE_URL": url, "INFRASHARE_DEMO": "true", "INFRASHARE_DEMO_PASSWORD": "demo-password-1"}
	}
	a, b := startServer(t, env()), startServer(t, env())
	a.waitReady(t)
	b.waitReady(t)
	applied := strings.Count(a.output(), `"migrations applied"`) + strings.Count(b.output(), `"migrations applied"`)
	seeded := strings.Count(a.output(), "demo data seeded") + strings.Count(b.output(), "demo data seeded")
	if applied != 1 || seeded != 1 {
		t.Fatalf("migrations applied by %d replicas and demo seeded by %d, want 1 and 1", applied, seeded)
	}
	db, err := database.Open(context.Background(), url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.Root().Table(migrations.TableName).Count(&n)
	if int(n) != len(migrations.IDs()) {
		t.Fatalf("%d migration rows, want %d", n, len(migrations.IDs()))
	}
	db.Root().Table("organizations").Count(&n)
	if n != 9 {
		t.Fatalf("%d organisations, want 9", n)
	}
	if a.stop(t) != 0 || b.stop(t) != 0 {
		t.Fatal("a replica did not exit 0 on SIGTERM")
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCmd(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "infrashare ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestUserCreateThenSignIn(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "prod.db")
	env := map[string]string{"INFRASHARE_DATABASE_URL": dbURL}
	cmd := command(t, env, "user", "create", "--admin", "--email", "Root@CanTho.gov.vn", "--name", "Quản trị", "--password-stdin")
	cmd.Stdin = strings.NewReader("a-strong-admin-password\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "root@cantho.gov.vn") || !strings.Contains(string(out), "ADMIN") {
		t.Fatalf("user create --admin: %v\n%s", err, out)
	}
	// A second user with a generated password, printed once.
	o, e, code := runCmd(t, env, "user", "create", "--email", "ops@vnpt.vn", "--org", "ADMIN", "--role", "operator")
	if code == 0 || !strings.Contains(e, "roles") {
		t.Fatalf("operator role in the admin organisation: %d %q %q", code, o, e)
	}
	o, _, code = runCmd(t, env, "user", "create", "--email", "second@cantho.gov.vn", "--org", "ADMIN", "--role", "admin")
	if code != 0 || !strings.Contains(o, "password: ") {
		t.Fatalf("user create with a generated password: %d %q", code, o)
	}
	_, e, code = runCmd(t, env, "user", "create", "--email", "x@y.vn")
	if code != 2 || !strings.Contains(e, "--org") {
		t.Fatalf("missing flags: %d %q", code, e)
	}

	s := startServer(t, env)
	s.waitReady(t)
	resp, err := http.Post("http://"+s.addr+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"root@cantho.gov.vn","password":"a-strong-admin-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in of the new admin: %d", resp.StatusCode)
	}
	// No demo accounts in a production install.
	resp, err = http.Post("http://"+s.addr+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"admin@demo.infrashare.vn","password":"demo-password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("demo account on a production install: %d", resp.StatusCode)
	}
	s.stop(t)
}
