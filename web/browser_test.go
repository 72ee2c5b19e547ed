package web

// Browser tests: the real binary on a fresh demo database, driven by
// Debian's chromium through chromedp.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

var (
	browserBinOnce sync.Once
	browserBin     string
	browserBinErr  error
)

// infrashareBinary builds cmd/infrashare once per test run.
func infrashareBinary(t *testing.T) string {
	t.Helper()
	browserBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "infrashare-browser-bin-")
		if err != nil {
			browserBinErr = err
			return
		}
		browserBin = filepath.Join(dir, "infrashare")
		out, err := exec.Command("go", "build", "-o", browserBin, "infrashare/cmd/infrashare").CombinedOutput()
		if err != nil {
			browserBinErr = fmt.Errorf("build the binary: %v\n%s", err, out)
		}
	})
	if browserBinErr != nil {
		t.Fatal(browserBinErr)
	}
	t.Cleanup(func() {}) // the binary stays for the other tests of the run
	return browserBin
}

// needChromium skips without chromium, except under CI, where the browser
// tests must run (.ci/run installs it).
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install chromium (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("%s is missing: install Debian's chromium (apt-get install chromium) to run the browser tests", chromiumPath)
	}
}

// lockedBuffer collects the server's output from its goroutines.
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

// newBrowser starts a headless chromium with a fresh profile at 1366×768.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// The first action starts the browser: no timeout on it, since a
	// timeout there would stop the whole browser when it fires.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return tctx
}

// screenshot saves the 1366×768 viewport as a PNG under docs/screenshots when
// INFRASHARE_SCREENSHOTS=1, so that ordinary runs leave the files alone.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("INFRASHARE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func wantText(t *testing.T, ctx context.Context, sel string, want ...string) {
	t.Helper()
	got := text(t, ctx, sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("%s lacks %q:\n%s", sel, w, got)
		}
	}
}

// TestBrowserSignInEachRole signs each demo account in through the form,
// checks its dashboard, switches the language, and signs out.
func TestBrowserSignInEachRole(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)

	accounts := []struct {
		role, email, card, shot string
	}{
		{"operator", "ops@vnpt.demo.infrashare.vn", "Doanh nghiệp của tôi", "dashboard-operator.png"},
		{"admin", "admin@demo.infrashare.vn", "Tỷ lệ dùng chung hạ tầng so với chỉ tiêu", ""},
		{"auditor", "auditor@demo.infrashare.vn", "Tỷ lệ dùng chung hạ tầng so với chỉ tiêu", "dashboard-auditor.png"},
		{"officer", "officer.ninhkieu@demo.infrashare.vn", "Hồ sơ cấp phép chờ xử lý", ""},
	}
	for i, acc := range accounts {
		t.Run(acc.role, func(t *testing.T) {
			// Signed out, / leads to the form.
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
				t.Fatal(err)
			}
			if loc := location(t, ctx); !strings.HasSuffix(loc, "/login") {
				t.Fatalf("signed out, / went to %s", loc)
			}
			wantText(t, ctx, "h1", "Đăng nhập")
			if i == 0 {
				screenshot(t, ctx, "login.png")
			}
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("#email"), acc.email),
				chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
				chromedp.Submit(chromedp.CSS("#password")),
				chromedp.WaitVisible(chromedp.CSS("button.linklike")),
			); err != nil {
				t.Fatal(err)
			}
			if loc := location(t, ctx); loc != base+"/" {
				t.Fatalf("after signing in: %s", loc)
			}
			wantText(t, ctx, "h1", "Tổng quan")
			wantText(t, ctx, "header", "Đăng xuất", acc.email)
			wantText(t, ctx, "main", acc.card)
			if acc.shot != "" {
				screenshot(t, ctx, acc.shot)
			}
			if acc.role == "operator" {
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/assets"]`)),
					chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
					t.Fatal(err)
				}
				wantText(t, ctx, "h1", "Sổ hạ tầng")
				screenshot(t, ctx, "assets.png")
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/"]`)), chromedp.WaitVisible(chromedp.CSS("button.linklike"))); err != nil {
					t.Fatal(err)
				}
			}

			// To English and back, by the visible switch.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[hreflang="en"][aria-current="true"]`))); err != nil {
				t.Fatal(err)
			}
			wantText(t, ctx, "h1", "Dashboard")
			wantText(t, ctx, "header", "Sign out")
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/assets"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatal(err)
			}
			wantText(t, ctx, "h1", "Asset register") // remembered
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[hreflang="vi"]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[hreflang="vi"][aria-current="true"]`))); err != nil {
				t.Fatal(err)
			}
			wantText(t, ctx, "h1", "Sổ hạ tầng")

			// Sign out with the button that looks like a link.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button.linklike")),
				chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
				t.Fatal(err)
			}
			if loc := location(t, ctx); !strings.HasSuffix(loc, "/login") {
				t.Fatalf("after signing out: %s", loc)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// browserSignIn signs email in through the form (signing out whoever was
// signed in) and waits for the dashboard. The browser tests of every
// feature start with it.
func browserSignIn(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	// A fresh sign-in: drop the cookies of an earlier account.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("clear cookies: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("button.linklike")),
	); err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}

// TestBrowserSignInSwitchesAccount: the shared sign-in step moves from one
// account to another.
func TestBrowserSignInSwitchesAccount(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)
	for _, email := range []string{demoLogins["operator"], demoLogins["officer"]} {
		browserSignIn(t, ctx, base, email)
		wantText(t, ctx, "header", email)
	}
}

// browserAPIToken signs email in through the API of the running binary and
// returns the bearer token, for browser tests that prepare data first.
func browserAPIToken(t *testing.T, base, email string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": demoPassword})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var login struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || login.Token == "" {
		t.Fatalf("API sign-in as %s: %d %v", email, resp.StatusCode, err)
	}
	return login.Token
}

// browserWaitText waits until the element sel holds every want, reading it
// again while the page changes: a form post's answer replaces the page, and
// an element of the old page may match a WaitVisible before it does.
func browserWaitText(t *testing.T, ctx context.Context, sel string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil {
			got = s
			all := true
			for _, w := range want {
				all = all && strings.Contains(s, w)
			}
			if all {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s lacks %q after 30 s:\n%s", sel, want, got)
}
