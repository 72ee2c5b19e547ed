package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAssetFormRegister: the VNPT operator registers a tower through
// the form, first with a position outside the service area (the error shows
// next to the field, the values stay), then corrected; the new asset's page
// offers its owner's actions.
func TestBrowserAssetFormRegister(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)
	browserSignIn(t, ctx, base, demoLogins["operator"])

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/assets"), chromedp.WaitVisible(chromedp.CSS(`a[href="/assets/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/assets/new"]`)), chromedp.WaitVisible(chromedp.CSS("#af-code"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Đăng ký hạ tầng")
	// The script shows only the fields of the kind: a tower has no route.
	if err := chromedp.Do(ctx, chromedp.WaitNotVisible(chromedp.CSS("#af-line")), chromedp.WaitNotVisible(chromedp.CSS("#af-tubes"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#af-code"), "BT-FORM-0001"),
		chromedp.SendKeys(chromedp.CSS("#af-lat"), "30.5"),
		chromedp.SendKeys(chromedp.CSS("#af-lon"), "105.7712"),
		chromedp.SendKeys(chromedp.CSS("#af-address"), "88 Nguyễn Văn Cừ, An Khánh, Ninh Kiều"),
		chromedp.SendKeys(chromedp.CSS("#af-height"), "45"),
		chromedp.SetValue(chromedp.CSS("#af-class"), "A2b"),
		chromedp.SendKeys(chromedp.CSS("#af-structure"), "Cột dây co"),
		chromedp.SendKeys(chromedp.CSS("#af-captotal"), "3"),
		chromedp.SendKeys(chromedp.CSS("#af-rent"), "36000000"),
		chromedp.SetValue(chromedp.CSS("#af-since"), "2024-05-01"),
		chromedp.SendKeys(chromedp.CSS("#af-contact"), "NOC VNPT Cần Thơ, 0292 3820 000"),
		chromedp.Click(chromedp.CSS(".af-actions button")),
		chromedp.WaitVisible(chromedp.CSS("#af-position-err")),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#af-position-err", "Vị trí nằm ngoài vùng phục vụ")
	address, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#af-address")))
	if err != nil || address != "88 Nguyễn Văn Cừ, An Khánh, Ninh Kiều" {
		t.Fatalf("the address was not kept: %q %v", address, err)
	}
	screenshot(t, ctx, "assetform-new.png")

	if err := chromedp.Do(ctx,
		chromedp.Clear(chromedp.CSS("#af-lat")),
		chromedp.SendKeys(chromedp.CSS("#af-lat"), "10.0291"),
		chromedp.Click(chromedp.CSS(".af-actions button")),
		chromedp.WaitVisible(chromedp.CSS("#ou-units")),
	); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, base+"/assets/") {
		t.Fatalf("after registering: %s", loc)
	}
	wantText(t, ctx, "h1", "Cột ăng-ten BT-FORM-0001")
	wantText(t, ctx, "main", "88 Nguyễn Văn Cừ", "45 m", "A2b", "36.000.000 ₫", "01/05/2024", "Sửa", "Tìm quanh đây",
		"Ghi nhận sử dụng của chính doanh nghiệp")

	// Its own use, recorded from the page.
	if err := chromedp.Do(ctx, chromedp.Clear(chromedp.CSS("#ou-units")), chromedp.SendKeys(chromedp.CSS("#ou-units"), "1"),
		chromedp.SendKeys(chromedp.CSS("#ou-note"), "Trạm 4G VNPT"),
		chromedp.Click(chromedp.CSS(".af-ownuse button"))); err != nil {
		t.Fatal(err)
	}
	browserWaitText(t, ctx, "main", "3 tổng, 0 giữ chỗ, 1 đang dùng, 2 còn trống", "tự sử dụng")
	screenshot(t, ctx, "assetform-detail.png")

	// Viettel sees the way to ask for it, not the owner's actions.
	browserSignIn(t, ctx, base, demoLogins["operator2"])
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/assets?q=BT-FORM-0001"), chromedp.WaitVisible(chromedp.CSS("table.list")),
		chromedp.Click(chromedp.CSS(`table.list a`)), chromedp.WaitVisible(chromedp.CSS("ul.af-buttons"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "ul.af-buttons", "Yêu cầu dùng chung", "Tìm quanh đây")
	if strings.Contains(text(t, ctx, "ul.af-buttons"), "Sửa") {
		t.Fatal("Viettel is offered to edit VNPT's tower")
	}
}

// TestBrowserAssetFormImport: the VNPT operator uploads a CSV with a bad
// row, sees it listed by line and column, then a corrected file, previews
// the counts and confirms.
func TestBrowserAssetFormImport(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)
	browserSignIn(t, ctx, base, demoLogins["operator"])

	dir := t.TempDir()
	bad := filepath.Join(dir, "vnpt-cot-2026.csv")
	good := filepath.Join(dir, "vnpt-cot-2026-sua.csv")
	header := "code,kind,status,lat,lon,height_m,class,capacity_total,address,in_service_on\n"
	rows := []string{
		"BT-IMP-0001,tower,in_service,10.0301,105.7702,42,A2b,3,12 Trần Hưng Đạo,2023-06-01\n",
		"BT-IMP-0002,pole,in_service,10.0312,105.7714,12,,2,40 Mậu Thân,2022-01-15\n",
		"BT-IMP-0003,tower,planned,10.0325,105.7731,36,A2c,3,7 Lý Tự Trọng,\n",
	}
	badRows := []string{rows[0], "BT-IMP-0002,pole,in_service,10.0312,105.7714,12,,two,40 Mậu Thân,2022-01-15\n",
		"BT-IMP-0003,tower,planned,1003.25,105.7731,36,A2c,3,7 Lý Tự Trọng,\n"}
	if err := os.WriteFile(bad, []byte(header+strings.Join(badRows, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(header+strings.Join(rows, "")), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/assets"), chromedp.WaitVisible(chromedp.CSS(`a[href="/assets/import"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/assets/import"]`)), chromedp.WaitVisible(chromedp.CSS("#ai-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#ai-file"), []string{bad}),
		chromedp.Click(chromedp.CSS(".af-actions button")),
		chromedp.WaitVisible(chromedp.CSS("#ai-bad-h")),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "table.list", "capacity_total", "lat")
	wantText(t, ctx, "main", "Chưa có gì được ghi")
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.list tbody td.num")).map(td => td.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cells, ",") != "3,4" {
		t.Fatalf("bad lines %v, want 3,4", cells)
	}
	screenshot(t, ctx, "assetform-import.png")

	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#ai-file"), []string{good}),
		chromedp.Click(chromedp.CSS(".af-actions button")),
		chromedp.WaitVisible(chromedp.CSS(".ai-confirm button")),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#ai-preview-h", "Kết quả kiểm tra")
	wantText(t, ctx, "dl.stats", "Thêm mới", "3")
	screenshot(t, ctx, "assetform-import-preview.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".ai-confirm button")), chromedp.WaitVisible(chromedp.CSS(".notice"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, ".notice", "Đã nhập 3 dòng: 3 thêm mới, 0 cập nhật, 0 không đổi.")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/assets?q=BT-IMP"), chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "table.list", "BT-IMP-0001", "BT-IMP-0002", "BT-IMP-0003")
}
