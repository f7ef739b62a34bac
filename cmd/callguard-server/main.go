package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
	"github.com/callguard/callguard/server/store"
	"golang.org/x/term"
)

var version = "dev"

const usage = `callguard-server: callguard's central server.

Commands:
  serve          serve the API (HTTPS; plain HTTP only on a loopback address)
  user add       add an account (password read from stdin or prompted)
  user list      list accounts
  user disable   disable an account (its devices stop working)
  user role      change an account's role
  team add       add a team (a supervisor sees the agents of her teams only)
  team list      list teams and their members
  team remove    remove a team
  team member-add       put an account in a team
  team member-remove    take an account out of a team
  device list    list enrolled devices
  device revoke  revoke a device's token
  retention run  delete the calls past their retention date now (for cron)
  retention report      holds due for review, calls due for deletion soon
  retention reapply     recompute every call's delete_after after a policy change
  retention tombstones  the deletion evidence, as JSON lines
  audit verify   walk the audit chain and its signed checkpoints; report the first break
  audit export   write audit records as JSON lines (for a SIEM)
  audit checkpoint      sign a checkpoint of the audit chain now
  audit number   who looked up a phone number (searches, subject access)
  migrate        create or update the database schema
  version        print the version

Run "callguard-server COMMAND --help" for a command's flags.
The database URL comes from --db or $CALLGUARD_DB: a SQLite path,
sqlite:PATH, or postgres://user@host/db.
`

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "callguard-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "callguard-server", version)
		return nil
	case "serve":
		return serve(ctx, rest, stderr)
	case "migrate":
		fs, db := dbFlags("migrate", "create or update the database schema", stderr)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintln(stdout, "schema up to date")
		return nil
	case "user":
		return userCmd(ctx, rest, stdin, stdout, stderr)
	case "device":
		return deviceCmd(ctx, rest, stdout, stderr)
	case "team":
		return teamCmd(ctx, rest, stdout, stderr)
	case "retention":
		return retentionCmd(ctx, rest, stdout, stderr)
	case "audit":
		return auditCmd(ctx, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func dbFlags(name, what string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", os.Getenv("CALLGUARD_DB"), "database: SQLite path, sqlite:PATH or postgres://… (default $CALLGUARD_DB)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "callguard-server %s: %s\n\nFlags:\n", name, what)
		fs.PrintDefaults()
	}
	return fs, db
}

