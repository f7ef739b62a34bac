package main

import (
	"slices"

	"github.com/callguard/callguard/app/config"
)

// saveWindowPrefs keeps the officer's window choices (always on top, mini
// mode) in their settings file; values IT manages stay out of it.
func (d *desktop) saveWindowPrefs(p config.Window) error {
	d.mu.Lock()
	d.cfg.Window = p
	c := d.cfg
	d.mu.Unlock()
	return d.saveConfig(c)
}

// onTopLocked reports whether IT forces always on top.
func (d *desktop) onTopLocked() bool {
	return slices.Contains(d.Locked(), "window.always_on_top")
}
