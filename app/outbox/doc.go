// Package outbox is the desktop's durable queue of metadata events: every
// event the core emits is written here, fsync'd and checksummed, before the
// core goes on, and stays until the server confirmed it. It survives kill -9
// and power loss: a record torn at the tail is detected by its CRC-32C and
// dropped, never misread, and the per-device sequence number it stamps only
// grows across restarts.
//
// The outbox never sends anything; app/uplink reads it and acknowledges.
package outbox
