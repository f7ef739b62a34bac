package main

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// workspaceLinker gets the one-time link to the web workspace
// (uplink.Client.WorkspaceLink).
type workspaceLinker interface {
	WorkspaceLink(ctx context.Context) (string, error)
}

// OpenWorkspaceLabel is the menu entry that opens the web workspace.
const OpenWorkspaceLabel = "Open the workspace…"

// workspaceMenu is the main menu of the windows of supervisors, dpos and
// admins: "Open the workspace…" opens the server's web workspace in the
// browser, already signed in (a one-time link the server makes for this
// device's account).
func workspaceMenu(a fyne.App, w fyne.Window, l workspaceLinker, log *slog.Logger) *fyne.MainMenu {
	open := fyne.NewMenuItem(OpenWorkspaceLabel, func() { go openWorkspace(a, w, l, log) })
	return fyne.NewMainMenu(fyne.NewMenu("Workspace", open))
}

// openWorkspace asks for a link and opens it; what goes wrong is said in
// the window.
func openWorkspace(a fyne.App, w fyne.Window, l workspaceLinker, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	link, err := l.WorkspaceLink(ctx)
	var u *url.URL
	if err == nil {
		u, err = url.Parse(link)
	}
	if err == nil {
		err = a.OpenURL(u)
	}
	if err != nil {
		log.Warn("cannot open the web workspace", "err", err)
		fyne.Do(func() {
			dialog.ShowInformation("The workspace did not open",
				"callguard could not open the web workspace in your browser: "+err.Error()+
					"\nYou can also open the server's address in your browser and sign in there.", w)
		})
		return
	}
	log.Info("opened the web workspace", "host", u.Host)
}
