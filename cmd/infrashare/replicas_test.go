package main

// Replica tests: two `infrashare serve` processes on one PostgreSQL
// database, as behind a load balancer. They check what DESIGN §3 "Beyond
// one machine" promises: a policy change reaches every replica within
// 2 s, the deadline sweeper and the webhook worker act once per item
// however many replicas run them, and a session made on one replica works
// on the other.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/notify"
)

const demoPassword = "demo-password-1"

// Demo sign-ins (DESIGN §7).
const (
	adminEmail   = "admin@demo.infrashare.vn"
	auditorEmail = "auditor@demo.infrashare.vn"
	vnptEmail    = "ops@vnpt.demo.infrashare.vn"
	viettelEmail = "ops@viettel.demo.infrashare.vn"
	mobiEmail    = "ops@mobifone.demo.infrashare.vn"
)

// needPostgres skips without a PostgreSQL server, and fails in CI.
func needPostgres(t *testing.T) {
	t.Helper()
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		dbtest.Dialects(t) // fails when CI is set
		t.Skip("needs PostgreSQL: set " + dbtest.EnvPostgresURL)
	}
}

// demoEnv is the environment of a demo replica on url; extra settings are
// added on top.
func demoEnv(url string, extra ...string) map[string]string {
	env := map[string]string{"INFRASHARE_DATABASE_URL": url, "INFRASHARE_DEMO": "true",
		"INFRASHARE_DEMO_PASSWORD": demoPassword, "INFRASHARE_LOG_LEVEL": "info"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// startReplicas starts n demo replicas on one fresh migrated PostgreSQL
// database of the test's own and waits until all are ready.
func startReplicas(t *testing.T, n int, extra ...string) (string, []*server) {
	t.Helper()
	url := dbtest.URL(t, database.Postgres)
	var out []*server
	for i := 0; i < n; i++ {
		out = append(out, startServer(t, demoEnv(url, extra...)))
	}
	for _, s := range out {
		s.waitReady(t)
	}
	return url, out
}

// openDB opens the test database for the checks the API does not answer.
func openDB(t *testing.T, url string) *database.DB {
	t.Helper()
	db, err := database.Open(dbtest.Context(t), url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// client calls the JSON API of one replica as one signed-in user.
type client struct {
	t     *testing.T
	base  string
	token string
	email string
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// signIn signs in on s with the demo password.
func signIn(t *testing.T, s *server, email string) *client {
	t.Helper()
	c := &client{t: t, base: "http://" + s.addr, email: email}
	var res struct {
		Token string `json:"token"`
	}
	c.must("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": demoPassword}, 200, &res)
	if res.Token == "" {
		t.Fatalf("sign-in of %s answered no token", email)
	}
	c.token = res.Token
	return c
}

// on is the same user calling another replica with the same token.
func (c *client) on(s *server) *client {
	cp := *c
	cp.base = "http://" + s.addr
	return &cp
}

// call sends body (JSON, or a string sent as text/csv) and answers the
// status and the response body; a transport error is status 0.
func (c *client) call(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ctype = strings.NewReader(b), "text/csv"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// must calls and fails the test unless the status is want; out, when not
// nil, receives the decoded answer.
func (c *client) must(method, path string, body any, want int, out any) {
	c.t.Helper()
	code, data, err := c.call(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s as %s: %v", method, path, c.email, err)
	}
	if code != want {
		c.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, c.email, code, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// verifyAuditChain asks the API (as the department's auditor) to verify
// the whole audit chain, and fails the test unless it holds.
func verifyAuditChain(t *testing.T, s *server) int64 {
	t.Helper()
	var res struct {
		OK     bool   `json:"ok"`
		Events int64  `json:"events"`
		Reason string `json:"reason"`
	}
	signIn(t, s, auditorEmail).must("GET", "/api/v1/audit-events/verify", nil, 200, &res)
	if !res.OK || res.Events == 0 {
		t.Fatalf("audit chain does not verify: %+v", res)
	}
	return res.Events
}

// importTowers registers n towers of the owner's, coded prefix-001…,
// capacity each, and answers their ids in code order.
func importTowers(t *testing.T, owner *client, prefix string, n, capacity int) []int64 {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("code,kind,lat,lon,capacity_total\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "%s-%03d,tower,%.5f,%.5f,%d\n", prefix, i, 10.02+float64(i)*0.0007, 105.75+float64(i)*0.0005, capacity)
	}
	var res struct {
		Created int `json:"created"`
	}
	owner.must("POST", "/api/v1/assets/import", csv.String(), 200, &res)
	if res.Created != n {
		t.Fatalf("import created %d towers, want %d", res.Created, n)
	}
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"items"`
	}
	owner.must("GET", "/api/v1/assets?q="+prefix+"-&limit=500", nil, 200, &list)
	ids := map[string]int64{}
	for _, a := range list.Items {
		ids[a.Code] = a.ID
	}
	out := make([]int64, 0, n)
	for i := 1; i <= n; i++ {
		id, ok := ids[fmt.Sprintf("%s-%03d", prefix, i)]
		if !ok {
			t.Fatalf("tower %s-%03d not listed after its import", prefix, i)
		}
		out = append(out, id)
	}
	return out
}

// submit files a request for one unit on each of assets and answers its id.
func submit(t *testing.T, requester *client, assets ...int64) int64 {
	t.Helper()
	var items []map[string]any
	for _, a := range assets {
		items = append(items, map[string]any{"asset_id": a, "units": 1})
	}
	var r struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	requester.must("POST", "/api/v1/colocation-requests", map[string]any{"items": items, "purpose": "other",
		"technical": map[string]string{"description": "replica test"}}, 201, &r)
	if r.State != "submitted" {
		t.Fatalf("new request is %s", r.State)
	}
	return r.ID
}

func TestReplicasPolicyChangeReachesOtherReplicaWithin2s(t *testing.T) {
	needPostgres(t)
	_, rs := startReplicas(t, 2)
	a, b := rs[0], rs[1]
	admin := signIn(t, a, adminEmail)
	operatorOnB := signIn(t, b, vnptEmail)
	const path = "/api/v1/colocation-requests"
	operatorOnB.must("GET", path, nil, 200, nil)

	type rule struct {
		Role   string `json:"role"`
		Path   string `json:"path"`
		Method string `json:"method"`
	}
	type policySet struct {
		Version  int64             `json:"version"`
		Policies []rule            `json:"policies"`
		Groups   []json.RawMessage `json:"groups"`
	}
	var orig policySet
	admin.must("GET", "/api/v1/policies", nil, 200, &orig)
	reduced := policySet{Version: orig.Version, Groups: orig.Groups}
	for _, p := range orig.Policies {
		if !(p.Role == "operator" && p.Path == path && p.Method == "GET") {
			reduced.Policies = append(reduced.Policies, p)
		}
	}
	if len(reduced.Policies) != len(orig.Policies)-1 {
		t.Fatalf("no rule lets operators GET %s: %+v", path, orig.Policies)
	}

	// waitFor polls B until it answers want, and answers how long that took
	// after the change was committed on A (the PUT answered).
	waitFor := func(want int) time.Duration {
		t.Helper()
		changed := time.Now()
		for {
			code, body, err := operatorOnB.call("GET", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(changed)
			if code == want {
				return took
			}
			if code != 200 && code != 403 {
				t.Fatalf("replica B answered %d: %s", code, body)
			}
			if took > 10*time.Second {
				t.Fatalf("replica B still answers %d 10 s after the policy change on A, want %d", code, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	var after policySet
	admin.must("PUT", "/api/v1/policies", reduced, 200, &after)
	revoked := waitFor(403)
	// The replica that made the change enforces it at once.
	operatorOnB.on(a).must("GET", path, nil, 403, nil)

	orig.Version = after.Version
	admin.must("PUT", "/api/v1/policies", orig, 200, nil)
	restored := waitFor(200)
	t.Logf("replica B enforced the removed rule %v and the restored rule %v after replica A committed them", revoked, restored)
	// DESIGN §3: each replica reloads within about a second of a change;
	// the contract the issue states is 2 s.
	if revoked > 2*time.Second || restored > 2*time.Second {
		t.Fatalf("policy change reached replica B after %v (revoke) and %v (restore), want within 2 s", revoked, restored)
	}
	verifyAuditChain(t, b)
}

func TestReplicasShareSessions(t *testing.T) {
	needPostgres(t)
	_, rs := startReplicas(t, 2)
	a, b := rs[0], rs[1]

	// Sign in on A with the API, which sets the session cookie.
	resp, err := httpClient.Post("http://"+a.addr+"/api/v1/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, vnptEmail, demoPassword)))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "infrashare_session" {
			cookie = ck
		}
	}
	if resp.StatusCode != 200 || cookie == nil || login.Token == "" {
		t.Fatalf("sign-in on A: %d, cookie %v, token %q", resp.StatusCode, cookie, login.Token)
	}

	withCookie := func(s *server, method, path string) int {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+s.addr+path, nil)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == 200 && path == "/api/v1/me" {
			var me struct {
				User struct {
					Email string `json:"email"`
				} `json:"user"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || me.User.Email != vnptEmail {
				t.Fatalf("/me on %s answered %q (%v), want %s", s.addr, me.User.Email, err, vnptEmail)
			}
		}
		return resp.StatusCode
	}
	if code := withCookie(b, "GET", "/api/v1/me"); code != 200 {
		t.Fatalf("the session cookie made on A: /me on B answered %d", code)
	}
	tokenUser := &client{t: t, base: "http://" + b.addr, token: login.Token, email: vnptEmail}
	tokenUser.must("GET", "/api/v1/me", nil, 200, nil)
	tokenUser.on(a).must("GET", "/api/v1/me", nil, 200, nil) // A now caches the token's actor

	// Signing out on B ends the session everywhere, and the sign-in's token
	// with it: A may trust its cached actor for up to 5 s (DESIGN §3).
	if code := withCookie(b, "POST", "/api/v1/auth/logout"); code != 200 {
		t.Fatalf("sign-out on B: %d", code)
	}
	if code := withCookie(a, "GET", "/api/v1/me"); code != 401 {
		t.Fatalf("the session signed out on B: /me on A answered %d, want 401", code)
	}
	signedOut := time.Now()
	for {
		code, _, err := tokenUser.on(a).call("GET", "/api/v1/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		if code == 401 {
			break
		}
		if time.Since(signedOut) > 6*time.Second {
			t.Fatalf("the sign-in's token still works on A %v after signing out on B (cache is at most 5 s)", time.Since(signedOut))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("token refused on A %v after sign-out on B", time.Since(signedOut))
}

// sweptRE finds the count in a replica's "deadlines swept" log line.
var sweptRE = regexp.MustCompile(`"msg":"deadlines swept","changed":(\d+)`)

func sweptBy(s *server) int {
	n := 0
	for _, m := range sweptRE.FindAllStringSubmatch(s.output(), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

func TestReplicasSweepDeadlinesOnce(t *testing.T) {
	needPostgres(t)
	url, rs := startReplicas(t, 2, "INFRASHARE_SWEEP_INTERVAL", "100ms")
	a, b := rs[0], rs[1]
	db := openDB(t, url)
	ctx := dbtest.Context(t)
	viettel := signIn(t, a, viettelEmail)
	requesters := []*client{signIn(t, a, vnptEmail), signIn(t, b, mobiEmail)}
	towers := importTowers(t, viettel, "SWEEP", 20, 3)

	// 30 requests left unanswered (to become overdue) and 15 approved and
	// not accepted (to expire, which releases their reservations).
	const unanswered, approved = 30, 15
	var submittedIDs, approvedIDs []int64
	for i := 0; i < unanswered+approved; i++ {
		assets := []int64{towers[i%len(towers)]}
		if i%3 == 0 {
			assets = append(assets, towers[(i+7)%len(towers)])
		}
		id := submit(t, requesters[i%2], assets...)
		if i < unanswered {
			submittedIDs = append(submittedIDs, id)
			continue
		}
		viettel.on(rs[i%2]).must("POST", fmt.Sprintf("/api/v1/colocation-requests/%d/actions", id),
			map[string]any{"action": "approve", "offer_rent_vnd": 1000000}, 200, nil)
		approvedIDs = append(approvedIDs, id)
	}
	all := append(append([]int64{}, submittedIDs...), approvedIDs...)
	var before int64
	db.Root().WithContext(ctx).Raw("SELECT count(*) FROM colocation_events WHERE actor_user_id IS NULL AND action IN ('overdue','expired')").Scan(&before)
	sweptBefore := sweptBy(a) + sweptBy(b)

	// Move the deadlines into the past in one transaction, with both
	// replicas sweeping every 100 ms: they race for every request.
	err := db.Root().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE colocation_requests SET reply_deadline = now() - interval '1 minute' WHERE id IN ?", submittedIDs).Error; err != nil {
			return err
		}
		return tx.Exec("UPDATE colocation_requests SET accept_deadline = now() - interval '1 minute' WHERE id IN ?", approvedIDs).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int64
		db.Root().WithContext(ctx).Raw("SELECT count(*) FROM colocation_requests WHERE id IN ? AND state NOT IN ('overdue','expired')", all).Scan(&left)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still not swept 30 s after their deadlines passed", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Give a second action on any request ten more sweeps to show up.
	time.Sleep(time.Second)

	type perRequest struct {
		ID                                     int64
		State                                  string
		Transitions, Notices, Audits, Reminder int
	}
	var rows []perRequest
	if err := db.Root().WithContext(ctx).Raw(`
SELECT r.id, r.state,
  (SELECT count(*) FROM colocation_events e WHERE e.request_id = r.id AND e.action IN ('overdue','expired')) AS transitions,
  (SELECT count(*) FROM outbox_events o WHERE o.object_type = 'colocation_request' AND o.object_id = CAST(r.id AS text)
     AND o.kind IN ('colocation.overdue','colocation.expired')) AS notices,
  (SELECT count(*) FROM audit_events x WHERE x.object_type = 'colocation_request' AND x.object_id = CAST(r.id AS text)
     AND x.action IN ('colocation.overdue','colocation.expired')) AS audits,
  (SELECT count(*) FROM outbox_events o WHERE o.object_type = 'colocation_request' AND o.object_id = CAST(r.id AS text)
     AND o.kind = 'colocation.reminder') AS reminder
FROM colocation_requests r WHERE r.id IN ? ORDER BY r.id`, all).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(all) {
		t.Fatalf("read %d requests, want %d", len(rows), len(all))
	}
	wantState := map[int64]string{}
	for _, id := range submittedIDs {
		wantState[id] = "overdue"
	}
	for _, id := range approvedIDs {
		wantState[id] = "expired"
	}
	for _, r := range rows {
		if r.State != wantState[r.ID] || r.Transitions != 1 || r.Notices != 1 || r.Audits != 1 || r.Reminder > 1 {
			t.Errorf("request %d: %s with %d transition events, %d notifications, %d audit events, %d reminders; want %s, 1, 1, 1, at most 1",
				r.ID, r.State, r.Transitions, r.Notices, r.Audits, r.Reminder, wantState[r.ID])
		}
	}
	// The expired requests gave their reservations back, once.
	checkCapacityLedger(t, db)
	var held int64
	db.Root().WithContext(ctx).Raw("SELECT COALESCE(SUM(reserved_units + active_units), 0) FROM assets WHERE id IN ?", towers).Scan(&held)
	if held != 0 {
		t.Errorf("the test's towers still hold %d units after every request expired or went overdue", held)
	}

	// Each replica logs the transitions it made: together exactly one per
	// request the sweep changed.
	var afterCount int64
	db.Root().WithContext(ctx).Raw("SELECT count(*) FROM colocation_events WHERE actor_user_id IS NULL AND action IN ('overdue','expired')").Scan(&afterCount)
	byA, byB := sweptBy(a), sweptBy(b)
	if int64(byA+byB-sweptBefore) != afterCount-before || afterCount-before != int64(len(all)) {
		t.Errorf("replicas logged %d+%d swept transitions (%d before), the database has %d new ones, want %d",
			byA, byB, sweptBefore, afterCount-before, len(all))
	}
	t.Logf("%d overdue and %d expired requests; replica A made %d transitions, replica B %d; 0 twice", len(submittedIDs), len(approvedIDs), byA, byB)
	verifyAuditChain(t, a)
}

// checkCapacityLedger fails the test unless every asset's reserved and
// active units are the sums of its reserved and active allocations.
func checkCapacityLedger(t *testing.T, db *database.DB) {
	t.Helper()
	var bad []struct {
		ID                     int64
		ReservedUnits          int64
		ActiveUnits            int64
		SumReserved, SumActive int64
	}
	if err := db.Root().WithContext(dbtest.Context(t)).Raw(`
SELECT a.id, a.reserved_units, a.active_units,
  COALESCE(SUM(l.units) FILTER (WHERE l.status = 'reserved'), 0) AS sum_reserved,
  COALESCE(SUM(l.units) FILTER (WHERE l.status = 'active'), 0) AS sum_active
FROM assets a LEFT JOIN allocations l ON l.asset_id = a.id
GROUP BY a.id, a.reserved_units, a.active_units
HAVING a.reserved_units <> COALESCE(SUM(l.units) FILTER (WHERE l.status = 'reserved'), 0)
    OR a.active_units <> COALESCE(SUM(l.units) FILTER (WHERE l.status = 'active'), 0)`).Scan(&bad).Error; err != nil {
		t.Fatal(err)
	}
	for _, a := range bad {
		t.Errorf("asset %d: reserved_units %d and active_units %d, but its allocations sum to %d reserved and %d active",
			a.ID, a.ReservedUnits, a.ActiveUnits, a.SumReserved, a.SumActive)
	}
}

func TestReplicasDeliverWebhooksOnce(t *testing.T) {
	needPostgres(t)
	url, rs := startReplicas(t, 2)
	a, b := rs[0], rs[1]
	db := openDB(t, url)
	ctx := dbtest.Context(t)

	// The receiver counts each (webhook, event) it is sent and checks the
	// signature; it always answers 200, so no delivery needs a retry.
	var mu sync.Mutex
	got := map[string]int{}
	secrets := map[string]string{}
	var badSignatures int
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(5 * time.Millisecond) // a receiver takes a moment: batches overlap
		mu.Lock()
		defer mu.Unlock()
		hook := strings.TrimPrefix(r.URL.Path, "/")
		if !notify.VerifySignature(secrets[hook], r.Header.Get(notify.HeaderTimestamp), body, r.Header.Get(notify.HeaderSignature)) {
			badSignatures++
		}
		got[hook+" "+r.Header.Get(notify.HeaderEventID)]++
		w.WriteHeader(200)
	}))
	defer receiver.Close()

	// The SSRF guard refuses loopback unless an admin allowlists it.
	admin := signIn(t, a, adminEmail)
	admin.must("PUT", "/api/v1/settings", map[string]any{"settings": []map[string]any{
		{"key": "notify.webhook_allowlist", "valid_from": "2000-01-01", "value": []string{"127.0.0.1"}}}}, 200, nil)

	vnpt, viettel := signIn(t, a, vnptEmail), signIn(t, b, viettelEmail)
	for _, h := range []struct {
		name string
		c    *client
	}{{"vnpt", vnpt}, {"viettel", viettel}} {
		var created struct {
			Secret string `json:"secret"`
		}
		h.c.must("POST", "/api/v1/webhooks", map[string]string{"url": receiver.URL + "/" + h.name}, 201, &created)
		mu.Lock()
		secrets[h.name] = created.Secret
		mu.Unlock()
	}
	towers := importTowers(t, viettel, "HOOK", 5, 3)

	// Each submission is one event for both parties: two webhook
	// deliveries (plus the import's none). Submit through both replicas.
	const events = 60
	for i := 0; i < events; i++ {
		submit(t, vnpt.on(rs[i%2]), towers[i%len(towers)])
	}
	var want int64
	db.Root().WithContext(ctx).Raw("SELECT count(*) FROM deliveries WHERE channel = 'webhook'").Scan(&want)
	if want < 2*events {
		t.Fatalf("%d webhook deliveries queued for %d events to two organisations", want, events)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int64
		db.Root().WithContext(ctx).Raw("SELECT count(*) FROM deliveries WHERE channel = 'webhook' AND delivered_at IS NULL").Scan(&pending)
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d webhook deliveries still pending after 60 s", pending, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // two more worker rounds on each replica

	var rows []struct {
		Hook     string
		EventID  int64
		Attempts int
	}
	db.Root().WithContext(ctx).Raw(`SELECT CASE w.org_id WHEN (SELECT id FROM organizations WHERE code = 'VNPT') THEN 'vnpt' ELSE 'viettel' END AS hook,
  d.event_id, d.attempts FROM deliveries d JOIN webhooks w ON CAST(w.id AS text) = d.target WHERE d.channel = 'webhook'`).Scan(&rows)
	mu.Lock()
	defer mu.Unlock()
	for _, r := range rows {
		key := fmt.Sprintf("%s evt_%d", r.Hook, r.EventID)
		if got[key] != 1 || r.Attempts != 1 {
			t.Errorf("delivery %s: received %d times after %d attempts, want once after 1", key, got[key], r.Attempts)
		}
		delete(got, key)
	}
	for k, n := range got {
		t.Errorf("the receiver got %s %d times, which no delivery row names", k, n)
	}
	if badSignatures > 0 {
		t.Errorf("%d deliveries carried a bad signature", badSignatures)
	}
	t.Logf("%d events, %d webhook deliveries by two replicas, each received exactly once", events, len(rows))
	verifyAuditChain(t, b)
}
