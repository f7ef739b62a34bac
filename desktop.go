package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/app/localapi"
	"github.com/callguard/callguard/app/outbox"
	"github.com/callguard/callguard/app/secrets"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/atomicfile"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/recorder"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/sip"
	"github.com/callguard/callguard/ui"
)

// options is everything the desktop is started with.
type options struct {
	Config     config.Config
	Managed    config.Managed
	Policy     *policy.Policy
	ConfigPath string
	// SavedDataDir is the data directory the settings say, before --data:
	// what saving the settings writes back.
	SavedDataDir string
	Logger       *slog.Logger
	Version      string
}

// loadOptions builds the effective settings and policy: defaults, the
// officer's settings, IT's managed settings and policy, and a policy file
// given on the command line, each over the one before.
func loadOptions(configPath, dataDir, policyPath string) (options, error) {
	managed, err := config.LoadManaged()
	if err != nil {
		return options{}, err
	}
	cfg, err := config.Load(configPath, managed)
	if err != nil {
		return options{}, err
	}
	saved := cfg.DataDir
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		return options{}, fmt.Errorf("built-in policy: %w", err)
	}
	if len(managed.Policy) > 0 {
		if pol, err = pol.Overlay(managed.Policy); err != nil {
			return options{}, fmt.Errorf("managed policy from %s: %w", managed.Source, err)
		}
	}
	if policyPath != "" {
		b, err := os.ReadFile(policyPath)
		if err != nil {
			return options{}, fmt.Errorf("policy: %w", err)
		}
		if pol, err = pol.Overlay(b); err != nil {
			return options{}, fmt.Errorf("%s: %w", policyPath, err)
		}
	}
	return options{Config: cfg, Managed: managed, Policy: pol, SavedDataDir: saved}, nil
}

