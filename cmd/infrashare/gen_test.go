package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenThenServeAnswersNearby runs gen as a user would on a new SQLite
// file, then serve on it: the generated register answers a nearby search
// in Can Tho for a demo operator.
func TestGenThenServeAnswersNearby(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "gen.db")
	env := map[string]string{"INFRASHARE_DATABASE_URL": dbURL, "INFRASHARE_DEMO_PASSWORD": "demo-password-1"}
	out, errOut, code := runCmd(t, env, "gen", "--assets", "2000", "--bts", "400", "--seed", "3")
	if code != 0 {
		t.Fatalf("gen: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"gen: assets 2000/2000", "gen: bts_deployments 400/400", "rows/s"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "2000 assets") || !strings.Contains(out, "ops@viettel.demo.infrashare.vn") {
		t.Errorf("summary: %s", out)
	}
	// A second run is refused rather than duplicating the data set.
	_, errOut, code = runCmd(t, env, "gen", "--assets", "2000")
	if code != 1 || !strings.Contains(errOut, "--append") {
		t.Fatalf("second gen: exit %d, %q", code, errOut)
	}

	s := startServer(t, map[string]string{"INFRASHARE_DATABASE_URL": dbURL})
	s.waitReady(t)
	resp, err := http.Post("http://"+s.addr+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"ops@viettel.demo.infrashare.vn","password":"demo-password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.Token == "" {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/api/v1/assets/nearby?lat=10.0341&lon=105.788&radius_m=1500", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var near struct {
		Items []struct {
			Asset struct {
				Code string `json:"code"`
			} `json:"asset"`
			DistanceM float64 `json:"distance_m"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&near); err != nil || resp.StatusCode != 200 {
		t.Fatalf("nearby: %d %v", resp.StatusCode, err)
	}
	if len(near.Items) == 0 {
		t.Fatal("nearby found nothing around Can Tho's centre in the generated register")
	}
	for _, it := range near.Items {
		if it.DistanceM > 1500 {
			t.Fatalf("%s at %.0f m", it.Asset.Code, it.DistanceM)
		}
	}
	s.stop(t)
}
