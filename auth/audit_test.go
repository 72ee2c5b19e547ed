package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

// ictClock always tells one instant, in Vietnam's zone and with
// nanoseconds, to show that the log stores UTC with microseconds whatever
// the clock hands it.
type ictClock struct{ at time.Time }

func (c ictClock) Now() time.Time { return c.at }

var ict = time.FixedZone("ICT", 7*3600)

// unsortedStruct marshals its keys out of order.
type unsortedStruct struct {
	Zed    string `json:"zed"`
	Alpha  int64  `json:"alpha"`
	Nested struct {
		Y bool `json:"y"`
		B int  `json:"b"`
	} `json:"nested"`
}

func TestAuditRecordsAHashChainInUTC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		at := time.Date(2026, 3, 2, 16, 30, 15, 123456789, ict)
		audit := auth.NewAudit(db, ictClock{at})
		officer := auth.Actor{UserID: 7, OrgID: 3, Roles: []string{auth.RoleOfficer}}

		var s unsortedStruct
		s.Zed, s.Alpha, s.Nested.Y, s.Nested.B = "z", 9007199254740993, true, 2
		// Three events in one transaction, one in another, one on its own.
		err := db.Tx(auth.WithRequestID(ctx, "req-1"), func(ctx context.Context) error {
			for _, c := range []auth.Change{
				{Action: "asset.create", ObjectType: "asset", ObjectID: "1",
					After: map[string]any{"zeta": 1, "alpha": map[string]any{"y": true, "x": nil}, "mid": []int{3, 1, 2}}},
				{Action: "asset.update", ObjectType: "asset", ObjectID: "1",
					Before: json.RawMessage(`{"b": 1,  "a": [ 2, {"d": 4, "c": 3} ]}`), After: s, Reason: "typo"},
				{Action: "asset.delete", ObjectType: "asset", ObjectID: "1", Before: s},
			} {
				if err := audit.Record(ctx, officer, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(ctx context.Context) error {
			return audit.Record(ctx, auth.SystemActor, auth.Change{Action: "sweep", ObjectType: "request", ObjectID: "9"})
		}); err != nil {
			t.Fatal(err)
		}
		if err := audit.Record(ctx, officer, auth.Change{Action: "permit.submit", ObjectType: "permit", ObjectID: "4"}); err != nil {
			t.Fatalf("Record outside a transaction: %v", err)
		}

		if res := verify(t, ctx, audit); !res.OK || res.Events != 5 || res.FirstBadID != nil {
			t.Fatalf("verify %+v, want ok with 5 events", res)
		}
		if n := headCount(t, db); n != 5 {
			t.Fatalf("head counts %d events, want 5", n)
		}
		evs := events(t, db)
		if len(evs) != 5 {
			t.Fatalf("%d events, want 5", len(evs))
		}
		wantActions := []string{"asset.create", "asset.update", "asset.delete", "sweep", "permit.submit"}
		wantAt := at.UTC().Truncate(time.Microsecond)
		prev := auth.GenesisHash
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has seq %d, want %d", i, e.Seq, i+1)
			}
			if e.Action != wantActions[i] {
				t.Errorf("event %d is %s, want %s (the order of recording)", e.Seq, e.Action, wantActions[i])
			}
			if e.PrevHash != prev {
				t.Errorf("event %d prev_hash %s, want the previous event's hash %s", e.Seq, e.PrevHash, prev)
			}
			sum := sha256.Sum256(append([]byte(e.PrevHash), auth.CanonicalBytes(e)...))
			if e.Hash != hex.EncodeToString(sum[:]) {
				t.Errorf("event %d hash is not SHA-256(prev_hash ‖ canonical bytes)", e.Seq)
			}
			if !e.At.Equal(wantAt) || e.At.Location() != time.UTC {
				t.Errorf("event %d at %v, want %v (UTC, microseconds)", e.Seq, e.At, wantAt)
			}
			prev = e.Hash
		}
		// The stored text itself is UTC with microseconds.
		if db.Dialect() == database.SQLite {
			var raw string
			if err := db.Root().Raw("SELECT CAST(at AS TEXT) FROM audit_events WHERE seq = 1").Scan(&raw).Error; err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, "2026-03-02 09:30:15.123456") || !(strings.HasSuffix(raw, "+00:00") || strings.HasSuffix(raw, "Z")) {
				t.Errorf("stored at %q, want 2026-03-02 09:30:15.123456 in UTC", raw)
			}
		} else {
			var raw string
			if err := db.Root().Raw(`SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM audit_events WHERE seq = 1`).Scan(&raw).Error; err != nil {
				t.Fatal(err)
			}
			if raw != "2026-03-02 09:30:15.123456" {
				t.Errorf("stored at %q (UTC), want 2026-03-02 09:30:15.123456", raw)
			}
		}

		// Canonical JSON: sorted keys at every depth, no spaces, integers exact.
		canon := []struct {
			name string
			got  *string
			want string
		}{
			{"map after", evs[0].After, `{"alpha":{"x":null,"y":true},"mid":[3,1,2],"zeta":1}`},
			{"raw before", evs[1].Before, `{"a":[2,{"c":3,"d":4}],"b":1}`},
			{"struct after", evs[1].After, `{"alpha":9007199254740993,"nested":{"b":2,"y":true},"zed":"z"}`},
			{"struct before", evs[2].Before, `{"alpha":9007199254740993,"nested":{"b":2,"y":true},"zed":"z"}`},
		}
		for _, c := range canon {
			if c.got == nil || *c.got != c.want {
				got := "<nil>"
				if c.got != nil {
					got = *c.got
				}
				t.Errorf("%s stored as %s, want %s", c.name, got, c.want)
			}
		}
		if evs[0].Before != nil || evs[2].After != nil || evs[3].After != nil {
			t.Error("an absent before/after must be stored as NULL")
		}

		// Who and which request.
		if evs[0].ActorID == nil || *evs[0].ActorID != 7 || evs[0].OrgID == nil || *evs[0].OrgID != 3 {
			t.Errorf("event 1 actor %v org %v, want 7 and 3", evs[0].ActorID, evs[0].OrgID)
		}
		if evs[3].ActorID != nil {
			t.Errorf("a system event has actor_id %d, want NULL", *evs[3].ActorID)
		}
		if evs[0].RequestID != "req-1" || evs[2].RequestID != "req-1" || evs[3].RequestID != "" {
			t.Errorf("request ids %q %q %q, want req-1 req-1 and none", evs[0].RequestID, evs[2].RequestID, evs[3].RequestID)
		}
		if evs[1].Reason != "typo" {
			t.Errorf("reason %q, want typo", evs[1].Reason)
		}
	})
}

