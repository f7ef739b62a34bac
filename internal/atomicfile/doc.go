// Package atomicfile writes a file so that a reader, or the disk after a
// power cut, sees either the old contents or the new, never a mix: a
// temporary file beside the target, fsync, rename, fsync of the directory.
// Tailscale's atomicfile is the model.
//
// It is the one such write in callguard (settings, the outbox's state and
// log, manifests on the desktop and the server, the device id); it must
// never leave a temporary file behind or replace the target with a file
// that was not fully synced.
package atomicfile