func openStore(ctx context.Context, db string) (*store.Store, error) {
	if db == "" {
		return nil, errors.New("no database: pass --db or set CALLGUARD_DB")
	}
	st, err := store.Open(ctx, db, store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs, db := dbFlags("serve", "serve the API", stderr)
	listen := fs.String("listen", "127.0.0.1:7466", "address to listen on; plain HTTP only on loopback, else --tls-cert and --tls-key")
	data := fs.String("data", "", "directory for recordings (default: data/ beside a SQLite database; required with PostgreSQL)")
	cert := fs.String("tls-cert", "", "TLS certificate chain (PEM)")
	key := fs.String("tls-key", "", "TLS private key (PEM)")
	polFile := fs.String("policy", "", "organisation policy JSON, laid over the default policy (retention, pause reminders)")
	offline := fs.Duration("offline-after", 35*time.Second, "how long without a heartbeat marks an agent offline")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text")
	identity := fs.String("identity", "", "the organisation's age identity file (AGE-SECRET-KEY-…), to play recordings and redact card details; without it play answers 503 and redactions wait")
	auditKey := fs.String("audit-key", "", "ed25519 key (PEM) that signs audit checkpoints, outside the data directory (default: "+DefaultAuditKey+", created on first start)")
	every := fs.Int("checkpoint-every", 1000, "sign an audit checkpoint every this many records")
	cpInterval := fs.Duration("checkpoint-interval", 5*time.Minute, "sign an audit checkpoint at least this often while records are unsigned (and when the server stops)")
	cpLog := fs.String("checkpoint-log", DefaultCheckpointLog, `append every audit checkpoint to this file, outside the data directory; make it append-only (chattr +a); "none": no file`)
	numberKey := fs.String("number-key", DefaultNumberKey, "the secret that keys the hash of phone numbers in the audit, outside the data directory (created on first start)")
	cpSyslog := fs.String("checkpoint-syslog", "", `also send every audit checkpoint to syslog: "local", "udp:HOST:PORT", "tcp:HOST:PORT" or "unixgram:PATH"`)
	retentionEvery := fs.Duration("retention-every", time.Hour, "how often the retention job deletes calls past their date")
	var proxies proxyList
	fs.Var(&proxies, "trusted-proxy", "a reverse proxy (address or CIDR, repeatable or comma-separated) whose X-Forwarded-For gives the client's address; from anyone else the header is ignored")
	ngAddr := fs.String("rtpengine-ng", "", "rtpengine's ng control address (HOST:PORT) for sites whose policy records at the phone system (record.where pbx or both); the desktops pause it through this server")
	ngTimeout := fs.Duration("rtpengine-timeout", rtpengine.DefaultTimeout, "how long rtpengine has to confirm each command")
	skew := fs.Duration("clock-skew", store.DefaultClockSkew, "how far a call's start on the desktop's clock may be from its arrival before the call is flagged and counted from its arrival")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("no database: pass --db or set CALLGUARD_DB")
	}
	if (*cert == "") != (*key == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	tlsOn := *cert != ""
	if !tlsOn && !loopback(*listen) {
		return fmt.Errorf("refusing plain HTTP on %s: use a loopback address or --tls-cert and --tls-key", *listen)
	}
	var logger *slog.Logger
	if *logJSON {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	pol, err := loadPolicy(*polFile)
	if err != nil {
		return err
	}
	var ids []age.Identity
	if *identity != "" {
		if ids, err = artefact.ParseIdentityFile(*identity); err != nil {
			return err
		}
	} else {
		logger.Warn("no --identity: recordings cannot be played and card details wait to be redacted")
	}
	var phoneRecorder httpapi.PhoneRecorder
	if *ngAddr != "" {
		ng, err := rtpengine.Dial(*ngAddr, rtpengine.WithTimeout(*ngTimeout), rtpengine.WithLogger(logger.With("part", "rtpengine")))
		if err != nil {
			return err
		}
		defer ng.Close()
		if err := ng.Ping(ctx); err != nil {
			logger.Warn("rtpengine does not answer yet: pauses will show the alarm until it does", "ng", *ngAddr, "err", err)
		}
		phoneRecorder = ng
	}
	keyFile, legacy := auditKeyPath(*auditKey, dataDirOf(*db, *data))
	if legacy {
		logger.Warn("the audit signing key is in the data directory, where an older server made it: whoever has a copy of the data can forge checkpoints; move it to "+DefaultAuditKey+" (or give --audit-key)", "path", keyFile)
	}
	if *cpLog == "none" {
		*cpLog = ""
	}
	if *cpLog == "" && *cpSyslog == "" {
		return errors.New("audit checkpoints must also go where whoever holds the database cannot delete them: give --checkpoint-log FILE and/or --checkpoint-syslog local")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := central.Open(ctx, central.Options{DB: *db, DataDir: *data, Logger: logger, Policy: pol, Version: version, OfflineAfter: *offline,
		Identities: ids, AuditKeyFile: keyFile, CheckpointEvery: *every, RetentionEvery: *retentionEvery, TrustedProxies: proxies,
		CheckpointLog: *cpLog, CheckpointSyslog: *cpSyslog, CheckpointInterval: *cpInterval, NumberKeyFile: *numberKey, ClockSkew: *skew,
		PhoneRecorder: phoneRecorder, PhoneRecorderTimeout: *ngTimeout})
	if err != nil {
		return explainSetup(err, keyFile, *cpLog)
	}
	defer srv.Close()
	hs := srv.HTTPServer()
	if tlsOn {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	logger.Info("callguard-server listening", "url", scheme+"://"+l.Addr().String(), "version", version, "db", store.Redact(*db))
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- hs.ServeTLS(l, "", "")
		} else {
			errc <- hs.Serve(l)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	srv.Shutdown() // ends live streams so Shutdown below can finish
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// proxyList is the --trusted-proxy flag: addresses or CIDRs.
type proxyList []netip.Prefix

func (p *proxyList) String() string {
	var out []string
	for _, x := range *p {
		out = append(out, x.String())
	}
	return strings.Join(out, ",")
}

func (p *proxyList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(f); err == nil {
			*p = append(*p, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is neither an address nor a CIDR (e.g. 10.0.0.5 or 10.0.0.0/24)", f)
		}
		*p = append(*p, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return nil
}

// Where serve keeps the audit signing key and the checkpoint log unless
// told otherwise: outside the data directory, so a copy of the database
// and the recordings neither forges nor hides checkpoints.
const (
	DefaultAuditKey      = "/etc/callguard/" + auth.SigningKeyFile
	DefaultCheckpointLog = "/var/log/callguard/audit-checkpoints.jsonl"
	DefaultNumberKey     = "/etc/callguard/" + auth.NumberKeyFile
)

// auditKeyPath is the key file: flag if given, else the key an older
// server left in the data directory (legacy), else DefaultAuditKey.
func auditKeyPath(flag, dataDir string) (path string, legacy bool) {
	if flag != "" {
		return flag, false
	}
	if dataDir != "" {
		old := filepath.Join(dataDir, auth.SigningKeyFile)
		if _, err := os.Stat(old); err == nil {
			return old, true
		}
	}
	return DefaultAuditKey, false
}

// dataDirOf is --data, or data/ beside a SQLite database ("" for
// PostgreSQL without --data).
func dataDirOf(db, data string) string {
	if data != "" || strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return data
	}
	return filepath.Join(filepath.Dir(strings.TrimPrefix(db, "sqlite:")), "data")
}

// explainSetup adds what IT does about a key or checkpoint log the server
// may not create.
func explainSetup(err error, keyFile, cpLog string) error {
	if !errors.Is(err, fs.ErrPermission) {
		return err
	}
	return fmt.Errorf("%w\nthe server's user must be able to create the audit key %s and append to the checkpoint log %s; as root, once:\n"+
		"  install -d -o callguard -m 700 %s\n  install -d -o callguard -m 750 %s\n(or give --audit-key and --checkpoint-log elsewhere outside the data directory)",
		err, keyFile, cpLog, filepath.Dir(keyFile), filepath.Dir(cpLog))
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loadPolicy(path string) (*policy.Policy, error) {
	base, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		return nil, err
	}
	return base.OverlayFile(path)
}

func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: callguard-server user add|list|disable [flags]\n")
		return errors.New("user: no subcommand")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, "usage: callguard-server user add|list|disable|enable|role|authoriser [flags]\nRun \"callguard-server user add --help\" for a subcommand's flags.\n")
		return nil
	case "add":
		fs, db := dbFlags("user add", "add an account; the password is read from stdin (or prompted on a terminal), never from a flag", stderr)
		username := fs.String("username", "", "account name (for agents: the agent id the desktop uses)")
		role := fs.String("role", "", "agent, supervisor, dpo, admin or collector")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		r, err := server.ParseRole(*role)
		if err != nil {
			return err
		}
		if *username == "" {
			return errors.New("user add: --username is required")
		}
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, 0)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		var u server.User
		err = audited(ctx, st, server.AuditUserAdd, *username, func(ctx context.Context) (string, error) {
			var err error
			u, err = st.CreateUser(ctx, *username, r, hash, false)
			return fmt.Sprintf(`{"role":%q,"via":"cli"}`, r), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", u.Username, u.Role)
		return nil
	case "list":
		fs, db := dbFlags("user list", "list accounts", stderr)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tDISABLED\tCREATED\tJOB ROLE")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", u.Username, u.Role, u.Disabled, u.Created.Format(time.DateTime), u.JobRole)
		}
		return tw.Flush()
	case "role":
		fs, db := dbFlags("user role", "change an account's role (audited)", stderr)
		username := fs.String("username", "", "account name")
		role := fs.String("role", "", "agent, supervisor, dpo, admin or collector")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		r, err := server.ParseRole(*role)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		var old server.Role
		err = audited(ctx, st, server.AuditRoleChange, *username, func(ctx context.Context) (string, error) {
			var err error
			old, err = st.SetRole(ctx, *username, r)
			return fmt.Sprintf(`{"from":%q,"to":%q,"via":"cli"}`, old, r), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s → %s\n", *username, old, r)
		return nil
	case "authoriser":
		fs, db := dbFlags("user authoriser", "give an account the job role it holds as an authoriser of releases to third parties, as the policy's release purposes name it (audited); an empty --job-role takes it away", stderr)
		username := fs.String("username", "", "account name (a supervisor or dpo)")
		jobRole := fs.String("job-role", "", `job role, e.g. "Data Protection Officer"`)
		polFile := fs.String("policy", "", "organisation policy JSON the server runs with; the job role must be one its release purposes list")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *username == "" {
			return errors.New("user authoriser: --username is required")
		}
		pol, err := loadPolicy(*polFile)
		if err != nil {
			return err
		}
		if j := strings.TrimSpace(*jobRole); j != "" && *polFile != "" && !slices.ContainsFunc(pol.JobRoles(), func(r string) bool { return strings.EqualFold(r, j) }) {
			return fmt.Errorf("user authoriser: the policy's release purposes do not list the job role %q (they list: %s)", j, strings.Join(pol.JobRoles(), "; "))
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		u, err := st.User(ctx, *username)
		if err != nil {
			return err
		}
		if *jobRole != "" && !u.Role.In(server.RoleSupervisor, server.RoleDPO) {
			return fmt.Errorf("user authoriser: %s is %s; only a supervisor or dpo account may authorise releases (an admin sees no personal data)", u.Username, u.Role)
		}
		var old string
		err = audited(ctx, st, server.AuditUserJobRole, *username, func(ctx context.Context) (string, error) {
			var err error
			old, err = st.SetJobRole(ctx, *username, *jobRole)
			b, _ := json.Marshal(map[string]string{"from": old, "to": strings.TrimSpace(*jobRole), "via": "cli"})
			return string(b), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: job role %q → %q\n", *username, old, strings.TrimSpace(*jobRole))
		return nil
	case "disable", "enable":
		fs, db := dbFlags("user "+sub, sub+" an account", stderr)
		username := fs.String("username", "", "account name")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		action := server.AuditUserEnable
		if sub == "disable" {
			action = server.AuditUserDisable
		}
		err = audited(ctx, st, action, *username, func(ctx context.Context) (string, error) {
			return `{"via":"cli"}`, st.SetUserDisabled(ctx, *username, sub == "disable")
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd %s\n", sub, *username)
		return nil
	}
	return fmt.Errorf("user: unknown subcommand %q (add, list, disable, enable, role, authoriser)", sub)
}

func deviceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: callguard-server device list|revoke [flags]\n")
		return errors.New("device: no subcommand")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, "usage: callguard-server device list|revoke [flags]\nRun \"callguard-server device revoke --help\" for a subcommand's flags.\n")
		return nil
	case "list":
		fs, db := dbFlags("device list", "list enrolled devices", stderr)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		devs, err := st.Devices(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tLAST SEEN\tACKED SEQ\tGAPS\tEXPIRES\tREVOKED")
		for _, d := range devs {
			seen, revoked, expires := "-", "-", "-"
			if d.LastSeen != nil {
				seen = d.LastSeen.Format(time.DateTime)
			}
			if d.Revoked != nil {
				revoked = d.Revoked.Format(time.DateTime)
			}
			if d.Expires != nil {
				expires = d.Expires.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.ID, d.Username, d.Name, seen, d.AckedSeq, d.SeqGaps, expires, revoked)
		}
		return tw.Flush()
	case "revoke":
		fs, db := dbFlags("device revoke", "revoke a device's token; the desktop must enrol again", stderr)
		id := fs.String("id", "", "device id (see device list)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		err = audited(ctx, st, server.AuditDeviceRevoke, *id, func(ctx context.Context) (string, error) {
			return `{"via":"cli"}`, st.RevokeDevice(ctx, *id)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", *id)
		return nil
	}
	return fmt.Errorf("device: unknown subcommand %q (list, revoke)", sub)
}

// audited runs change, what a command reads or changes through st, and
// writes its audit record (with the detail change returns) in the same
// transaction: a command whose record cannot be written fails, changes
// nothing and prints nothing it read.
func audited(ctx context.Context, st *store.Store, action, target string, change func(ctx context.Context) (detail string, err error)) error {
	actor := "cli"
	if u := os.Getenv("USER"); u != "" {
		actor = "cli:" + u
	}
	return st.Tx(ctx, func(ctx context.Context) error {
		detail, err := change(ctx)
		if err != nil {
			return err
		}
		if err := st.Audit(ctx, server.AuditRecord{Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
			return fmt.Errorf("%s on %s refused: it cannot be written to the audit log: %w", action, target, err)
		}
		return nil
	})
}

// readPassword prompts on a terminal (twice, without echo) or reads the
// first line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1024))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, nil
}
