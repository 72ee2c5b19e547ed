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
