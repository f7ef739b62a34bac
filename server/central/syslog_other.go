//go:build windows || plan9

package central

import "errors"

func openSyslog(addr string) (checkpointSink, error) {
	return nil, errors.New("syslog is not available on this system: use a checkpoint log file")
}
