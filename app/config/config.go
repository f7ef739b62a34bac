package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/callguard/callguard/internal/atomicfile"
)

// Config is everything about one officer's desktop that is not policy and not
// a secret. The zero value is not ready: use Default and overlay files on it.
type Config struct {
	Agent       Agent       `json:"agent"`
	PhoneSystem PhoneSystem `json:"phone_system"`
	Audio       Audio       `json:"audio"`
	Server      Server      `json:"server"`
	LocalAPI    LocalAPI    `json:"local_api"`
	// DataDir holds the recording spool, the outbox and, for the embedded
	// server, its database. Empty means the per-OS default (DefaultDataDir).
	DataDir string `json:"data_dir,omitempty"`
	// Language picks the notice script, e.g. "en-GB".
	Language string `json:"language,omitempty"`
	// Window is how the officer's panel sits on the screen.
	Window Window `json:"window"`
}

// Window is how the officer's panel sits on the screen. IT forces a choice
// with the same keys in the managed settings (e.g. window.always_on_top).
type Window struct {
	// AlwaysOnTop keeps the panel above the softphone and the CRM where the
	// OS allows it. On unless the officer (or IT) turns it off.
	AlwaysOnTop bool `json:"always_on_top"`
	// Mini shows the one-line strip instead of the full panel.
	Mini bool `json:"mini"`
}

// Agent identifies the officer.
type Agent struct {
	ID   string `json:"id"` // login or extension, as the server knows the agent
	Name string `json:"name,omitempty"`
}

// PhoneSystem says where callguard learns call state. An empty Address means
// manual call mode: the officer or the CRM marks call start and end.
type PhoneSystem struct {
	Address   string `json:"address,omitempty"`   // registrar/proxy host:port
	Transport string `json:"transport,omitempty"` // udp, tcp or tls
	Extension string `json:"extension,omitempty"` // user part of the address of record
	Domain    string `json:"domain,omitempty"`    // domain of the AOR; default: host of Address
	AuthUser  string `json:"auth_user,omitempty"` // digest user; default: Extension
	CAFile    string `json:"ca_file,omitempty"`   // PEM CA to pin for TLS; empty: system roots
	// Expires is the subscription lifetime asked for, in seconds.
	Expires int `json:"expires,omitempty"`
	// KeepAliveMS is how often, in milliseconds, callguard asks the phone
	// system whether it is still there. 0: every second on UDP (a silent
	// phone system shows as unknown within 2 s), every 10 s on TCP and TLS
	// (a closed connection shows at once anyway).
	KeepAliveMS int `json:"keepalive_ms,omitempty"`
	// RTPEngineNG is rtpengine's ng control address (host:port), for a site
	// without a central server whose policy records at the phone system
	// (record.where pbx or both): the desktop then commands rtpengine
	// itself. Empty: the central server does (callguard-server
	// --rtpengine-ng), which needs one firewall rule instead of one per PC.
	RTPEngineNG string `json:"rtpengine_ng,omitempty"`
}

// Manual reports whether calls are marked by hand: no phone system is
// configured, or IT preset its address but the officer's extension is not
// set yet (see NeedsExtension).
func (p PhoneSystem) Manual() bool { return p.Address == "" || p.Extension == "" }

// NeedsExtension reports whether a phone system is configured (typically by
// IT, machine-wide) but this officer's extension is still missing.
func (p PhoneSystem) NeedsExtension() bool { return p.Address != "" && p.Extension == "" }

// Audio names the capture devices. Empty names mean the system default for
// the officer and no caller channel.
type Audio struct {
	OfficerDevice string `json:"officer_device,omitempty"`
	CallerDevice  string `json:"caller_device,omitempty"`
}

// Server says where metadata and recordings go. An empty URL runs the
// central server in-process on loopback with SQLite (the embedded default).
type Server struct {
	URL string `json:"url,omitempty"`
	// CAFile pins the server's CA; empty uses the system roots.
	CAFile string `json:"ca_file,omitempty"`
}

// Embedded reports whether the app runs its own server in-process.
func (s Server) Embedded() bool { return s.URL == "" }

// LocalAPI configures the loopback HTTP API for CRM and payment pages.
type LocalAPI struct {
	// Port on 127.0.0.1; 0 means the default 7465, -1 turns the API off.
	Port int `json:"port,omitempty"`
}

// DefaultLocalAPIPort is the local API's port unless configured otherwise.
const DefaultLocalAPIPort = 7465

// Addr returns the loopback address the local API listens on, or "" when off.
func (l LocalAPI) Addr() string {
	switch {
	case l.Port < 0:
		return ""
	case l.Port == 0:
		return fmt.Sprintf("127.0.0.1:%d", DefaultLocalAPIPort)
	}
	return fmt.Sprintf("127.0.0.1:%d", l.Port)
}

// Default returns the configuration callguard runs on when nothing is set:
// manual call mode, the embedded server, the local API on its default port.
func Default() Config {
	return Config{
		Agent:    Agent{ID: defaultAgentID()},
		Language: "en-GB",
		Window:   Window{AlwaysOnTop: true},
		PhoneSystem: PhoneSystem{
			Transport: "udp",
			Expires:   600,
		},
	}
}

func defaultAgentID() string {
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "officer"
}

// ErrSecretInFile is returned when a settings file holds a password or token.
var ErrSecretInFile = errors.New("secrets belong in the OS keyring, not in a settings file")

var secretKey = regexp.MustCompile(`(?i)"[a-z_]*(password|secret|token|passphrase|identity)[a-z_]*"\s*:`)

