package database

import (
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

var timeType = reflect.TypeOf(time.Time{})

// registerCallbacks makes every instant written or read through a model UTC
// with microsecond precision: what PostgreSQL keeps, and what SQLite's text
// then sorts correctly by.
func registerCallbacks(g *gorm.DB) {
	_ = g.Callback().Create().Before("gorm:create").Register("infrashare:utc_times", normaliseTimes)
	_ = g.Callback().Update().Before("gorm:update").Register("infrashare:utc_times", normaliseTimes)
	// pgx hands timestamptz back in the process's local zone; every instant
	// leaves the store in UTC whatever TZ the server runs with.
	_ = g.Callback().Query().After("gorm:query").Register("infrashare:utc_times", normaliseTimes)
}

func normaliseTimes(db *gorm.DB) {
	st := db.Statement
	if st.Schema == nil || !st.ReflectValue.IsValid() {
		return
	}
	var fields []*schema.Field
	for _, f := range st.Schema.Fields {
		t := f.FieldType
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == timeType {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return
	}
	fix := func(rv reflect.Value) {
		for _, f := range fields {
			v, zero := f.ValueOf(st.Context, rv)
			if zero {
				continue
			}
			switch t := v.(type) {
			case time.Time:
				_ = f.Set(st.Context, rv, t.UTC().Truncate(time.Microsecond))
			case *time.Time:
				if t != nil {
					u := t.UTC().Truncate(time.Microsecond)
					_ = f.Set(st.Context, rv, &u)
				}
			}
		}
	}
	// Only rows of the statement's model: a Pluck into []time.Time or a
	// Scan into another struct has a different shape.
	model := st.Schema.ModelType
	rv := reflect.Indirect(st.ReflectValue)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if el := reflect.Indirect(rv.Index(i)); el.Type() == model {
				fix(el)
			}
		}
	case reflect.Struct:
		if rv.Type() == model {
			fix(rv)
		}
	}
}
