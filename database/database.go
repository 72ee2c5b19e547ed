// Package database opens the one store infrashare runs on — PostgreSQL in
// production, pure-Go SQLite embedded — and carries transactions through a
// context so that every helper in a transaction uses its handle.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DB is the root handle. Domain services hold one and never use its *gorm.DB
// directly inside a transaction: Conn(ctx) picks the right handle.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	unlock  func() error // releases the SQLite file lock
	url     string
	// txSlots bounds the transactions open at once (PostgreSQL only).
	txSlots chan struct{}
}

// SQLite's memory map and page cache (cache_size counts KiB when negative).
const (
	sqliteMmapBytes = 1 << 30
	sqliteCacheKiB  = -64 << 10
)

// Options tune Open.
type Options struct {
	// Logger receives GORM's own messages; nil keeps GORM silent.
	Logger logger.Interface
	// MaxOpenConns bounds the PostgreSQL pool (0: 20).
	MaxOpenConns int
}

// ParseURL splits an INFRASHARE_DATABASE_URL into its dialect and the
// driver's connection string: a file path for SQLite, the URL itself for
// PostgreSQL.
func ParseURL(raw string) (dialect, target string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path := strings.TrimPrefix(raw, "sqlite://")
		if path == "" {
			return "", "", errors.New("sqlite:// needs a file path, as in sqlite://./data/infrashare.db")
		}
		return SQLite, path, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", errors.New("not a valid postgres:// URL")
		}
		return Postgres, raw, nil
	}
	return "", "", errors.New("must start with postgres:// or sqlite://")
}

// Open connects to the database named by rawURL. For SQLite it creates the
// file's folder on demand and takes an exclusive lock beside the file, so a
// second process on the same file is refused rather than corrupting it.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	dialect, target, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = logger.Discard
	}
	cfg := &gorm.Config{
		Logger:                 opts.Logger,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SkipDefaultTransaction: true, // our services open the transactions they need
		PrepareStmt:            false,
	}
	db := &DB{dialect: dialect, url: rawURL}
	var dialector gorm.Dialector
	switch dialect {
	case SQLite:
		if dir := filepath.Dir(target); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create the database folder: %w", err)
			}
		}
		unlock, err := lockFile(target + ".lock")
		if err != nil {
			return nil, err
		}
		db.unlock = unlock
		// Reads through a memory map of up to sqliteMmapBytes of the file
		// and a page cache of sqliteCacheKiB: with SQLite's defaults (no
		// map, 2 MB of cache) every page a search touched at national scale
		// was a read() system call, which took the nearby search from
		// 1.65 to 1.15 ms and a list page from 3.6 to 1.8 ms
		// (docs/performance.md, fourth session). One process owns the
		// file (the lock above), so the map has no other writer to fear.
		dsn := "file:" + target + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
			fmt.Sprintf("&_pragma=mmap_size(%d)&_pragma=cache_size(%d)", sqliteMmapBytes, sqliteCacheKiB) +
			"&_txlock=immediate"
		dialector = sqlite.Open(dsn)
	case Postgres:
		dialector = postgres.New(postgres.Config{DSN: target})
	}
	g, err := gorm.Open(dialector, cfg)
	if err != nil {
		db.releaseLock()
		return nil, fmt.Errorf("open the %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		db.releaseLock()
		return nil, err
	}
	if dialect == SQLite {
		// One connection: SQLite has one writer, and a second connection
		// inside a transaction would wait on the first forever.
		sqlDB.SetMaxOpenConns(1)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		// Writing transactions wait in line on the audit chain's head
		// row, each holding its connection; if they could take the whole
		// pool, every read would wait for them too. Half the pool at
		// most is theirs, so reads always find a connection
		// (docs/performance.md, fourth session).
		db.txSlots = make(chan struct{}, max(1, n/2))
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	registerCallbacks(g)
	db.gorm, db.sql = g, sqlDB
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("reach the %s database: %w", dialect, err)
	}
	return db, nil
}

func (db *DB) releaseLock() {
	if db.unlock != nil {
		_ = db.unlock()
		db.unlock = nil
	}
}

// Close closes the pool and releases the SQLite lock.
func (db *DB) Close() error {
	var err error
	if db.sql != nil {
		err = db.sql.Close()
	}
	db.releaseLock()
	return err
}

// Dialect is Postgres or SQLite.
func (db *DB) Dialect() string { return db.dialect }

// IsPostgres reports whether the store is PostgreSQL.
func (db *DB) IsPostgres() bool { return db.dialect == Postgres }

// SQL is the underlying pool, for health checks and dedicated connections.
func (db *DB) SQL() *sql.DB { return db.sql }

