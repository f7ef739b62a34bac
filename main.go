package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/assets"
	_ "github.com/callguard/callguard/internal/locale" // before fyne reads it: no complaint about the C locale
	"github.com/callguard/callguard/recorder"
	"github.com/callguard/callguard/ui"
	"github.com/callguard/callguard/ui/native"
)

// version is set by the build (make build) from git describe.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `callguard — keeps call recordings within data-protection law.

Usage:
  callguard [flags]                    start the officer's window
  callguard --headless [flags]         run without a window (diagnostics, kiosks, tests)
  callguard recording verify|decrypt   check or decrypt a recording (IT, data protection)

Flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "recording" {
		return recorder.RunCLI(args[1:], stdout, stderr)
	}
	defPath, _ := config.DefaultPath()
	fs := flag.NewFlagSet("callguard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath = fs.String("config", defPath, "settings `file`")
		dataDir    = fs.String("data", "", "data `directory` for the recording spool, the outbox and the embedded server (default: the OS's per-user data directory)")
		policyPath = fs.String("policy", "", "organisation policy `file` to apply over the defaults and IT's managed policy (for IT testing)")
		headless   = fs.Bool("headless", false, "run the session core, local API and sync without a window; stop with Ctrl+C or SIGTERM")
		logLevel   = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
		showVer    = fs.Bool("version", false, "print the version and exit")
	)
	fs.Usage = func() {} // errors are reported below; --help prints to stdout
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usageText)
			fs.PrintDefaults()
			fmt.Fprintf(stdout, "\nIT's machine-wide settings: %s (they win over the officer's).\n", config.ManagedPath)
			return 0
		}
		fmt.Fprintln(stderr, "see callguard --help")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "callguard: unexpected argument %q (see --help)\n", fs.Arg(0))
		return 2
	}
	if *showVer {
		fmt.Fprintf(stdout, "callguard %s\n", version)
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "callguard: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if !*headless && !haveDisplay() {
		fmt.Fprintln(stderr, "callguard: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set).\n"+
			"Run it from a desktop session, under a virtual display (xvfb-run callguard), or with --headless.")
		return 1
	}
	if !*headless {
		if err := native.WaitForDisplay(10 * time.Second); err != nil {
			fmt.Fprintf(stderr, "callguard: cannot open the window: %v.\nCheck that the desktop session is running, or run with --headless.\n", err)
			return 1
		}
	}
	opts, err := loadOptions(*configPath, *dataDir, *policyPath)
	if err != nil {
		fmt.Fprintf(stderr, "callguard: %v\n", err)
		return 1
	}
	opts.Logger, opts.Version, opts.ConfigPath = log, version, *configPath

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := startDesktop(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "callguard: %v\n", err)
		return 1
	}
	if *headless {
		log.Info("callguard running headless", "version", version, "state", d.core.Snapshot().State.String())
		<-ctx.Done()
		log.Info("callguard stopping")
		d.stop()
		return 0
	}
	a := fyneapp.NewWithID("dev.callguard.desktop")
	a.SetIcon(fyne.NewStaticResource("callguard.png", assets.AppIcon()))
	var w *ui.Window
	winOpts := ui.Options{
		Session:       d.core,
		Policy:        d.policy,
		SyncStatus:    d.syncStatus,
		OpenSettings:  func() { ui.ShowSettings(a, d, w) },
		Prefs:         d.Settings().Window,
		OnTopLocked:   d.onTopLocked(),
		SavePrefs:     d.saveWindowPrefs,
		GlobalHotkeys: true,
		Logger:        log,
	}
	if d.uplink != nil { // a nil *uplink.Client in the interface would not read as nil
		winOpts.Flags = d.uplink
		winOpts.Scores = d.uplink
	}
	w = ui.NewWindow(a, winOpts)
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }() // SIGTERM closes the window cleanly
	go func() {
		// Supervisors (and data-protection officers) get the live board;
		// data-protection officers also get their review queue and holds.
		role := d.role(ctx)
		if role == "supervisor" || role == "dpo" || role == "admin" {
			fyne.Do(func() {
				b := showBoard(a, d.uplink)
				b.SetMainMenu(workspaceMenu(a, b, d.uplink, log))
			})
		}
		if role == "dpo" {
			fyne.Do(func() { ui.ShowReview(a, d.uplink, listener{d.uplink}) })
		}
	}()
	w.Window().SetMaster()
	w.Show()
	if d.cfg.PhoneSystem.NeedsExtension() {
		// IT preset the phone system; the officer only has to add the extension.
		ui.ShowSettings(a, d, w)
	}
	a.Run()
	w.Close()
	d.stop()
	return 0
}

// showBoard opens the supervisors' live board in its own window.
func showBoard(a fyne.App, feed ui.LiveFeed) fyne.Window {
	b := ui.NewBoard(feed)
	w := a.NewWindow("callguard live board")
	w.SetContent(b.Content())
	w.Resize(fyne.NewSize(960, 560))
	w.SetOnClosed(b.Stop)
	b.Start()
	w.Show()
	return w
}

// haveDisplay reports whether a window can be opened: always on Windows and
// macOS, and on Linux and the BSDs when an X11 or Wayland display is set.
func haveDisplay() bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
