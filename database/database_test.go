package database_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in, dialect, target string
		ok                  bool
	}{
		{"sqlite://./data/infrashare.db", database.SQLite, "./data/infrashare.db", true},
		{"sqlite:///var/lib/infrashare/db.sqlite", database.SQLite, "/var/lib/infrashare/db.sqlite", true},
		{"postgres://u@localhost:5432/x?sslmode=disable", database.Postgres, "postgres://u@localhost:5432/x?sslmode=disable", true},
		{"postgresql://u@db/x", database.Postgres, "postgresql://u@db/x", true},
		{"sqlite://", "", "", false},
		{"mysql://root@localhost/x", "", "", false},
		{"./data/infrashare.db", "", "", false},
	} {
		d, target, err := database.ParseURL(c.in)
		if (err == nil) != c.ok || d != c.dialect || target != c.target {
			t.Errorf("ParseURL(%q) = %q, %q, %v", c.in, d, target, err)
		}
	}
}

func TestSQLiteRefusesASecondOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "folder", "x.db")
	ctx := dbtest.Context(t)
	first, err := database.Open(ctx, "sqlite://"+path, database.Options{})
	if err != nil {
		t.Fatalf("open creates the folder on demand: %v", err)
	}
	if _, err := database.Open(ctx, "sqlite://"+path, database.Options{}); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second open: %v, want refused", err)
	}
	first.Close()
	again, err := database.Open(ctx, "sqlite://"+path, database.Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	again.Close()
}

// Searches at national scale rely on SQLite reading the file through a
// memory map and a page cache of 64 MiB (database.Open).
func TestSQLiteMapsTheFile(t *testing.T) {
	ctx := dbtest.Context(t)
	db, err := database.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "x.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]int64{"mmap_size": 1 << 30, "cache_size": -65536, "busy_timeout": 5000} {
		var got int64
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %d, want %d", pragma, got, want)
		}
	}
}

func TestTxCommitsRollsBackAndJoins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		count := func() int64 {
			var n int64
			db.Conn(ctx).Table("counters").Where("name IN ('a', 'b')").Count(&n)
			return n
		}
		boom := errors.New("boom")
		err := db.Tx(ctx, func(ctx context.Context) error {
			if err := db.Conn(ctx).Exec("INSERT INTO counters (name, value) VALUES ('a', 1)").Error; err != nil {
				return err
			}
			// A nested Tx joins: its failure undoes the outer insert too.
			return db.Tx(ctx, func(ctx context.Context) error {
				if !database.InTx(ctx) {
					t.Error("nested Tx has no transaction")
				}
				db.Conn(ctx).Exec("INSERT INTO counters (name, value) VALUES ('b', 1)")
				return boom
			})
		})
		if !errors.Is(err, boom) || count() != 0 {
			t.Fatalf("err %v, %d rows after rollback", err, count())
		}
		err = db.Tx(ctx, func(ctx context.Context) error {
			return db.Conn(ctx).Exec("INSERT INTO counters (name, value) VALUES ('a', 1)").Error
		})
		if err != nil || count() != 1 {
			t.Fatalf("commit: %v, %d rows", err, count())
		}
		err = db.Conn(ctx).Exec("INSERT INTO counters (name, value) VALUES ('a', 2)").Error
		if !database.IsUniqueViolation(err) {
			t.Fatalf("duplicate key: %v, want a unique violation", err)
		}
	})
}

// A transaction PostgreSQL keeps aborting for serialization is retried and
// then answered as a conflict, never as an internal error.
func TestTxRetriesThenConflicts(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		if d != database.Postgres {
			continue
		}
		db := dbtest.Open(t, d)
		ctx := dbtest.Context(t)
		attempts := 0
		err := db.Tx(ctx, func(ctx context.Context) error {
			attempts++
			return db.Conn(ctx).Exec(`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END $$`).Error
		})
		if attempts < 2 || infrashare.ErrorCode(err) != infrashare.ECONFLICT {
			t.Fatalf("attempts %d, err %v; want retries then a conflict", attempts, err)
		}
	}
}

// On PostgreSQL writing transactions may hold half the pool at most: while
// they wait (on the audit head, in production), reads still find a
// connection, and a further transaction waits for a turn instead of taking
// the last connections.
func TestTransactionsLeaveConnectionsForReads(t *testing.T) {
	if !slices.Contains(dbtest.Dialects(t), database.Postgres) {
		t.Skipf("PostgreSQL not configured: set %s to run this test", dbtest.EnvPostgresURL)
	}
	ctx := dbtest.Context(t)
	db, err := database.Open(ctx, dbtest.URL(t, database.Postgres), database.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// holdTwo opens two transactions that stay open until release closes.
	holdTwo := func(release chan struct{}) {
		var held sync.WaitGroup
		held.Add(2)
		for i := 0; i < 2; i++ {
			go func() {
				_ = db.Tx(ctx, func(ctx context.Context) error {
					held.Done()
					<-release
					return nil
				})
			}()
		}
		held.Wait()
	}
	release := make(chan struct{})
	holdTwo(release)
	third := make(chan error, 1)
	go func() { third <- db.Tx(ctx, func(ctx context.Context) error { return nil }) }()
	// Reads, more of them than the connections left, answer while both
	// transactions stay open.
	for i := 0; i < 6; i++ {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var one int
		err := db.Conn(rctx).Raw("SELECT 1").Scan(&one).Error
		cancel()
		if err != nil || one != 1 {
			t.Fatalf("read %d while two transactions are open: %v", i, err)
		}
	}
	select {
	case err := <-third:
		t.Fatalf("a third transaction ran beside two open ones on a pool of 4 (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-third:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the third transaction did not run once the others ended")
	}
	// A transaction waiting for its turn gives up with its context.
	release2 := make(chan struct{})
	holdTwo(release2)
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := db.Tx(wctx, func(ctx context.Context) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past its deadline: %v", err)
	}
	close(release2)
}
