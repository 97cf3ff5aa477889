package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// A webhook's address is chosen by an account's administrator, and
// Gatehouse POSTs to it from inside the platform's network: without care,
// a subscription would reach the cloud's metadata service or an internal
// admin port. So only https to public addresses is allowed, checked when
// subscribing and again on the very address each delivery dials.

// blocked are the ranges no webhook reaches besides those netip names
// (loopback, private, link-local, multicast, unspecified).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT (shared address space)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard-only
}

// nat64 is the well-known NAT64 prefix: its addresses reach the IPv4
// address in their last four bytes, which is checked instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

var errBlockedAddress = errors.New("a webhook may not reach this address")

// checkIP refuses every address but public unicast ones; loopback too
// unless allowLoopback (an operator's choice, for tests and a receiver on
// the same machine).
func checkIP(ip netip.Addr, allowLoopback bool) error {
	ip = ip.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if allowLoopback && ip.IsLoopback() {
		return nil
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return fmt.Errorf("%w: %s", errBlockedAddress, ip)
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s", errBlockedAddress, ip)
		}
	}
	return nil
}

// isLoopbackHost tells a host that names this machine.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// ValidateURL checks a subscription's address: an absolute https URL with
// a host, without credentials (they would be sent to whoever answers
// next, and shown to every administrator) or a fragment; http only to
// this machine, where the operator allowed it. An address given as an IP
// must be a public one; a name is checked at each delivery, on the
// address it resolves to then.
func ValidateURL(raw string, allowLoopback bool) (string, error) {
	invalid := func(why string) (string, error) { return "", gatehouse.Invalid("url", "%s", why) }
	if len(raw) > 2048 {
		return invalid("at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return invalid("an absolute https:// URL")
	}
	if u.User != nil {
		return invalid("no user or password in the URL: receivers check the signature instead")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalid("no fragment (#…): it is never sent")
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLoopback && isLoopbackHost(host):
	default:
		return invalid("https:// only")
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if err := checkIP(ip, allowLoopback); err != nil {
			return invalid("a public address: " + err.Error())
		}
	}
	return u.String(), nil
}

// DeliveryTimeout is how long a receiver has to answer.
const DeliveryTimeout = 10 * time.Second

// newClient is the HTTP client of deliveries. It dials only what checkIP
// allows, checked in the dialer's Control on the address actually being
// connected to: a name that resolved to a public address when asked and
// to a private one a moment later (DNS rebinding) is caught at the
// connect itself. It uses no proxy (the proxy would dial instead) and
// follows no redirect (a 3xx is a failure: a redirect could lead inside).
func newClient(allowLoopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: DeliveryTimeout, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", errBlockedAddress, address)
			}
			return checkIP(ap.Addr(), allowLoopback)
		}}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DeliveryTimeout,
		ResponseHeaderTimeout: DeliveryTimeout,
	}
	return &http.Client{Timeout: DeliveryTimeout, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
