package auth

import "gorm.io/gorm/clause"

// forUpdate locks the selected rows until the transaction ends (PostgreSQL;
// SQLite transactions are already exclusive).
func forUpdate() clause.Expression { return clause.Locking{Strength: "UPDATE"} }
