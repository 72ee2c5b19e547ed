package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
)

// A literal must store what binding the value stores, and read back as
// what was written.
func TestSQLiteLiteralsReadBackAsWritten(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	ctx := dbtest.Context(t)
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE lit (t text, f double precision, i bigint,
		b boolean, at datetime, d date, bl blob)`); err != nil {
		t.Fatal(err)
	}
	hcm := time.FixedZone("ICT", 7*3600)
	at := time.Date(2026, 11, 28, 18, 4, 5, 123456789, hcm)
	day := infrashare.MustDate("2024-02-29")
	lat := 10.031234
	type tc struct {
		name string
		col  string
		v    any
		want any // nil: NULL
		bad  bool
	}
	cases := []tc{
		{"text", "t", "tower", "tower", false},
		{"empty text", "t", "", "", false},
		{"quotes", "t", `O'Brien's ''x'' "y"`, `O'Brien's ''x'' "y"`, false},
		{"Vietnamese", "t", "Số 12 đường Nguyễn Văn Cừ, Ninh Kiều — cột bê tông ly tâm", "Số 12 đường Nguyễn Văn Cừ, Ninh Kiều — cột bê tông ly tâm", false},
		{"SQL in text", "t", "'); DROP TABLE lit; --\n\\", "'); DROP TABLE lit; --\n\\", false},
		{"NUL refused", "t", "a\x00b", nil, true},
		{"nil", "t", nil, nil, false},
		{"nil pointer", "f", (*float64)(nil), nil, false},
		{"nil date", "d", (*infrashare.Date)(nil), nil, false},
		{"pointer", "f", &lat, lat, false},
		{"whole float", "f", 42.0, 42.0, false},
		{"short float", "f", 105.768, 105.768, false},
		{"17 digits", "f", 105.50854739767603, 105.50854739767603, false},
		{"tenth", "f", 0.1, 0.1, false},
		{"negative", "f", -1234.5678901234567, -1234.5678901234567, false},
		{"tiny", "f", 4.119095640075036e-82, 4.119095640075036e-82, false},
		{"subnormal", "f", math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64, false},
		{"huge", "f", -math.MaxFloat64, -math.MaxFloat64, false},
		{"1e23", "f", 1e23, 1e23, false},
		{"NaN refused", "f", math.NaN(), nil, true},
		{"Inf refused", "f", math.Inf(1), nil, true},
		{"int", "i", 42, int64(42), false},
		{"int64", "i", int64(math.MinInt64), int64(math.MinInt64), false},
		{"true", "b", true, true, false},
		{"false", "b", false, false, false},
		{"time in UTC", "at", at, at.UTC(), false},
		{"date", "d", day, day, false},
		{"date pointer", "d", &day, day, false},
		{"bytes", "bl", []byte{0, 1, 0xAB, '\''}, []byte{0, 1, 0xAB, '\''}, false},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 2000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if i%2 == 0 {
			f = 102 + rng.Float64()*8 // a longitude
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			cases = append(cases, tc{fmt.Sprintf("float %v", f), "f", f, f, false})
		}
	}
	for _, c := range cases {
		lit, err := database.AppendSQLiteLiteral(nil, c.v)
		if c.bad {
			if err == nil {
				t.Errorf("%s: literal %s, want refused", c.name, lit)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		read := func(insert string, args ...any) (string, any) {
			t.Helper()
			if _, err := db.SQL().ExecContext(ctx, "DELETE FROM lit"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().ExecContext(ctx, insert, args...); err != nil {
				t.Fatalf("%s: %s: %v", c.name, insert, err)
			}
			var typ string
			if err := db.SQL().QueryRowContext(ctx, "SELECT typeof("+c.col+") FROM lit").Scan(&typ); err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				return typ, nil
			}
			dst := reflect.New(reflect.TypeOf(c.want))
			if err := db.SQL().QueryRowContext(ctx, "SELECT "+c.col+" FROM lit").Scan(dst.Interface()); err != nil {
				t.Fatalf("%s: read back: %v", c.name, err)
			}
			return typ, dst.Elem().Interface()
		}
		typ, got := read("INSERT INTO lit (" + c.col + ") VALUES (" + string(lit) + ")")
		boundTyp, _ := read("INSERT INTO lit ("+c.col+") VALUES (?)", c.v)
		if typ != boundTyp {
			t.Errorf("%s: literal %s stored as %s, bound as %s", c.name, lit, typ, boundTyp)
		}
		if !sameValue(got, c.want) {
			t.Errorf("%s: literal %s read back as %#v, want %#v", c.name, lit, got, c.want)
		}
	}
}

// sameValue compares floats bit for bit and instants as instants in UTC.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	}
	return reflect.DeepEqual(got, want)
}

type bulkRow struct {
	name string
	f    float64
	n    *int64
	flag bool
	at   time.Time
	day  *infrashare.Date
}

func (r bulkRow) values(dst []any) {
	dst[0], dst[1], dst[2], dst[3], dst[4], dst[5] = r.name, r.f, r.n, r.flag, r.at, r.day
}

// InsertRows (COPY on PostgreSQL, literals on SQLite) writes every row as
// given, in the caller's transaction: a broken constraint undoes the
// transaction's other writes too.
func TestInsertRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		ddl := `CREATE TABLE bulk (name text PRIMARY KEY, f double precision NOT NULL, n bigint, flag boolean NOT NULL,
			at datetime NOT NULL, day date)`
		if db.IsPostgres() {
			ddl = strings.Replace(ddl, "datetime", "timestamptz", 1)
		}
		if _, err := db.SQL().ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
		cols := []string{"name", "f", "n", "flag", "at", "day"}
		rng := rand.New(rand.NewPCG(3, 5))
		base := time.Date(2026, 11, 28, 11, 9, 0, 0, time.UTC)
		var rows []bulkRow
		for i := range 1203 { // more than one statement on SQLite
			r := bulkRow{name: fmt.Sprintf("Cột %d của O'Neil — Cái Răng", i), f: 105 + rng.Float64(), flag: i%3 == 0,
				at: base.Add(time.Duration(rng.Int64N(1e15)) * time.Microsecond)}
			if i%2 == 0 {
				n := rng.Int64() - math.MaxInt64/2
				d := infrashare.DateOf(r.at)
				r.n, r.day = &n, &d
			}
			if i%7 == 0 {
				r.f = math.Float64frombits(rng.Uint64() &^ (0x7FF << 52)) // small and subnormal
			}
			rows = append(rows, r)
		}
		insert := func(ctx context.Context, rows []bulkRow) error {
			i := 0
			return db.InsertRows(ctx, "bulk", cols, func(dst []any) bool {
				if i == len(rows) {
					return false
				}
				rows[i].values(dst)
				i++
				return true
			})
		}
		if err := insert(ctx, rows); err == nil {
			t.Fatal("InsertRows outside a transaction: want refused")
		}
		if err := db.Tx(ctx, func(ctx context.Context) error { return insert(ctx, rows) }); err != nil {
			t.Fatal(err)
		}
		got := map[string]bulkRow{}
		q, err := db.SQL().QueryContext(ctx, "SELECT name, f, n, flag, at, day FROM bulk")
		if err != nil {
			t.Fatal(err)
		}
		for q.Next() {
			var r bulkRow
			var n sql.NullInt64
			var day infrashare.Date
			if err := q.Scan(&r.name, &r.f, &n, &r.flag, &r.at, &day); err != nil {
				t.Fatal(err)
			}
			if n.Valid {
				r.n, r.day = &n.Int64, &day
			}
			got[r.name] = r
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) {
			t.Fatalf("%d rows read back, want %d", len(got), len(rows))
		}
		for _, w := range rows {
			g := got[w.name]
			if math.Float64bits(g.f) != math.Float64bits(w.f) || !reflect.DeepEqual(g.n, w.n) || g.flag != w.flag ||
				!g.at.Equal(w.at) || !reflect.DeepEqual(g.day, w.day) {
				t.Fatalf("read back %+v, want %+v", g, w)
			}
		}

		// A duplicate among new rows fails the whole transaction.
		boom := []bulkRow{{name: "new", at: base}, rows[500]}
		err = db.Tx(ctx, func(ctx context.Context) error {
			if err := db.Conn(ctx).Exec("INSERT INTO counters (name, value) VALUES ('bulk', 1)").Error; err != nil {
				return err
			}
			return insert(ctx, boom)
		})
		if !database.IsUniqueViolation(err) {
			t.Fatalf("duplicate row: %v, want a unique violation", err)
		}
		var n int64
		db.Root().Raw("SELECT count(*) FROM bulk").Scan(&n)
		var counters int64
		db.Root().Raw("SELECT count(*) FROM counters WHERE name = 'bulk'").Scan(&counters)
		if n != int64(len(rows)) || counters != 0 {
			t.Fatalf("after the failed transaction: %d rows, %d counters; want %d, 0", n, counters, len(rows))
		}
		// And the connection it ran on is fine for the next one.
		err = db.Tx(ctx, func(ctx context.Context) error { return insert(ctx, boom[:1]) })
		if err != nil {
			t.Fatalf("insert after a failed one: %v", err)
		}
		if db.IsPostgres() {
			return
		}
		err = db.Tx(ctx, func(ctx context.Context) error { return insert(ctx, []bulkRow{{name: "nul\x00", at: base}}) })
		if err == nil || !strings.Contains(err.Error(), "NUL") {
			t.Fatalf("text with NUL: %v, want refused", err)
		}
	})
}

// Bulk writers raise SQLite's page cache for their load and must put back
// the size Open set, not SQLite's default; a smaller size leaves it alone.
func TestRaiseSQLiteCacheRestoresOpensSize(t *testing.T) {
	ctx := dbtest.Context(t)
	db := dbtest.Open(t, database.SQLite)
	size := func() int {
		var n int
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA cache_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	opened := size()
	restore, err := database.RaiseSQLiteCache(ctx, db.SQL(), -262144)
	if err != nil {
		t.Fatal(err)
	}
	if got := size(); got != -262144 {
		t.Fatalf("raised to %d, want -262144", got)
	}
	restore()
	if got := size(); got != opened {
		t.Fatalf("restored to %d, want Open's %d", got, opened)
	}
	restore, err = database.RaiseSQLiteCache(ctx, db.SQL(), -1000)
	if err != nil {
		t.Fatal(err)
	}
	restore()
	if got := size(); got != opened {
		t.Fatalf("a smaller size changed the cache to %d", got)
	}
}
