package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/callguard/callguard/server"
)

// WorkspaceLink is the body of POST /api/v1/workspace/link: a URL that
// signs a browser in to the web workspace once, until Expires.
type WorkspaceLink struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// workspaceLink answers a supervisor's, dpo's or admin's desktop with a
// one-time link to the web workspace on this server, at the address the
// desktop reached it by.
func (a *API) workspaceLink(w http.ResponseWriter, r *http.Request, p server.Principal) {
	if a.o.Workspace == nil {
		writeError(w, http.StatusNotFound, "this server has no web workspace")
		return
	}
	path, expires, err := a.o.Workspace.NewLink(r.Context(), p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	scheme := "http"
	if r.TLS != nil || (a.trustedPeer(r) && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	writeJSON(w, http.StatusOK, WorkspaceLink{URL: scheme + "://" + r.Host + path, Expires: expires.UTC()})
}

// trustedPeer reports whether the request's peer is a trusted proxy.
func (a *API) trustedPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && a.trusted(ip)
}
