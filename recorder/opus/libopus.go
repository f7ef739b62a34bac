package opus

/*
#cgo pkg-config: opus
#include <opus.h>
*/
import "C"

import (
	"errors"
	"fmt"
)

// Version is the version string of the libopus linked in, such as
// "libopus 1.3.1".
func Version() string { return C.GoString(C.opus_get_version_string()) }

// libopusError turns a negative libopus return code into an error.
func libopusError(what string, code C.int) error {
	return fmt.Errorf("%s: %w", what, errors.New("libopus: "+C.GoString(C.opus_strerror(code))))
}
