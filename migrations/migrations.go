// Package migrations holds the schema as an ordered list of versioned
// migrations, with the reference data that comes with them (units, targets,
// default settings), and the demo seed.
//
// A migration that has landed on main is frozen: never edit it, add a new
// one. Each declares its own struct snapshot of the tables it touches, never
// the live models, so that later model changes cannot rewrite history.
// Migrations are expand-then-contract: the previous release must still run
// against the schema a new one leaves behind.
package migrations

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"infrashare/database"
)

// TableName is the table that records which migrations ran.
const TableName = "schema_migrations"

// migrateAttempts bounds the runs of the pending migrations when
// PostgreSQL aborts them as a deadlock victim.
const migrateAttempts = 5

// lockKey is the PostgreSQL advisory lock that serialises migrations (and the
// demo seed) across replicas: "infrmig" in ASCII.
const lockKey int64 = 0x696e66726d6967

// all is the ordered list. Append only.
func all() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		m0001Foundation(),
		m0002Identity(),
		m0003Register(),
		m0004Colocation(),
		m0005Permits(),
		m0006Scale(),
		m0007MapSettings(),
		m0008PointIndex(),
		m0009ReportIndexes(),
		m0010ReferenceVersion(),
	}
}

// IDs lists the known migration ids in order.
func IDs() []string {
	var ids []string
	for _, m := range all() {
		ids = append(ids, m.ID)
	}
	return ids
}

// ErrUnknownMigrations means a newer release has migrated this database.
var ErrUnknownMigrations = errors.New("the database has migrations this release does not know (a newer release ran); refusing to start — upgrade, or set INFRASHARE_ALLOW_UNKNOWN_MIGRATIONS=true to run anyway")

// Options tune Migrate.
type Options struct {
	// AllowUnknown lets an older release run on a database a newer one has
	// migrated, as during a rolling upgrade.
	AllowUnknown bool
}

// Status reports the applied, pending and unknown migrations.
type Status struct {
	Applied []string
	Pending []string
	Unknown []string
}

// ReadStatus compares the database's migration table with this release.
func ReadStatus(ctx context.Context, db *database.DB) (Status, error) {
	g := db.Root().WithContext(ctx)
	var st Status
	var applied []string
	if g.Migrator().HasTable(TableName) {
		if err := g.Table(TableName).Order("id").Pluck("id", &applied).Error; err != nil {
			return st, fmt.Errorf("read %s: %w", TableName, err)
		}
	}
	known := map[string]bool{}
	for _, id := range IDs() {
		known[id] = true
	}
	done := map[string]bool{}
	for _, id := range applied {
		done[id] = true
		if known[id] {
			st.Applied = append(st.Applied, id)
		} else {
			st.Unknown = append(st.Unknown, id)
		}
	}
	for _, id := range IDs() {
		if !done[id] {
			st.Pending = append(st.Pending, id)
		}
	}
	sort.Strings(st.Unknown)
	return st, nil
}

// Migrate applies the pending migrations under the advisory lock and returns
// the ids it applied. Each migration runs in its own transaction: a failure
// leaves the schema as the previous migration left it.
func Migrate(ctx context.Context, db *database.DB, opts Options) ([]string, error) {
	var applied []string
	err := db.WithAdvisoryLock(ctx, lockKey, func() error {
		st, err := ReadStatus(ctx, db)
		if err != nil {
			return err
		}
		if len(st.Unknown) > 0 && !opts.AllowUnknown {
			return fmt.Errorf("%w: %s", ErrUnknownMigrations, strings.Join(st.Unknown, ", "))
		}
		if len(st.Pending) == 0 {
			return nil
		}
		// The pending migrations run in one transaction. During a rolling
		// upgrade the previous release keeps writing, and a migration that
		// takes a table lock after a weaker one (CREATE INDEX, then DROP
		// INDEX) can be chosen as a deadlock victim: the whole transaction
		// rolled back, so it is simply run again.
		for attempt := 1; ; attempt++ {
			m := gormigrate.New(db.Root().WithContext(ctx), &gormigrate.Options{
				TableName:      TableName,
				IDColumnName:   "id",
				IDColumnSize:   255,
				UseTransaction: true,
			}, all())
			err := m.Migrate()
			if err == nil {
				break
			}
			if !database.IsRetryable(err) || attempt == migrateAttempts {
				return fmt.Errorf("migrate: %w", err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("migrate: %w", err)
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		applied = st.Pending
		return nil
	})
	return applied, err
}

// dialect names the database a migration runs on, for the few statements
// that differ.
func dialect(tx *gorm.DB) string { return tx.Dialector.Name() }