// Root is the root GORM handle. Use it only outside transactions, such as in
// migrations; services use Conn.
func (db *DB) Root() *gorm.DB { return db.gorm }

// Ping checks that the database answers within ctx.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

type txKey struct{}

type stateKey struct{}

// txState is what a transaction carries besides its handle: the steps to
// run just before it commits, and the connection it is open on.
type txState struct {
	hooks  []hook
	values map[any]any
	conn   *sql.Conn
}

// TxValue returns a value stored on ctx's transaction by SetTxValue.
func TxValue(ctx context.Context, key any) any {
	st, ok := ctx.Value(stateKey{}).(*txState)
	if !ok {
		return nil
	}
	return st.values[key]
}

// SetTxValue stores a value for the life of ctx's transaction, such as the
// audit events waiting for the commit. Outside a transaction it does nothing.
func SetTxValue(ctx context.Context, key, v any) {
	st, ok := ctx.Value(stateKey{}).(*txState)
	if !ok {
		return
	}
	if st.values == nil {
		st.values = map[any]any{}
	}
	st.values[key] = v
}

type hook struct {
	key any
	fn  func(ctx context.Context) error
}

// BeforeCommit registers fn to run as the last step of ctx's transaction,
// once per key however often it is registered. The audit log uses it to
// lock its head row as late as possible. Outside a transaction it fails.
func BeforeCommit(ctx context.Context, key any, fn func(ctx context.Context) error) error {
	st, ok := ctx.Value(stateKey{}).(*txState)
	if !ok {
		return errors.New("database: BeforeCommit outside a transaction")
	}
	for _, h := range st.hooks {
		if h.key == key {
			return nil
		}
	}
	st.hooks = append(st.hooks, hook{key, fn})
	return nil
}

// Conn returns the transaction carried by ctx, or the root handle bound to
// ctx when there is none. Every query goes through it.
func (db *DB) Conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db.gorm.WithContext(ctx)
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// maxAttempts bounds the retries of a transaction that PostgreSQL aborted for
// a serialization failure or a deadlock.
const maxAttempts = 5

// Tx runs fn in one transaction carried by the context fn receives. A Tx
// inside a Tx joins the outer one. When PostgreSQL aborts the transaction
// with a serialization failure or a deadlock, Tx retries it; after the last
// attempt it answers a conflict, never an internal error.
func (db *DB) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if InTx(ctx) {
		return fn(ctx)
	}
	if db.txSlots != nil {
		select {
		case db.txSlots <- struct{}{}:
			defer func() { <-db.txSlots }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		// The transaction runs on a connection of its own so that
		// InsertRows can reach the driver's connection under it.
		err = db.gorm.WithContext(ctx).Connection(func(c *gorm.DB) error {
			st := &txState{conn: c.Statement.ConnPool.(*sql.Conn)}
			return c.Transaction(func(tx *gorm.DB) error {
				tctx := context.WithValue(context.WithValue(ctx, txKey{}, tx), stateKey{}, st)
				if err := fn(tctx); err != nil {
					return err
				}
				for _, h := range st.hooks {
					if err := h.fn(tctx); err != nil {
						return err
					}
				}
				return nil
			})
		})
		if err == nil || !IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
	return retryExhausted(err)
}

// WithAdvisoryLock runs fn while holding a PostgreSQL session advisory lock
// on a dedicated connection, so that replicas starting together do fn one
// after the other. On SQLite the file lock already makes the process alone.
func (db *DB) WithAdvisoryLock(ctx context.Context, key int64, fn func() error) error {
	if db.dialect != Postgres {
		return fn()
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection for the advisory lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("take the advisory lock: %w", err)
	}
	defer func() {
		// A fresh context: the caller's may be done, and the lock must go.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", key)
	}()
	return fn()
}

// URL is the INFRASHARE_DATABASE_URL the handle was opened with.
func (db *DB) URL() string { return db.url }

// NextCounter takes the next value of a named counter in ctx's transaction
// (request and permit numbers): one upsert, never MAX + 1, so that
// concurrent writers on any number of replicas never get the same number.
func (db *DB) NextCounter(ctx context.Context, name string) (int64, error) {
	var v int64
	err := db.Conn(ctx).Raw(`INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, name).Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", name, err)
	}
	return v, nil
}

// Analyze refreshes the planner's statistics. PostgreSQL's autovacuum keeps
// its own; SQLite has none until asked, and without them it plans a box
// search on the wrong index and reads every line asset. A bounded sample
// keeps it quick on large tables.
func (db *DB) Analyze(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	if err := db.Conn(ctx).Exec("PRAGMA analysis_limit = 1000").Error; err != nil {
		return err
	}
	return db.Conn(ctx).Exec("ANALYZE").Error
}
