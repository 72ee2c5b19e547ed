package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// mapWatchScript collects, before any page script runs, the CSP violations
// and script errors of every page, so that the test can assert there are
// none (scripts the DevTools protocol injects are outside the CSP).
const mapWatchScript = `window.__mapProblems = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__mapProblems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});
window.addEventListener('error', function (e) {
  window.__mapProblems.push('error ' + (e.message || (e.target && (e.target.src || e.target.href)) || e));
}, true);`

// mapFindAsset is a point asset drawn inside the view, away from the
// controls: its page coordinates and code.
const mapFindAsset = `(function () {
  var m = window.infrashareMap, pts = m.assetPoints, r = document.getElementById('map').getBoundingClientRect();
  for (var i = 0; i < pts.size(); i++) {
    var p = m.latLngToContainerPoint(pts.latLngAt(i));
    if (p.x > 60 && p.y > 60 && p.x < r.width - 260 && p.y < r.height - 60) {
      return { x: r.left + p.x, y: r.top + p.y, code: pts.assetAt(i).code };
    }
  }
  return null;
})()`

// mapFindEmptySpot is a point of the view that no asset covers (nothing
// drawn within 8 px) with at least three point assets within 400 m: its
// page coordinates.
const mapFindEmptySpot = `(function () {
  var m = window.infrashareMap, pts = m.assetPoints, r = document.getElementById('map').getBoundingClientRect(), lines = [];
  m.eachLayer(function (l) { if (l.asset) { lines.push(l); } });
  for (var y = 80; y < r.height - 80; y += 9) {
    for (var x = 80; x < r.width - 280; x += 9) {
      var ll = m.containerPointToLatLng(L.point(x, y)), hit = false, near = 0;
      for (var dx = -8; dx <= 8 && !hit; dx += 4) {
        for (var dy = -8; dy <= 8 && !hit; dy += 4) {
          var cp = L.point(x + dx, y + dy);
          hit = pts.pointAt(cp) >= 0;
          for (var i = 0; i < lines.length && !hit; i++) {
            hit = lines[i]._containsPoint(m.containerPointToLayerPoint(cp));
          }
        }
      }
      for (var j = 0; j < pts.size() && !hit; j++) {
        if (m.distance(ll, pts.latLngAt(j)) < 400) { near++; }
      }
      if (!hit && near >= 3) { return { x: r.left + x, y: r.top + y }; }
    }
  }
  return null;
})()`

type mapPoint struct {
	X, Y float64
	Code string
}

// mapImportOutline gives Ninh Kiều a rough outline through the API, so that
// the unit layer has something to draw: the demo has no boundaries. It is a
// test outline, not the district's real boundary.
func mapImportOutline(t *testing.T, base string) {
	t.Helper()
	token := browserAPIToken(t, base, demoLogins["admin"])
	outline := unitFeatures(unitFeature(`{"code":"916"}`, `{"type":"Polygon","coordinates":[[[105.735,10.055],[105.765,10.068],`+
		`[105.800,10.045],[105.792,10.012],[105.760,10.005],[105.738,10.025],[105.735,10.055]]]}`))
	req, _ := http.NewRequest("POST", base+"/api/v1/admin-units/import", strings.NewReader(outline))
	req.Header.Set("Content-Type", geoJSONType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("import the outline: %d", resp.StatusCode)
	}
}

