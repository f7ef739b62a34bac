package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/protect"
	"github.com/callguard/callguard/server/store"
)

// dataFlags are the flags of the commands that touch recordings or the
// audit key: the data directory and the key file.
type dataFlags struct {
	db, data, auditKey, policy *string
}

func newDataFlags(fs *flag.FlagSet, db *string) dataFlags {
	return dataFlags{
		db:       db,
		data:     fs.String("data", "", "the server's data directory (default: data/ beside a SQLite database; required with PostgreSQL)"),
		auditKey: fs.String("audit-key", "", "the audit signing key (default: "+DefaultAuditKey+", or DATA/"+auth.SigningKeyFile+" where an older server left it)"),
		policy:   fs.String("policy", "", "organisation policy JSON, as given to serve"),
	}
}

// dataDir is --data, or data/ beside a SQLite database.
func (d dataFlags) dataDir() (string, error) {
	if *d.data != "" {
		return *d.data, nil
	}
	if strings.HasPrefix(*d.db, "postgres://") || strings.HasPrefix(*d.db, "postgresql://") {
		return "", errors.New("--data is required with PostgreSQL")
	}
	return filepath.Join(filepath.Dir(strings.TrimPrefix(*d.db, "sqlite:")), "data"), nil
}

// keyPath is --audit-key, or where serve keeps the key by default.
func (d dataFlags) keyPath() string {
	if *d.auditKey != "" {
		return *d.auditKey
	}
	dir, _ := d.dataDir()
	path, _ := auditKeyPath("", dir)
	return path
}

// key reads the audit signing key (nil if there is none; never created here).
func (d dataFlags) key() (ed25519.PrivateKey, error) {
	k, err := auth.ReadSigningKey(d.keyPath())
	if errors.Is(err, fs.ErrNotExist) && *d.auditKey == "" {
		return nil, nil
	}
	return k, err
}

// open opens the store with the policy and the audit key, and the blobs.
func (d dataFlags) open(ctx context.Context) (*store.Store, *blob.Store, error) {
	if *d.db == "" {
		return nil, nil, errors.New("no database: pass --db or set CALLGUARD_DB")
	}
	pol, err := loadPolicy(*d.policy)
	if err != nil {
		return nil, nil, err
	}
	dir, err := d.dataDir()
	if err != nil {
		return nil, nil, err
	}
	key, err := d.key()
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, *d.db, store.WithPolicy(pol), store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	if key != nil {
		st.SetAuditKey(key, 1000)
	}
	blobs, err := blob.Open(dir)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, blobs, nil
}

func retentionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: callguard-server retention run|report|reapply|tombstones [flags]\nRun \"callguard-server retention run --help\" for a subcommand's flags.\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("retention: no subcommand")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "run":
		fs, db := dbFlags("retention run", "delete the recordings and personal data of calls past their retention date that no hold keeps, leaving a tombstone each; safe to interrupt and to run again (cron)", stderr)
		df := newDataFlags(fs, db)
		batch := fs.Int("batch", 500, "calls per transaction")
		asJSON := fs.Bool("json", false, "print the report as JSON")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, blobs, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		svc := protect.New(protect.Options{Store: st, Blobs: blobs, Batch: *batch, Logger: slog.New(slog.NewTextHandler(stderr, nil))})
		rep, err := svc.Expire(ctx)
		if err != nil {
			return fmt.Errorf("retention run (the next run resumes it): %w", err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(rep)
		}
		fmt.Fprintf(stdout, "retention run at %s: deleted %d call(s) (%d recording(s) removed, %d with none left to remove), %d of them resumed from an interrupted run; %d past their date kept by holds; took %v\n",
			rep.Started.Format(time.RFC3339), rep.Deleted, rep.Blobs, rep.Missing, rep.Resumed, rep.HeldPast, rep.Took.Round(time.Millisecond))
		return nil
	case "report":
		fs, db := dbFlags("retention report", "holds due for review and calls due for deletion in the next days", stderr)
		df := newDataFlags(fs, db)
		days := fs.Int("days", 7, "look this many days ahead")
		limit := fs.Int("limit", 50, "list at most this many calls")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		now := time.Now()
		var rep server.RetentionReport
		err = audited(ctx, st, server.AuditRetentionReport, "retention", func(ctx context.Context) (string, error) {
			var err error
			rep, err = st.RetentionReport(ctx, now, now.AddDate(0, 0, *days), *limit)
			return fmt.Sprintf(`{"days":%d,"due":%d,"via":"cli"}`, *days, rep.DueCount), err
		})
		if err != nil {
			return err
		}
		printReport(stdout, rep)
		return nil
	case "reapply":
		fs, db := dbFlags("retention reapply", "recompute every call's retention rule and delete_after from the policy (after changing it)", stderr)
		df := newDataFlags(fs, db)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		var n int
		err = audited(ctx, st, "retention.reapply", "retention", func(ctx context.Context) (string, error) {
			var err error
			n, err = st.ReapplyRetention(ctx)
			return fmt.Sprintf(`{"calls":%d,"via":"cli"}`, n), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "retention recomputed for %d calls\n", n)
		return nil
	case "tombstones":
		fs, db := dbFlags("retention tombstones", "write the deletion evidence (one tombstone per call) as JSON lines", stderr)
		df := newDataFlags(fs, db)
		since := fs.String("since", "", "deletions at or after (RFC 3339 or YYYY-MM-DD)")
		until := fs.String("until", "", "deletions before")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		from, err := parseWhen("since", *since)
		if err != nil {
			return err
		}
		to, err := parseWhen("until", *until)
		if err != nil {
			return err
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		enc := json.NewEncoder(stdout)
		var after *server.Tombstone
		for {
			ts, err := st.TombstonesAfter(ctx, from, to, after, 1000)
			if err != nil {
				return err
			}
			for _, t := range ts {
				if err := enc.Encode(t); err != nil {
					return err
				}
			}
			if len(ts) < 1000 {
				return nil
			}
			after = &ts[len(ts)-1]
		}
	}
	return fmt.Errorf("retention: unknown subcommand %q (run, report, reapply, tombstones)", sub)
}

func printReport(w io.Writer, rep server.RetentionReport) {
	day := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }
	fmt.Fprintf(w, "Holds due for review before %s: %d\n", day(rep.Until), len(rep.HoldsDue))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range rep.HoldsDue {
		what := "call " + h.CallID
		switch {
		case h.Number != "":
			what = "number " + server.MaskNumber(h.Number)
		case h.Agent != "":
			what = "agent " + h.Agent
		}
		fmt.Fprintf(tw, "  #%d\t%s\t%s\towner %s\treview %s\tcovers %d call(s)\n", h.ID, what, h.Reason, h.Owner, day(*h.ReviewAt), h.Calls)
	}
	tw.Flush()
	fmt.Fprintf(w, "Calls due for deletion before %s: %d", day(rep.Until), rep.DueCount)
	if len(rep.Due) < rep.DueCount {
		fmt.Fprintf(w, " (the first %d)", len(rep.Due))
	}
	fmt.Fprintln(w)
	if len(rep.Due) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  CALL\tAGENT\tSTARTED\tDELETE AFTER\tRULE\tRECORDING")
		for _, d := range rep.Due {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", d.CallID, d.Agent, day(d.Started), day(d.DeleteAfter), d.Rule, d.Recording)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "Past their date: %d for the next run to delete, %d kept by holds; deletions begun and not finished: %d\n", rep.Overdue, rep.HeldPastDate, rep.Unfinished)
}

func parseWhen(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339 (2026-03-02T09:00:00Z) or a date (2026-03-02)", name, v)
}

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: callguard-server audit verify|export|checkpoint|number [flags]\nRun \"callguard-server audit verify --help\" for a subcommand's flags.\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("audit: no subcommand")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "verify":
		fs, db := dbFlags("audit verify", "walk the audit chain and check every signed checkpoint; report the first record that does not verify (exit status 1)", stderr)
		df := newDataFlags(fs, db)
		pubHex := fs.String("public-key", "", "the server's audit public key (64 hex digits), when its key file is elsewhere")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		cpFile := fs.String("checkpoints", "", "checkpoints exported outside the database: the checkpoint log, or syslog lines (journalctl -t callguard-audit -o cat) (default: "+DefaultCheckpointLog+" if it exists)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *cpFile == "" {
			if _, err := os.Stat(DefaultCheckpointLog); err == nil {
				*cpFile = DefaultCheckpointLog
			}
		}
		var exported []server.AuditCheckpoint
		if *cpFile != "" {
			var err error
			if exported, err = central.ReadCheckpoints(*cpFile); err != nil {
				return fmt.Errorf("exported checkpoints: %w", err)
			}
		}
		var trusted []ed25519.PublicKey
		if *pubHex != "" {
			k, err := auth.ParsePublicKey(*pubHex)
			if err != nil {
				return err
			}
			trusted = append(trusted, k)
		} else if key, err := df.key(); err != nil {
			return err
		} else if key != nil {
			trusted = append(trusted, key.Public().(ed25519.PublicKey))
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		start := time.Now()
		v, verr := st.VerifyAuditChain(ctx, trusted, exported...)
		if verr != nil && !errors.Is(verr, store.ErrAuditBroken) {
			return verr
		}
		if *asJSON {
			json.NewEncoder(stdout).Encode(v)
		} else if verr != nil {
			fmt.Fprintf(stdout, "audit chain BROKEN at record %d: %s\n", v.BrokenAt, v.Problem)
			fmt.Fprintf(stdout, "records 1–%d verified (%d checkpoint(s) before it)\n", v.BrokenAt-1, v.Checkpoints)
		} else {
			fmt.Fprintf(stdout, "audit chain OK: %d record(s), %d signed checkpoint(s), the last at record %d; verified in %v\n",
				v.Records, v.Checkpoints, v.LastCheckpoint, time.Since(start).Round(10*time.Microsecond))
			if *cpFile != "" {
				fmt.Fprintf(stdout, "%d exported checkpoint(s) from %s match the database\n", v.Exported, *cpFile)
			} else {
				fmt.Fprintln(stdout, "WARNING: not checked against exported checkpoints (--checkpoints): a rewrite that also replaced the checkpoints would pass")
			}
			if v.Unprotected > 0 {
				fmt.Fprintf(stdout, "UNPROTECTED: record(s) %d–%d after the last checkpoint are protected by the chain only, which whoever holds the database can rewrite (run \"audit checkpoint\" to sign them)\n", v.LastCheckpoint+1, v.LastSeq)
			}
			switch {
			case v.Checkpoints == 0:
			case !v.Trusted:
				fmt.Fprintln(stdout, "WARNING: checkpoints were checked against the keys they name, not the server's: pass --data, --audit-key or --public-key")
			default:
				fmt.Fprintf(stdout, "checkpoints signed by the server's key %s\n", strings.Join(v.Keys, ", "))
			}
		}
		if verr != nil {
			return fmt.Errorf("audit chain broken at record %d", v.BrokenAt)
		}
		return nil
	case "export":
		fs, db := dbFlags("audit export", "write audit records as JSON lines for a SIEM (the export itself is audited)", stderr)
		df := newDataFlags(fs, db)
		since := fs.String("since", "", "records at or after (RFC 3339 or YYYY-MM-DD)")
		after := fs.Int64("after-seq", 0, "records after this seq (to continue a previous export)")
		out := fs.String("o", "-", `output file, "-" for standard output`)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		from, err := parseWhen("since", *since)
		if err != nil {
			return err
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		w := stdout
		if *out != "-" {
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		// The export is audited, up to the record it will end at, before a
		// record leaves.
		var upTo int64
		err = audited(ctx, st, server.AuditExport, "audit", func(ctx context.Context) (string, error) {
			var err error
			upTo, err = st.LastAuditSeq(ctx)
			return fmt.Sprintf(`{"since":%q,"after_seq":%d,"up_to_seq":%d,"via":"cli"}`, *since, *after, upTo), err
		})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		n, last := 0, *after
	pages:
		for last < upTo {
			recs, err := st.SearchAudit(ctx, server.AuditFilter{AfterSeq: last, From: from, Limit: 1000})
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.Seq > upTo {
					break pages
				}
				if err := enc.Encode(r); err != nil {
					return err
				}
				last = r.Seq
				n++
			}
			if len(recs) < 1000 {
				break
			}
		}
		last = max(last, upTo)
		fmt.Fprintf(stderr, "exported %d records; continue later with --after-seq %d\n", n, last)
		return nil
	case "checkpoint":
		fs, db := dbFlags("audit checkpoint", "sign a checkpoint of the audit chain as it stands now", stderr)
		df := newDataFlags(fs, db)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		key, err := df.key()
		if err != nil {
			return err
		}
		if key == nil {
			return errors.New("no audit signing key: pass --data or --audit-key (serve creates it on first start)")
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		var cp server.AuditCheckpoint
		err = audited(ctx, st, server.AuditCheckpointed, "audit", func(ctx context.Context) (string, error) {
			var err error
			cp, err = st.Checkpoint(ctx)
			return fmt.Sprintf(`{"seq":%d,"via":"cli"}`, cp.Seq), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "checkpoint signed at record %d (hash %s…)\n", cp.Seq, cp.Hash[:16])
		return nil
	case "number":
		fs, db := dbFlags("audit number", "who looked up a phone number: the searches and subject-access exports of it, found by the keyed hash the audit holds (the lookup is audited)", stderr)
		df := newDataFlags(fs, db)
		number := fs.String("number", "", "the phone number, written any way (+44 1632 960123)")
		keyFile := fs.String("number-key", DefaultNumberKey, "the server's number-hashing secret (as given to serve)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if server.NumberKey(*number) == "" {
			return errors.New("audit number: --number is required")
		}
		if _, err := os.Stat(*keyFile); err != nil {
			return fmt.Errorf("audit number: the number-hashing secret: %w (pass --number-key as given to serve)", err)
		}
		secret, _, err := auth.LoadOrCreateSecret(*keyFile)
		if err != nil {
			return err
		}
		st, _, err := df.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		target := server.NumberTarget(secret, *number)
		var recs []server.AuditRecord
		err = audited(ctx, st, server.AuditNumberLookups, target, func(ctx context.Context) (string, error) {
			var err error
			recs, err = st.SearchAudit(ctx, server.AuditFilter{Targets: server.NumberTargets(secret, *number), Limit: 1000})
			return fmt.Sprintf(`{"number":%q,"results":%d,"via":"cli"}`, server.MaskNumber(server.NumberKey(*number)), len(recs)), err
		})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ	WHEN	WHO	WHAT")
		for _, r := range recs {
			fmt.Fprintf(tw, "%d	%s	%s	%s\n", r.Seq, r.At.Format(time.DateTime), r.Actor, r.Action)
		}
		if len(recs) == 0 {
			fmt.Fprintln(tw, "(nobody looked it up)")
		}
		return tw.Flush()
	}
	return fmt.Errorf("audit: unknown subcommand %q (verify, export, checkpoint, number)", sub)
}
