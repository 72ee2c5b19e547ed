package main

// Crash tests: the real binary is killed with SIGKILL (no shutdown, no
// deferred code, connections cut) in the middle of work, started again, and
// the database must hold every acknowledged change and no part of an
// unacknowledged one: imports all or nothing, capacity counters equal to
// their allocations, every reservation with its transition, and an audit
// chain that verifies.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"infrashare/database"
	"infrashare/database/dbtest"
)

// kill ends the server with SIGKILL and waits until it is gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not die within 30 s of SIGKILL")
	}
}

// sentReader is a request body that says when the client has sent all of
// it.
type sentReader struct {
	r    io.Reader
	once sync.Once
	sent chan struct{}
}

func (s *sentReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.once.Do(func() { close(s.sent) })
	}
	return n, err
}

// importCSV is a file of n new towers and poles in Can Tho, coded prefix-n.
func importCSV(prefix string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("code,kind,lat,lon,height_m,capacity_total,address\n")
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for i := 0; i < n; i++ {
		kind := "tower"
		if i%3 == 0 {
			kind = "pole"
		}
		fmt.Fprintf(&b, "%s-%06d,%s,%.6f,%.6f,%d,%d,Đường số %d\n", prefix, i, kind,
			9.95+rng.Float64()*0.2, 105.65+rng.Float64()*0.2, 10+rng.IntN(40), 1+rng.IntN(4), i%500)
	}
	return b.Bytes()
}

