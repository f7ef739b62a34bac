package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Errors New reports for a configuration it cannot use; wrapped with the detail.
var (
	ErrNoAddress = errors.New("sip: no phone system address")
	ErrConfig    = errors.New("sip: bad configuration")
)

// Errors that end a subscription. Run never returns them (it retries); the
// reason of app.LinkLost says which in words for officers, and the log has
// the detail.
var (
	ErrTerminated = errors.New("the phone system ended the subscription")
	ErrNoAnswer   = errors.New("no answer from the phone system")
	ErrRejected   = errors.New("the phone system refused the subscription")
	ErrAuth       = errors.New("the phone system refused the SIP password")
	ErrNoPassword = errors.New("the phone system asks for a SIP password and none is set")
	ErrTransport  = errors.New("the connection to the phone system broke")
)

// Timings. The defaults can be changed with options (tests shorten them);
// the retry after a refused password and the refresh cap cannot.
const (
	DefaultExpires = 10 * time.Minute
	// DefaultKeepAlive and DefaultKeepAliveWait are the UDP keepalive: an
	// OPTIONS every second, answered within 600 ms, so that a silent phone
	// system shows as unknown within 1.6 s, 2 s with a margin for a busy PC
	// (one request and one answer a second: 120 packets a minute).
	DefaultKeepAlive     = time.Second
	DefaultKeepAliveWait = 600 * time.Millisecond
	// DefaultStreamKeepAlive and DefaultStreamKeepAliveWait are the TCP and
	// TLS keepalive: a closed connection shows at once (it is checked every
	// 100 ms), so the probe only has to catch a phone system that hangs.
	DefaultStreamKeepAlive     = 10 * time.Second
	DefaultStreamKeepAliveWait = 3 * time.Second
	DefaultRequestTimeout      = 4 * time.Second
	DefaultBackoffMin          = time.Second
	DefaultBackoffMax          = 30 * time.Second
	// MaxProbeInterval caps the backoff while the phone system does not
	// answer at all: each retry is one OPTIONS, and the subscription is made
	// again as soon as one is answered. The longer DefaultBackoffMax is for
	// a phone system that answers but refuses.
	MaxProbeInterval = 2 * time.Second
	// AuthRetryMin and AuthRetryMax bound the backoff after the phone
	// system refused the password: much slower than after other losses, so
	// that brute-force protection (fail2ban and the like) does not lock out
	// the officer's PC, softphone included, while the password is wrong.
	AuthRetryMin = 2 * time.Minute
	AuthRetryMax = 15 * time.Minute
	// MaxRefreshInterval caps the time between refreshes whatever lifetime
	// the phone system grants. A refresh is what reveals a phone system that
	// restarted (and forgot the subscription) faster than the keepalive
	// noticed: it answers 481. So at worst such a restart goes unnoticed
	// this long.
	MaxRefreshInterval = time.Minute
)

// Config says which phone system to ask and about which extension, and the
// password, which comes from the OS keyring and is never logged. The
// composition root fills it from the officer's phone_system settings.
type Config struct {
	Address   string        // registrar/proxy host:port; the port defaults to 5060 (5061 for TLS)
	Transport string        // "udp", "tcp" or "tls"; default "udp"
	Extension string        // user part of the address of record to watch, e.g. "1001"
	Domain    string        // AOR domain; default: the host of Address
	AuthUser  string        // digest user; default: Extension
	Password  string        `json:"-"` // digest password; empty: never answer a challenge
	CAFile    string        // PEM CA to pin for TLS; empty: the system roots
	Expires   time.Duration // subscription lifetime asked for; default 10 min
	// KeepAlive is how often the phone system is asked whether it is there
	// (0: DefaultKeepAlive on UDP, DefaultStreamKeepAlive on TCP and TLS);
	// an answer may take three fifths of it, at most 3 s.
	KeepAlive time.Duration
	LocalAddr string // optional host:port to bind; default: an ephemeral port on the interface that routes to Address
}

// String describes the configuration, without the password.
func (c Config) String() string {
	return fmt.Sprintf("sip:%s@%s via %s/%s", c.Extension, c.Domain, c.Address, c.Transport)
}

// LogValue keeps the password out of logs however the Config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("address", c.Address), slog.String("transport", c.Transport),
		slog.String("extension", c.Extension), slog.String("domain", c.Domain),
		slog.String("auth_user", c.AuthUser), slog.Bool("password_set", c.Password != ""),
		slog.String("ca_file", c.CAFile), slog.Duration("expires", c.Expires),
		slog.Duration("keepalive", c.KeepAlive))
}

// normalize fills defaults and checks the configuration.
func (c Config) normalize() (Config, error) {
	c.Address = strings.TrimSpace(c.Address)
	if c.Address == "" {
		return c, ErrNoAddress
	}
	c.Transport = strings.ToLower(strings.TrimSpace(c.Transport))
	switch c.Transport {
	case "":
		c.Transport = "udp"
	case "udp", "tcp", "tls":
	default:
		return c, fmt.Errorf("%w: transport %q (want udp, tcp or tls)", ErrConfig, c.Transport)
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		// No port given: the transport's default.
		host, port = strings.Trim(c.Address, "[]"), "5060"
		if c.Transport == "tls" {
			port = "5061"
		}
	}
	if host == "" {
		return c, fmt.Errorf("%w: address %q has no host", ErrConfig, c.Address)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return c, fmt.Errorf("%w: address %q has a bad port", ErrConfig, c.Address)
	}
	c.Address = net.JoinHostPort(host, port)
	c.Extension = strings.TrimSpace(c.Extension)
	if c.Extension == "" {
		return c, fmt.Errorf("%w: no extension", ErrConfig)
	}
	if c.Domain == "" {
		c.Domain = host
	}
	if c.AuthUser == "" {
		c.AuthUser = c.Extension
	}
	if c.Expires <= 0 {
		c.Expires = DefaultExpires
	}
	if c.Expires < time.Second {
		c.Expires = time.Second
	}
	if c.KeepAlive < 0 {
		c.KeepAlive = 0
	}
	if c.KeepAlive > 0 && c.KeepAlive < 200*time.Millisecond {
		c.KeepAlive = 200 * time.Millisecond
	}
	if c.LocalAddr != "" {
		if _, _, err := net.SplitHostPort(c.LocalAddr); err != nil {
			return c, fmt.Errorf("%w: local address %q: %v", ErrConfig, c.LocalAddr, err)
		}
	}
	return c, nil
}

// tlsConfig is the client TLS configuration: the pinned CA if one is given,
// else the system roots; the server name is the host of Address.
func (c Config) tlsConfig() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(c.Address)
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %v", ErrConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrConfig, c.CAFile)
	}
	conf.RootCAs = pool
	return conf, nil
}
