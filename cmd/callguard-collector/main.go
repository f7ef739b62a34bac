// Command callguard-collector runs beside rtpengine, the phone system's
// recorder, and turns each finished call rtpengine recorded for callguard
// into a callguard recording on the central server: the call's pcap
// stretches decoded, placed at their true offsets with digital silence
// between, encrypted with age to the organisation's keys, uploaded through
// the resumable upload, and the pcaps deleted once the server verified it.
//
//	callguard-collector enroll --server https://callguard.example.org --username pbx-collector   (password from stdin)
//	callguard-collector run --recording-dir /var/spool/rtpengine --policy /etc/callguard/policy.json
//	callguard-collector version
//
// The collector signs in as an account of role collector, which may only
// upload the recordings of calls the phone system alone recorded. Its
// device token is kept in the state directory (--state, default
// /var/lib/callguard-collector), readable by the collector's user alone;
// the spool of recordings waiting for their upload is there too, encrypted.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/internal/atomicfile"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/server"
)

var version = "dev"

// DefaultState is where the collector keeps its enrolment, token and spool.
const DefaultState = "/var/lib/callguard-collector"

const usage = `callguard-collector: makes callguard recordings of the calls rtpengine records.

Commands:
  enroll    sign in as a collector account and keep this machine's token (password from stdin or prompted)
  run       collect every finished call, now and as calls finish, until stopped
  version   print the version

Run "callguard-collector COMMAND --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "callguard-collector:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "callguard-collector", version)
		return nil
	case "enroll":
		return enroll(ctx, rest, stdin, stdout, stderr)
	case "run":
		return collect(ctx, rest, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// enrolment is what the state directory keeps of the enrolment besides
// the token: nothing secret.
type enrolment struct {
	Server   string `json:"server"`
	CAFile   string `json:"ca_file,omitempty"`
	Username string `json:"username"`
	DeviceID string `json:"device_id"`
}

// state is the collector's state directory.
type state string

func (s state) enrolmentFile() string { return filepath.Join(string(s), "enrolment.json") }
func (s state) tokenFile() string     { return filepath.Join(string(s), "token") }
func (s state) spool() string         { return filepath.Join(string(s), "spool") }

// token reads the device token, refusing a file others may read.
func (s state) token() (string, error) {
	info, err := os.Stat(s.tokenFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("not enrolled: run %q first", "callguard-collector enroll")
	}
	if err != nil {
		return "", err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %v): chmod 600 it, and enrol again if others may have read it", s.tokenFile(), info.Mode().Perm())
	}
	b, err := os.ReadFile(s.tokenFile())
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty: enrol again", s.tokenFile())
	}
	return tok, nil
}

func (s state) saveToken(tok string) error {
	if err := atomicfile.WriteFile(s.tokenFile(), []byte(tok+"\n"), 0o600); err != nil {
		return fmt.Errorf("keep the token: %w", err)
	}
	return nil
}

func (s state) enrolment() (enrolment, error) {
	var e enrolment
	b, err := os.ReadFile(s.enrolmentFile())
	if errors.Is(err, fs.ErrNotExist) {
		return e, fmt.Errorf("not enrolled: run %q first", "callguard-collector enroll")
	}
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%s: %w", s.enrolmentFile(), err)
	}
	return e, nil
}

func enroll(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	srv := fs.String("server", "", "the central server's URL, e.g. https://callguard.example.org")
	user := fs.String("username", "", "the collector account (role collector) to sign in as")
	name := fs.String("name", "", "this machine's name on the server (default: the host name)")
	ca := fs.String("ca", "", "PEM file of the certificate authority that signed the server's certificate (default: the system's)")
	dir := fs.String("state", DefaultState, "directory for the enrolment, the token and the spool")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *srv == "" || *user == "" {
		fs.Usage()
		return errors.New("enroll: --server and --username are needed")
	}
	if *name == "" {
		h, _ := os.Hostname()
		*name = "collector on " + h
	}
	hc, err := httpClient(*ca)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Password for %s: ", *user)
	pw, err := readPassword(stdin)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	e, err := uplink.EnrollWithClient(ctx, hc, *srv, *user, pw, *name)
	if err != nil {
		return err
	}
	if e.Role != string(server.RoleCollector) {
		return fmt.Errorf("%s is an account of role %s, not collector: ask an admin for a collector account (callguard-server user add --role collector)", *user, e.Role)
	}
	st := state(*dir)
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := st.saveToken(e.Token); err != nil {
		return err
	}
	ca2 := *ca
	if ca2 != "" {
		if ca2, err = filepath.Abs(ca2); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(enrolment{Server: strings.TrimRight(*srv, "/"), CAFile: ca2, Username: *user, DeviceID: e.DeviceID}, "", "  ")
	if err := atomicfile.WriteFile(st.enrolmentFile(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("keep the enrolment: %w", err)
	}
	fmt.Fprintf(stdout, "Enrolled as %s (device %s) with %s; the token is in %s.\n", *user, e.DeviceID, *srv, st.tokenFile())
	return nil
}

// readPassword prompts on a terminal without echo, or reads stdin's first
// line.
func readPassword(stdin io.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1024))
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	if pw = strings.TrimRight(pw, "\r"); pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, nil
}

// httpClient trusts caFile's authorities, or the system's when it is "".
func httpClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return &http.Client{}, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

func collect(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("state", DefaultState, "the directory enroll wrote")
	recDir := fs.String("recording-dir", "", "rtpengine's recording-dir (recording-method = pcap)")
	ng := fs.String("rtpengine-ng", "127.0.0.1:2223", "rtpengine's ng control address, to tell a finished call from one it still records")
	polFile := fs.String("policy", "", "the organisation's policy JSON, laid over the default: its recipients are whom recordings are encrypted to")
	every := fs.Duration("every", 10*time.Second, "how often the recording dir is swept for finished calls")
	once := fs.Bool("once", false, "sweep once and exit: 0 if every finished call was collected")
	chunk := fs.Int64("chunk-size", 4<<20, "bytes per upload request")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var logger *slog.Logger
	if *logJSON {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *recDir == "" {
		fs.Usage()
		return errors.New("run: --recording-dir is needed")
	}
	if _, err := os.Stat(*recDir); err != nil {
		return fmt.Errorf("--recording-dir: %w", err)
	}
	pol, err := loadPolicy(*polFile)
	if err != nil {
		return err
	}
	st := state(*dir)
	e, err := st.enrolment()
	if err != nil {
		return err
	}
	if _, err := st.token(); err != nil {
		return err
	}
	hc, err := httpClient(e.CAFile)
	if err != nil {
		return err
	}
	client := uplink.New(uplink.Options{BaseURL: e.Server, Token: st.token, SaveToken: st.saveToken, HTTPClient: hc,
		Logger: logger, ChunkSize: *chunk})
	phone, err := rtpengine.Dial(*ng, rtpengine.WithLogger(logger.With("part", "rtpengine")))
	if err != nil {
		return fmt.Errorf("rtpengine: %w", err)
	}
	defer phone.Close()
	job, err := collector.NewJob(collector.Options{
		RecordingDir: *recDir, SpoolDir: st.spool(), Recipients: pol.Recipients, KeypadGuard: pol.Keypad.GuardOrDefault(),
		Server: client, PhoneSystem: ngPhone{phone}, Logger: logger,
		IsUnknown: func(err error) bool {
			var he *uplink.HTTPError
			return errors.As(err, &he) && he.Status == http.StatusNotFound
		},
	})
	if err != nil {
		return err
	}
	if *once {
		out, err := job.Sweep(ctx)
		if err != nil {
			return err
		}
		for _, o := range out {
			if o.Did == collector.DidRefuse {
				return fmt.Errorf("call %s: %s", o.SIPCallID, o.Why)
			}
		}
		return nil
	}
	logger.Info("collector: running", "server", e.Server, "as", e.Username, "recording_dir", *recDir, "rtpengine", *ng, "every", *every)
	go renewToken(ctx, client, logger)
	job.Run(ctx, *every)
	return nil
}

// renewToken rotates the device token before it expires, looking hourly.
func renewToken(ctx context.Context, c *uplink.Client, logger *slog.Logger) {
	for {
		if renewed, err := c.RenewTokenIfDue(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("collector: could not check or renew the device token; trying again in an hour", "err", err)
		} else if renewed {
			logger.Info("collector: renewed the device token")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// ngPhone answers whether rtpengine still holds a call.
type ngPhone struct{ c *rtpengine.Client }

func (p ngPhone) Holds(ctx context.Context, sipCallID string) (bool, error) {
	_, err := p.c.Query(ctx, sipCallID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, rtpengine.ErrUnknownCall):
		return false, nil
	default:
		return false, err
	}
}

func loadPolicy(path string) (*policy.Policy, error) {
	base, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		return nil, err
	}
	return base.OverlayFile(path)
}
