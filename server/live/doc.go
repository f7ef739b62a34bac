// Package live keeps the supervisors' live board: every agent's state from
// heartbeats and events, the alerts derived from it (pause past its
// reminder, recording failed, state unknown, offline), and the fan-out of
// changes to subscribers. Server instances that share a PostgreSQL database
// exchange board records over a Bus (LISTEN/NOTIFY), so a supervisor on one
// instance sees an agent connected to another.
//
// The board never holds a full caller number: numbers are masked to their
// last three digits before they enter it.
package live
