package main

// A rolling upgrade on PostgreSQL: the previous release, built from git
// history, keeps serving reads and writes while this release migrates the
// same database, and both serve side by side afterwards. This is what the
// expand-then-contract rule of migrations/ promises (docs/operations.md).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

// upgradeFromBefore names the migration whose arrival starts the release
// the upgrade is tested to: the previous release is the commit just before
// the one that added this file. Move it forward to the first migration of
// the next release once a release has shipped.
const upgradeFromBefore = "migrations/m0006_scale.go"

var (
	previousOnce   sync.Once
	previousBinary string
	previousCommit string
	previousSkip   string // why the previous release could not be built
)

// buildPrevious builds the previous release's binary once per test run, from
// `git archive` of its commit into a temporary folder. The flags match
// TestMain's build (no -trimpath), so the dependencies come from the build
// cache and only the project's own packages compile again.
func buildPrevious(t *testing.T) (binaryPath, commit string) {
	t.Helper()
	previousOnce.Do(func() {
		git := func(args ...string) (string, error) {
			out, err := exec.Command("git", args...).CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}
		if _, err := exec.LookPath("git"); err != nil {
			previousSkip = "git is not installed"
			return
		}
		top, err := git("rev-parse", "--show-toplevel")
		if err != nil {
			previousSkip = "not in a git clone (" + top + ")"
			return
		}
		added, err := git("-C", top, "log", "--diff-filter=A", "--format=%H", "--", upgradeFromBefore)
		lines := strings.Fields(added)
		if err != nil || len(lines) == 0 {
			previousSkip = "git history does not show when " + upgradeFromBefore + " was added (a shallow clone?)"
			return
		}
		// The oldest commit that added the file (a merge lists it again).
		parent, err := git("-C", top, "rev-parse", "--verify", lines[len(lines)-1]+"^")
		if err != nil {
			previousSkip = "the commit before " + upgradeFromBefore + " is not in this clone (a shallow clone?): " + parent
			return
		}
		dir, err := os.MkdirTemp("", "infrashare-previous-")
		if err != nil {
			previousSkip = err.Error()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		tarball := filepath.Join(dir, "src.tar")
		steps := [][]string{
			{"git", "-C", top, "archive", "--format=tar", "--output=" + tarball, parent},
			{"tar", "-xf", tarball, "-C", dir},
			{"go", "build", "-ldflags", "-X main.version=previous-" + parent[:10], "-o", filepath.Join(dir, "infrashare-previous"), "./cmd/infrashare"},
		}
		for _, s := range steps {
			cmd := exec.CommandContext(ctx, s[0], s[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				// History is there but the old release does not build: that
				// is a failure, not a skip.
				previousSkip = ""
				previousBinary = ""
				previousCommit = fmt.Sprintf("FAILED: %v: %v\n%s", s, err, out)
				return
			}
		}
		previousBinary, previousCommit = filepath.Join(dir, "infrashare-previous"), parent
	})
	if previousSkip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the previous release cannot be built: %s", previousSkip)
		}
		t.Skipf("the rolling-upgrade test needs git history: %s", previousSkip)
	}
	if previousBinary == "" {
		t.Fatalf("build the previous release: %s", previousCommit)
	}
	return previousBinary, previousCommit
}

// startBinary is startServer for another build of the binary.
func startBinary(t *testing.T, bin string, env map[string]string) *server {
	t.Helper()
	s := &server{addr: freeAddr(t), done: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	s.cmd = exec.CommandContext(ctx, bin, "serve")
	s.cmd.Dir = t.TempDir()
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "INFRASHARE_ADDR=" + s.addr}
	for k, v := range env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Stdout = lockedWriter{&s.mu, &s.stdout}
	s.cmd.Stderr = lockedWriter{&s.mu, &s.stderr}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), s.output())
		}
	})
	return s
}

// Phases of the upgrade, as seen by the traffic on the old release.
const (
	phaseBefore int32 = iota
	phaseMigrating
	phaseAfter
)

// trafficLog counts what the old release answered.
type trafficLog struct {
	mu       sync.Mutex
	total    int
	overlap  int // requests in flight at some moment while the migration ran
	after    int // requests that started after the migration had finished
	byStatus map[int]int
	failures []string // 5xx, transport errors and unexpected statuses
}

func (l *trafficLog) record(startPhase, endPhase int32, what string, status, want int, err error, body []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	l.byStatus[status]++
	if endPhase >= phaseMigrating && startPhase <= phaseMigrating {
		l.overlap++
	}
	if startPhase == phaseAfter {
		l.after++
	}
	if err != nil || status != want {
		if len(l.failures) < 20 {
			l.failures = append(l.failures, fmt.Sprintf("%s: status %d (want %d), error %v: %.300s", what, status, want, err, body))
		}
	}
}

