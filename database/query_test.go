package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
)

type eachRowValues struct {
	ID     int64
	Name   string
	Amount *float64
	Count  *int
	Big    *int64
	Flag   bool
	On     *infrashare.Date
	At     time.Time
}

// EachRow reads PostgreSQL through pgx's own interface outside a
// transaction and through database/sql inside one and on SQLite: every
// path must give back what GORM's own scan gives, NULLs included.
func TestEachRowScansAsGORM(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		g := db.Root().WithContext(ctx)
		instant := "DATETIME" // as GORM's SQLite migrator declares time.Time
		if db.IsPostgres() {
			instant = "TIMESTAMP WITH TIME ZONE"
		}
		if err := g.Exec(`CREATE TABLE each_row_values (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DOUBLE PRECISION,
			count INTEGER, big BIGINT, flag BOOLEAN NOT NULL, "on" DATE, at ` + instant + ` NOT NULL)`).Error; err != nil {
			t.Fatal(err)
		}
		f, n, big := 105.78123456789012, 7, int64(1)<<52
		d := infrashare.MustDate("2026-02-28")
		at := time.Date(2026, 11, 28, 12, 30, 15, 123456000, time.UTC)
		rows := []eachRowValues{
			{ID: 1, Name: "Trạm Ninh Kiều", Amount: &f, Count: &n, Big: &big, Flag: true, On: &d, At: at},
			{ID: 2, Name: "", At: at.Add(-time.Hour)},
		}
		if err := g.Table("each_row_values").Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var want []eachRowValues
		if err := g.Table("each_row_values").Order("id").Find(&want).Error; err != nil {
			t.Fatal(err)
		}
		read := func(ctx context.Context) []eachRowValues {
			var got []eachRowValues
			q := db.Conn(ctx).Table("each_row_values").Select(`id, name, amount, count, big, flag, "on", at`).Where("id > ?", 0).Order("id")
			err := db.EachRow(ctx, q, func(scan func(...any) error) error {
				var r eachRowValues
				if err := scan(&r.ID, &r.Name, &r.Amount, &r.Count, &r.Big, &r.Flag, &r.On, &r.At); err != nil {
					return err
				}
				r.At = r.At.UTC()
				got = append(got, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		show := func(rs []eachRowValues) string {
			s := ""
			for _, r := range rs {
				s += fmt.Sprintf("%d %q %v %v %v %v %v %v\n", r.ID, r.Name, deref(r.Amount), deref(r.Count), deref(r.Big), r.Flag, deref(r.On), r.At.Format(time.RFC3339Nano))
			}
			return s
		}
		if got := show(read(ctx)); got != show(want) {
			t.Errorf("outside a transaction:\n%s\nGORM:\n%s", got, show(want))
		}
		if err := db.Tx(ctx, func(ctx context.Context) error {
			if got := show(read(ctx)); got != show(want) {
				t.Errorf("in a transaction:\n%s\nGORM:\n%s", got, show(want))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

func deref[T any](p *T) any {
	if p == nil {
		return "NULL"
	}
	return *p
}

// TextInstant reads SQLite's text instants as the driver itself reads the
// same column: what GORM writes, and what a person might write by hand.
func TestTextInstantReadsAsTheDriver(t *testing.T) {
	ctx := dbtest.Context(t)
	db := dbtest.Open(t, database.SQLite)
	g := db.Root().WithContext(ctx)
	if err := g.Exec(`CREATE TABLE instants (id INTEGER PRIMARY KEY, at DATETIME NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	bound := []time.Time{
		time.Date(2026, 11, 28, 12, 30, 15, 123456000, time.UTC),
		time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 28, 19, 30, 15, 0, time.FixedZone("ICT", 7*3600)),
	}
	for i, at := range bound {
		if err := g.Exec(`INSERT INTO instants (id, at) VALUES (?, ?)`, i+1, at).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i, text := range []string{"2026-11-28 12:30:15", "2026-11-28T12:30:15Z", "2026-11-28"} {
		if err := g.Exec(`INSERT INTO instants (id, at) VALUES (?, ?)`, 10+i, text).Error; err != nil {
			t.Fatal(err)
		}
	}
	var want []time.Time
	if err := g.Raw(`SELECT at FROM instants ORDER BY id`).Scan(&want).Error; err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	q := db.Conn(ctx).Table("instants").Select("CAST(at AS TEXT)").Order("id")
	if err := db.EachRow(ctx, q, func(scan func(...any) error) error {
		var at time.Time
		if err := scan(database.TextInstant{T: &at}); err != nil {
			return err
		}
		got = append(got, at)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 6 {
		t.Fatalf("read %d instants, the driver %d, want 6", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("row %d: TextInstant read %v, the driver %v", i, got[i], want[i])
		}
	}
	if !got[0].Equal(bound[0]) || !got[2].Equal(bound[2]) {
		t.Errorf("bound instants came back as %v and %v", got[0], got[2])
	}
	var bad time.Time
	if err := (database.TextInstant{T: &bad}).Scan("yesterday"); err == nil {
		t.Error("an instant that is no instant was read")
	}
}
