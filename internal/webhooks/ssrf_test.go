package webhooks

import (
	"net/netip"
	"net/url"
	"testing"
)

// A webhook's address comes from an account's administrator: whatever they
// type is either refused, or an absolute https URL (http only to this
// machine when loopback is allowed) without credentials or fragment, whose
// host, when it is an IP address, is a public one.
func FuzzValidateURL(f *testing.F) {
	for _, seed := range []string{"https://hooks.example.com/x", "http://127.0.0.1:8080/", "https://10.0.0.1/", "https://[::ffff:10.0.0.1]/",
		"https://169.254.169.254/latest", "https://user:pw@example.com/", "https://example.com/#frag", "ftp://example.com/",
		"https://[64:ff9b::a00:1]/", "//example.com", "https://0x7f.1/", "https://%31%30.0.0.1/"} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowLoopback bool) {
		got, err := ValidateURL(raw, allowLoopback)
		if err != nil {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q accepted as %q", raw, got)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && allowLoopback && isLoopbackHost(u.Hostname()):
		default:
			t.Fatalf("%q accepted with scheme %q (loopback allowed: %v)", raw, u.Scheme, allowLoopback)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			if checkIP(ip, allowLoopback) != nil {
				t.Fatalf("%q accepted, reaching %s", raw, ip)
			}
		}
	})
}

// The addresses a delivery may dial: public ones only, loopback when the
// operator allowed it, whatever the notation.
func TestCheckIP(t *testing.T) {
	for addr, public := range map[string]bool{
		"93.184.216.34": true, "2606:4700::1111": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.1": false, "::1": false, "169.254.169.254": false,
		"fe80::1": false, "fc00::1": false, "100.64.0.1": false, "0.0.0.0": false, "::": false, "224.0.0.1": false,
		"::ffff:10.0.0.1": false, "64:ff9b::a00:1": false, "64:ff9b::5db8:d822": true, "240.0.0.1": false,
	} {
		if err := checkIP(netip.MustParseAddr(addr), false); (err == nil) != public {
			t.Errorf("%s: allowed %v, want %v", addr, err == nil, public)
		}
	}
	if checkIP(netip.MustParseAddr("127.0.0.1"), true) != nil || checkIP(netip.MustParseAddr("10.0.0.1"), true) == nil {
		t.Errorf("allowing loopback must allow loopback alone")
	}
}
