// Package app wires Gatehouse together: configuration from flags and the
// environment, the store, the service and the HTTP server, and the life
// cycle of a running node (start, serve, shut down cleanly).
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/secretbox"
)

// Config is built once from flags and the environment and passed down; no
// package reads the environment on its own.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	PublicURL   string
	SMTPURL     string
	// SMSURL is the SMS gateway texts are posted to, with SMSToken as
	// bearer secret (GATEHOUSE_SMS_TOKEN); default: .txt files in the data
	// dir (R-N2).
	SMSURL         string
	SMSToken       string
	InvitationTTL  time.Duration
	BootstrapToken string
	LogLevel       string
	LogFormat      string
	// MailFrom is the From of every e-mail.
	MailFrom string
	// SecretKey (GATEHOUSE_SECRET_KEY, 64 hex digits) seals authenticator
	// keys; default: <data-dir>/secret.key.
	SecretKey string
	// SecretKeyPrevious (GATEHOUSE_SECRET_KEY_PREVIOUS, 64 hex digits) is
	// the server key before SecretKey while it is replaced: it opens what
	// it sealed until `gatehouse keys reseal` has moved that to SecretKey.
	SecretKeyPrevious string
	// OutboxLease is how long a node's claim on the queued messages it is
	// delivering lasts: a node that died holding some delays them this
	// long, and a send that takes longer may be repeated by another node.
	OutboxLease time.Duration
	// OutboxSenders is how many messages a node sends at once: each
	// sender claims its own batches, as another node would. A bulk
	// invitation queues a hundred thousand e-mails at once, and one
	// sender waits on each SMTP answer or file write in turn.
	OutboxSenders int
	// BulkLease is how long a bulk invitation job stays with a node that
	// stopped renewing its claim before another node takes it over.
	BulkLease time.Duration
	// ExpirySweep is how often a node removes the memberships and grants
	// that ended by themselves. They count for nothing from their end on
	// whatever this says; it only bounds how long they stay listed.
	ExpirySweep time.Duration
	// OIDCKeyRotation is how long an OpenID signing key signs before a new
	// one replaces it; every node should say the same.
	OIDCKeyRotation time.Duration
	// WebhooksAllowLoopback lets webhooks reach this machine, over http
	// too: for a receiver beside Gatehouse and for trials, never where
	// administrators are not trusted with the machine's ports.
	WebhooksAllowLoopback bool
	// PasskeyAdminAAGUIDs, when set, are the only authenticator models
	// (AAGUIDs) whose passkeys administrators may register and use; their
	// registrations then ask for direct attestation. Empty: any passkey,
	// attestation "none".
	PasskeyAdminAAGUIDs []uuid.UUID
}

// setting is one flag with the environment variable that sets its default
// (docs/operations.md): a flag beats the environment, which beats the default.
type setting struct {
	flag, env, def, usage string
	into                  *string
}

// ParseConfig reads cmd's flags from args, with defaults from getenv.
func ParseConfig(cmd string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg, rest, err := ParseCommandConfig(cmd, args, getenv, stderr, nil)
	if err == nil && len(rest) > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", rest[0])
	}
	return cfg, err
}

