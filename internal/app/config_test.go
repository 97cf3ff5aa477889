package app

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Flags and environment as docs/operations.md lists them: the defaults,
// the environment over the defaults, the flags over the environment.
func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "127.0.0.1:8080", DataDir: "./gatehouse-data", PublicURL: "http://127.0.0.1:8080",
		InvitationTTL: 168 * time.Hour, LogLevel: "info", MailFrom: "Gatehouse <noreply@127.0.0.1>",
		OutboxLease: 2 * time.Minute, OutboxSenders: 2, BulkLease: 15 * time.Second, ExpirySweep: 30 * time.Second,
		OIDCKeyRotation: 720 * time.Hour}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults %+v\nwant %+v", cfg, want)
	}

	vars := map[string]string{
		"GATEHOUSE_ADDR": "0.0.0.0:9000", "GATEHOUSE_DATA_DIR": "/var/lib/gatehouse",
		"GATEHOUSE_DATABASE_URL": "postgres://db/gh", "GATEHOUSE_PUBLIC_URL": "https://gh.example.com/",
		"GATEHOUSE_SMTP_URL": "smtp://u:p@mail:587", "GATEHOUSE_INVITATION_TTL": "72h",
		"GATEHOUSE_BOOTSTRAP_TOKEN": "s3cret", "GATEHOUSE_SMS_URL": "https://sms.example.com/send", "GATEHOUSE_SMS_TOKEN": "sms-secret",
		"GATEHOUSE_OUTBOX_LEASE": "3s", "GATEHOUSE_OUTBOX_SENDERS": "4", "GATEHOUSE_BULK_LEASE": "2s", "GATEHOUSE_EXPIRY_SWEEP": "1m",
		"GATEHOUSE_OIDC_KEY_ROTATION": "168h", "GATEHOUSE_SECRET_KEY_PREVIOUS": strings.Repeat("ab", 32),
		"GATEHOUSE_PASSKEY_ADMIN_AAGUIDS": "ee882879-721c-4913-9775-3dfcce97072a, fa2b99dc-9e39-4257-8f92-4a30d23c4118",
	}
	cfg, err = ParseConfig("serve", nil, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want = Config{Addr: "0.0.0.0:9000", DataDir: "/var/lib/gatehouse", DatabaseURL: "postgres://db/gh",
		PublicURL: "https://gh.example.com", SMTPURL: "smtp://u:p@mail:587", InvitationTTL: 72 * time.Hour,
		BootstrapToken: "s3cret", LogLevel: "info", MailFrom: "Gatehouse <noreply@gh.example.com>",
		SMSURL: "https://sms.example.com/send", SMSToken: "sms-secret", OutboxLease: 3 * time.Second, OutboxSenders: 4, BulkLease: 2 * time.Second,
		ExpirySweep: time.Minute, OIDCKeyRotation: 168 * time.Hour, SecretKeyPrevious: strings.Repeat("ab", 32),
		PasskeyAdminAAGUIDs: []uuid.UUID{uuid.MustParse("ee882879-721c-4913-9775-3dfcce97072a"), uuid.MustParse("fa2b99dc-9e39-4257-8f92-4a30d23c4118")}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("from the environment %+v\nwant %+v", cfg, want)
	}

	cfg, err = ParseConfig("serve", []string{"--addr", "127.0.0.1:7000", "--invitation-ttl", "30m", "--public-url", "http://localhost:7000"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7000" || cfg.InvitationTTL != 30*time.Minute || cfg.PublicURL != "http://localhost:7000" || cfg.DataDir != "/var/lib/gatehouse" {
		t.Errorf("flags over environment: %+v", cfg)
	}
}

func TestParseConfigRefusesNonsense(t *testing.T) {
	cases := map[string][]string{
		"ttl not a duration":  {"--invitation-ttl", "a week"},
		"ttl not positive":    {"--invitation-ttl", "-1h"},
		"public URL relative": {"--public-url", "gatehouse.example.com"},
		"public URL ftp":      {"--public-url", "ftp://gatehouse.example.com"},
		"SMTP without port":   {"--smtp-url", "smtp://mail.example.com"},
		"SMTP wrong scheme":   {"--smtp-url", "http://mail.example.com:25"},
		"log level":           {"--log-level", "loud"},
		"SMS URL":             {"--sms-url", "sms.example.com/send"},
		"log format":          {"--log-format", "xml"},
		"stray argument":      {"now"},
		"mail from":           {"--mail-from", "not an address"},
		"outbox lease":        {"--outbox-lease", "soon"},
		"outbox lease short":  {"--outbox-lease", "100ms"},
		"outbox senders":      {"--outbox-senders", "0"},
		"outbox senders many": {"--outbox-senders", "65"},
		"bulk lease":          {"--bulk-lease", "0s"},
		"expiry sweep":        {"--expiry-sweep", "often"},
		"key rotation":        {"--oidc-key-rotation", "monthly"},
		"key rotation short":  {"--oidc-key-rotation", "1h"},
		"expiry sweep short":  {"--expiry-sweep", "10ms"},
		"admin AAGUID":        {"--passkey-admin-aaguids", "ee882879-721c-4913-9775-3dfcce97072a,yubikey"},
	}
	for name, args := range cases {
		if _, err := ParseConfig("serve", args, env(nil), io.Discard); err == nil {
			t.Errorf("%s: %v accepted", name, args)
		} else if strings.Contains(err.Error(), "%!") {
			t.Errorf("%s: garbled message %q", name, err)
		}
	}
	// A previous key that is no key would be found out only when the
	// first secret it sealed failed to open.
	if _, err := ParseConfig("serve", nil, env(map[string]string{"GATEHOUSE_SECRET_KEY_PREVIOUS": "abcd"}), io.Discard); err == nil {
		t.Error("a short GATEHOUSE_SECRET_KEY_PREVIOUS was accepted")
	}
}

// A command with flags and arguments of its own reads the node's settings
// the same way, and gets its arguments back, flags before or after them.
func TestParseCommandConfig(t *testing.T) {
	var name string
	extra := func(fs *flag.FlagSet) { fs.StringVar(&name, "name", "default name", "") }
	cfg, rest, err := ParseCommandConfig("operator add USERNAME", []string{"--data-dir", "/tmp/d", "--name", "Ops", "ann@example.com"},
		env(map[string]string{"GATEHOUSE_DATABASE_URL": "postgres://db/gh"}), io.Discard, extra)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/tmp/d" || cfg.DatabaseURL != "postgres://db/gh" || name != "Ops" || len(rest) != 1 || rest[0] != "ann@example.com" {
		t.Errorf("got %+v, name %q, arguments %q", cfg, name, rest)
	}
	var help strings.Builder
	if _, _, err := ParseCommandConfig("operator add USERNAME", []string{"-h"}, env(nil), &help, extra); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if !strings.Contains(help.String(), "gatehouse operator add USERNAME [flags]") || !strings.Contains(help.String(), "-name") {
		t.Errorf("help:\n%s", help.String())
	}
}