func TestAuditEventOfAFailedTransactionIsNotWritten(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		clock := infrashare.NewTestClock(t0)
		audit := auth.NewAudit(db, clock)
		if err := audit.Record(ctx, auditor, auth.Change{Action: "first", ObjectType: "x", ObjectID: "1"}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.Tx(ctx, func(ctx context.Context) error {
			if err := db.Conn(ctx).Exec("UPDATE counters SET value = value + 1 WHERE name = 'policy_version'").Error; err != nil {
				return err
			}
			if err := audit.Record(ctx, auditor, auth.Change{Action: "doomed", ObjectType: "x", ObjectID: "2"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v, want the function's error", err)
		}
		if n := len(eventsWith(t, db, "doomed")); n != 0 {
			t.Fatalf("%d events of the failed transaction written, want 0", n)
		}
		if n := headCount(t, db); n != 1 {
			t.Fatalf("head counts %d after the failed transaction, want 1", n)
		}
		// The chain goes on without a gap.
		if err := audit.Record(ctx, auditor, auth.Change{Action: "second", ObjectType: "x", ObjectID: "3"}); err != nil {
			t.Fatal(err)
		}
		evs := events(t, db)
		if len(evs) != 2 || evs[1].Seq != 2 || evs[1].Action != "second" {
			t.Fatalf("events %+v, want first and second with seq 1 and 2", evs)
		}
		if res := verify(t, ctx, audit); !res.OK || res.Events != 2 {
			t.Fatalf("verify %+v, want ok with 2 events", res)
		}
	})
}

// tamper runs statements on audit_events behind the log's back: on
// PostgreSQL with its append-only trigger switched off for the moment.
func tamper(t *testing.T, db *database.DB, stmts ...string) {
	t.Helper()
	g := db.Root().WithContext(dbtest.Context(t))
	if db.IsPostgres() {
		stmts = append(append([]string{"ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"}, stmts...),
			"ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
	}
	for _, q := range stmts {
		if err := g.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name    string
		stmts   []string
		badSeq  int64
		wantErr string
	}{
		{"after of an event changed", []string{`UPDATE audit_events SET "after" = '{"rent_vnd":1}' WHERE seq = 3`}, 3, ""},
		{"reason of the first event changed", []string{`UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 1`}, 1, ""},
		{"hash recomputed without its successor", []string{`UPDATE audit_events SET hash = '` + strings.Repeat("a", 64) + `' WHERE seq = 4`}, 4, ""},
		{"an event in the middle removed", []string{`DELETE FROM audit_events WHERE seq = 2`}, 2, ""},
		{"the last two events removed", []string{`DELETE FROM audit_events WHERE seq > 3`}, 4, ""},
		{"the last event removed", []string{`DELETE FROM audit_events WHERE seq = 5`}, 5, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				ctx := dbtest.Context(t)
				audit := auth.NewAudit(db, infrashare.NewTestClock(t0))
				for i := 1; i <= 5; i++ {
					if err := audit.Record(ctx, auditor, auth.Change{Action: "asset.update", ObjectType: "asset",
						ObjectID: strconv.Itoa(i), After: map[string]any{"rent_vnd": i * 1000}}); err != nil {
						t.Fatal(err)
					}
				}
				if res := verify(t, ctx, audit); !res.OK || res.Events != 5 {
					t.Fatalf("verify before tampering %+v, want ok with 5", res)
				}
				tamper(t, db, tc.stmts...)
				res := verify(t, ctx, audit)
				if res.OK {
					t.Fatalf("verify after tampering says ok: %+v", res)
				}
				if res.FirstBadID == nil || *res.FirstBadID != tc.badSeq {
					t.Fatalf("verify %+v: first_bad_id %v, want %d", res, res.FirstBadID, tc.badSeq)
				}
				if res.Reason == "" {
					t.Error("verify gives no reason for the failure")
				}
			})
		})
	}
}

