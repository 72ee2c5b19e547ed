// Package dbtest hands each test a migrated database: a temp-file SQLite
// always, and PostgreSQL too when INFRASHARE_TEST_POSTGRES_URL is set.
//
// Migrations run once per test package into a template (a SQLite file, or a
// PostgreSQL database); each test then gets its own copy (a file copy, or
// CREATE DATABASE … TEMPLATE), so tests never see each other's rows and a
// package's advisory locks and notifications stay its own.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection for CREATE/DROP DATABASE

	"infrashare/database"
	"infrashare/migrations"
)

// EnvPostgresURL names the PostgreSQL server for tests: a URL whose user may
// create databases, such as postgres://postgres@127.0.0.1:5432/infrashare_test?sslmode=disable.
const EnvPostgresURL = "INFRASHARE_TEST_POSTGRES_URL"

// Timeout bounds each test's database work: a mistake hangs nothing for long.
const Timeout = 2 * time.Minute

var (
	sqliteOnce sync.Once
	sqliteTpl  string
	sqliteErr  error

	pgOnce sync.Once
	pgTpl  string
	pgErr  error

	tmpDir string
)

// Main wraps testing.M.Run: it drops the package's templates afterwards.
// Use it as TestMain: func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "infrashare-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	tmpDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	if pgTpl != "" {
		if admin, err := adminConn(); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(pgTpl))
			cancel()
			admin.Close()
		}
	}
	return code
}

// Dialects returns the databases tests run on: sqlite always, postgres when
// configured. In CI (CI set) a missing PostgreSQL URL is a failure, not a skip.
func Dialects(t testing.TB) []string {
	if os.Getenv(EnvPostgresURL) != "" {
		return []string{database.SQLite, database.Postgres}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but %s is not: the PostgreSQL tests must run in CI", EnvPostgresURL)
	}
	return []string{database.SQLite}
}

// Each runs fn as a subtest on every configured database, each with a fresh
// migrated copy. Without PostgreSQL it says so in a skipped subtest.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, d := range []string{database.SQLite, database.Postgres} {
		t.Run(d, func(t *testing.T) {
			if d == database.Postgres && os.Getenv(EnvPostgresURL) == "" {
				if os.Getenv("CI") != "" {
					t.Fatalf("CI is set but %s is not", EnvPostgresURL)
				}
				t.Skipf("PostgreSQL not configured: set %s to run this on PostgreSQL too", EnvPostgresURL)
			}
			fn(t, Open(t, d))
		})
	}
}

// Context is a context for one test's database calls, with a deadline.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Open returns a fresh migrated database of the dialect, closed and removed
// when the test ends.
func Open(t testing.TB, dialect string) *database.DB {
	t.Helper()
	url := URL(t, dialect)
	db, err := database.Open(Context(t), url, database.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// URL returns the INFRASHARE_DATABASE_URL of a fresh migrated copy, for
// tests that start the real binary on it.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	if tmpDir == "" {
		t.Fatal("dbtest: add func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) } to this package")
	}
	switch dialect {
	case database.SQLite:
		return sqliteCopy(t)
	case database.Postgres:
		return postgresCopy(t)
	}
	t.Fatalf("unknown dialect %q", dialect)
	return ""
}

// EmptyURL returns the URL of a new, empty (unmigrated) database.
func EmptyURL(t testing.TB, dialect string) string {
	t.Helper()
	if tmpDir == "" {
		t.Fatal("dbtest: TestMain must call dbtest.Main")
	}
	if dialect == database.SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "empty.db")
	}
	name := "infrashare_t_" + randomHex(6)
	createDatabase(t, name, "")
	return postgresURLFor(t, name)
}

func sqliteCopy(t testing.TB) string {
	sqliteOnce.Do(func() {
		sqliteTpl = filepath.Join(tmpDir, "template.db")
		sqliteErr = migrateInto("sqlite://" + sqliteTpl)
	})
	if sqliteErr != nil {
		t.Fatalf("migrate the SQLite template: %v", sqliteErr)
	}
	dst := filepath.Join(t.TempDir(), "test.db")
	if err := copyFile(sqliteTpl, dst); err != nil {
		t.Fatal(err)
	}
	return "sqlite://" + dst
}

func migrateInto(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	db, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrations.Migrate(ctx, db, migrations.Options{}); err != nil {
		return err
	}
	if db.Dialect() == database.SQLite {
		// Fold the WAL into the main file so that a plain copy is complete.
		return db.Root().Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error
	}
	return nil
}

func postgresCopy(t testing.TB) string {
	if os.Getenv(EnvPostgresURL) == "" {
		t.Skipf("PostgreSQL not configured: set %s", EnvPostgresURL)
	}
	pgOnce.Do(func() {
		name := "infrashare_tpl_" + randomHex(6)
		if err := createDatabaseErr(name, ""); err != nil {
			pgErr = err
			return
		}
		pgTpl = name
		u, err := postgresURLForErr(name)
		if err != nil {
			pgErr = err
			return
		}
		pgErr = migrateInto(u)
	})
	if pgErr != nil {
		t.Fatalf("migrate the PostgreSQL template: %v", pgErr)
	}
	name := "infrashare_t_" + randomHex(6)
	createDatabase(t, name, pgTpl)
	return postgresURLFor(t, name)
}

func createDatabase(t testing.TB, name, template string) {
	t.Helper()
	if err := createDatabaseErr(name, template); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := adminConn()
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)")
	})
}

func createDatabaseErr(name, template string) error {
	admin, err := adminConn()
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	q := "CREATE DATABASE " + quoteIdent(name)
	if template != "" {
		q += " TEMPLATE " + quoteIdent(template)
	}
	if _, err := admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

func adminConn() (*sql.DB, error) {
	return sql.Open("pgx", os.Getenv(EnvPostgresURL))
}

func postgresURLFor(t testing.TB, name string) string {
	u, err := postgresURLForErr(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// postgresURLForErr points the configured URL at another database and
// bounds every statement, so that a stuck test fails instead of hanging.
func postgresURLForErr(name string) (string, error) {
	u, err := url.Parse(os.Getenv(EnvPostgresURL))
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvPostgresURL, err)
	}
	u.Path = "/" + name
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	q.Set("options", "-c statement_timeout=60000 -c lock_timeout=30000")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
