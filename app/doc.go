// Package app is callguard's session core: a state machine per call that turns
// call events, officer intents, local-API requests and timers into recorder
// commands, the state the window shows, notifications and metadata events.
//
// It knows no GUI and no SIP or audio library; the parts it drives are
// interfaces declared here. It must never report a recording state that the
// recorder is not in: a state is published only after the recorder obeyed.
package app
