package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminCreatesUser: an admin creates a user through the form
// in the browser, and that user signs in; screenshots of the users, units
// and settings pages.
func TestBrowserAdminCreatesUser(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	ctx := newBrowser(t)
	browserSignIn(t, ctx, base, demoLogins["admin"])

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/users"]`)),
		chromedp.Click(chromedp.CSS(`main a[href="/admin/users"]`)), chromedp.WaitVisible(chromedp.CSS("#u-email"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Người dùng")
	wantText(t, ctx, "table.list", demoLogins["operator"], "Doanh nghiệp viễn thông")
	screenshot(t, ctx, "admin-users.png")

	const email = "thu.tran@vnpt.demo.infrashare.vn"
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#u-email"), email),
		chromedp.SendKeys(chromedp.CSS("#u-name"), "Trần Thị Thu"),
		chromedp.SetValue(chromedp.CSS("#u-org"), "VNPT"),
		chromedp.Click(chromedp.CSS("#u-role-operator")),
		chromedp.SendKeys(chromedp.CSS("#u-password"), demoPassword),
		chromedp.Click(chromedp.CSS("#new-user button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("dl.facts")),
	); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); !strings.Contains(loc, "/admin/users/") || !strings.Contains(loc, "?done=created") {
		t.Fatalf("after creating: %s", loc)
	}
	wantText(t, ctx, "main", "Đã tạo.", email, "Trần Thị Thu", "VNPT Cần Thơ", "Doanh nghiệp viễn thông", "Đang hoạt động")

	// The new user signs in and sees an operator's pages, not the admin's.
	browserSignIn(t, ctx, base, email)
	wantText(t, ctx, "header", email, "Đăng xuất")
	wantText(t, ctx, "main", "Doanh nghiệp của tôi")
	if nav := text(t, ctx, "header nav"); strings.Contains(nav, "Quản trị") {
		t.Fatalf("an operator sees the admin link: %s", nav)
	}

	browserSignIn(t, ctx, base, demoLogins["admin"])
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/units"), chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "table.list", "Quận Ninh Kiều", "01/01/2004")
	screenshot(t, ctx, "admin-units.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/settings"), chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "table.list", "colocation.reply_days", "đang áp dụng")
	screenshot(t, ctx, "admin-settings.png")
}
