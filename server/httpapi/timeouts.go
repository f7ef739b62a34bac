package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Timeouts bound how long a client may hold a connection, so a slow or
// stalled client cannot tie the server up. Streams (the live board,
// playing and downloading, recording chunks) set their own deadlines as
// they make progress, so they last as long as they move.
type Timeouts struct {
	// ReadHeader is for the request's headers [10 s].
	ReadHeader time.Duration
	// Read is for the whole request, body included [15 s].
	Read time.Duration
	// Write is for the whole response [1 min].
	Write time.Duration
	// Idle is how long a kept-alive connection waits for its next request
	// [2 min].
	Idle time.Duration
	// Stall is how long a stream may make no progress before it is cut
	// [30 s].
	Stall time.Duration
}

// MinUploadRate is the slowest a recording chunk may arrive on average,
// in bytes per second, after its first Stall: a chunk of MaxChunk bytes
// has about 17 minutes.
const MinUploadRate = 16 << 10

// WithDefaults returns t with every zero timeout set to its default.
func (t Timeouts) WithDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, 15*time.Second)
	def(&t.Write, time.Minute)
	def(&t.Idle, 2*time.Minute)
	def(&t.Stall, 30*time.Second)
	return t
}

// Server returns an http.Server for h with these timeouts.
func (t Timeouts) Server(h http.Handler, log *slog.Logger) *http.Server {
	t = t.WithDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// streamWriter writes a long response, moving the write deadline on
// before every write: the response lasts as long as the client reads it.
// The request's read deadline is lifted (it has no body left to read), as
// the server would otherwise cancel the request when it passes.
type streamWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (a *API) streamTo(w http.ResponseWriter) *streamWriter {
	s := &streamWriter{w: w, rc: http.NewResponseController(w), stall: a.o.Timeouts.Stall}
	s.rc.SetReadDeadline(time.Time{})
	return s
}

// Flush sends what was written so far.
func (s *streamWriter) Flush() error {
	s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	return s.rc.Flush()
}

func (s *streamWriter) Write(p []byte) (int, error) {
	s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	return s.w.Write(p)
}

// slowBody reads a large request body, moving the read deadline on as
// bytes arrive: the body may take as long as it keeps coming at
// MinUploadRate on average, and never stalls longer than stall.
type slowBody struct {
	r     io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	begun time.Time
	n     int64
}

func (a *API) slowBody(w http.ResponseWriter, r *http.Request) io.ReadCloser {
	b := &slowBody{r: r.Body, rc: http.NewResponseController(w), stall: a.o.Timeouts.Stall, begun: time.Now()}
	b.rc.SetReadDeadline(b.begun.Add(b.stall))
	b.rc.SetWriteDeadline(b.begun.Add(2 * b.stall))
	return b
}

func (b *slowBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.n += int64(n)
		deadline := time.Now().Add(b.stall)
		// Below the minimum rate the deadline is in the past: cut.
		if byRate := b.begun.Add(b.stall + time.Duration(b.n)*time.Second/MinUploadRate); byRate.Before(deadline) {
			deadline = byRate
		}
		b.rc.SetReadDeadline(deadline)
		// The answer follows the body: it gets its time after the body's.
		b.rc.SetWriteDeadline(deadline.Add(b.stall))
	}
	return n, err
}

func (b *slowBody) Close() error { return b.r.Close() }
