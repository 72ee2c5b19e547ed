package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"infrashare"
)

// sqliteInsertRows is the rows of one multi-row INSERT on SQLite. With
// literals instead of parameters a statement may be long: the pure-Go
// driver binds parameters in time quadratic in their number.
const sqliteInsertRows = 500

// InsertRows writes new rows into table in ctx's transaction, the quickest
// way into each database: with COPY on PostgreSQL, with multi-row INSERTs
// of literals on SQLite. next fills dst with the next row's values in the
// order of cols, or reports false at the end; it must not keep dst. next
// runs on another goroutine while the database writes the rows before, so
// it must not use the database at all: the transaction holds the
// connection (SQLite's only one). After an error, a broken constraint
// among the rows, the caller must roll the transaction back.
func (db *DB) InsertRows(ctx context.Context, table string, cols []string, next func(dst []any) bool) error {
	st, ok := ctx.Value(stateKey{}).(*txState)
	if !ok {
		return errors.New("database: InsertRows outside a transaction")
	}
	if db.dialect == Postgres {
		return copyRows(ctx, st.conn, table, cols, next)
	}
	return insertLiterals(ctx, db.Conn(ctx).Statement.ConnPool, table, cols, next)
}

// copyRows runs COPY on the driver's connection under the transaction: the
// server-side transaction is open on it, so the rows are part of it. pgx
// calls next on a goroutine of its own.
func copyRows(ctx context.Context, conn *sql.Conn, table string, cols []string, next func([]any) bool) error {
	return conn.Raw(func(dc any) error {
		vals := make([]any, len(cols))
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if !next(vals) {
				return nil, nil
			}
			for k, v := range vals {
				vals[k] = copyValue(v)
			}
			return vals, nil
		})
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, src)
		return err
	})
}

// copyValue hands a civil date to pgx as a time: pgx would otherwise encode
// its text and parse it back, row by row.
func copyValue(v any) any {
	switch d := v.(type) {
	case infrashare.Date:
		if d.IsZero() {
			return nil
		}
		return d.Time()
	case *infrashare.Date:
		if d == nil || d.IsZero() {
			return nil
		}
		return d.Time()
	}
	return v
}

// sqliteBulkCache is SQLite's page cache while InsertRows writes (KiB, as
// negative cache_size counts): new rows land on index pages all over the
// file, and in a small cache SQLite writes them to the WAL and reads them
// back before the commit. It is the size Open sets; a connection set
// smaller is raised for the insert.
const sqliteBulkCache = sqliteCacheKiB

// Execer is what RaiseSQLiteCache needs: a *sql.DB, *sql.Conn or *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// RaiseSQLiteCache makes the SQLite page cache of ex at least cacheSize
// (KiB when negative, as PRAGMA cache_size counts) and returns what puts the
// size it had back. Bulk writers call it; the restore keeps whatever Open
// set, not SQLite's default.
func RaiseSQLiteCache(ctx context.Context, ex Execer, cacheSize int) (restore func(), err error) {
	var cache int
	if err := ex.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		return nil, err
	}
	if cache >= 0 || cache <= cacheSize {
		return func() {}, nil
	}
	if _, err := ex.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", cacheSize)); err != nil {
		return nil, err
	}
	return func() {
		_, _ = ex.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", cache))
	}, nil
}

