// Package ui renders the session core's state with fyne and turns clicks and
// hotkeys into intents: the officer's compact panel, the notice card,
// settings, the supervisors' live board and the data-protection officer's
// review view. It decides nothing itself and changes widgets only on fyne's
// goroutine (fyne.Do).
package ui
