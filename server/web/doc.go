// Package web is the web workspace: server-rendered pages for supervisors
// and data-protection officers, served by callguard-server beside the JSON
// API (server/central mounts the API under /api/ and this package at every
// other path). It calls the same domain services as httpapi (the store,
// protect, the live board) in-process, never the API over HTTP, and it
// never serves a read of personal data whose audit record was not written
// in the same transaction.
//
// Pages are html/template files embedded from templates/, rendered in one
// layout (templates/layout.html) whose menu shows only the pages the
// session's role may open. Assets (templates' CSS, the few lines of
// JavaScript of the player and the live board) are embedded from assets/
// and served under /assets/. The Content-Security-Policy is
// default-src 'self': no inline script or style, no CDN, no build step.
//
// # Sessions
//
// Sign-in uses the server's accounts and the API's login limiter. A
// session is a random 256-bit token in an HttpOnly, SameSite=Strict
// cookie (Secure and __Host- prefixed except over plain HTTP to a loopback
// host); the database keeps its sha256 only. It ends after Options.Idle
// without a request (30 min), Options.Absolute after sign-in (12 h), or at
// sign-out. Every POST must carry the session's CSRF token (a form field
// "csrf", or the X-CSRF-Token header for fetch) and must not come from
// another origin (Origin, Sec-Fetch-Site). The desktop's "Open the
// workspace…" asks POST /api/v1/workspace/link for a one-time link
// (/link/…, 60 s, once).
//
// # How to add a page
//
// In a new file named for the page (cases.go), write a routes method that
// registers each page and action with one row: the route, the roles (the
// same as the API's for the same data) and, for pages in the menu, a
// label. Call it from New (one line). The row is the role check, the menu
// entry and a line of TestEveryPageRefusesTheRolesNotInItsRow at once:
//
//	func (w *Web) caseRoutes() {
//		w.handle(Page{Pattern: "GET /cases", Roles: DPOs, Nav: "Requests"}, w.cases)
//		w.handle(Page{Pattern: "POST /cases/{id}/extend", Roles: DPOs}, w.extendCase)
//	}
//
// Write each handler as a PageFunc: read the request, call the domain, and
// return View{Template: "cases", Title: "Subject-access requests", Data: d}.
// Return BadInput("The deadline is in the past.") for what the person
// typed wrong (400, shown in those words), or any error from the domain:
// server.ErrNotFound, ErrForbidden, ErrGone, ErrAuditFailed… are shown in
// plain words; anything else is logged and shown as "something went
// wrong", never its text or a trace. A form that changes something answers
// with a redirect (http.Redirect, 303) and returns View{} (no template).
//
// Read personal data through w.audited, which writes the audit record in
// the same transaction (nothing is served when it cannot be written).
// Supervisors see only their teams' calls (calls.go shows how).
//
// Add templates/cases.html defining "content" (and "head" for a page's own
// script: <script src="/assets/cases.js" defer></script>). The layout
// gives the template .Title, .User, .Role, .CSRF and the handler's data as
// .Page. Every form that posts carries
// <input type="hidden" name="csrf" value="{{.CSRF}}">; every control has a
// <label>; states are said in words (a tag's text), colour only adds.
//
// A page that needs a store method adds it to a small interface in its own
// file (type CaseStore interface{…}) and one line to Store. Test it against
// a real server (helpers_test.go: newRig, browser, signIn) and, for what a
// person does, in chromium (testrig.Chromium).
package web
