// Package permits runs construction-permit applications with the
// sharing-first check, the BTS log, and the sharing-ratio, undergrounding and
// annual reports. It builds on registry and knows nothing of HTTP.
package permits
