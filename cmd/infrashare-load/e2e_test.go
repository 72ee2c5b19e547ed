package main

// End-to-end: the generator against the real `infrashare serve` on a fresh
// SQLite demo database, and against the bare Echo handler.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"infrashare/web"
)

const demoPassword = "load-test-password"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// infrashareBinary builds cmd/infrashare once per test run.
func infrashareBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "infrashare-load-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "infrashare")
		if out, err := exec.Command("go", "build", "-o", binPath, "infrashare/cmd/infrashare").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build the binary: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDemoServer runs `infrashare serve` on a fresh SQLite demo database
// and waits for /readyz. It returns the base URL.
func startDemoServer(t *testing.T) string {
	t.Helper()
	bin := infrashareBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"INFRASHARE_DATABASE_URL=sqlite://" + filepath.Join(dir, "infrashare.db"),
		"INFRASHARE_ADDR=" + addr, "INFRASHARE_DEMO=true", "INFRASHARE_DEMO_PASSWORD=" + demoPassword,
		"INFRASHARE_LOG_LEVEL=warn"}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the server exited before it was ready: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the server was not ready in 60 s\n%s", out.String())
	return ""
}

// api is a plain client for checking the server's state, apart from the
// generator's own code.
type api struct {
	t     *testing.T
	base  string
	token string
	orgID int64
}

func signIn(t *testing.T, base, email string) *api {
	t.Helper()
	var ans struct {
		Token string `json:"token"`
		User  struct {
			Organization struct {
				ID int64 `json:"id"`
			} `json:"organization"`
		} `json:"user"`
	}
	body, _ := json.Marshal(map[string]string{"email": email, "password": demoPassword})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign in as %s: %s", email, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	return &api{t: t, base: base, token: ans.Token, orgID: ans.User.Organization.ID}
}

func (a *api) get(path string, out any) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		a.t.Fatal(err)
	}
}