func TestRollingUpgradeOnPostgres(t *testing.T) {
	needPostgresAndTools(t, "psql")
	oldBin, oldCommit := buildPrevious(t)
	url := dbtest.EmptyURL(t, database.Postgres)
	ctx := dbtest.Context(t)

	// The previous release creates and serves the database, with the demo.
	old := startBinary(t, oldBin, map[string]string{"INFRASHARE_DATABASE_URL": url, "INFRASHARE_DEMO": "true", "INFRASHARE_DEMO_PASSWORD": demoPassword})
	old.waitReady(t)
	db, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := migrations.ReadStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) == 0 || len(st.Unknown) != 0 {
		t.Fatalf("the previous release (%s) left %+v: want migrations pending for this release", oldCommit, st)
	}
	oldAPI := newAPIClient(t, old.addr)
	vnpt, auditor := oldAPI.login("ops@vnpt.demo.infrashare.vn"), oldAPI.login("auditor@demo.infrashare.vn")

	// Traffic on the old release in a loop until told to stop: reads and
	// writes (an asset created, edited, a BTS logged on it), bounded in
	// count so that it ends by itself.
	var phase atomic.Int32
	var iterations atomic.Int64
	traffic := &trafficLog{byStatus: map[int]int{}}
	stop := make(chan struct{})
	done := make(chan struct{})
	call := func(what, method, path, token string, body any, want int) []byte {
		start := phase.Load()
		status, b, err := oldAPI.send(method, path, token, body)
		traffic.record(start, phase.Load(), what, status, want, err, b)
		if status != want {
			return nil
		}
		return b
	}
	go func() {
		defer close(done)
		for i := 0; i < 5000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var created struct {
				ID      int64 `json:"id"`
				Version int64 `json:"version"`
			}
			b := call("create asset", "POST", "/api/v1/assets", vnpt, map[string]any{
				"code": fmt.Sprintf("UPG-%04d", i), "kind": "tower", "lat": 10.03 + float64(i%50)*0.0004, "lon": 105.77,
				"unit_code": "916", "in_service_on": "2015-01-01", "height_m": 30, "capacity": map[string]any{"total": 3}}, 201)
			if b != nil && jsonInto(b, &created) == nil {
				path := fmt.Sprintf("/api/v1/assets/%d", created.ID)
				call("edit asset", "PATCH", path, vnpt, map[string]any{"address": fmt.Sprintf("%d Mậu Thân", i), "version": created.Version}, 200)
				call("log BTS", "POST", "/api/v1/bts", vnpt, map[string]any{"station_code": fmt.Sprintf("UPG-BTS-%04d", i),
					"technologies": []string{"4G"}, "on_air_on": "2026-01-15", "mounted_on_asset_id": created.ID}, 201)
				call("read asset", "GET", path, vnpt, nil, 200)
			}
			call("nearby", "GET", "/api/v1/assets/nearby?lat=10.034&lon=105.78&radius_m=500&kind=tower", vnpt, nil, 200)
			call("list assets", "GET", "/api/v1/assets?limit=50&kind=tower", auditor, nil, 200)
			call("sharing ratio", "GET", "/api/v1/reports/sharing-ratio?from=2023-01-01&to=2026-12-31&group_by=year", auditor, nil, 200)
			call("requests", "GET", "/api/v1/colocation-requests?limit=50", auditor, nil, 200)
			call("readyz", "GET", "/readyz", "", nil, 200)
			iterations.Add(1)
		}
	}()
	// Progress, not time: wait for a number of rounds (the deadline only
	// guards against a hang).
	waitRounds := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for iterations.Load() < n {
			select {
			case <-done:
				t.Fatalf("the traffic loop ended after %d rounds", iterations.Load())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the old release served only %d rounds in 2 minutes", iterations.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitRounds(5)

	// This release migrates the database under the old one's traffic.
	phase.Store(phaseMigrating)
	out, errOut, code := runCmd(t, map[string]string{"INFRASHARE_DATABASE_URL": url}, "migrate")
	phase.Store(phaseAfter)
	if code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("migrate with the new release: exit %d\n%s%s", code, out, errOut)
	}
	roundsAtMigration := iterations.Load()
	waitRounds(roundsAtMigration + 5)

	// The new release serves beside the old one.
	newer := startServer(t, map[string]string{"INFRASHARE_DATABASE_URL": url})
	newer.waitReady(t)
	waitRounds(iterations.Load() + 3)
	close(stop)
	<-done

	traffic.mu.Lock()
	if len(traffic.failures) > 0 {
		t.Errorf("the old release answered %d requests, %d of them not as expected:\n%s",
			traffic.total, len(traffic.failures), strings.Join(traffic.failures, "\n"))
	}
	for status, n := range traffic.byStatus {
		if status >= 500 || status == 0 {
			t.Errorf("the old release answered %d requests with status %d", n, status)
		}
	}
	if traffic.after == 0 {
		t.Errorf("no request reached the old release after the migration")
	}
	total, overlap, after := traffic.total, traffic.overlap, traffic.after
	traffic.mu.Unlock()
	if strings.Contains(old.output(), `"status":5`) {
		t.Errorf("the old release logged a 5xx")
	}

	// Both releases see the same register and one audit chain.
	newAPI := newAPIClient(t, newer.addr)
	newAuditor := newAPI.login("auditor@demo.infrashare.vn")
	newVNPT := newAPI.login("ops@vnpt.demo.infrashare.vn")
	if a, b := oldAPI.countAll("/api/v1/assets", auditor), newAPI.countAll("/api/v1/assets", newAuditor); a != b {
		t.Errorf("assets: the old release lists %d, the new one %d", a, b)
	}
	var fromNew struct {
		ID int64 `json:"id"`
	}
	newAPI.must("POST", "/api/v1/assets", newVNPT, map[string]any{"code": "UPG-NEW-1", "kind": "pole", "lat": 10.04, "lon": 105.76,
		"unit_code": "916", "capacity": map[string]any{"total": 2}}, 201, &fromNew)
	oldAPI.must("GET", fmt.Sprintf("/api/v1/assets/%d", fromNew.ID), vnpt, nil, 200, nil)
	for name, c := range map[string]struct {
		api   apiClient
		token string
	}{"old": {oldAPI, auditor}, "new": {newAPI, newAuditor}} {
		var v auditVerify
		c.api.must("GET", "/api/v1/audit-events/verify", c.token, nil, 200, &v)
		if !v.OK {
			t.Errorf("audit chain as verified by the %s release: %+v", name, v)
		}
	}

	// The old release logged BTS records without the monthly counts the new
	// one reports from; the new release notices the difference of the
	// totals and recounts, so its report counts every record without a
	// manual step (docs/operations.md).
	if code := old.stop(t); code != 0 {
		t.Errorf("the old release exited %d on SIGTERM", code)
	}
	var ratio struct {
		Totals struct {
			Total int `json:"total"`
		} `json:"totals"`
	}
	newAPI.must("GET", "/api/v1/reports/sharing-ratio?from=2000-01-01&to=2026-12-31&group_by=year", newAuditor, nil, 200, &ratio)
	if bts := newAPI.countAll("/api/v1/bts", newAuditor); ratio.Totals.Total != bts {
		t.Errorf("the report counts %d BTS records, the log holds %d", ratio.Totals.Total, bts)
	}

	// An old replica that restarts now is refused, unless told to run on a
	// newer schema (a rollback or a straggler during the upgrade).
	env := map[string]string{"INFRASHARE_DATABASE_URL": url, "INFRASHARE_ADDR": freeAddr(t)}
	cmd := exec.Command(oldBin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "0006_scale") {
		t.Errorf("the old release restarted on the new schema: %v\n%s", err, out)
	}
	delete(env, "INFRASHARE_ADDR") // startBinary picks its own
	env["INFRASHARE_ALLOW_UNKNOWN_MIGRATIONS"] = "true"
	restarted := startBinary(t, oldBin, env)
	restarted.waitReady(t)
	restartedAPI := newAPIClient(t, restarted.addr)
	restartedAPI.must("POST", "/api/v1/assets", restartedAPI.login("ops@vnpt.demo.infrashare.vn"), map[string]any{"code": "UPG-OLD-2", "kind": "pole",
		"lat": 10.041, "lon": 105.761, "unit_code": "916", "capacity": map[string]any{"total": 2}}, 201, nil)
	if restarted.stop(t) != 0 || newer.stop(t) != 0 {
		t.Error("a release did not exit 0 on SIGTERM")
	}
	t.Logf("previous release %s: %d requests answered (%d in flight while the migration ran, %d after it), statuses %v, %d failures",
		oldCommit[:10], total, overlap, after, traffic.byStatus, len(traffic.failures))
}

func jsonInto(b []byte, out any) error { return json.Unmarshal(b, out) }