// importWriting reports whether a connection of the server is inside a
// transaction that is inserting assets (an import copies them in).
func importWriting(t *testing.T, db *database.DB) bool {
	var n int64
	if err := db.Root().WithContext(dbtest.Context(t)).Raw(`SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
  AND (query LIKE 'INSERT INTO assets%' OR query LIKE 'copy "assets"%')`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestCrashDuringImportLeavesNothing(t *testing.T) {
	needPostgres(t)
	const rows = 50000
	url := dbtest.URL(t, database.Postgres)
	env := demoEnv(url)
	s := startServer(t, env)
	s.waitReady(t)
	db := openDB(t, url)
	ctx := dbtest.Context(t)

	// When to kill: as soon as the whole file has been sent (the server is
	// still reading and checking it; nothing is written yet), or a while
	// after the import's transaction started inserting rows.
	kills := []struct {
		name        string
		waitInserts bool
		delay       time.Duration
	}{
		{"file sent, rows being read and checked", false, 0},
		{"first rows inserted", true, 0},
		{"inserting +250 ms", true, 250 * time.Millisecond},
		{"inserting +700 ms", true, 700 * time.Millisecond},
	}
	midWrite, completed := 0, 0
	for i, k := range kills {
		began := time.Now()
		prefix := fmt.Sprintf("CRASH%d", i)
		operator := signIn(t, s, viettelEmail)
		body := &sentReader{r: bytes.NewReader(importCSV(prefix, rows)), sent: make(chan struct{})}
		req, err := http.NewRequest("POST", "http://"+s.addr+"/api/v1/assets/import", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+operator.token)
		answered := make(chan int, 1)
		go func() {
			resp, err := httpClient.Do(req)
			if err != nil {
				answered <- 0 // cut off by the kill
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answered <- resp.StatusCode
		}()
		select {
		case <-body.sent:
		case code := <-answered:
			t.Fatalf("%s: the import answered %d before the server read the file", k.name, code)
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: the server did not read the file within 60 s", k.name)
		}
		sentAfter := time.Since(began)
		sawInserts := false
		if k.waitInserts {
			deadline := time.Now().Add(60 * time.Second)
			for !sawInserts && time.Now().Before(deadline) {
				if sawInserts = importWriting(t, db); !sawInserts {
					select {
					case code := <-answered:
						t.Fatalf("%s: the import answered %d before any insert was seen", k.name, code)
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
			if !sawInserts {
				t.Fatalf("%s: no insert into assets seen within 60 s", k.name)
			}
			time.Sleep(k.delay)
		}
		// The import is in progress when the kill comes unless it has
		// answered already.
		var code int
		select {
		case code = <-answered:
		default:
		}
		s.kill(t)
		if code == 0 {
			code = <-answered
		}
		killedAfter := time.Since(began)
		s = startServer(t, env)
		s.waitReady(t)

		var imported int64
		db.Root().WithContext(ctx).Raw("SELECT count(*) FROM assets WHERE code LIKE ?", prefix+"-%").Scan(&imported)
		switch {
		case code == 200 && imported == rows:
			completed++
			t.Logf("kill %d (%s): the import had finished (200) before the kill; all %d rows kept", i+1, k.name, rows)
		case code == 0 && imported == 0:
			if sawInserts {
				midWrite++
			}
			t.Logf("kill %d (%s, %v after the file was sent): import cut off; 0 of %d rows kept", i+1, k.name,
				(killedAfter - sentAfter).Round(time.Millisecond), rows)
		default:
			t.Fatalf("kill %d (%s): the import answered %d (0: cut off) and %d of its %d rows are in the register", i+1, k.name, code, imported, rows)
		}
		var listed struct {
			Items []any `json:"items"`
		}
		signIn(t, s, viettelEmail).must("GET", "/api/v1/assets?q="+prefix+"-&limit=1", nil, 200, &listed)
		if (len(listed.Items) > 0) != (code == 200) {
			t.Fatalf("kill %d: the API lists %d of the import's assets after the restart", i+1, len(listed.Items))
		}
		verifyAuditChain(t, s)
	}
	// One import event per import that finished, none for those cut off.
	var importEvents int64
	db.Root().WithContext(ctx).Raw("SELECT count(*) FROM audit_events WHERE action = 'asset.import' AND after LIKE ?", fmt.Sprintf(`%%"rows":%d%%`, rows)).Scan(&importEvents)
	if importEvents != int64(completed) {
		t.Errorf("%d audit events of %d-row imports, want %d (the imports that finished)", importEvents, rows, completed)
	}
	if midWrite < 2 {
		t.Fatalf("only %d kills landed while rows were being inserted; lower the delays", midWrite)
	}

	// After the crashes, rows with the codes of a killed import are new
	// again: nothing of it is left to collide with or wait for.
	const again = 1000
	var res struct {
		Created int `json:"created"`
	}
	code, data, err := signIn(t, s, viettelEmail).call("POST", "/api/v1/assets/import", string(importCSV("CRASH1", again)))
	if err != nil || code != 200 {
		t.Fatalf("import after the crashes: %d %v %s", code, err, data)
	}
	if err := json.Unmarshal(data, &res); err != nil || res.Created != again {
		t.Fatalf("import after the crashes created %d (%v), want %d", res.Created, err, again)
	}
	events := verifyAuditChain(t, s)
	t.Logf("%d kills with a %d-row import in flight (%d while inserting, %d after it finished); %d audit events verify", len(kills), rows, midWrite, completed, events)
}

// burstAction is one co-location action of a burst, and what came of it.
type burstAction struct {
	request int64
	action  string
	as      *client
	body    map[string]any
	sent    bool
	code    int // 0: no answer, cut off by the kill
}

func TestCrashDuringColocationBurstKeepsLedger(t *testing.T) {
	needPostgres(t)
	url := dbtest.URL(t, database.Postgres)
	env := demoEnv(url)
	s := startServer(t, env)
	s.waitReady(t)
	db := openDB(t, url)

	rng := rand.New(rand.NewPCG(42, 9))
	var mine []int64
	var acked []burstAction
	totalActions, totalCut := 0, 0

	const rounds, perRound = 3, 20
	for round := 1; round <= rounds; round++ {
		owner := signIn(t, s, viettelEmail)
		requesters := []*client{signIn(t, s, vnptEmail), signIn(t, s, mobiEmail)}
		// Fresh towers and requests, each on one or two towers: 16 units
		// for up to 30 asked, so approvals also race for the last units.
		towers := importTowers(t, owner, fmt.Sprintf("BURST%d", round), 8, 2)
		var fresh []int64
		side := map[int64]*client{}
		for i := 0; i < perRound; i++ {
			a := []int64{towers[rng.IntN(len(towers))]}
			if i%2 == 0 {
				if b := towers[rng.IntN(len(towers))]; b != a[0] {
					a = append(a, b)
				}
			}
			req := requesters[i%2]
			id := submit(t, req, a...)
			fresh = append(fresh, id)
			side[id] = req
		}
		mine = append(mine, fresh...)

		// Each fresh request goes approve → accept → activate in order, while
		// a withdrawal (every third) or a rejection (every fourth) races it;
		// active requests of earlier rounds are terminated meanwhile.
		var chains [][]burstAction
		for i, id := range fresh {
			req := side[id]
			chains = append(chains, []burstAction{
				{request: id, action: "approve", as: owner, body: map[string]any{"action": "approve", "offer_rent_vnd": 2000000}},
				{request: id, action: "accept", as: req, body: map[string]any{"action": "accept"}},
				{request: id, action: "activate", as: req, body: map[string]any{"action": "activate"}},
			})
			if i%3 == 0 {
				chains = append(chains, []burstAction{{request: id, action: "withdraw", as: req, body: map[string]any{"action": "withdraw"}}})
			}
			if i%4 == 1 {
				chains = append(chains, []burstAction{{request: id, action: "reject", as: owner,
					body: map[string]any{"action": "reject", "reason_code": "no_capacity"}}})
			}
		}
		var active []int64
		db.Root().WithContext(dbtest.Context(t)).Raw("SELECT id FROM colocation_requests WHERE id IN ? AND state = 'active'", mine).Scan(&active)
		for _, id := range active {
			chains = append(chains, []burstAction{{request: id, action: "terminate", as: owner, body: map[string]any{"action": "terminate", "reason": "end of contract"}}})
		}
		n := 0
		for _, c := range chains {
			n += len(c)
		}
		rng.Shuffle(len(chains), func(i, j int) { chains[i], chains[j] = chains[j], chains[i] })

		// Fire every chain at once; SIGKILL when a third of the actions
		// have been answered.
		var answered atomic.Int32
		killAt := int32(n / 3)
		reached := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for ci := range chains {
			wg.Add(1)
			go func(chain []burstAction) {
				defer wg.Done()
				for j := range chain {
					a := &chain[j]
					a.sent = true
					code, _, err := a.as.call("POST", fmt.Sprintf("/api/v1/colocation-requests/%d/actions", a.request), a.body)
					if err != nil {
						return // cut off by the kill: the rest of the chain never goes
					}
					a.code = code
					if answered.Add(1) >= killAt {
						once.Do(func() { close(reached) })
					}
					if code != 200 {
						return
					}
				}
			}(chains[ci])
		}
		select {
		case <-reached:
		case <-time.After(60 * time.Second):
			t.Fatalf("round %d: only %d of %d actions answered in 60 s", round, answered.Load(), n)
		}
		s.kill(t)
		wg.Wait()
		ok, refused, cut, unsent := 0, 0, 0, 0
		for _, c := range chains {
			for _, a := range c {
				switch {
				case !a.sent:
					unsent++
				case a.code == 200:
					ok++
					acked = append(acked, a)
				case a.code == 409:
					refused++
				case a.code == 0:
					cut++
				default:
					t.Errorf("round %d: %s on request %d answered %d", round, a.action, a.request, a.code)
				}
			}
		}
		totalActions += n
		totalCut += cut
		if cut == 0 {
			t.Fatalf("round %d: the kill cut off no action; the burst was over before it", round)
		}
		s = startServer(t, env)
		s.waitReady(t)
		checkColocationAfterCrash(t, db, mine, acked)
		events := verifyAuditChain(t, s)
		t.Logf("round %d: %d actions on %d requests; %d done (200), %d refused (409), %d in flight when SIGKILL came, %d never sent; after the restart the ledger holds and %d audit events verify",
			round, n, len(fresh)+len(active), ok, refused, cut, unsent, events)
	}
	t.Logf("%d rounds, %d actions, %d kills, %d acknowledged transitions all kept, %d actions in flight at a kill", rounds, totalActions, rounds, len(acked), totalCut)
}

// checkColocationAfterCrash checks the requests ids after a crash: the
// capacity counters, that allocations match each request's state, that the
// timeline of each request is one unbroken chain ending in its state with
// one audit event and one notification per step, and that every
// acknowledged action is there.
func checkColocationAfterCrash(t *testing.T, db *database.DB, ids []int64, acked []burstAction) {
	t.Helper()
	ctx := dbtest.Context(t)
	checkCapacityLedger(t, db)

	var reqs []struct {
		ID                        int64
		State                     string
		Reserved                  bool
		Version                   int
		Items, HeldRes, HeldAct   int
		Audits, Notices, Released int
	}
	if err := db.Root().WithContext(ctx).Raw(`
SELECT r.id, r.state, r.reserved, r.version,
  (SELECT count(*) FROM colocation_items i WHERE i.request_id = r.id) AS items,
  (SELECT count(*) FROM allocations l WHERE l.colocation_request_id = r.id AND l.status = 'reserved') AS held_res,
  (SELECT count(*) FROM allocations l WHERE l.colocation_request_id = r.id AND l.status = 'active') AS held_act,
  (SELECT count(*) FROM audit_events x WHERE x.object_type = 'colocation_request' AND x.object_id = CAST(r.id AS text)) AS audits,
  (SELECT count(*) FROM outbox_events o WHERE o.object_type = 'colocation_request' AND o.object_id = CAST(r.id AS text)
     AND o.kind <> 'colocation.reminder') AS notices
FROM colocation_requests r WHERE r.id IN ? ORDER BY r.id`, ids).Scan(&reqs).Error; err != nil {
		t.Fatal(err)
	}
	if len(reqs) != len(ids) {
		t.Fatalf("read %d requests, want %d", len(reqs), len(ids))
	}
	var evs []struct {
		RequestID          int64
		Action             string
		FromState, ToState string
	}
	if err := db.Root().WithContext(ctx).Raw("SELECT request_id, action, from_state, to_state FROM colocation_events WHERE request_id IN ? ORDER BY id", ids).
		Scan(&evs).Error; err != nil {
		t.Fatal(err)
	}
	timeline := map[int64][]string{}
	last := map[int64]string{}
	actions := map[string]bool{}
	for _, e := range evs {
		if e.FromState != last[e.RequestID] {
			t.Errorf("request %d: %s from %q follows a step that ended in %q", e.RequestID, e.Action, e.FromState, last[e.RequestID])
		}
		last[e.RequestID] = e.ToState
		timeline[e.RequestID] = append(timeline[e.RequestID], e.Action)
		actions[fmt.Sprintf("%d %s", e.RequestID, e.Action)] = true
	}
	for _, r := range reqs {
		steps := len(timeline[r.ID])
		if last[r.ID] != r.State || steps != r.Version || r.Audits != steps || r.Notices != steps {
			t.Errorf("request %d is %s (version %d) with timeline %v, %d audit events and %d notifications",
				r.ID, r.State, r.Version, timeline[r.ID], r.Audits, r.Notices)
		}
		wantRes, wantAct := 0, 0
		switch r.State {
		case "approved", "agreed":
			wantRes = r.Items
		case "active":
			wantAct = r.Items
		}
		// The reserved flag means the request holds its room, reserved or
		// in use.
		if r.HeldRes != wantRes || r.HeldAct != wantAct || r.Reserved != (wantRes+wantAct > 0) {
			t.Errorf("request %d is %s with %d items but holds %d reserved and %d active allocations (reserved flag %v)",
				r.ID, r.State, r.Items, r.HeldRes, r.HeldAct, r.Reserved)
		}
	}
	// Allocations of co-location requests that no request holds.
	var orphans int64
	db.Root().WithContext(ctx).Raw(`SELECT count(*) FROM allocations l JOIN colocation_requests r ON r.id = l.colocation_request_id
WHERE l.status <> 'released' AND r.state NOT IN ('approved','agreed','active','disputed')`).Scan(&orphans)
	if orphans > 0 {
		t.Errorf("%d allocations held for requests in a state that holds none", orphans)
	}
	var lost []string
	for _, a := range acked {
		if k := fmt.Sprintf("%d %s", a.request, a.action); !actions[k] {
			lost = append(lost, k)
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		t.Errorf("acknowledged actions missing after the restart: %v", lost)
	}
}