// insertLiterals writes the rows as multi-row INSERTs of literals, each
// statement written on a goroutine while SQLite runs the one before.
func insertLiterals(ctx context.Context, ex Execer, table string, cols []string, next func([]any) bool) error {
	head := []byte("INSERT INTO " + quoteIdent(table) + " (")
	for k, c := range cols {
		if k > 0 {
			head = append(head, ',')
		}
		head = append(head, quoteIdent(c)...)
	}
	head = append(head, ") VALUES "...)
	restore, err := RaiseSQLiteCache(ctx, ex, sqliteBulkCache)
	if err != nil {
		return err
	}
	defer restore()
	type stmt struct {
		sql string
		err error
	}
	stmts, stop := make(chan stmt, 1), make(chan struct{})
	go func() {
		defer close(stmts)
		vals := make([]any, len(cols))
		buf := make([]byte, 0, 256<<10)
		for done := false; !done; {
			select {
			case <-stop:
				return
			default:
			}
			buf = append(buf[:0], head...)
			rows := 0
			var err error
			for rows < sqliteInsertRows && err == nil {
				if !next(vals) {
					done = true
					break
				}
				if rows > 0 {
					buf = append(buf, ',')
				}
				buf, err = appendRow(buf, vals, cols)
				rows++
			}
			if rows == 0 {
				return
			}
			select {
			case stmts <- stmt{string(buf), err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	// The goroutine has ended when this returns: next is not called after.
	defer func() {
		close(stop)
		for range stmts {
		}
	}()
	for st := range stmts {
		if st.err != nil {
			return fmt.Errorf("%s: %w", table, st.err)
		}
		if _, err := ex.ExecContext(ctx, st.sql); err != nil {
			return err
		}
	}
	return nil
}

func appendRow(b []byte, vals []any, cols []string) ([]byte, error) {
	b = append(b, '(')
	for k, v := range vals {
		if k > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = AppendSQLiteLiteral(b, v); err != nil {
			return b, fmt.Errorf("%s: %w", cols[k], err)
		}
	}
	return append(b, ')'), nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqliteTimeFormat is how the SQLite driver writes a bound time, and the
// first layout it reads back.
const sqliteTimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// AppendSQLiteLiteral appends v to b as an SQLite literal that stores what
// binding v as a parameter would: instants as the driver's text, in UTC;
// booleans as 0/1; civil dates and other driver.Valuers as their value;
// nil and nil pointers as NULL. A string holding NUL is refused (SQLite
// would end the statement there), as are non-finite floats.
func AppendSQLiteLiteral(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "NULL"...), nil
	case string:
		return appendSQLiteString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		return appendSQLiteFloat(b, x)
	case bool:
		if x {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case time.Time:
		return appendSQLiteString(b, x.UTC().Format(sqliteTimeFormat))
	case []byte:
		b = append(b, "X'"...)
		for _, c := range x {
			b = append(b, "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		}
		return append(b, '\''), nil
	}
	// Pointers, driver.Valuers (dates) and named types, as database/sql
	// would turn them into one of the above.
	dv, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return b, err
	}
	return AppendSQLiteLiteral(b, dv)
}

func appendSQLiteString(b []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return b, errors.New("text with a NUL character")
	}
	b = append(b, '\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '\'')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '\''), nil
}

// appendSQLiteFloat writes x so that SQLite reads back the same bits. SQLite
// 3.41 as the pure-Go driver builds it parses decimals in double precision
// alone, so only a decimal of at most 15 digits with at most 22 after the
// point is read exactly (one correctly rounded division of two exact
// doubles); shortest forms of 16 or 17 digits come back one unit off in the
// last place about half the time. Any other value is written as its exact
// binary form, mantissa × 2^exponent, each step of which is exact.
func appendSQLiteFloat(b []byte, x float64) ([]byte, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b, fmt.Errorf("no SQLite literal for the float %v", x)
	}
	start := len(b)
	b = strconv.AppendFloat(b, x, 'f', -1, 64)
	digits, fraction, point := 0, 0, false
	for _, c := range b[start:] {
		switch {
		case c == '.':
			point = true
		case c >= '0' && c <= '9':
			if digits > 0 || c != '0' {
				digits++
			}
			if point {
				fraction++
			}
		}
	}
	if digits <= 15 && fraction <= 22 {
		if !point {
			b = append(b, ".0"...) // a REAL, as a bound float is
		}
		return b, nil
	}
	b = b[:start]
	frac, exp := math.Frexp(x) // x = frac × 2^exp, 0.5 ≤ |frac| < 1
	m := int64(frac * (1 << 53))
	exp -= 53
	for m%2 == 0 {
		m /= 2
		exp++
	}
	b = append(b, "(CAST("...)
	b = strconv.AppendInt(b, m, 10)
	b = append(b, " AS REAL)"...)
	for exp != 0 {
		step := min(max(exp, -62), 62)
		if step < 0 {
			b = append(b, '/')
			b = strconv.AppendInt(b, 1<<-step, 10)
		} else {
			b = append(b, '*')
			b = strconv.AppendInt(b, 1<<step, 10)
		}
		exp -= step
	}
	return append(b, ')'), nil
}