// TestBrowserMap: the map draws the demo's assets and a unit outline on a
// canvas without any CSP violation, an asset's popup leads to its page, the
// colours switch to free capacity, and a click on empty map leads to the
// nearby search with results.
func TestBrowserMap(t *testing.T) {
	needChromium(t)
	base := startDemoServer(t)
	mapImportOutline(t, base)
	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: mapWatchScript}); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, base, demoLogins["operator"])

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/map"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#map[data-state="ready"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#map canvas`)),
		chromedp.WaitVisible(chromedp.CSS(`.map-unit-label`)),
	); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "h1", "Bản đồ hạ tầng")
	wantText(t, ctx, ".map-unit-label", "Ninh Kiều")
	wantText(t, ctx, ".leaflet-control-layers", "Ranh giới đơn vị hành chính", "Hạ tầng dạng điểm", "Hạ tầng dạng tuyến")
	wantText(t, ctx, "#map-status", "Đang hiển thị")
	count, err := chromedp.Run(ctx, chromedp.Evaluate[int](`parseInt(document.getElementById('map').dataset.count, 10)`))
	if err != nil || count < 100 {
		t.Fatalf("data-count %d: too few assets drawn (%v)", count, err)
	}
	// Lines are drawn too: the demo's ducts in Ninh Kiều.
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(function () { var n = 0; window.infrashareMap.eachLayer(function (l) {
	  if (l.asset && l instanceof L.Polyline && !(l instanceof L.CircleMarker)) { n++; } }); return n; })()`))
	if err != nil || lines == 0 {
		t.Fatalf("no line assets drawn: %v", err)
	}
	mapNoProblems(t, ctx)
	screenshot(t, ctx, "map.png")

	// An asset's popup: code, owner, free capacity, a link to its page.
	asset, err := chromedp.Run(ctx, chromedp.Evaluate[*mapPoint](mapFindAsset))
	if err != nil || asset == nil {
		t.Fatalf("no asset in view: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(asset.X, asset.Y),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .map-asset-link`))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, ".leaflet-popup", asset.Code, "Loại", "Chủ sở hữu", "Còn trống", "Xem chi tiết")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.leaflet-popup .map-asset-link').getAttribute('href')`))
	if err != nil || !strings.HasPrefix(href, "/assets/") {
		t.Fatalf("asset link %q %v", href, err)
	}

	// Colour by free capacity: the legend follows.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#map-mode input[value="free"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#legend-free`)), chromedp.WaitNotVisible(chromedp.CSS(`#legend-kind`))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#legend-free", "Hết chỗ", "Còn nhiều")

	// A click on empty map offers the nearby search there: on the map
	// opened at a point in Ninh Kiều, a few streets across.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/map?lat=10.032&lon=105.77"),
		chromedp.WaitVisible(chromedp.CSS(`#map[data-state="ready"][data-zoom="16"]`))); err != nil {
		t.Fatal(err)
	}
	spot, err := chromedp.Run(ctx, chromedp.Evaluate[*mapPoint](mapFindEmptySpot))
	if err != nil || spot == nil {
		t.Fatalf("no empty spot near assets: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(spot.X, spot.Y),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .map-nearby-link`))); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, ".leaflet-popup", "Tìm quanh đây", "Điểm đã chọn")
	// Follow the popup's link by its address: a click can land while the
	// popup still animates into place.
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.leaflet-popup .map-nearby-link`), "href"))
	if err != nil || !strings.HasPrefix(link.Value, "/nearby?") {
		t.Fatalf("the popup's nearby link %q: %v", link.Value, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+link.Value), chromedp.WaitVisible(chromedp.CSS(`#nearby-results`))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); !strings.Contains(loc, "/nearby?lat=") || !strings.Contains(loc, "&lon=") {
		t.Fatalf("nearby at %s", loc)
	}
	wantText(t, ctx, "h1", "Tìm hạ tầng quanh một điểm")
	wantText(t, ctx, "main h2", "trong bán kính 500 m")
	wantText(t, ctx, "#nearby-results", "Khoảng cách", " m")
	mapNoProblems(t, ctx)
	screenshot(t, ctx, "map-nearby.png")

	// Back to the map: still no CSP violation nor script error anywhere.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/map"), chromedp.WaitVisible(chromedp.CSS(`#map[data-state="ready"]`))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	mapNoProblems(t, ctx)
}

// mapNoProblems fails on any CSP violation or script error of the page.
func mapNoProblems(t *testing.T, ctx context.Context) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__mapProblems || []`))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("CSP violations or script errors: %v", problems)
	}
}
