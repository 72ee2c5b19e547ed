package web

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserReports: the auditor opens the sharing-ratio report, sees its
// chart and table, downloads the XLSX, looks at the undergrounding report,
// and verifies the audit log's chain.
func TestBrowserReports(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)
	browserSignIn(t, ctx, base, demoLogins["auditor"])

	// From the navigation to the report index and on to the ratio.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/reports"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rc-ratio a`)),
		chromedp.Click(chromedp.CSS(`#rc-ratio a`)),
		chromedp.WaitVisible(chromedp.CSS("svg.report-chart")),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Tỷ lệ dùng chung hạ tầng trạm BTS")
	wantText(t, ctx, "table.report-table caption", "Số trạm BTS mới và tỷ lệ dùng chung theo năm")
	wantText(t, ctx, "table.report-table thead", "Tỷ lệ nghĩa hẹp", "Chỉ tiêu", "Dự báo năm mốc")
	wantText(t, ctx, "table.report-table tbody", "%", "Xem")
	screenshot(t, ctx, "reports-ratio.png")
	// A target line over every year, and the forecast bar.
	targets, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.report-chart > line.target").length`))
	if err != nil || targets < 4 {
		t.Fatalf("target lines: %d %v", targets, err)
	}
	if labels, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("svg.report-chart").textContent`)); err != nil ||
		!strings.Contains(labels, "Dự báo 2030") {
		t.Fatalf("chart labels %q: %v", labels, err)
	}

	// The XLSX link downloads a real workbook with the session.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("download behaviour: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.downloads a[href*="format=xlsx"]`))); err != nil {
		t.Fatal(err)
	}
	file := reportsWaitDownload(t, dir, ".xlsx")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) || !bytes.Contains(b, []byte("xl/workbook.xml")) {
		t.Fatalf("%s is not an XLSX workbook (%d bytes)", file, len(b))
	}

	// By unit: a bar per unit and year.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#r-group"), "unit"),
		chromedp.Submit(chromedp.CSS("#r-group")),
		chromedp.WaitVisible(chromedp.CSS(`svg.report-chart rect.y0`)),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "table.report-table thead", "Đơn vị hành chính")
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("svg.report-chart"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "reports-ratio-unit.png")

	// The undergrounding report.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/reports"), chromedp.WaitVisible(chromedp.CSS(`#rc-undg a`)),
		chromedp.Click(chromedp.CSS(`#rc-undg a`)), chromedp.WaitVisible(chromedp.CSS("svg.report-chart"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Ngầm hóa cáp viễn thông")
	wantText(t, ctx, "main", "Ninh Kiều", "70 %", "Toàn thành phố")
	screenshot(t, ctx, "reports-undergrounding.png")

	// The audit log and its check.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/audit"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.audit-log")),
		chromedp.Click(chromedp.CSS("#verify-button")),
		chromedp.WaitVisible(chromedp.CSS(".verify-result")),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, ".verify-result", "Chuỗi nhật ký toàn vẹn: đã kiểm tra")
	wantText(t, ctx, "table.audit-log", "auditor@demo.infrashare.vn")
	screenshot(t, ctx, "audit.png")
}

// reportsWaitDownload waits up to 20 s for a finished download ending in
// suffix in dir.
func reportsWaitDownload(t *testing.T, dir, suffix string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("no %s download in %s: %v", suffix, dir, entries)
	return ""
}
