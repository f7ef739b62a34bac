// Package wire is the contract the desktop and the server share: the limits
// every metadata event must keep, and the server's answer to a batch of
// events. Both sides import it, so a limit is changed in one place and the
// desktop never sends what the server would refuse.
//
// wire holds plain values and types only; it must never import the desktop
// (app/…) or the server (server/…).
package wire