func TestAuditPostgresTriggerRefusesChanges(t *testing.T) {
	db := requirePostgres(t)
	ctx := dbtest.Context(t)
	audit := auth.NewAudit(db, infrashare.NewTestClock(t0))
	for i := 1; i <= 2; i++ {
		if err := audit.Record(ctx, auditor, auth.Change{Action: "asset.create", ObjectType: "asset", ObjectID: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`UPDATE audit_events SET reason = 'edited' WHERE seq = 1`,
		`UPDATE audit_events SET "after" = '{}'`,
		`DELETE FROM audit_events WHERE seq = 2`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		err := db.Root().WithContext(ctx).Exec(q).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	evs := events(t, db)
	if len(evs) != 2 || evs[0].Reason != "" {
		t.Fatalf("after refused changes: %+v, want the 2 events untouched", evs)
	}
	if res := verify(t, ctx, audit); !res.OK || res.Events != 2 {
		t.Fatalf("verify %+v, want ok with 2 events", res)
	}
}

// Fifty writers at once extend one chain: no fork, no gap, no lost event.
func TestAuditConcurrentWritersKeepOneChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		audit := auth.NewAudit(db, infrashare.SystemClock{})
		const writers = 50
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, writers)
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				errs[i] = db.Tx(ctx, func(ctx context.Context) error {
					// Some work of the transaction before its event.
					var n int64
					if err := db.Conn(ctx).Table("audit_head").Count(&n).Error; err != nil {
						return err
					}
					return audit.Record(ctx, auth.Actor{UserID: int64(i + 1), OrgID: 1, Roles: []string{auth.RoleOperator}},
						auth.Change{Action: "asset.create", ObjectType: "asset", ObjectID: fmt.Sprintf("obj-%d", i),
							After: map[string]any{"writer": i}})
				})
			}(i)
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		res := verify(t, ctx, audit)
		if !res.OK || res.Events != writers {
			t.Fatalf("verify %+v, want ok with %d events", res, writers)
		}
		evs := events(t, db)
		if len(evs) != writers {
			t.Fatalf("%d events, want %d", len(evs), writers)
		}
		seen := map[string]int{}
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d: the sequence has a gap", i, e.Seq)
			}
			seen[e.ObjectID]++
		}
		for i := 0; i < writers; i++ {
			if id := fmt.Sprintf("obj-%d", i); seen[id] != 1 {
				t.Errorf("%s logged %d times, want once", id, seen[id])
			}
		}
	})
}