// desktop is the running app: the session core and the parts around it.
type desktop struct {
	opts    options
	log     *slog.Logger
	dataDir string
	policy  *policy.Policy
	secrets *secrets.Store
	core    *app.Core
	rec     *recorder.Recorder
	outbox  *outbox.Outbox
	uplink  *uplink.Client
	server  *central.Server     // the embedded server, when there is no other
	demoKey *age.X25519Identity // the embedded server's demo organisation key
	notes   app.Notifier        // the officer's notifications
	phone   phoneRecorderParts  // the phone system's recorder, where the policy records there

	mu     sync.Mutex
	cfg    config.Config
	apiErr error

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startDesktop starts every part; stop stops them in reverse.
func startDesktop(parent context.Context, opts options) (*desktop, error) {
	log := opts.Logger
	cfg := opts.Config
	dataDir, err := cfg.ResolvedDataDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	d := &desktop{opts: opts, log: log, dataDir: dataDir, policy: opts.Policy, cfg: cfg}
	d.notes = app.NewThrottle(desktopNotifier{log}, 20*time.Second, nil)
	d.secrets = secrets.Open(secrets.Service)
	if err := d.secrets.Unavailable(); err != nil {
		log.Warn("the OS keyring is not reachable: secrets are kept in memory for this run only", "err", err)
	}

	if len(d.policy.Recipients) == 0 && cfg.Server.Embedded() {
		// The embedded server stands in for the organisation: it keeps a
		// demo key in the data directory so recordings stay playable
		// across restarts, whether or not there is a keyring.
		id, err := d.demoIdentity()
		if err != nil {
			return nil, err
		}
		d.demoKey = id
		d.policy.Recipients = []string{id.Recipient().String()}
		log.Warn("DEMO MODE: no organisation key configured, so recordings are encrypted to a demo key kept beside them, which protects nothing at rest; set policy.recipients to the organisation's key for real use",
			"key", d.demoKeyPath())
	}
	rec, err := recorder.New(recorder.Options{
		SpoolDir:      filepath.Join(dataDir, "spool"),
		Recipients:    d.policy.Recipients,
		OfficerDevice: cfg.Audio.OfficerDevice,
		CallerDevice:  cfg.Audio.CallerDevice,
		Logger:        log.With("part", "recorder"),
	})
	if err != nil {
		return nil, err
	}
	d.rec = rec
	callRec, err := d.callRecorder(rec)
	if err != nil {
		return nil, err
	}

	device, err := outbox.DeviceID(dataDir)
	if err != nil {
		return nil, err
	}
	ob, err := outbox.Open(filepath.Join(dataDir, "outbox"), device, outbox.WithLogger(log.With("part", "outbox")))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	d.outbox = ob

	ctx, cancel := context.WithCancel(parent)
	d.cancel = cancel
	d.core = app.NewCore(app.MachineConfig{
		Policy:   d.policy,
		Agent:    app.AgentView{ID: cfg.Agent.ID, Name: cfg.Agent.Name},
		Language: cfg.Language,
		Manual:   cfg.PhoneSystem.Manual(),
		Recorder: callRec,
		Sink:     ob,
		Notifier: d.notes,
		Logger:   log.With("part", "core"),
	})
	d.goRun(func() { d.core.Run(ctx) })
	if err := d.startPhoneSystem(ctx); err != nil {
		d.stop()
		return nil, err
	}
	if err := d.startUplink(ctx); err != nil {
		d.stop()
		return nil, err
	}
	d.startLocalAPI(ctx)
	return d, nil
}

// startPhoneSystem subscribes to the officer's extension and feeds the
// core with its call events. Without a phone system, calls are manual.
func (d *desktop) startPhoneSystem(ctx context.Context) error {
	ps := d.cfg.PhoneSystem
	if ps.NeedsExtension() {
		d.log.Warn("phone system set but no extension: calls are manual until the extension is entered in Settings", "address", ps.Address)
	}
	if ps.Manual() {
		return nil
	}
	password, err := d.secrets.Get(secrets.SIPPassword)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	sub, err := sip.New(sipFromSettings(ps, password), sip.WithLogger(d.log.With("part", "sip")))
	if err != nil {
		return fmt.Errorf("phone system: %w", err)
	}
	d.goRun(func() {
		if err := sub.Run(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("phone-system link stopped", "err", err)
		}
	})
	d.goRun(func() {
		// Events is closed when Run returns, after ctx is done.
		for ev := range sub.Events() {
			d.log.Debug("call event", "kind", ev.Kind.String(), "dialog", ev.DialogID, "direction", ev.Direction.String())
			d.core.HandleCall(ev)
		}
	})
	return nil
}

// startUplink connects the outbox and the spool to the central server: the
// organisation's, or one run in-process on loopback (the embedded default).
func (d *desktop) startUplink(ctx context.Context) error {
	cfg := d.cfg
	var (
		baseURL = cfg.Server.URL
		token   = func() (string, error) { return d.secrets.Get(secrets.DeviceToken) }
		// A renewed token goes where the old one was: the keyring only.
		saveToken = func(tok string) error { return d.secrets.Set(secrets.DeviceToken, tok) }
		client    = &http.Client{}
	)
	if cfg.Server.Embedded() {
		dir := filepath.Join(d.dataDir, "server")
		// The audit key and the checkpoints live with the settings, not with
		// the data: a copy of the data neither forges nor hides checkpoints.
		keys := ""
		if d.opts.ConfigPath != "" {
			keys = filepath.Dir(d.opts.ConfigPath)
		} else if cfgDir, err := os.UserConfigDir(); err == nil {
			keys = filepath.Join(cfgDir, "callguard")
		}
		o := central.Options{
			DB:       filepath.Join(dir, "callguard.db"),
			DataDir:  dir,
			Logger:   d.log.With("part", "server"),
			Policy:   d.policy,
			Embedded: true,
			Version:  d.opts.Version,
		}
		if keys != "" {
			o.AuditKeyFile = filepath.Join(keys, "audit-ed25519.pem")
			o.CheckpointLog = filepath.Join(keys, "audit-checkpoints.jsonl")
			o.NumberKeyFile = filepath.Join(keys, "number-hmac.key")
			if old := filepath.Join(dir, "audit-ed25519.pem"); fileExists(old) {
				o.AuditKeyFile = old // made by an earlier version: its checkpoints stay verifiable
			}
		}
		if d.demoKey != nil {
			o.Identities = []age.Identity{d.demoKey}
		}
		srv, err := central.Open(ctx, o)
		if err != nil {
			return fmt.Errorf("embedded server: %w", err)
		}
		d.server = srv
		if baseURL, err = srv.ServeLoopback("127.0.0.1:0"); err != nil {
			return fmt.Errorf("embedded server: %w", err)
		}
		host, _ := os.Hostname()
		tok, err := srv.EnrollLocal(ctx, cfg.Agent.ID, host)
		if err != nil {
			return fmt.Errorf("embedded server: %w", err)
		}
		// The embedded server's token lives in memory: it is made anew at
		// each start.
		var mu sync.Mutex
		token = func() (string, error) { mu.Lock(); defer mu.Unlock(); return tok, nil }
		saveToken = func(t string) error { mu.Lock(); defer mu.Unlock(); tok = t; return nil }
		d.log.Info("embedded server running", "url", baseURL)
		d.log.Info("web workspace (supervisors and dpos: add an account with callguard-server user add --db "+o.DB+")", "url", baseURL+"/")
	} else {
		var err error
		if client, err = serverClient(cfg.Server); err != nil {
			return err
		}
	}
	d.uplink = uplink.New(uplink.Options{
		BaseURL:    baseURL,
		Token:      token,
		SaveToken:  saveToken,
		Outbox:     d.outbox,
		SpoolDir:   filepath.Join(d.dataDir, "spool"),
		HTTPClient: client,
		Presence:   func() uplink.Presence { return uplink.PresenceFrom(d.core.Snapshot()) },
		Logger:     d.log.With("part", "uplink"),
	})
	d.phone.uplink.Store(d.uplink)
	d.goRun(func() {
		if err := d.uplink.Run(ctx); err != nil {
			d.log.Error("sync stopped", "err", err)
		}
	})
	return nil
}

// role asks the server which role this desktop's account has, retrying
// until it answers or ctx ends. The embedded server's account is an agent.
func (d *desktop) role(ctx context.Context) string {
	if d.server != nil {
		return "agent"
	}
	wait := 2 * time.Second
	for {
		me, err := d.uplink.Me(ctx)
		if err == nil {
			d.log.Info("signed in to the server", "user", me.Username, "role", me.Role)
			return me.Role
		}
		if errors.Is(err, uplink.ErrUnauthorized) {
			d.log.Warn("this desktop is not enrolled with the server: open Settings → Server", "err", err)
			return ""
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// serverClient returns the HTTP client for the organisation's server: one
// that trusts server.ca_file when it is set, else the system roots.
func serverClient(s config.Server) (*http.Client, error) {
	client := &http.Client{}
	if s.CAFile == "" {
		return client, nil
	}
	pool, err := loadCA(s.CAFile)
	if err != nil {
		return nil, err
	}
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return client, nil
}

func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("server CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("server CA %s: no PEM certificate in it", path)
	}
	return pool, nil
}

func (d *desktop) goRun(f func()) {
	d.wg.Add(1)
	go func() { defer d.wg.Done(); f() }()
}

// stop stops every part and waits for them: recordings are finalised.
func (d *desktop) stop() {
	d.cancel()
	d.wg.Wait()
	if d.server != nil {
		if err := d.server.Close(); err != nil {
			d.log.Error("closing the embedded server", "err", err)
		}
	}
	if err := d.rec.Close(); err != nil {
		d.log.Error("closing the recorder", "err", err)
	}
	d.phone.close()
	if err := d.outbox.Close(); err != nil {
		d.log.Error("closing the outbox", "err", err)
	}
}

func (d *desktop) startLocalAPI(ctx context.Context) {
	addr := d.cfg.LocalAPI.Addr()
	if addr == "" {
		d.log.Info("local API turned off in settings")
		return
	}
	tok, err := d.secrets.Token(secrets.LocalAPIToken)
	if err != nil {
		d.apiErr = err
		d.log.Error("local API off: no token", "err", err)
		return
	}
	l, err := localapi.Listen(addr)
	if errors.Is(err, localapi.ErrPortTaken) {
		// Another program on the port would get the CRM's requests and
		// their token: no local API, and the officer is told.
		d.apiErr = fmt.Errorf("local API off: port %s is in use by another program; close it, or choose another port in Settings → Local API: %w",
			portOf(addr), err)
		d.log.Error("local API off: its port is taken by another program", "addr", addr, "err", err)
		d.notes.Notify(app.Notification{Kind: app.NotifyLocalAPIOff, Title: "callguard's local API is off",
			Body: "Port " + portOf(addr) + " is in use by another program, so CRM and payment pages cannot pause recording automatically. Pause by hand, and tell IT.",
			Key:  "local-api-port"})
		return
	}
	if err != nil {
		d.apiErr = err
		d.log.Error("local API off", "err", err)
		return
	}
	api := localapi.New(d.core, localapi.Options{
		Token:          tok,
		AllowedOrigins: d.policy.AllowedOrigins,
		Reasons:        reasonsOf(d.policy),
		Logger:         d.log.With("part", "localapi"),
	})
	d.log.Info("local API listening", "addr", l.Addr().String())
	d.goRun(func() {
		if err := api.Serve(ctx, l); err != nil {
			d.log.Error("local API stopped", "err", err)
		}
	})
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return p
}

func reasonsOf(p *policy.Policy) localapi.Reasons {
	var r localapi.Reasons
	for _, x := range p.PauseReasons {
		r.Pause = append(r.Pause, localapi.Reason{ID: x.ID, Label: x.Label})
	}
	for _, x := range p.FlagReasons {
		r.Flag = append(r.Flag, localapi.Reason{ID: x.ID, Label: x.Label})
	}
	return r
}

// syncStatus tells the officer whether metadata is reaching the server,
// and that the local API is off when another program holds its port.
func (d *desktop) syncStatus() string {
	var parts []string
	if d.uplink != nil {
		parts = append(parts, ui.SyncText(d.uplink.Status()))
	}
	if errors.Is(d.apiErr, localapi.ErrPortTaken) {
		parts = append(parts, "LOCAL API OFF: port "+portOf(d.cfg.LocalAPI.Addr())+" is used by another program")
	}
	return strings.Join(parts, " · ")
}

// OrgIdentity is the keyring entry where versions before the demo key
// file kept the embedded server's demo organisation key.
const OrgIdentity = "org-identity"

// demoKeyFile is the demo organisation key's file in the data directory.
const demoKeyFile = "demo-org.agekey"

func (d *desktop) demoKeyPath() string { return filepath.Join(d.dataDir, demoKeyFile) }

// demoIdentity returns the embedded demo organisation key, making it on
// first use. It is kept in the data directory (mode 0600), beside the
// recordings it decrypts: without a keyring it would live in memory only,
// and every restart would leave the recordings before it unplayable. Kept
// there it protects nothing at rest, which is why it is for trying
// callguard only (the log, Settings and the README say so). A key an
// older version kept in the keyring is moved to the file.
func (d *desktop) demoIdentity() (*age.X25519Identity, error) {
	path := d.demoKeyPath()
	b, err := os.ReadFile(path)
	if err == nil {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			d.log.Warn("the demo organisation key was readable by others; made it 0600", "path", path)
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, fmt.Errorf("demo organisation key %s: %w", path, err)
			}
		}
		id, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("demo organisation key %s: %w", path, err)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("demo organisation key: %w", err)
	}
	s, err := d.secrets.Get(OrgIdentity)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		if s, _, err = artefact.NewIdentity(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	id, err := age.ParseX25519Identity(s)
	if err != nil {
		return nil, fmt.Errorf("demo organisation key: %w", err)
	}
	if err := atomicfile.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("demo organisation key: %w", err)
	}
	return id, nil
}

// Warnings are what Settings shows at its top (ui.SettingsBackend).
func (d *desktop) Warnings() []string {
	var out []string
	if d.demoKey != nil {
		out = append(out, "Demo mode: recordings are encrypted to a demo key kept on this computer ("+d.demoKeyPath()+
			"), so they are not protected at rest. Set the organisation's key (policy recipients) before real use.")
	}
	if d.apiErr != nil {
		out = append(out, "The local API is off: "+strings.TrimPrefix(d.apiErr.Error(), "local API off: "))
	}
	return out
}

// settings backend for the settings window (ui.SettingsBackend).

func (d *desktop) Settings() config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

func (d *desktop) Locked() []string { return d.opts.Managed.LockedKeys() }

func (d *desktop) Save(c config.Config, sipPassword *string) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if err := d.rec.SetDevices(c.Audio.OfficerDevice, c.Audio.CallerDevice); err != nil {
		return "", err
	}
	if sipPassword != nil {
		if err := d.secrets.Set(secrets.SIPPassword, *sipPassword); err != nil {
			return "", err
		}
	}
	if err := d.saveConfig(c); err != nil {
		return "", err
	}
	d.mu.Lock()
	old := d.cfg
	d.cfg = c
	d.mu.Unlock()
	// Audio devices apply from the next call; the phone system, the server
	// and the local API are connected once, at start.
	var restart []string
	if old.PhoneSystem != c.PhoneSystem || sipPassword != nil {
		restart = append(restart, "the phone system")
	}
	if old.Server != c.Server {
		restart = append(restart, "the server")
	}
	if old.LocalAPI != c.LocalAPI {
		restart = append(restart, "the local API")
	}
	if len(restart) == 0 {
		return "Audio devices apply from the next call.", nil
	}
	return "Restart callguard to apply the changes to " + strings.Join(restart, " and ") + ".", nil
}

