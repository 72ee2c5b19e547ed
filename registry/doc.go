// Package registry is the register of passive infrastructure: assets and
// their capacity, allocations, nearby search, co-location requests, import
// and export. It depends on auth for the acting organisation and the audit
// log, and knows nothing of HTTP.
package registry
