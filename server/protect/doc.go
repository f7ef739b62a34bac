// Package protect carries out the server's data-protection work: the
// retention expiry (resumable: a tombstone is written before anything is
// deleted and finished after), the immediate redaction of card details,
// the dpos' review decisions (delete a recording, silence an interval,
// keep), subject erasure by phone number, and playing a recording. Its
// worker goroutine runs them on time.
//
// It never deletes a call a hold covers, never records a deletion twice,
// and never writes decrypted audio to disk.
package protect