func (d *desktop) Devices() ([]string, error) {
	devs, err := recorder.Devices()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(devs))
	for _, dv := range devs {
		names = append(names, dv.Name)
	}
	return names, nil
}

func (d *desktop) Level(ctx context.Context, device string, fn func(float64)) error {
	return d.rec.Level(ctx, device, fn)
}

func (d *desktop) LocalAPIToken() (string, error) {
	if d.apiErr != nil {
		return "", d.apiErr
	}
	return d.secrets.Token(secrets.LocalAPIToken)
}

func (d *desktop) RegenerateLocalAPIToken() (string, error) {
	tok, err := secrets.NewToken()
	if err != nil {
		return "", err
	}
	if err := d.secrets.Set(secrets.LocalAPIToken, tok); err != nil {
		return "", err
	}
	return tok, errors.New("restart callguard for the new token to take effect")
}

func (d *desktop) Enroll(ctx context.Context, serverURL, username, password string) (string, error) {
	if serverURL == "" {
		return "", errors.New("enter the server's address first (https://…)")
	}
	c := d.Settings()
	hc, err := serverClient(c.Server)
	if err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	e, err := uplink.EnrollWithClient(ctx, hc, serverURL, username, password, host)
	if err != nil {
		return "", err
	}
	if err := d.secrets.Set(secrets.DeviceToken, e.Token); err != nil {
		return "", err
	}
	c.Server.URL = serverURL
	if err := d.saveConfig(c); err != nil {
		return "", err
	}
	d.mu.Lock()
	d.cfg = c
	d.mu.Unlock()
	return e.Role + " (restart callguard to connect)", nil
}

// saveConfig writes the officer's settings file; a one-run --data and IT's
// managed values stay out of it.
func (d *desktop) saveConfig(c config.Config) error {
	c.DataDir = d.opts.SavedDataDir
	return config.SaveOwn(d.opts.ConfigPath, c, d.opts.Managed)
}

func (d *desktop) KeyringNote() string {
	if err := d.secrets.Unavailable(); err != nil {
		return "OS keyring unavailable: the token changes at every start"
	}
	return "Kept in the OS keyring"
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
