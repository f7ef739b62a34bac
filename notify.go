package main

import (
	"log/slog"

	"github.com/gen2brain/beeep"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/assets"
)

func init() { beeep.AppName = "callguard" } // the name notifications are grouped under

// desktopNotifier shows the core's notifications with the OS's notification
// centre (beeep). Where the OS has none (a server, Xvfb), it logs them.
type desktopNotifier struct{ log *slog.Logger }

func (n desktopNotifier) Notify(x app.Notification) {
	n.log.Info("notification", "title", x.Title, "body", x.Body)
	if err := beeep.Notify(x.Title, x.Body, assets.AppIcon()); err != nil {
		n.log.Debug("desktop notification not shown", "err", err)
	}
}
