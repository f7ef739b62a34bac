// Package policy holds the organisation's recording policy: pause reasons,
// notice scripts, which calls are recorded, never-record rules, flag reasons
// and retention. Defaults come from assets; IT and the server override them in
// layers. It is pure data and validation, shared by the desktop core and the
// central server, and it never reads or writes anything but the bytes given.
package policy
