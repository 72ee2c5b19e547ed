package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"infrashare"
)

// SSRF protection. A webhook URL is chosen by an operator's staff, and the
// server POSTs to it from inside the city's network, so it must not reach
// the server itself or the internal network: its host must not resolve to
// a loopback, private (RFC 1918, fc00::/7), link-local, unspecified,
// multicast, CGNAT (100.64.0.0/10) or otherwise reserved address, unless
// the setting notify.webhook_allowlist names the host, the address, or a
// CIDR holding it. The check runs at registration, and again at each
// delivery inside the HTTP client's dialer, which resolves the name,
// checks every address and dials the checked address itself, so that a
// name re-pointed after registration (DNS rebinding) gains nothing.
// Redirects are not followed, and no HTTP proxy is used.

// blockedPrefixes are the reserved ranges beyond what net/netip's own
// predicates (loopback, private, link-local, multicast, unspecified) cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared address space
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("::/128"),          // unspecified
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// embeddedV4 are IPv6 ranges that carry an IPv4 address which the network
// may reach: that address is checked too.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// blockedIP reports whether a webhook may not be sent to ip.
func blockedIP(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return blockedIP(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixTo4.Contains(ip):
			return blockedIP(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return false
}

// allowlist is the setting notify.webhook_allowlist: host names, addresses
// and CIDRs that webhooks may reach although they are internal.
type allowlist struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
}

func parseAllowlist(entries []string) allowlist {
	a := allowlist{hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(strings.ToLower(e))
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			ip = ip.WithZone("").Unmap()
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		a.hosts[normalizeHost(e)] = true
	}
	return a
}

func normalizeHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

func (a allowlist) hostAllowed(host string) bool { return a.hosts[normalizeHost(host)] }

func (a allowlist) ipAllowed(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// errBlocked is the refusal of an internal address.
type errBlocked struct {
	host string
	ip   netip.Addr
}

func (e errBlocked) Error() string {
	if e.host == e.ip.String() {
		return fmt.Sprintf("refused: %s is a loopback, private or otherwise internal address (not in notify.webhook_allowlist)", e.ip)
	}
	return fmt.Sprintf("refused: %s resolves to %s, a loopback, private or otherwise internal address (not in notify.webhook_allowlist)", e.host, e.ip)
}

// check refuses host unless the allowlist names it or every one of its
// addresses is public or allowlisted.
func (a allowlist) check(host string, ips []netip.Addr) error {
	if a.hostAllowed(host) {
		return nil
	}
	if len(ips) == 0 {
		return fmt.Errorf("%s has no address", host)
	}
	for _, ip := range ips {
		if blockedIP(ip) && !a.ipAllowed(ip) {
			return errBlocked{host: host, ip: ip.WithZone("").Unmap()}
		}
	}
	return nil
}

// allowlist reads the setting notify.webhook_allowlist in force today.
func (s *Service) allowlist(ctx context.Context) (allowlist, error) {
	var entries []string
	if err := s.settings.Get(ctx, "notify.webhook_allowlist", &entries); err != nil {
		return allowlist{}, err
	}
	return parseAllowlist(entries), nil
}

// resolve returns the addresses of host: itself when it is an address.
func (s *Service) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := s.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, fmt.Errorf("%s does not resolve", host)
		}
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	return ips, nil
}

// checkWebhookURL validates a URL at registration; the error names the
// field "url".
func (s *Service) checkWebhookURL(ctx context.Context, raw string, allow allowlist) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return infrashare.Invalid("url", "must be an absolute http or https URL")
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "https" && scheme != "http" {
		return infrashare.Invalid("url", "must be an http or https URL")
	}
	if u.User != nil {
		return infrashare.Invalid("url", "must not carry a user name or password; the signature authenticates the sender")
	}
	host := u.Hostname()
	if host == "" {
		return infrashare.Invalid("url", "must name a host")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return infrashare.Invalid("url", "has an invalid port")
		}
	}
	ips, err := s.resolve(ctx, host)
	if err != nil {
		return infrashare.Invalid("url", "the host name does not resolve")
	}
	if err := allow.check(host, ips); err != nil {
		return infrashare.Invalid("url", "must not point to a loopback, private, link-local or other internal address "+
			"(an admin may allow it in the setting notify.webhook_allowlist)")
	}
	return nil
}

func parsePort(p string) (int, error) {
	n := 0
	for _, r := range p {
		if r < '0' || r > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(r-'0')
		if n > 65535 {
			return 0, errors.New("out of range")
		}
	}
	return n, nil
}

type allowlistKey struct{}

// dialContext is the webhook client's dialer: it resolves the host, refuses
// it unless every address passes the check against the allowlist carried
// by ctx (none: the strictest), and dials a checked address, never the name.
func (s *Service) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	allow, _ := ctx.Value(allowlistKey{}).(allowlist)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := s.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	if err := allow.check(host, ips); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: webhookTimeout}
	var first error
	for _, ip := range ips {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}
