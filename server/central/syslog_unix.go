//go:build !windows && !plan9

package central

import (
	"encoding/json"
	"log/syslog"
	"strings"

	"github.com/callguard/callguard/server"
)

// syslogSink sends each checkpoint to syslog as a JSON line tagged
// callguard-audit: the system log (journald, rsyslog) is not the server's
// to rewrite, and can be forwarded to another machine.
type syslogSink struct {
	w    *syslog.Writer
	addr string
}

// openSyslog dials addr: "local" (the system log), or "udp:HOST:PORT",
// "tcp:HOST:PORT", "unixgram:PATH".
func openSyslog(addr string) (checkpointSink, error) {
	network, raddr := "", ""
	if addr != "local" {
		var ok bool
		if network, raddr, ok = strings.Cut(addr, ":"); !ok {
			return nil, errBadSyslog
		}
	}
	w, err := syslog.Dial(network, raddr, syslog.LOG_NOTICE|syslog.LOG_AUTH, "callguard-audit")
	if err != nil {
		return nil, err
	}
	return syslogSink{w: w, addr: addr}, nil
}

func (s syslogSink) String() string { return "syslog " + s.addr }

func (s syslogSink) Publish(c server.AuditCheckpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.w.Notice(string(b))
}
