package signin

import "testing"

// Issuers are https://, or http:// on the loopback interface only: the
// server fetches the discovery document itself.
func TestValidIssuer(t *testing.T) {
	for issuer, want := range map[string]bool{
		"https://login.acme.example":           true,
		"https://login.acme.example/realms/x":  true,
		"http://127.0.0.1:8099":                true,
		"http://localhost:8080":                true,
		"http://[::1]:9000":                    true,
		"http://169.254.169.254/latest":        false,
		"http://login.acme.example":            false,
		"ftp://login.acme.example":             false,
		"https://user:pass@login.acme.example": false,
		"https://login.acme.example/?x=1":      false,
		"login.acme.example":                   false,
		"https://":                             false,
	} {
		if got := validIssuer(issuer); got != want {
			t.Errorf("validIssuer(%q) = %v, want %v", issuer, got, want)
		}
	}
}
