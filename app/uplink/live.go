package uplink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
)

// Live follows the live board: fn is called for every agent in the
// snapshot on (re)connect and then for every change, from one goroutine.
// It reconnects with backoff until ctx ends (then it returns nil); a role
// that may not see the board gets ErrForbidden, a bad token ErrUnauthorized.
// The rows are the server's own type, with their times put on this
// computer's clock, so durations read right here.
func (c *Client) Live(ctx context.Context, fn func(server.AgentState)) error {
	failures := 0
	for {
		connected, err := c.liveOnce(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthorized) {
			return err
		}
		if connected {
			failures = 0
		}
		failures++
		d := c.backoff(failures - 1)
		c.o.Logger.Debug("uplink: live board connection lost; reconnecting", "in", d, "err", err)
		if !sleep(ctx, d) {
			return nil
		}
	}
}

func (c *Client) liveOnce(ctx context.Context, fn func(server.AgentState)) (connected bool, err error) {
	req, err := c.request(ctx, http.MethodGet, "/api/v1/live", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		c.setStatus(func(s *Status) { s.Online, s.LastError = false, err.Error() })
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, c.finish(resp, nil, nil)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != "" {
				if err := c.dispatch(event, data, fn); err != nil {
					return true, err
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, errors.New("live board stream ended")
}

func (c *Client) dispatch(event, data string, fn func(server.AgentState)) error {
	var msg struct {
		Now    time.Time           `json:"now"`
		Agents []server.AgentState `json:"agents"`
		Agent  *server.AgentState  `json:"agent"`
	}
	if err := json.Unmarshal([]byte(data), &msg); err != nil {
		return fmt.Errorf("live board: bad %s message: %w", event, err)
	}
	// Put the server's times on our clock, so durations read right here.
	skew := time.Duration(0)
	if !msg.Now.IsZero() {
		skew = c.o.Clock().Sub(msg.Now)
	}
	deliver := func(a server.AgentState) {
		shift := func(t *time.Time) {
			if !t.IsZero() {
				*t = t.Add(skew)
			}
		}
		shift(&a.LastSeen)
		shift(&a.Since)
		if a.Call != nil {
			shift(&a.Call.Started)
		}
		for i := range a.Alerts {
			shift(&a.Alerts[i].Since)
		}
		fn(a)
	}
	switch event {
	case "snapshot":
		for _, a := range msg.Agents {
			deliver(a)
		}
	case "agent":
		if msg.Agent != nil {
			deliver(*msg.Agent)
		}
	}
	return nil
}
