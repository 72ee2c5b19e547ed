package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// colocationFreeAsset finds, through the JSON API of the running server, a
// tower of owner with a free slot, as the role's account sees it.
func colocationFreeAsset(t *testing.T, base, email, owner string) (int64, string) {
	t.Helper()
	token := browserAPIToken(t, base, email)
	req, _ := http.NewRequest("GET", base+"/api/v1/assets?kind=tower&status=in_service&min_free=1&limit=1&owner="+owner, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Items) == 0 {
		t.Fatalf("no free tower of %s: %d %v", owner, resp.StatusCode, err)
	}
	return list.Items[0].ID, list.Items[0].Code
}

// TestBrowserColocationFileApproveAccept: Viettel files a request on a VNPT
// tower with room, VNPT approves it with a rent from its received list,
// and Viettel accepts; each step shows the state it reached.
func TestBrowserColocationFileApproveAccept(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)
	viettel, vnpt := demoLogins["operator2"], demoLogins["operator"]
	assetID, code := colocationFreeAsset(t, base, viettel, "VNPT")

	// Viettel opens the VNPT tower, then the request form for it.
	browserSignIn(t, ctx, base, viettel)
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/assets/%d", base, assetID)),
		chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", code)
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/colocation/new?asset=%d", base, assetID)),
		chromedp.WaitVisible(chromedp.CSS("#units"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Gửi yêu cầu thuê chung")
	wantText(t, ctx, "main", code, "VNPT")
	fiberHidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('fieldset[data-purpose="fiber"]').hidden`))
	if err != nil {
		t.Fatal(err)
	}
	if !fiberHidden {
		t.Fatal("the script does not hide the inputs of the other purposes")
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#ant_type"), "RRU 5G n78"),
		chromedp.SendKeys(chromedp.CSS("#ant_count"), "3"),
		chromedp.SendKeys(chromedp.CSS("#ant_height"), "32"),
		chromedp.SendKeys(chromedp.CSS("#ant_azimuths"), "0, 120, 240"),
		chromedp.SendKeys(chromedp.CSS("#power_kw"), "3,5"),
		chromedp.SendKeys(chromedp.CSS("#message"), "Đề nghị lắp 3 ăng-ten 5G ở độ cao 32 m."),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "colocation-new.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form.colo-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#req-state"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#req-state", "Đã gửi")
	wantText(t, ctx, "main", "Đề nghị lắp 3 ăng-ten 5G ở độ cao 32 m.", "còn 15 ngày")
	detail := location(t, ctx)
	path := strings.TrimPrefix(detail, base)
	if !strings.HasPrefix(path, "/colocation/") {
		t.Fatalf("after filing: %s", detail)
	}
	number := regexp.MustCompile(`YC-\d{4}-\d+`).FindString(text(t, ctx, "h1"))
	if number == "" {
		t.Fatalf("no request number in %q", text(t, ctx, "h1"))
	}

	// VNPT finds it in its received list and approves it with a rent.
	browserSignIn(t, ctx, base, vnpt)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/colocation?box=in"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="`+path+`"]`))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "table.list", number, code, "Viettel", "Đã gửi", "còn 15 ngày")
	screenshot(t, ctx, "colocation-list.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="`+path+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#approve-rent"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#req-state", "Đã gửi")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#approve-rent"), "42.000.000"),
		chromedp.SendKeys(chromedp.CSS("#approve-conditions"), "Lắp đặt trong 60 ngày"),
		chromedp.Click(chromedp.CSS(`#act-approve button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("#act-approve")),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#req-state", "Đã chấp thuận")
	wantText(t, ctx, "#req-rent", "42.000.000 ₫")

	// Viettel accepts the terms.
	browserSignIn(t, ctx, base, viettel)
	if err := chromedp.Do(ctx, chromedp.Navigate(detail), chromedp.WaitVisible(chromedp.CSS("#act-accept"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#req-state", "Đã chấp thuận")
	wantText(t, ctx, "main", "Lắp đặt trong 60 ngày", "còn 30 ngày", "Chấp thuận")
	screenshot(t, ctx, "colocation-detail.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#act-accept button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("#act-accept"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#req-state", "Đã thỏa thuận")
	wantText(t, ctx, ".colo-timeline", "Gửi yêu cầu", "Chấp thuận", "Chấp nhận điều kiện", "VNPT", "Viettel")
}
