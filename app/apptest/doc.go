// Package apptest holds shared fakes of the session core's ports for other
// packages' tests, the way sipgo has siptest: one recorder fake instead of a
// copy in each package. It is imported by tests only; a program must never
// link it, and it must never touch audio, disk or the network.
package apptest