// ParseCommandConfig is ParseConfig for a command that has flags and
// arguments of its own besides the node's settings: extra, if not nil, adds
// its flags, and the arguments left after the flags are returned. usage
// names the command and its arguments in the help ("operator add USERNAME").
func ParseCommandConfig(usage string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, []string, error) {
	var cfg Config
	var ttl, outboxLease, outboxSenders, bulkLease, expirySweep, keyRotation, webhooksLoopback, adminAAGUIDs string
	settings := []setting{
		{"addr", "GATEHOUSE_ADDR", "127.0.0.1:8080", "listen address", &cfg.Addr},
		{"data-dir", "GATEHOUSE_DATA_DIR", "./gatehouse-data", "SQLite database, mail and SMS sinks, keys", &cfg.DataDir},
		{"database-url", "GATEHOUSE_DATABASE_URL", "", "postgres://… selects PostgreSQL (default: SQLite in the data dir)", &cfg.DatabaseURL},
		{"public-url", "GATEHOUSE_PUBLIC_URL", "", "base of every link in e-mails (default http://<addr>)", &cfg.PublicURL},
		{"smtp-url", "GATEHOUSE_SMTP_URL", "", "smtp://[user:pass@]host:port (default: .eml files in the data dir)", &cfg.SMTPURL},
		{"sms-url", "GATEHOUSE_SMS_URL", "", "SMS gateway URL texts are posted to as JSON (default: .txt files in the data dir)", &cfg.SMSURL},
		{"invitation-ttl", "GATEHOUSE_INVITATION_TTL", "168h", "how long an invitation link lives (Go duration)", &ttl},
		{"mail-from", "GATEHOUSE_MAIL_FROM", "", "From address of e-mails (default Gatehouse <noreply@host of the public URL>)", &cfg.MailFrom},
		{"log-level", "GATEHOUSE_LOG_LEVEL", "info", "debug, info, warn or error", &cfg.LogLevel},
		{"log-format", "GATEHOUSE_LOG_FORMAT", "", "json or text (default: text on a terminal, json otherwise)", &cfg.LogFormat},
		{"outbox-lease", "GATEHOUSE_OUTBOX_LEASE", "2m", "how long a node's claim on the messages it is sending lasts; mail a dead node held waits this long (Go duration)", &outboxLease},
		{"outbox-senders", "GATEHOUSE_OUTBOX_SENDERS", "2", "how many messages a node sends at once, each sender with its own batches (1 to 64)", &outboxSenders},
		{"bulk-lease", "GATEHOUSE_BULK_LEASE", "15s", "how long a bulk invitation job waits for a node that stopped before another takes it over (Go duration)", &bulkLease},
		{"expiry-sweep", "GATEHOUSE_EXPIRY_SWEEP", "30s", "how often memberships and grants that ended by themselves are removed; they give no access from their end on whatever this says (Go duration)", &expirySweep},
		{"oidc-key-rotation", "GATEHOUSE_OIDC_KEY_ROTATION", "720h", "how long an OpenID signing key signs before a new one replaces it; the same on every node (Go duration)", &keyRotation},
		{"webhooks-allow-loopback", "GATEHOUSE_WEBHOOKS_ALLOW_LOOPBACK", "false", "let webhooks reach this machine, over http too (true or false; never where administrators are not trusted with its ports)", &webhooksLoopback},
		{"passkey-admin-aaguids", "GATEHOUSE_PASSKEY_ADMIN_AAGUIDS", "", "comma-separated AAGUIDs of the only authenticator models administrators' passkeys may be (default: any)", &adminAAGUIDs},
	}
	fs := flag.NewFlagSet("gatehouse "+usage, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		fs.StringVar(s.into, s.flag, def, s.usage+" (env "+s.env+")")
	}
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gatehouse %s [flags]\n\nFlags (each also read from the environment variable named):\n", usage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nGATEHOUSE_BOOTSTRAP_TOKEN, if set, is accepted as an operator API token.")
		fmt.Fprintln(stderr, "GATEHOUSE_SMS_TOKEN is the bearer secret sent to the SMS gateway.")
		fmt.Fprintln(stderr, "GATEHOUSE_SECRET_KEY (64 hex digits) is the server key; default: the key file in the data dir.")
		fmt.Fprintln(stderr, "GATEHOUSE_SECRET_KEY_PREVIOUS, while the server key is replaced, opens what the old key sealed.")
	}
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	d, err := time.ParseDuration(ttl)
	if err != nil || d <= 0 {
		return cfg, nil, fmt.Errorf("invitation TTL %q must be a positive Go duration such as 168h", ttl)
	}
	cfg.InvitationTTL = d
	// Under a second, a lease would end while its holder is still at work.
	if cfg.OutboxSenders, err = strconv.Atoi(outboxSenders); err != nil || cfg.OutboxSenders < 1 || cfg.OutboxSenders > 64 {
		return cfg, nil, fmt.Errorf("outbox senders %q must be a whole number from 1 to 64", outboxSenders)
	}
	if cfg.OutboxLease, err = time.ParseDuration(outboxLease); err != nil || cfg.OutboxLease < time.Second {
		return cfg, nil, fmt.Errorf("outbox lease %q must be a Go duration of at least 1s, such as 2m", outboxLease)
	}
	if cfg.BulkLease, err = time.ParseDuration(bulkLease); err != nil || cfg.BulkLease < time.Second {
		return cfg, nil, fmt.Errorf("bulk lease %q must be a Go duration of at least 1s, such as 15s", bulkLease)
	}
	if cfg.ExpirySweep, err = time.ParseDuration(expirySweep); err != nil || cfg.ExpirySweep < time.Second {
		return cfg, nil, fmt.Errorf("expiry sweep %q must be a Go duration of at least 1s, such as 30s", expirySweep)
	}
	// Under two hours, a replaced key would still be needed (for the
	// tokens it signed) when the next rotation comes.
	if cfg.OIDCKeyRotation, err = time.ParseDuration(keyRotation); err != nil || cfg.OIDCKeyRotation < 2*time.Hour {
		return cfg, nil, fmt.Errorf("OpenID key rotation %q must be a Go duration of at least 2h, such as 720h", keyRotation)
	}
	if cfg.WebhooksAllowLoopback, err = strconv.ParseBool(webhooksLoopback); err != nil {
		return cfg, nil, fmt.Errorf("webhooks-allow-loopback %q must be true or false", webhooksLoopback)
	}
	for _, field := range strings.Split(adminAAGUIDs, ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		id, err := uuid.Parse(field)
		if err != nil {
			return cfg, nil, fmt.Errorf("passkey admin AAGUID %q must be a UUID such as ee882879-721c-4913-9775-3dfcce97072a", field)
		}
		cfg.PasskeyAdminAAGUIDs = append(cfg.PasskeyAdminAAGUIDs, id)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return cfg, nil, fmt.Errorf("public URL %q must be an http:// or https:// URL such as https://gatehouse.example.com", cfg.PublicURL)
	}
	if cfg.MailFrom == "" {
		u, _ := url.Parse(cfg.PublicURL)
		cfg.MailFrom = "Gatehouse <noreply@" + u.Hostname() + ">"
	}
	if _, err := mail.ParseAddress(cfg.MailFrom); err != nil {
		return cfg, nil, fmt.Errorf("mail from %q must be an address such as Gatehouse <noreply@example.com>", cfg.MailFrom)
	}
	if cfg.SMTPURL != "" {
		if u, err := url.Parse(cfg.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" || u.Port() == "" {
			return cfg, nil, fmt.Errorf("SMTP URL must look like smtp://[user:pass@]host:port")
		}
	}
	if cfg.SMSURL != "" {
		if u, err := url.Parse(cfg.SMSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, nil, fmt.Errorf("SMS URL %q must be an http:// or https:// URL", cfg.SMSURL)
		}
	}
	cfg.SMSToken = getenv("GATEHOUSE_SMS_TOKEN")
	cfg.BootstrapToken = getenv("GATEHOUSE_BOOTSTRAP_TOKEN")
	cfg.SecretKey = getenv("GATEHOUSE_SECRET_KEY")
	cfg.SecretKeyPrevious = getenv("GATEHOUSE_SECRET_KEY_PREVIOUS")
	if cfg.SecretKeyPrevious != "" {
		if _, err := secretbox.ParseKey(cfg.SecretKeyPrevious); err != nil {
			return cfg, nil, errors.New("GATEHOUSE_SECRET_KEY_PREVIOUS must be 64 hexadecimal digits (32 bytes)")
		}
	}
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cfg, nil, fmt.Errorf("log level %q must be debug, info, warn or error", cfg.LogLevel)
	}
	switch cfg.LogFormat {
	case "", "json", "text":
	default:
		return cfg, nil, fmt.Errorf("log format %q must be json or text", cfg.LogFormat)
	}
	return cfg, fs.Args(), nil
}

// stderrIsTerminal decides the default log format.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
