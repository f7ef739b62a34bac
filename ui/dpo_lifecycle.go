package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Start loads the view now and again every minute until Stop.
func (r *Review) Start() {
	r.Refresh()
	r.loop.Add(1)
	go func() {
		defer r.loop.Done()
		t := time.NewTicker(refreshEvery)
		defer t.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-t.C:
				r.Refresh()
			}
		}
	}()
}

// Stop cancels the requests in flight and the periodic refresh, and waits
// for them to end.
func (r *Review) Stop() {
	r.cancel()
	r.loop.Wait()
	r.busy.Wait()
}

// Wait returns once every request the view has sent so far has been
// answered and the answer shown (Stop uses it, and so do tests).
func (r *Review) Wait() { r.busy.Wait() }

// Refresh reloads the review queue, the holds and the retention report
// from the server in the background; it may be called from any goroutine.
func (r *Review) Refresh() {
	if r.ctx.Err() != nil {
		return
	}
	r.busy.Add(1)
	go func() {
		defer r.busy.Done()
		var failed []string
		q, err := r.backend.Review(r.ctx, "")
		if err != nil {
			failed = append(failed, "Could not load the review queue: "+explainServer(err))
		}
		holds, twoPerson, herr := r.backend.Holds(r.ctx, false)
		if herr != nil {
			failed = append(failed, "Could not load the holds: "+explainServer(herr))
		}
		report, rerr := r.backend.RetentionReport(r.ctx, dueDays)
		if rerr != nil {
			failed = append(failed, "Could not load the retention report: "+explainServer(rerr))
		}
		if r.ctx.Err() != nil {
			return // stopped: the window is gone
		}
		fyne.Do(func() {
			if err == nil {
				r.setQueue(q)
			}
			if herr == nil {
				r.setHolds(holds, twoPerson)
			}
			if rerr == nil {
				r.report = report
				r.drawDue()
			}
			say(r.loadProblem, strings.Join(failed, "\n"))
		})
	}()
}

// send runs a request in the background and shows its outcome: the
// success message, or what failed in plain words; then reloads.
func (r *Review) send(failed string, call func(ctx context.Context) (string, error)) {
	say(r.problem, "")
	say(r.info, "")
	r.cancelAsk()
	r.sending = true
	r.drawButtons()
	r.busy.Add(1)
	go func() {
		defer r.busy.Done()
		msg, err := call(r.ctx)
		if r.ctx.Err() != nil {
			return
		}
		fyne.Do(func() {
			r.sending = false
			if err != nil {
				say(r.problem, failed+": "+explainServer(err))
			} else {
				say(r.info, msg)
			}
			r.drawButtons()
			r.Refresh()
		})
	}()
}

// say shows text in l, or hides l when text is empty.
func say(l *widget.Label, text string) {
	l.SetText(text)
	showIf(l, text != "")
}
