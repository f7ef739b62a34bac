package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
)

// background runs a view's requests to the server off fyne's goroutine and
// shows their answers on it: an answer a newer load has overtaken is
// dropped, nothing is shown once the view stopped, Wait returns when every
// request so far has been answered and shown, and Stop cancels what is in
// flight. The "My flags" and "My calls" views use one each.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	busy   sync.WaitGroup // requests in flight
	gen    int            // the latest load (fyne's goroutine only)
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{ctx: ctx, cancel: cancel}
}

// stopped reports whether Stop was called.
func (b *background) stopped() bool { return b.ctx.Err() != nil }

// load runs fetch in the background, then show with its answer on fyne's
// goroutine, unless a newer load started meanwhile or the view stopped.
// Call it on fyne's goroutine.
func load[T any](b *background, fetch func(context.Context) (T, error), show func(T, error)) {
	if b.stopped() {
		return
	}
	b.gen++
	gen := b.gen
	run(b, fetch, func(v T, err error) {
		if gen == b.gen {
			show(v, err)
		}
	})
}

// submit runs f in the background, then done with its answer on fyne's
// goroutine unless the view stopped; a load does not overtake it. Call it
// on fyne's goroutine.
func submit[T any](b *background, f func(context.Context) (T, error), done func(T, error)) {
	if !b.stopped() {
		run(b, f, done)
	}
}

func run[T any](b *background, f func(context.Context) (T, error), then func(T, error)) {
	b.busy.Add(1)
	go func() {
		defer b.busy.Done()
		v, err := f(b.ctx)
		if b.stopped() {
			return // the view is closed
		}
		fyne.Do(func() { then(v, err) })
	}()
}

// Wait returns once every request started so far has been answered and
// the answer shown.
func (b *background) Wait() { b.busy.Wait() }

// Stop cancels the requests in flight and waits for them to end.
func (b *background) Stop() {
	b.cancel()
	b.busy.Wait()
}
