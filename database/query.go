package database

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// EachRow runs the SELECT that q describes and calls each once per row,
// with the row's Scan. On PostgreSQL the query goes through pgx's own
// interface — on the transaction's connection inside one, as InsertRows
// does — which decodes every value straight into its destination:
// database/sql's detour through driver.Value and its conversions was the
// largest part of a search's own time (docs/performance.md). Destinations
// must be types both paths scan into: the basic types, pointers to them,
// time.Time and sql.Scanner types. Instants come back in the zone the
// driver gives; callers make them UTC.
func (db *DB) EachRow(ctx context.Context, q *gorm.DB, each func(scan func(dest ...any) error) error) error {
	if db.dialect != Postgres {
		rows, err := q.Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachOf(rows, each)
	}
	st := q.Session(&gorm.Session{DryRun: true}).Find(&[]map[string]any{})
	if st.Error != nil {
		return st.Error
	}
	var conn *sql.Conn
	if tx, ok := ctx.Value(stateKey{}).(*txState); ok {
		conn = tx.conn
	} else {
		var err error
		if conn, err = db.sql.Conn(ctx); err != nil {
			return err
		}
		defer conn.Close()
	}
	return conn.Raw(func(dc any) error {
		rows, err := dc.(*stdlib.Conn).Conn().Query(ctx, st.Statement.SQL.String(), st.Statement.Vars...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachOf(rows, each)
	})
}

// rowSource is what database/sql's and pgx's rows have in common.
type rowSource interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func eachOf(rows rowSource, each func(scan func(dest ...any) error) error) error {
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// TextInstant scans an instant that SQLite holds as text, selected as
// CAST(col AS TEXT), into *T. The driver's own reading of a DATETIME
// column first tries a layout that never matches what it writes, then its
// list of layouts, for every value; a search reads two per row.
type TextInstant struct{ T *time.Time }

// sqliteReadLayouts are the driver's other layouts, tried in its order when
// a value is not in the one it writes (a value written by hand, say).
var sqliteReadLayouts = []string{
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

func (s TextInstant) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case time.Time:
		*s.T = v
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("cannot read an instant from %T", src)
	}
	if t, err := time.Parse(sqliteTimeFormat, text); err == nil {
		*s.T = t
		return nil
	}
	trimmed := strings.TrimSuffix(text, "Z")
	for _, layout := range sqliteReadLayouts {
		if t, err := time.ParseInLocation(layout, trimmed, time.UTC); err == nil {
			*s.T = t
			return nil
		}
	}
	return fmt.Errorf("cannot read an instant from %q", text)
}
