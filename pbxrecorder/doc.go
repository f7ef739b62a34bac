// Package pbxrecorder holds the backends of app.PhoneRecorder: the phone
// systems' own recorders, which callguard starts, pauses and resumes on a
// call's SIP Call-ID. One file per backend; rtpengine (beside Kamailio) is
// the one built (see docs/phone-systems.md for the others).
//
// A backend never reports a command as done before the phone system
// confirmed it.
package pbxrecorder
