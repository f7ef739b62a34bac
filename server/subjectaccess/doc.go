// Package subjectaccess runs subject-access requests (UK GDPR Art. 15) as
// cases: a dpo opens one with the requester and how their identity was
// checked, the server keeps its legal deadline (Art. 12(3)), finds the
// calls of the numbers and dates searched, and makes the bundle sent to
// the requester: the decrypted recordings, an index and a checksum list.
//
// Only a dpo may open, read or change a case (an admin holds no personal
// data; supervisors and agents never see subject-access requests). Every
// step is audited with the case's id in the same transaction as the step,
// and no recording goes into a bundle before its own audit record is
// written. It never writes decrypted audio to disk.
package subjectaccess
