package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/server"
)

// Player plays a call's recording on this computer's speakers or headset,
// as the server decrypts it, until it ends or ctx is done. The root's
// player fetches it through the uplink client and decodes it in memory.
type Player interface {
	Play(ctx context.Context, callID string) error
}

// A Player's errors about the sound device, which the view words for the
// officer (the root wraps its audio library's errors in these).
var (
	ErrNoSpeakers  = errors.New("this computer has no speakers or headset it can play on")
	ErrSpeakerLost = errors.New("the speakers or headset stopped working while it played")
)

// SetPlayer lets the view play the selected item's recording; without a
// player it offers no Listen button.
func (r *Review) SetPlayer(p Player) {
	r.player = p
	r.drawListen()
}

func (r *Review) buildListen() fyne.CanvasObject {
	r.listenBtn = widget.NewButtonWithIcon("Listen", theme.MediaPlayIcon(), r.listen)
	r.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), r.stopListening)
	r.listenState = widget.NewLabel("")
	r.listenState.Wrapping = fyne.TextWrapWord
	r.listenBox = container.NewBorder(nil, nil, container.NewHBox(r.listenBtn, r.stopBtn), nil, r.listenState)
	r.listenBox.Hide()
	return r.listenBox
}

// drawListen shows Listen for a selected item whose recording is on the
// server, and Stop while one plays.
func (r *Review) drawListen() {
	if r.listenBox == nil {
		return
	}
	it, ok := r.selected()
	if r.player == nil || !ok {
		r.listenBox.Hide()
		return
	}
	r.listenBox.Show()
	playing := r.playing != nil
	if it.Recording == server.RecordingStored && !playing {
		r.listenBtn.Enable()
	} else {
		r.listenBtn.Disable()
	}
	if playing {
		r.stopBtn.Enable()
	} else {
		r.stopBtn.Disable()
	}
	if !playing && it.Recording != server.RecordingStored {
		r.listenState.SetText("There is no recording on the server to listen to: " + recordingWords(it.Recording) + ".")
	} else if !playing && r.listenState.Text == "" {
		r.listenState.SetText("Plays on this computer's speakers or headset. Each listen is recorded in the audit.")
	}
}

// listen plays the selected item's recording.
func (r *Review) listen() {
	it, ok := r.selected()
	if !ok || r.player == nil || r.playing != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	r.playing = cancel
	callID := it.CallID
	r.listenState.SetText("Playing the recording on this computer…")
	r.drawListen()
	r.busy.Add(1)
	go func() {
		defer r.busy.Done()
		err := r.player.Play(ctx, callID)
		stopped := ctx.Err() != nil
		cancel()
		fyne.Do(func() {
			r.playing = nil
			switch {
			case err == nil:
				r.listenState.SetText("Played to the end.")
			case stopped && errors.Is(err, context.Canceled):
				r.listenState.SetText("Stopped.")
			default:
				r.listenState.SetText("Could not play the recording: " + listenWords(err) + ".")
			}
			r.drawListen()
		})
	}()
}

// stopListening stops the recording that plays.
func (r *Review) stopListening() {
	if r.playing != nil {
		r.playing()
	}
}

// listenWords says why a recording could not be played.
func listenWords(err error) string {
	switch {
	case errors.Is(err, ErrNoSpeakers):
		return ErrNoSpeakers.Error() + " (check Sound in its settings)"
	case errors.Is(err, ErrSpeakerLost):
		return ErrSpeakerLost.Error()
	}
	return explainServer(err)
}
