// Package wire is the contract the desktop and the server share: the limits
// every metadata event must keep, the server's answer to a batch of events,
// and the names both sides use (recording states, directions, notice
// outcomes, link statuses, event types), typed once, whose decoding refuses
// a name that is not one. Both sides import it, so a limit is changed in one place and the
// desktop never sends what the server would refuse.
//
// wire holds plain values and types only; it must never import the desktop
// (app/…) or the server (server/…).
package wire