func TestAuditReadingIsForTheDepartmentAndAdmins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		audit := auth.NewAudit(db, infrashare.NewTestClock(t0))
		if err := audit.Record(ctx, auditor, auth.Change{Action: "a", ObjectType: "x", ObjectID: "1"}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			actor auth.Actor
			may   bool
		}{
			{"operator", auth.Actor{UserID: 5, OrgID: 5, Roles: []string{auth.RoleOperator}}, false},
			{"officer", auth.Actor{UserID: 3, OrgID: 3, Roles: []string{auth.RoleOfficer}}, false},
			{"nobody", auth.Actor{}, false},
			{"auditor", auditor, true},
			{"admin", auth.Actor{UserID: 1, OrgID: 1, Roles: []string{auth.RoleAdmin}}, true},
			{"system", auth.SystemActor, true},
		}
		for _, c := range cases {
			res, verr := audit.Verify(ctx, c.actor)
			items, _, lerr := audit.List(ctx, c.actor, auth.AuditFilter{})
			if c.may {
				if verr != nil || !res.OK || lerr != nil || len(items) != 1 {
					t.Errorf("%s: verify %+v %v, list %d items %v; want both allowed", c.name, res, verr, len(items), lerr)
				}
				continue
			}
			wantCode(t, verr, infrashare.EFORBIDDEN)
			wantCode(t, lerr, infrashare.EFORBIDDEN)
			if len(items) != 0 || res.Events != 0 {
				t.Errorf("%s: a refused call still returned data", c.name)
			}
		}
	})
}

func TestAuditListFiltersAndPagesNewestFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		clock := infrashare.NewTestClock(t0)
		audit := auth.NewAudit(db, clock)
		alice := auth.Actor{UserID: 11, OrgID: 5, Roles: []string{auth.RoleOperator}}
		bob := auth.Actor{UserID: 12, OrgID: 6, Roles: []string{auth.RoleOperator}}
		for _, r := range []struct {
			actor auth.Actor
			c     auth.Change
		}{
			{alice, auth.Change{Action: "asset.create", ObjectType: "asset", ObjectID: "1"}}, // seq 1, t0
			{alice, auth.Change{Action: "asset.create", ObjectType: "asset", ObjectID: "2"}}, // 2, t0+1h
			{bob, auth.Change{Action: "asset.create", ObjectType: "asset", ObjectID: "3"}},   // 3, t0+2h
			{alice, auth.Change{Action: "asset.update", ObjectType: "asset", ObjectID: "2"}}, // 4, t0+3h
			{bob, auth.Change{Action: "permit.submit", ObjectType: "permit", ObjectID: "2"}}, // 5, t0+4h
		} {
			if err := audit.Record(ctx, r.actor, r.c); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour)
		}
		seqs := func(evs []auth.AuditEvent) []int64 {
			out := []int64{}
			for _, e := range evs {
				out = append(out, e.Seq)
			}
			return out
		}
		filters := []struct {
			name string
			f    auth.AuditFilter
			want []int64
		}{
			{"all", auth.AuditFilter{}, []int64{5, 4, 3, 2, 1}},
			{"object type", auth.AuditFilter{ObjectType: "asset"}, []int64{4, 3, 2, 1}},
			{"one object", auth.AuditFilter{ObjectType: "asset", ObjectID: "2"}, []int64{4, 2}},
			{"object id of another type", auth.AuditFilter{ObjectType: "permit", ObjectID: "2"}, []int64{5}},
			{"action", auth.AuditFilter{Action: "asset.create"}, []int64{3, 2, 1}},
			{"actor", auth.AuditFilter{ActorID: 12}, []int64{5, 3}},
			{"from and to", auth.AuditFilter{From: t0.Add(90 * time.Minute), To: t0.Add(3 * time.Hour)}, []int64{3}},
			{"from inclusive", auth.AuditFilter{From: t0.Add(3 * time.Hour).In(ict)}, []int64{5, 4}},
			{"nothing matches", auth.AuditFilter{Action: "asset.delete"}, []int64{}},
		}
		for _, c := range filters {
			got, next, err := audit.List(ctx, auditor, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if fmt.Sprint(seqs(got)) != fmt.Sprint(c.want) || next != "" {
				t.Errorf("%s: seqs %v next %q, want %v and no next page", c.name, seqs(got), next, c.want)
			}
		}

		// Pages of two, newest first, until the cursor runs out.
		var pages [][]int64
		cursor := ""
		for i := 0; i < 5; i++ {
			got, next, err := audit.List(ctx, auditor, auth.AuditFilter{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, seqs(got))
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(pages) != "[[5 4] [3 2] [1]]" {
			t.Fatalf("pages %v, want [[5 4] [3 2] [1]]", pages)
		}
		// The cursor combines with a filter.
		got, next, err := audit.List(ctx, auditor, auth.AuditFilter{ObjectType: "asset", Limit: 3})
		if err != nil || fmt.Sprint(seqs(got)) != "[4 3 2]" || next == "" {
			t.Fatalf("first asset page %v next %q err %v", seqs(got), next, err)
		}
		got, next, err = audit.List(ctx, auditor, auth.AuditFilter{ObjectType: "asset", Limit: 3, Cursor: next})
		if err != nil || fmt.Sprint(seqs(got)) != "[1]" || next != "" {
			t.Fatalf("second asset page %v next %q err %v", seqs(got), next, err)
		}
		// ListForObject is the object's history.
		got, _, err = audit.ListForObject(ctx, "asset", "2", 0, "")
		if err != nil || fmt.Sprint(seqs(got)) != "[4 2]" {
			t.Fatalf("ListForObject %v %v, want [4 2]", seqs(got), err)
		}
		for _, bad := range []string{"not-a-cursor!", auth.EncodeCursor(0), "LTE"} {
			_, _, err := audit.List(ctx, auditor, auth.AuditFilter{Cursor: bad})
			wantField(t, err, "cursor")
		}
	})
}

// Verifying while other requests write must not report tampering: the
// auditor runs it on a live system. Verify reads the head and then the
// events in separate statements, so an append committed in between looks
// like "events beyond the head's count".
func TestAuditVerifyWhileOthersWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		audit := auth.NewAudit(db, infrashare.SystemClock{})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		written := 0
		var writeErr error
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					err := audit.Record(ctx, auth.SystemActor, auth.Change{Action: "asset.update", ObjectType: "asset",
						ObjectID: fmt.Sprintf("%d-%d", w, i)})
					mu.Lock()
					if err != nil && writeErr == nil {
						writeErr = err
					}
					if err == nil {
						written++
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}(w)
		}
		// Up to 300 verifications, or 3 s: each reads the whole, growing log.
		var bad []auth.VerifyResult
		last := int64(0)
		runs := 0
		for deadline := time.Now().Add(3 * time.Second); runs < 300 && (runs < 10 || time.Now().Before(deadline)); runs++ {
			res, err := audit.Verify(ctx, auditor)
			if err != nil {
				close(stop)
				wg.Wait()
				t.Fatalf("verify: %v", err)
			}
			if !res.OK {
				bad = append(bad, res)
			} else if res.Events < last {
				t.Errorf("verify saw %d events after having seen %d", res.Events, last)
			} else {
				last = res.Events
			}
		}
		close(stop)
		wg.Wait()
		if writeErr != nil {
			t.Fatalf("a writer failed: %v", writeErr)
		}
		if len(bad) > 0 {
			t.Errorf("%d of %d verifications during writes reported an intact log as broken, the first: %+v (first_bad_id %d)",
				len(bad), runs, bad[0], *bad[0].FirstBadID)
		}
		if res := verify(t, ctx, audit); !res.OK || res.Events != int64(written) {
			t.Fatalf("verify after the writers stopped %+v, want ok with %d events", res, written)
		}
	})
}
