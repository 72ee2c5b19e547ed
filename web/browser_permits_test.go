package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// permitsBrowserSite finds, through the JSON API of the demo server, an
// in-service tower of Ninh Kiều with a free slot whose position is exact,
// so that a site 22 m north of it has sharing candidates.
func permitsBrowserSite(t *testing.T, base string) (lat, lon float64, code string) {
	t.Helper()
	token := browserAPIToken(t, base, demoLogins["operator"])
	req, _ := http.NewRequest("GET", base+"/api/v1/assets/nearby?lat=10.032&lon=105.77&radius_m=3000&kind=tower&min_free=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var near struct {
		Items []struct {
			Asset struct {
				Code     string   `json:"code"`
				Status   string   `json:"status"`
				UnitCode string   `json:"unit_code"`
				Coarse   bool     `json:"coarse"`
				Lat      *float64 `json:"lat"`
				Lon      *float64 `json:"lon"`
				HeightM  *float64 `json:"height_m"`
			} `json:"asset"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&near); err != nil {
		t.Fatal(err)
	}
	for _, it := range near.Items {
		a := it.Asset
		if a.Status == "in_service" && !a.Coarse && a.UnitCode == "916" && a.Lat != nil && a.HeightM != nil && *a.HeightM >= 25 {
			return *a.Lat + 0.0002, *a.Lon, a.Code
		}
	}
	t.Fatalf("no tower to share in Ninh Kiều among %d", len(near.Items))
	return 0, 0, ""
}

// TestBrowserPermitsFileAndApprove: VNPT files an application at a site
// with sharing candidates, which the live check lists as the position is
// typed; it justifies each and files; the Ninh Kiều officer approves it
// from the queue; VNPT then logs the station on the permitted structure.
func TestBrowserPermitsFileAndApprove(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	lat, lon, tower := permitsBrowserSite(t, base)
	ctx := newBrowser(t)

	browserSignIn(t, ctx, base, demoLogins["operator"])
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/permits"), chromedp.WaitVisible(chromedp.CSS(`a[href="/permits/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/permits/new"]`)), chromedp.WaitVisible(chromedp.CSS("#p-lat"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Nộp hồ sơ cấp phép")
	// Typing the position and the height runs the live check (htmx).
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#p-unit"), "916"),
		chromedp.SetValue(chromedp.CSS("#p-class"), "A2b"),
		chromedp.SendKeys(chromedp.CSS("#p-address"), "Hẻm 51 Đại lộ Hòa Bình, Ninh Kiều"),
		chromedp.SendKeys(chromedp.CSS("#p-purpose"), "Trạm BTS 5G phủ sóng khu trung tâm"),
		chromedp.SendKeys(chromedp.CSS("#p-lat"), fmt.Sprintf("%.6f", lat)),
		chromedp.SendKeys(chromedp.CSS("#p-lon"), fmt.Sprintf("%.6f", lon)),
		chromedp.SendKeys(chromedp.CSS("#p-height"), "30"+kb.Tab),
		chromedp.WaitVisible(chromedp.CSS(`select[name^="j_reason_"]`)),
	); err != nil {
		t.Fatalf("live check: %v", err)
	}
	wantText(t, ctx, "#permits-candidates", tower, "Tìm thấy")
	cands, err := chromedp.Run(ctx, chromedp.AttributesAll(chromedp.CSS(`select[name^="j_reason_"]`)))
	if err != nil || len(cands) == 0 {
		t.Fatalf("candidates: %v %v", cands, err)
	}
	for _, c := range cands {
		id := strings.TrimPrefix(c["name"], "j_reason_")
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("#j-reason-"+id), "coverage"),
			chromedp.SendKeys(chromedp.CSS("#j-text-"+id), "Cột hiện hữu không phủ được khu vực cần phủ sóng (đã đo kiểm)"),
		); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#check-h"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "permits-new.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".permits-state"))); err != nil {
		t.Fatalf("file: %v", err)
	}
	wantText(t, ctx, ".permits-state", "Chờ quyết định")
	wantText(t, ctx, "main", tower, "Không đáp ứng vùng phủ sóng", "ngày làm việc")
	detail := location(t, ctx)
	if !regexp.MustCompile(`/permits/\d+$`).MatchString(detail) {
		t.Fatalf("after filing: %s", detail)
	}
	number := strings.TrimSpace(strings.TrimPrefix(text(t, ctx, "h1"), "Hồ sơ"))

	// The officer of Ninh Kiều: the queue, then the decision.
	browserSignIn(t, ctx, base, demoLogins["officer"])
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/permits"), chromedp.WaitVisible(chromedp.CSS("#queue-h"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "main", "Chờ quyết định (theo hạn)", number)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="`+strings.TrimPrefix(detail, base)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#a-dossier")), chromedp.ScrollIntoView(chromedp.CSS("#decide-h"))); err != nil {
		t.Fatal(err)
	}
	placeholder, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS("#a-permit-no")))
	if err != nil || !strings.HasPrefix(placeholder["placeholder"], "UBND-NK-") {
		t.Fatalf("proposed number %v %v", placeholder, err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#a-dossier"), "000.00.25.H13-260115-0042")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "permits-review.png")
	if err := chromedp.Do(ctx, chromedp.Submit(chromedp.CSS("#a-dossier")),
		chromedp.WaitVisible(chromedp.CSS(".permits-state-approved"))); err != nil {
		t.Fatalf("approve: %v", err)
	}
	wantText(t, ctx, "main", "Đã cấp phép", placeholder["placeholder"], "000.00.25.H13-260115-0042")

	// VNPT sees it approved and logs its station on the permitted structure.
	browserSignIn(t, ctx, base, demoLogins["operator"])
	if err := chromedp.Do(ctx, chromedp.Navigate(detail), chromedp.WaitVisible(chromedp.CSS(".permits-state"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, ".permits-state", "Đã cấp phép")
	permitID := regexp.MustCompile(`\d+$`).FindString(detail)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/bts/new?permit="+permitID), chromedp.WaitVisible(chromedp.CSS("#b-station")),
		chromedp.SendKeys(chromedp.CSS("#b-station"), "CTO-NK-5G-BR01"),
		chromedp.Click(chromedp.CSS("#b-tech-5G")),
		chromedp.SetValue(chromedp.CSS("#b-onair"), "2026-01-15"),
		chromedp.Submit(chromedp.CSS("#b-station")),
		chromedp.WaitVisible(chromedp.CSS(".permits-class")),
	); err != nil {
		t.Fatalf("log the station: %v", err)
	}
	wantText(t, ctx, "main", "CTO-NK-5G-BR01", "Xây dựng mới", number)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/bts"), chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "main", "CTO-NK-5G-BR01", "Nhật ký trạm BTS")
	screenshot(t, ctx, "bts.png")
}
