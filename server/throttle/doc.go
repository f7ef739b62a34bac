// Package throttle holds the server's allowances: token buckets, one per
// key (a device, a principal), that say how much each may do and, past
// that, how long to wait. It keeps counts only, never a request's content.
package throttle
