// Package permits runs construction-permit applications with the
// sharing-first check, the BTS log, the reference data of the audit
// (targets, holidays, settings), undergrounding, and the sharing-ratio,
// undergrounding and annual reports. It builds on registry and knows
// nothing of HTTP.
package permits

import (
	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/registry"
	"sync/atomic"
)

// Service holds the permit, BTS and report operations. Each public method
// takes the acting Actor and checks what it may do.
type Service struct {
	db       *database.DB
	clock    infrashare.Clock
	audit    *auth.Audit
	settings *auth.Settings
	reg      *registry.Service
	units    *registry.Units
	// countedUpTo is the highest BTS record id whose monthly counts this
	// replica has seen complete (ratio_counts.go).
	countedUpTo atomic.Int64
	// wholeMonths remembers sums of the monthly counts (ratio_counts.go).
	wholeMonths countsCache
	// reference remembers a report's reference data (ratio_reference.go).
	reference referenceCache
}

// New returns the service.
func New(db *database.DB, clock infrashare.Clock, audit *auth.Audit, settings *auth.Settings, reg *registry.Service, units *registry.Units) *Service {
	return &Service{db: db, clock: clock, audit: audit, settings: settings, reg: reg, units: units}
}