// versionSum adds up the versions of the organisation's assets: each
// accepted PATCH raises exactly one of them by one.
func (a *api) versionSum() int {
	var page struct {
		Items []struct {
			Version int `json:"version"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	a.get("/api/v1/assets?limit=500&owner="+strconv.FormatInt(a.orgID, 10), &page)
	if page.NextCursor != "" {
		a.t.Fatal("more than 500 assets: the check would miss some")
	}
	sum := 0
	for _, it := range page.Items {
		sum += it.Version
	}
	return sum
}

// requestsIn counts the co-location requests in a state (the auditor sees
// them all).
func (a *api) requestsIn(state string) int {
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	a.get("/api/v1/colocation-requests?limit=500&state="+url.QueryEscape(state), &page)
	if page.NextCursor != "" {
		a.t.Fatal("more than 500 requests: the check would miss some")
	}
	return len(page.Items)
}

func TestLoadAgainstTheRealServer(t *testing.T) {
	base := startDemoServer(t)
	operators := []string{"ops@vnpt.demo.infrashare.vn", "ops@viettel.demo.infrashare.vn", "ops@mobifone.demo.infrashare.vn"}
	var ops []*api
	versionsBefore := 0
	for _, e := range operators {
		a := signIn(t, base, e)
		ops = append(ops, a)
		versionsBefore += a.versionSum()
	}
	auditor := signIn(t, base, "auditor@demo.infrashare.vn")
	submittedBefore, withdrawnBefore := auditor.requestsIn("submitted"), auditor.requestsIn("withdrawn")

	// Half writes, so that a short run at a low rate makes every kind of
	// write; a fixed seed picks the same operations every time.
	var stdout, stderr bytes.Buffer
	env := func(k string) string {
		if k == "INFRASHARE_DEMO_PASSWORD" {
			return demoPassword
		}
		return ""
	}
	code := run(context.Background(), []string{"-url", base, "-duration", "3s", "-rate", "60", "-reads", "0.5", "-seed", "7", "-json"},
		env, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the -json output does not parse: %v\n%s", err, stdout.String())
	}
	t.Logf("report:\n%s", stdout.String())

	if rep.Overall.Errors != 0 {
		t.Errorf("%d errors: %v", rep.Overall.Errors, rep.Overall.ErrorsBy)
	}
	if rep.Overall.Requests < 180 {
		t.Errorf("%d requests measured, want the 180 scheduled (and re-reads)", rep.Overall.Requests)
	}
	for _, ep := range []string{"nearby", "list", "get", "geojson", "report", "patch", "comment", "file", "withdraw"} {
		if rep.Endpoints[ep].Requests == 0 {
			t.Errorf("endpoint class %s was not exercised", ep)
		}
	}
	if l := rep.Overall.Latency; !(l.P50 > 0 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("latency percentiles out of order: %+v", l)
	}

	// The writes really changed the register.
	versionsAfter := 0
	for _, a := range ops {
		versionsAfter += a.versionSum()
	}
	patched := rep.Endpoints["patch"].Requests - rep.Endpoints["patch"].Conflicts
	if versionsAfter-versionsBefore != patched {
		t.Errorf("asset versions rose by %d, want %d (one per accepted PATCH)", versionsAfter-versionsBefore, patched)
	}
	if patched == 0 {
		t.Error("no PATCH was accepted")
	}
	filed := int(rep.Setup["requests_filed"].(float64))
	if filed == 0 || int(rep.Setup["requests_withdrawn"].(float64)) != filed {
		t.Errorf("filed %v, withdrew %v: the run must withdraw all it files", rep.Setup["requests_filed"], rep.Setup["requests_withdrawn"])
	}
	if got := auditor.requestsIn("withdrawn") - withdrawnBefore; got != filed {
		t.Errorf("%d more withdrawn requests, want the %d filed", got, filed)
	}
	if got := auditor.requestsIn("submitted"); got != submittedBefore {
		t.Errorf("%d submitted requests after the run, %d before: the run left some open", got, submittedBefore)
	}
}

func TestLoadAgainstTheBareEchoHandler(t *testing.T) {
	srv := httptest.NewServer(web.Bare())
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-bare", "-url", srv.URL, "-duration", "1s", "-rate", "100", "-seed", "3", "-json"},
		func(string) string { return "" }, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Overall.Errors != 0 || rep.Endpoints["nearby"].Requests != 100 || len(rep.Endpoints) != 1 {
		t.Errorf("report = %+v, want 100 nearby requests and no errors", rep)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	// Each is refused before any request is sent (the URL leads nowhere).
	for _, args := range [][]string{
		{"-rate", "0"},                        // closed loop without clients
		{"-rate", "100", "-concurrency", "4"}, // both loops at once
		{"-duration", "0s"},                   // nothing to run
		{"-reads", "1.5"},                     // not a share
		{"-url", "localhost:8080"},            // no scheme
		{"-area", "105,10,104,11"},            // min above max
		{"-only", "drop-tables"},              // unknown operation
		{"-rate", "10", "surplus"},            // stray argument
	} {
		var stdout, stderr bytes.Buffer
		all := append([]string{"-url", "http://127.0.0.1:1"}, args...)
		if code := run(context.Background(), all, func(string) string { return "some-password" }, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr.String())
		}
	}
	// Without a password the generator cannot sign in: it says so.
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-url", "http://127.0.0.1:1"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "INFRASHARE_DEMO_PASSWORD") {
		t.Errorf("no password: exit %d, %s", code, stderr.String())
	}
}

// A PATCH with a stale version is an expected conflict, not an error: the
// generator re-reads the asset and its next edit goes through.
func TestStaleVersionIsAnExpectedConflictThenReread(t *testing.T) {
	base := startDemoServer(t)
	ctx := context.Background()
	g := &generator{c: newClient(base, 4, 10*time.Second), rec: newRecorder(), seed: 1}
	acc, err := g.c.signIn(ctx, "ops@viettel.demo.infrashare.vn", demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.readOwn(ctx, acc); err != nil {
		t.Fatal(err)
	}
	if len(acc.own) == 0 {
		t.Fatal("the demo gives Viettel no assets")
	}
	acc.own = acc.own[:1]
	current := acc.own[0].version
	acc.own[0].version = current - 1 // as if another client had edited it since

	rng := g.rngFor(0)
	g.patch(ctx, &step{g: g, start: time.Now()}, acc, rng)
	if acc.own[0].version != current {
		t.Fatalf("after the conflict the pool holds version %d, want the re-read %d", acc.own[0].version, current)
	}
	g.patch(ctx, &step{g: g, start: time.Now()}, acc, rng)
	if acc.own[0].version != current+1 {
		t.Fatalf("after the retry the pool holds version %d, want %d", acc.own[0].version, current+1)
	}
	rep := g.rec.report(time.Now(), "test", time.Second)
	if p := rep.Endpoints["patch"]; p.Requests != 2 || p.Conflicts != 1 || p.Errors != 0 {
		t.Errorf("patch = %+v, want 2 requests with 1 expected conflict and no error", p)
	}
	if got := rep.Endpoints["get"]; got.Requests != 1 || got.Errors != 0 {
		t.Errorf("re-read = %+v, want one GET", got)
	}
	viettel := signIn(t, base, "ops@viettel.demo.infrashare.vn")
	var a struct {
		Version int `json:"version"`
	}
	viettel.get("/api/v1/assets/"+strconv.FormatInt(acc.own[0].id, 10), &a)
	if a.Version != current+1 {
		t.Errorf("the asset is at version %d on the server, want %d", a.Version, current+1)
	}
}
