package main

// Backup and restore on PostgreSQL with the shipped scripts (pg_dump -Fc,
// pg_restore into an empty database), checked the way an operator would
// after a restore drill: the restored copy serves the same records, the
// audit chain verifies, people can sign in, and the audit log is still
// append-only.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // direct SQL on the source and the restored copy

	"infrashare/database"
	"infrashare/database/dbtest"
)

// needPostgresAndTools skips without PostgreSQL or the client tools, except
// under CI, where the test must run.
func needPostgresAndTools(t *testing.T, tools ...string) {
	t.Helper()
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		dbtest.Dialects(t) // fails under CI
		t.Skip("needs PostgreSQL: set " + dbtest.EnvPostgresURL)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI is set but %s is missing (Debian: postgresql-client)", tool)
			}
			t.Skipf("needs %s (Debian: apt-get install postgresql-client)", tool)
		}
	}
}

// apiClient talks JSON to one running server.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newAPIClient(t *testing.T, addr string) apiClient {
	return apiClient{t: t, base: "http://" + addr, http: &http.Client{Timeout: 30 * time.Second}}
}

// send makes one request and returns the status and body; it never fails
// the test, so that it may run in goroutines.
func (c apiClient) send(method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must makes the request, fails the test unless it answers want, and
// decodes the body into out when out is not nil.
func (c apiClient) must(method, path, token string, body any, want int, out any) []byte {
	c.t.Helper()
	status, b, err := c.send(method, path, token, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return b
}

func (c apiClient) login(email string) string {
	c.t.Helper()
	var res struct {
		Token string `json:"token"`
	}
	c.must("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": demoPassword}, 200, &res)
	if res.Token == "" {
		c.t.Fatalf("sign-in of %s gave no token", email)
	}
	return res.Token
}

// countAll pages through a list endpoint and counts its items.
func (c apiClient) countAll(path, token string) int {
	c.t.Helper()
	n, cursor := 0, ""
	for pages := 0; pages < 1000; pages++ {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		url := path + sep + "limit=500"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		c.must("GET", url, token, nil, 200, &page)
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		cursor = page.NextCursor
	}
	c.t.Fatalf("%s: more than 1000 pages", path)
	return 0
}

// getJSON reads one record as a generic value, for comparing two servers.
func (c apiClient) getJSON(path, token string) map[string]any {
	c.t.Helper()
	var v map[string]any
	c.must("GET", path, token, nil, 200, &v)
	return v
}

// auditVerify is GET /api/v1/audit-events/verify.
type auditVerify struct {
	OK         bool   `json:"ok"`
	Events     int64  `json:"events"`
	FirstBadID *int64 `json:"first_bad_id"`
	Reason     string `json:"reason"`
}

// libpqURL re-encodes a test database URL for libpq (pg_dump, psql): Go's
// query encoding writes spaces as "+", which libpq keeps as a plus sign.
func libpqURL(t *testing.T, raw string) string {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = strings.ReplaceAll(u.Query().Encode(), "+", "%20")
	return u.String()
}

// runScript runs one of scripts/ and fails the test on a non-zero exit.
func runScript(t *testing.T, name string, args ...string) string {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	// Only what the scripts need: the URL is passed as a flag.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// tableDigest is one table's row count and a digest of its rows' text.
type tableDigest struct {
	Rows   int64
	Digest string
}

// digestTables reads every table of schema public on the database at url:
// its rows in a fixed order, hashed, so that two databases compare exactly.
func digestTables(t *testing.T, url string) map[string]tableDigest {
	t.Helper()
	ctx := dbtest.Context(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	out := map[string]tableDigest{}
	for _, name := range tables {
		var d tableDigest
		q := fmt.Sprintf(`SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '')) FROM %q AS r`, name)
		if err := db.QueryRowContext(ctx, q).Scan(&d.Rows, &d.Digest); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = d
	}
	return out
}

// changes made through the API before the backup, to find again after it.
type backupFixture struct {
	assetPath, requestPath, permitPath string
}

// makeChanges writes what a working day adds: a VNPT tower, Viettel's
// co-location request for a slot on it (approved, so units are reserved),
// and a Viettel permit application with a justification for every
// structure the sharing check finds.
func makeChanges(t *testing.T, c apiClient) backupFixture {
	t.Helper()
	vnpt, viettel := c.login("ops@vnpt.demo.infrashare.vn"), c.login("ops@viettel.demo.infrashare.vn")
	var asset struct {
		ID int64 `json:"id"`
	}
	c.must("POST", "/api/v1/assets", vnpt, map[string]any{
		"code": "BK-NK-0001", "kind": "tower", "status": "in_service", "lat": 10.0331, "lon": 105.7792,
		"unit_code": "916", "address": "12 Hòa Bình, Ninh Kiều", "height_m": 42, "in_service_on": "2019-05-01",
		"rent_vnd": 36000000, "capacity": map[string]any{"total": 4},
	}, 201, &asset)
	var req struct {
		ID int64 `json:"id"`
	}
	c.must("POST", "/api/v1/colocation-requests", viettel, map[string]any{
		"items": []map[string]any{{"asset_id": asset.ID, "units": 1}}, "purpose": "bts",
		"technical": map[string]any{"antennas": []map[string]any{{"type": "RRU", "count": 2, "mount_height_m": 36}}, "power_kw": 3.5},
	}, 201, &req)
	requestPath := fmt.Sprintf("/api/v1/colocation-requests/%d", req.ID)
	c.must("POST", requestPath+"/actions", vnpt, map[string]any{"action": "approve", "offer_rent_vnd": 38000000, "conditions": "Lắp đặt trong 60 ngày"}, 200, nil)

	permit := map[string]any{"structure_kind": "tower", "class": "A2b", "height_m": 45, "unit_code": "916",
		"location": map[string]float64{"lat": 10.0362, "lon": 105.7741}, "purpose": "Trạm BTS 5G mới"}
	status, body, err := c.send("POST", "/api/v1/permits", viettel, permit)
	if err != nil {
		t.Fatal(err)
	}
	if status == 422 {
		// The demo has structures nearby: justify each candidate.
		var refused struct {
			Error struct {
				Candidates []struct {
					Asset struct {
						ID int64 `json:"id"`
					} `json:"asset"`
				} `json:"candidates"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &refused); err != nil || len(refused.Error.Candidates) == 0 {
			t.Fatalf("permit refused without candidates: %s", body)
		}
		var just []map[string]any
		for _, cand := range refused.Error.Candidates {
			just = append(just, map[string]any{"asset_id": cand.Asset.ID, "reason_code": "height", "text": "Cột thấp hơn độ cao anten cần"})
		}
		permit["justifications"] = just
		status, body, err = c.send("POST", "/api/v1/permits", viettel, permit)
		if err != nil {
			t.Fatal(err)
		}
	}
	if status != 201 {
		t.Fatalf("file a permit: %d %s", status, body)
	}
	var p struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return backupFixture{
		assetPath:   fmt.Sprintf("/api/v1/assets/%d", asset.ID),
		requestPath: requestPath,
		permitPath:  fmt.Sprintf("/api/v1/permits/%d", p.ID),
	}
}

// apiSnapshot is what the API shows of the records an operator checks
// after a restore.
type apiSnapshot struct {
	assets, requests, permits, bts int
	audit                          auditVerify
	asset, request, permit         map[string]any
}

func snapshotAPI(t *testing.T, c apiClient, f backupFixture) apiSnapshot {
	t.Helper()
	auditor := c.login("auditor@demo.infrashare.vn")
	var s apiSnapshot
	s.assets = c.countAll("/api/v1/assets", auditor)
	s.requests = c.countAll("/api/v1/colocation-requests", auditor)
	s.permits = c.countAll("/api/v1/permits", auditor)
	s.bts = c.countAll("/api/v1/bts", auditor)
	c.must("GET", "/api/v1/audit-events/verify", auditor, nil, 200, &s.audit)
	s.asset = c.getJSON(f.assetPath, auditor)
	s.request = c.getJSON(f.requestPath, auditor)
	s.permit = c.getJSON(f.permitPath, auditor)
	return s
}

func TestBackupAndRestoreOnPostgres(t *testing.T) {
	needPostgresAndTools(t, "pg_dump", "pg_restore", "psql")
	sourceURL := dbtest.EmptyURL(t, database.Postgres)
	env := func(url string) map[string]string {
		return map[string]string{"INFRASHARE_DATABASE_URL": url, "INFRASHARE_DEMO_PASSWORD": demoPassword}
	}
	for _, args := range [][]string{{"migrate"}, {"seed", "--demo"}} {
		if out, errOut, code := runCmd(t, env(sourceURL), args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	src := startServer(t, env(sourceURL))
	src.waitReady(t)
	srcAPI := newAPIClient(t, src.addr)
	fixture := makeChanges(t, srcAPI)
	before := snapshotAPI(t, srcAPI, fixture)
	if !before.audit.OK || before.audit.Events == 0 {
		t.Fatalf("the source's audit chain before the backup: %+v", before.audit)
	}

	// The backup is taken while the server runs, as in production.
	dump := filepath.Join(t.TempDir(), "infrashare.dump")
	runScript(t, "backup.sh", "--database-url", libpqURL(t, sourceURL), "--output", dump)
	info, err := os.Stat(dump)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dump + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("the temporary file is left behind: %v", err)
	}
	if code := src.stop(t); code != 0 {
		t.Fatalf("source server exit code %d", code)
	}
	sourceTables := digestTables(t, sourceURL)

	restoredURL := dbtest.EmptyURL(t, database.Postgres)
	runScript(t, "restore.sh", "--database-url", libpqURL(t, restoredURL), "--input", dump)
	// A second restore into the now non-empty copy is refused.
	restore, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "restore.sh"))
	if out, err := exec.Command("bash", restore, "-d", libpqURL(t, restoredURL), "-i", dump).CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Fatalf("restore over a non-empty database: %v\n%s", err, out)
	}

	// Every table: the same rows, byte for byte in their text form.
	restoredTables := digestTables(t, restoredURL)
	var rowsCompared int64
	for name, want := range sourceTables {
		got, ok := restoredTables[name]
		if !ok {
			t.Errorf("table %s missing after restore", name)
			continue
		}
		if got != want {
			t.Errorf("table %s: %d rows (digest %s) after restore, want %d (%s)", name, got.Rows, got.Digest, want.Rows, want.Digest)
		}
		rowsCompared += want.Rows
	}
	if len(restoredTables) != len(sourceTables) {
		t.Errorf("%d tables after restore, want %d", len(restoredTables), len(sourceTables))
	}

	// The restored copy serves, migrates nothing, and shows the same records.
	dst := startServer(t, env(restoredURL))
	dst.waitReady(t)
	if strings.Contains(dst.output(), `"migrations applied"`) {
		t.Errorf("the restored copy needed migrations:\n%s", dst.output())
	}
	dstAPI := newAPIClient(t, dst.addr)
	after := snapshotAPI(t, dstAPI, fixture)
	ctx := dbtest.Context(t)
	db, err := sql.Open("pgx", restoredURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"assets", after.assets, before.assets},
		{"co-location requests", after.requests, before.requests},
		{"permits", after.permits, before.permits},
		{"BTS records", after.bts, before.bts},
	} {
		if c.got != c.want || c.want == 0 {
			t.Errorf("%s after restore: %d, want %d (and more than 0)", c.what, c.got, c.want)
		}
	}
	// The restored chain is the source's (the table digests above say so)
	// plus the auditor's sign-in to the restored copy, itself audited.
	if !after.audit.OK || after.audit.Events != before.audit.Events+1 {
		t.Errorf("audit chain after restore: %+v, want ok with %d events and the sign-in", after.audit, before.audit.Events)
	}
	var added string
	if err := db.QueryRowContext(ctx, `SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE seq > $1`, before.audit.Events).Scan(&added); err != nil || added != "auth.login" {
		t.Errorf("events after the restored ones: %q (%v), want the auditor's auth.login", added, err)
	}
	for _, c := range []struct {
		what      string
		got, want map[string]any
	}{
		{"asset", after.asset, before.asset},
		{"co-location request", after.request, before.request},
		{"permit", after.permit, before.permit},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s after restore:\n%v\nwant\n%v", c.what, c.got, c.want)
		}
	}
	if after.asset["code"] != "BK-NK-0001" || after.request["state"] != "approved" || after.permit["state"] == nil {
		t.Errorf("restored records: asset %v, request state %v, permit state %v", after.asset["code"], after.request["state"], after.permit["state"])
	}

	// The restored copy takes new writes: its id sequences came along.
	vnpt := dstAPI.login("ops@vnpt.demo.infrashare.vn")
	dstAPI.must("POST", "/api/v1/assets", vnpt, map[string]any{"code": "BK-NK-0002", "kind": "pole", "lat": 10.034, "lon": 105.78,
		"unit_code": "916", "capacity": map[string]any{"total": 2}}, 201, nil)
	var verified auditVerify
	dstAPI.must("GET", "/api/v1/audit-events/verify", dstAPI.login("auditor@demo.infrashare.vn"), nil, 200, &verified)
	if !verified.OK || verified.Events <= before.audit.Events {
		t.Errorf("audit chain after a write on the restored copy: %+v", verified)
	}

	// The append-only trigger came along: no UPDATE, DELETE or TRUNCATE.
	for _, q := range []string{
		`UPDATE audit_events SET reason = 'rewritten' WHERE seq = 1`,
		`DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)`,
		`TRUNCATE audit_events`,
	} {
		if _, err := db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s on the restored copy: %v, want the append-only refusal", q, err)
		}
	}
	if code := dst.stop(t); code != 0 {
		t.Fatalf("restored server exit code %d", code)
	}
	t.Logf("backup %d bytes; %d tables and %d rows compared; API: %d assets, %d requests, %d permits, %d BTS, %d audit events",
		info.Size(), len(sourceTables), rowsCompared, before.assets, before.requests, before.permits, before.bts, before.audit.Events)
}
