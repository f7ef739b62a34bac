package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/policy"
)

//go:embed migrations
var migrations embed.FS

// Dialects.
const (
	SQLite     = "sqlite"
	PostgreSQL = "postgres"
)

// ErrNoDriver means the program was built without the database driver the
// URL asks for. store registers none itself: the program that chooses the
// database links its driver (cmd/callguard-server links both, the desktop's
// embedded server SQLite only), so the desktop does not carry PostgreSQL's.
var ErrNoDriver = errors.New("this program was built without that database's driver")

// requireDriver fails with ErrNoDriver unless database/sql knows name.
func requireDriver(name string) error {
	if slices.Contains(sql.Drivers(), name) {
		return nil
	}
	return fmt.Errorf("database driver %q: %w", name, ErrNoDriver)
}

// Store is the server's database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect string
	url     string // PostgreSQL URL, for the LISTEN connection
	pol     *policy.Policy
	now     func() time.Time
	log     *slog.Logger

	auditKey        ed25519.PrivateKey
	checkpointEvery int

	// skew is how far a call's start, on the desktop's clock, may be from
	// when the server received it before the server counts it from then.
	skew time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock (default time.Now), so tests control time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// DefaultClockSkew is how far from its arrival a call's start may be, on
// the desktop's clock, before the server counts the call from its arrival.
const DefaultClockSkew = 24 * time.Hour

// WithClockSkew sets how far a call's start, on the desktop's clock, may be
// from when it reached the server (default DefaultClockSkew). A call
// further off is flagged and its retention and holds count from its
// arrival: the server's clock governs them, not the desktop's.
func WithClockSkew(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.skew = d
		}
	}
}

// WithLogger sets the logger (default slog.Default).
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Policy returns the store's policy (nil if none was set).
func (s *Store) Policy() *policy.Policy { return s.pol }

// WithPolicy sets the organisation policy whose retention rules set each
// call's delete_after. Without one, calls get no delete_after.
func WithPolicy(p *policy.Policy) Option { return func(s *Store) { s.pol = p } }

// Open connects to the database at dbURL: "postgres://…" or
// "postgresql://…" for PostgreSQL, "sqlite:PATH" or a plain path for
// SQLite (created if missing, WAL, full fsync, 10 s busy timeout). It does
// not migrate; call Migrate.
func Open(ctx context.Context, dbURL string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, log: slog.Default(), skew: DefaultClockSkew}
	for _, o := range opts {
		o(s)
	}
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		s.dialect, s.url = PostgreSQL, dbURL
		if err := requireDriver("pgx"); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.db = db
	default:
		path := strings.TrimPrefix(dbURL, "sqlite:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("open sqlite: %w", err)
			}
		}
		s.dialect = SQLite
		if err := requireDriver("sqlite"); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		// One writer at a time is SQLite's rule; a few connections let reads
		// run beside it under WAL.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		s.db = db
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", s.dialect, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect returns SQLite or PostgreSQL.
func (s *Store) Dialect() string { return s.dialect }

// DB returns the database handle, for tests and for the later
// data-protection packages that extend this schema.
func (s *Store) DB() *sql.DB { return s.db }

// Migrate brings the schema up to date, applying each embedded migration
// not yet applied in its own transaction. Concurrent server instances on one
// PostgreSQL serialise on an advisory lock.
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx, 0) }

