//go:build !unix

package database

// lockFile is a no-op where flock does not exist; the README says SQLite
// serves one process only.
func lockFile(string) (func() error, error) { return func() error { return nil }, nil }
