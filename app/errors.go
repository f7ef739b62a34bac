package app

import "errors"

// Errors returned by the core's intents. The local API maps them to HTTP
// statuses: ErrUnknownReason and ErrBadRequest to 400, ErrNotFound to 404,
// the others to 409.
var (
	ErrNoCall         = errors.New("no call in progress")
	ErrUnknownReason  = errors.New("unknown reason")
	ErrNotPaused      = errors.New("recording is not paused")
	ErrNotRecordable  = errors.New("this call is not being recorded")
	ErrNoNoticeWanted = errors.New("no notice is awaited on this call")
	ErrNotManual      = errors.New("calls come from the phone system; manual call start and end are off")
	ErrCallInProgress = errors.New("a call is already in progress")
	ErrNotFound       = errors.New("no such call")
	ErrBadRequest     = errors.New("bad request")
	ErrClosed         = errors.New("the session core has stopped")
)