// migrate applies the migrations up to version upTo (0: all), then what
// the newly applied ones leave to Go.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	applied, err := s.applyMigrations(ctx, upTo)
	if err != nil {
		return err
	}
	if applied[callKeysVersion] {
		if err := s.foldUnkeyed(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if applied[workspaceVersion] {
		if err := s.fillE164(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if applied[numberKeysVersion] || upTo == 0 || upTo >= numberKeysVersion {
		if err := s.rekeyNumbers(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// applyMigrations applies each embedded migration not yet applied, up to
// upTo (0: all), and returns the versions it applied.
func (s *Store) applyMigrations(ctx context.Context, upTo int) (map[int]bool, error) {
	applied := map[int]bool{}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == PostgreSQL {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7465001)"); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7465001)")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations/" + s.dialect
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migrate: %s: name must start with a number and '_'", name)
		}
		var n int
		if err := conn.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), version).Scan(&n); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if n > 0 || (upTo > 0 && version > upTo) {
			continue
		}
		body, err := migrations.ReadFile(dir + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if err := s.applyMigration(ctx, conn, name, version, string(body)); err != nil {
			return nil, err
		}
		s.log.Info("applied migration", "name", name, "dialect", s.dialect)
		applied[version] = true
	}
	return applied, nil
}

// rebuildsMarker is the line by which a SQLite migration says it rebuilds
// a table other tables reference (SQLite cannot change a column's CHECK in
// place). It runs with references unchecked, as SQLite's procedure for
// such changes asks (a DROP TABLE would otherwise delete, or refuse, every
// row that refers to the table), and they are checked whole before it
// commits.
const rebuildsMarker = "\n-- store: rebuilds a referenced table\n"

// applyMigration applies one migration on conn in one transaction.
func (s *Store) applyMigration(ctx context.Context, conn *sql.Conn, name string, version int, body string) error {
	if s.dialect == SQLite && strings.Contains(body, rebuildsMarker) {
		// Outside a transaction: SQLite ignores it inside one.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if s.dialect == SQLite && strings.Contains(body, rebuildsMarker) {
		var table string
		switch err := tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, new(any), new(any), new(any)); {
		case err == nil:
			return fmt.Errorf("migrate %s: a row of %s refers to a row that is gone", name, table)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("migrate %s: foreign key check: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), version, name, ms(s.now())); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	return nil
}

// rebind turns the '?' placeholders every query is written with into
// PostgreSQL's $1, $2 …
func (s *Store) rebind(q string) string {
	if s.dialect != PostgreSQL {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return s.on(ctx, q).ExecContext(ctx, s.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return s.on(ctx, q).QueryContext(ctx, s.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return s.on(ctx, q).QueryRowContext(ctx, s.rebind(query), args...)
}

// on is q, or the transaction ctx carries (see Tx) when q is the database
// itself: a store call made inside Tx joins its transaction.
func (s *Store) on(ctx context.Context, q querier) querier {
	if q == querier(s.db) {
		if tx := s.txOf(ctx); tx != nil {
			return tx
		}
	}
	return q
}

// txKey is the context key of the transaction Tx runs.
type txKey struct{}

type txValue struct {
	s  *Store
	tx *sql.Tx
}

func (s *Store) txOf(ctx context.Context) *sql.Tx {
	if v, ok := ctx.Value(txKey{}).(txValue); ok && v.s == s {
		return v.tx
	}
	return nil
}

// Tx runs f in one transaction and commits it when f returns nil. Every
// store call f makes with the context it is given joins that transaction,
// so a read or a change and its audit record (Audit) commit together or
// not at all: nothing is served or changed unless its record is written.
// f may run more than once when concurrent writers conflict; it must not
// have effects outside the store (or must tolerate repeating them). Inside
// a Tx, Tx joins the outer transaction.
func (s *Store) Tx(ctx context.Context, f func(ctx context.Context) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return f(context.WithValue(ctx, txKey{}, txValue{s, tx}))
	})
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs f in a transaction (the one ctx carries, if any: see Tx) and
// commits it, retrying a few times when PostgreSQL reports a serialisation
// failure or a unique violation raced by another instance.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	if tx := s.txOf(ctx); tx != nil {
		return f(tx) // the caller's Tx commits, or retries the whole of it
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var tx *sql.Tx
		tx, err = s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err = f(tx); err != nil {
			tx.Rollback()
			if s.retryable(err) && ctx.Err() == nil {
				continue
			}
			return err
		}
		if err = tx.Commit(); err != nil {
			if s.retryable(err) && ctx.Err() == nil {
				continue
			}
			return err
		}
		return nil
	}
	return err
}

// retryable reports transient conflicts between concurrent writers.
func (s *Store) retryable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 40001") || strings.Contains(msg, "SQLSTATE 40P01") || errors.Is(err, errRetry)
}

var errRetry = errors.New("retry")

// isUnique reports a unique-constraint violation in either dialect.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE")
}

// ms returns t as milliseconds since the epoch.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msPtr returns t as milliseconds, or NULL.
func msPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS turns stored milliseconds back into a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// Redact returns a database URL without its password, for logs.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
