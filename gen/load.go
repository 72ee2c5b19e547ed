package gen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"infrashare/database"
)

// loadTxRows is the size of one transaction of the bulk load: each batch is
// written whole or not at all.
const loadTxRows = 50_000

// write loads the planned assets, allocations and BTS records, with the
// tables' secondary indexes dropped for the load and created again from
// their own definitions afterwards, whatever happens.
func (g *generator) write(ctx context.Context) (err error) {
	tables := []string{"assets", "allocations", "bts_deployments"}
	var dropped, droppedFKs []indexDef
	defer func() {
		// A fresh context: the indexes and foreign keys come back even
		// when ctx is done.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
		defer cancel()
		t := time.Now()
		for _, fk := range droppedFKs {
			if _, e := g.db.SQL().ExecContext(rctx, fk.def); e != nil {
				err = errors.Join(err, fmt.Errorf("recreate foreign key %s: %w", fk.name, e))
			}
		}
		for _, ix := range dropped {
			if _, e := g.db.SQL().ExecContext(rctx, ix.def); e != nil {
				err = errors.Join(err, fmt.Errorf("recreate index %s: %w", ix.name, e))
			}
		}
		if len(dropped) > 0 {
			g.progress.logf("gen: %d indexes created in %s", len(dropped), time.Since(t).Round(time.Millisecond))
		}
	}()
	if g.db.IsPostgres() {
		// Foreign keys are checked row by row in a load; added back
		// afterwards, each is checked by one join (and the rows are right
		// by construction).
		fks, err := g.foreignKeys(ctx, tables)
		if err != nil {
			return err
		}
		for _, fk := range fks {
			if _, err := g.db.SQL().ExecContext(ctx, fk.drop); err != nil {
				return err
			}
			droppedFKs = append(droppedFKs, indexDef{name: fk.name, def: fk.add})
		}
	}
	for _, table := range tables {
		ixs, err := g.indexes(ctx, table)
		if err != nil {
			return err
		}
		for _, ix := range ixs {
			if _, err := g.db.SQL().ExecContext(ctx, "DROP INDEX "+ix.name); err != nil {
				return err
			}
			dropped = append(dropped, ix)
		}
	}
	if err := g.load(ctx, "assets", assetColumns, len(g.skels), g.assetRow); err != nil {
		return err
	}
	if err := g.load(ctx, "allocations", allocColumns, len(g.allocs), g.allocRow); err != nil {
		return err
	}
	if err := g.load(ctx, "bts_deployments", btsColumns, len(g.bts), g.btsRow); err != nil {
		return err
	}
	if g.db.IsPostgres() {
		// The ids were given: move the sequences past them.
		for _, table := range []string{"assets", "allocations"} {
			if _, err := g.db.SQL().ExecContext(ctx, fmt.Sprintf(
				`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, table, table)); err != nil {
				return err
			}
		}
	}
	return nil
}

type indexDef struct{ name, def string }

type foreignKey struct{ name, drop, add string }

// foreignKeys are the PostgreSQL foreign keys of the tables, with the
// statements that drop and add them.
func (g *generator) foreignKeys(ctx context.Context, tables []string) ([]foreignKey, error) {
	rows, err := g.db.SQL().QueryContext(ctx, `SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1) ORDER BY 2, 1`, tables)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []foreignKey
	for rows.Next() {
		var name, table, def string
		if err := rows.Scan(&name, &table, &def); err != nil {
			return nil, err
		}
		out = append(out, foreignKey{name: name, drop: fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, table, name),
			add: fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, table, name, def)})
	}
	return out, rows.Err()
}

// indexes are the table's secondary indexes that no constraint owns and
// that are not unique (uniqueness is kept during the load: it is what stops
// a duplicate), with their definitions.
func (g *generator) indexes(ctx context.Context, table string) ([]indexDef, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL
		AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name`
	if g.db.IsPostgres() {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1
			AND indexdef NOT LIKE 'CREATE UNIQUE%' AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname`
	}
	rows, err := g.db.SQL().QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []indexDef
	for rows.Next() {
		var d indexDef
		if err := rows.Scan(&d.name, &d.def); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// load writes n rows of table, row(i) filling each, in transactions of
// loadTxRows rows, and reports each committed batch.
func (g *generator) load(ctx context.Context, table string, cols []string, n int, row func(i int, dst []any)) error {
	if n == 0 {
		return nil
	}
	t := time.Now()
	if !g.db.IsPostgres() {
		// A page cache of 256 MB while loading, so that the unique index
		// kept during the load stays in memory; the size Open set comes
		// back afterwards. SQLite runs on one connection: the setting stays
		// on it.
		restore, err := database.RaiseSQLiteCache(ctx, g.db.SQL(), -262144)
		if err != nil {
			return err
		}
		defer restore()
	}
	for from := 0; from < n; from += loadTxRows {
		to := min(from+loadTxRows, n)
		i := from
		err := g.db.Tx(ctx, func(ctx context.Context) error {
			i = from // a retried transaction starts again
			return g.db.InsertRows(ctx, table, cols, func(dst []any) bool {
				if i == to {
					return false
				}
				row(i, dst)
				i++
				return true
			})
		})
		if err != nil {
			return fmt.Errorf("%s rows %d–%d: %w", table, from+1, to, err)
		}
		g.progress.logf("gen: %s %d/%d (%s)", table, to, n, rate(to, time.Since(t)))
	}
	return nil
}
