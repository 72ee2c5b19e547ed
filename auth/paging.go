package auth

import "gorm.io/gorm"

// Page runs q as one keyset page of rows by a unique increasing column
// (id, or seq): after the cursor in
// ascending order, or before it in descending (newest first) order. It
// returns the rows and the cursor of the next page ("" on the last).
func Page[T any](q *gorm.DB, column, cursor string, limit int, newestFirst bool, key func(T) int64) ([]T, string, error) {
	limit = ClampLimit(limit)
	if cursor != "" {
		at, err := DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		if newestFirst {
			q = q.Where(column+" < ?", at)
		} else {
			q = q.Where(column+" > ?", at)
		}
	}
	order := column
	if newestFirst {
		order = column + " DESC"
	}
	var rows []T
	if err := q.Order(order).Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = EncodeCursor(key(rows[len(rows)-1]))
	}
	return rows, next, nil
}