// Overlay decodes the JSON document b onto c: fields present in b replace
// c's, fields absent keep their value. Unknown fields are an error, so a typo
// in a file IT deploys is reported instead of ignored.
func (c *Config) Overlay(b []byte) error {
	if secretKey.Match(b) {
		return ErrSecretInFile
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

// Validate reports every problem in c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if strings.TrimSpace(c.Agent.ID) == "" {
		bad("agent.id is empty")
	}
	p := c.PhoneSystem
	if p.Address != "" {
		if _, port, err := net.SplitHostPort(p.Address); err != nil || port == "" {
			bad("phone_system.address %q must be host:port", p.Address)
		}
		switch p.Transport {
		case "udp", "tcp", "tls":
		default:
			bad("phone_system.transport %q must be udp, tcp or tls", p.Transport)
		}
		if p.Expires != 0 && (p.Expires < 60 || p.Expires > 86400) {
			bad("phone_system.expires %d must be between 60 and 86400 seconds", p.Expires)
		}
		if p.KeepAliveMS != 0 && (p.KeepAliveMS < 200 || p.KeepAliveMS > 60000) {
			bad("phone_system.keepalive_ms %d must be between 200 and 60000 milliseconds", p.KeepAliveMS)
		}
	}
	if p.RTPEngineNG != "" {
		if _, port, err := net.SplitHostPort(p.RTPEngineNG); err != nil || port == "" {
			bad("phone_system.rtpengine_ng %q must be host:port", p.RTPEngineNG)
		}
	}
	if c.Server.URL != "" {
		u, err := url.Parse(c.Server.URL)
		switch {
		case err != nil || u.Host == "":
			bad("server.url %q is not a URL", c.Server.URL)
		case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
			bad("server.url %q must use https (plain http only on loopback)", c.Server.URL)
		case u.Scheme != "http" && u.Scheme != "https":
			bad("server.url %q must be https://", c.Server.URL)
		}
	}
	if c.LocalAPI.Port > 65535 || c.LocalAPI.Port < -1 {
		bad("local_api.port %d is out of range (-1 turns the API off)", c.LocalAPI.Port)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid settings: %w", errors.Join(errs...))
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// DefaultPath is where the officer's settings file lives on this OS:
// $XDG_CONFIG_HOME/callguard/settings.json on Linux,
// %AppData%\callguard\settings.json on Windows and
// ~/Library/Application Support/callguard/settings.json on macOS.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find settings directory: %w", err)
	}
	return filepath.Join(dir, "callguard", "settings.json"), nil
}

// DefaultDataDir is where callguard keeps its spool, outbox and embedded
// database when the settings do not say: the OS's per-user data directory.
func DefaultDataDir() (string, error) {
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return filepath.Join(dir, "callguard"), nil
	}
	dir, err := userDataDir()
	if err != nil {
		return "", fmt.Errorf("find data directory: %w", err)
	}
	return filepath.Join(dir, "callguard"), nil
}

// ResolvedDataDir returns c.DataDir or the per-OS default.
func (c *Config) ResolvedDataDir() (string, error) {
	if c.DataDir != "" {
		return c.DataDir, nil
	}
	return DefaultDataDir()
}

// Load builds the effective settings: defaults, then the officer's file at
// path (missing is fine), then IT's managed settings, which win.
func Load(path string, managed Managed) (Config, error) {
	c := Default()
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("read settings: %w", err)
	default:
		if err := c.Overlay(b); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(managed.Settings) > 0 {
		if err := c.Overlay(managed.Settings); err != nil {
			return c, fmt.Errorf("managed settings from %s: %w", managed.Source, err)
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// Save writes c to path atomically: a crash leaves the old file or the new
// one, never half of one.
func Save(path string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	return writeSettings(path, append(b, '\n'))
}

// SaveOwn writes c to path like Save, but without the values managed sets:
// those are applied at every Load, and one that IT later withdraws must not
// live on in the officer's file. Where the file already held the officer's
// own value for such a key, that value is kept.
func SaveOwn(path string, c Config, managed Managed) error {
	if len(managed.Settings) == 0 {
		return Save(path, c)
	}
	var locked map[string]json.RawMessage
	if err := json.Unmarshal(managed.Settings, &locked); err != nil {
		return fmt.Errorf("managed settings from %s: %w", managed.Source, err)
	}
	var doc, old map[string]json.RawMessage
	if err := remarshal(c, &doc); err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &old) // unreadable: nothing of the officer's to keep
	}
	for key, v := range locked {
		var fields map[string]json.RawMessage
		if json.Unmarshal(v, &fields) != nil || fields == nil {
			keepOwn(doc, old, key) // a whole value, not a section
			continue
		}
		var section, oldSection map[string]json.RawMessage
		if err := json.Unmarshal(doc[key], &section); err != nil || section == nil {
			continue // not a section of Config: Load would have refused it
		}
		_ = json.Unmarshal(old[key], &oldSection)
		for f := range fields {
			keepOwn(section, oldSection, f)
		}
		b, err := json.Marshal(section)
		if err != nil {
			return fmt.Errorf("encode settings: %w", err)
		}
		doc[key] = b
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	return writeSettings(path, append(b, '\n'))
}

// keepOwn sets dst[k] to the officer's old value, or removes it.
func keepOwn(dst, old map[string]json.RawMessage, k string) {
	if v, ok := old[k]; ok {
		dst[k] = v
	} else {
		delete(dst, k)
	}
}

func remarshal(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// writeSettings stores the settings file atomically (internal/atomicfile),
// making its directory on first save.
func writeSettings(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return atomicfile.WriteFile(path, b, 0o600)
}
